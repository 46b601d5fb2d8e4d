//! Managed Microsoft tenants with client secrets: the app-only token and its AADSTS errors,
//! the directory (`/users` with `$select`, `$filter`, `$top`, paging, `$count`), groups,
//! mailboxes without Exchange, the app's mailbox scope and admin consent.

use serde_json::{json, Value};
use threadline_emulator::control::DeliverQuery;
use threadline_emulator::microsoft::tenant_control::{
    AddSecret, CreateApp, CreateGroup, CreateTenant, UserSpec,
};
use threadline_emulator::microsoft::tenants::MailboxKind;

use super::Org;

pub const DOMAIN: &str = "contoso.test";
pub const APP: &str = "6731de76-14a6-49ae-97bc-6eba6914391e";
pub const DEFAULT_SCOPE: &str = "https://graph.microsoft.com/.default";

/// A tenant: ada, bob, dan (Sales; dan disabled), cara (Support, no mailbox), the shared
/// support@ mailbox, a Sales group (ada, bob, support), and a consented app with a secret.
/// Returns the tenant id and the secret.
pub async fn tenant(org: &Org) -> (String, String) {
    let client = org.emu.client();
    let t = client
        .create_tenant(&CreateTenant {
            domain: DOMAIN.into(),
            ..CreateTenant::default()
        })
        .await
        .expect("tenant");
    let users: [(&str, &str, Option<&str>, MailboxKind, bool); 5] = [
        (
            "ada",
            "Ada Lovelace",
            Some("Sales"),
            MailboxKind::User,
            true,
        ),
        ("bob", "Bob Builder", Some("Sales"), MailboxKind::User, true),
        (
            "cara",
            "Cara Nomail",
            Some("Support"),
            MailboxKind::None,
            true,
        ),
        (
            "dan",
            "Dan Disabled",
            Some("Sales"),
            MailboxKind::User,
            false,
        ),
        ("support", "Support", None, MailboxKind::Shared, false),
    ];
    for (name, display, department, mailbox, enabled) in users {
        client
            .create_tenant_user(
                &t.id,
                &UserSpec {
                    user_principal_name: Some(format!("{name}@{DOMAIN}")),
                    display_name: Some(display.into()),
                    department: department.map(str::to_string),
                    mailbox: Some(mailbox),
                    account_enabled: Some(enabled),
                    ..UserSpec::default()
                },
            )
            .await
            .expect("user");
    }
    client
        .create_group(
            &t.id,
            &CreateGroup {
                display_name: "Sales team".into(),
                mail: Some(format!("sales@{DOMAIN}")),
                members: vec![
                    format!("ada@{DOMAIN}"),
                    format!("bob@{DOMAIN}"),
                    format!("support@{DOMAIN}"),
                ],
            },
        )
        .await
        .expect("group");
    client
        .create_app(
            &t.id,
            &CreateApp {
                client_id: Some(APP.into()),
                admin_consent: true,
                ..CreateApp::default()
            },
        )
        .await
        .expect("app");
    let secret = client
        .add_secret(&t.id, APP, &AddSecret::default())
        .await
        .expect("secret");
    for who in ["ada", "support", "dan"] {
        let raw = format!("From: x@client.test\r\nTo: {who}@{DOMAIN}\r\nSubject: hello {who}\r\nMessage-ID: <{who}@client.test>\r\nDate: Tue, 01 Oct 2024 10:00:00 +0000\r\n\r\nHi.\r\n");
        client
            .deliver(&format!("{who}@{DOMAIN}"), raw, &DeliverQuery::default())
            .await
            .expect("deliver");
    }
    (t.id, secret.value)
}

pub async fn secret_token(org: &Org, tenant: &str, client_id: &str, secret: &str) -> (u16, Value) {
    org.form(
        &format!("/{tenant}/oauth2/v2.0/token"),
        &[
            ("grant_type", "client_credentials"),
            ("client_id", client_id),
            ("client_secret", secret),
            ("scope", DEFAULT_SCOPE),
        ],
    )
    .await
}

pub async fn token(org: &Org, tenant: &str, secret: &str) -> String {
    let (status, body) = secret_token(org, tenant, APP, secret).await;
    assert_eq!(status, 200, "{body}");
    body["access_token"].as_str().expect("token").to_string()
}

pub fn code(body: &Value) -> u64 {
    body["error_codes"][0].as_u64().unwrap_or_default()
}

fn mails(body: &Value) -> Vec<String> {
    body["value"]
        .as_array()
        .map(|v| {
            v.iter()
                .map(|u| {
                    u["userPrincipalName"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string()
                })
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn a_client_secret_gets_an_app_only_token_and_its_errors_are_entras() {
    let org = Org::start().await;
    let (tenant, secret) = tenant(&org).await;
    let (status, body) = secret_token(&org, &tenant, APP, &secret).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert!(body.get("refresh_token").is_none() && body.get("id_token").is_none());
    // The verified domain designates the tenant too.
    assert_eq!(secret_token(&org, DOMAIN, APP, &secret).await.0, 200);

    let (status, body) = secret_token(&org, &tenant, APP, "not-the-secret").await;
    assert_eq!((status, code(&body)), (401, 7_000_215), "{body}");
    assert_eq!(body["error"], "invalid_client");
    assert!(body["error_description"]
        .as_str()
        .unwrap_or_default()
        .starts_with("AADSTS7000215: Invalid client secret provided."));

    let (status, body) = secret_token(
        &org,
        &tenant,
        "00000000-0000-4000-8000-000000000000",
        &secret,
    )
    .await;
    assert_eq!((status, code(&body)), (400, 700_016), "{body}");
    assert_eq!(body["error"], "unauthorized_client");
    assert!(body["error_description"]
        .as_str()
        .unwrap_or_default()
        .contains("was not found in the directory"));

    let client = org.emu.client();
    let old = client
        .add_secret(
            &tenant,
            APP,
            &AddSecret {
                value: Some("old-secret".into()),
                end: Some(chrono::Utc::now() - chrono::Duration::days(1)),
            },
        )
        .await
        .expect("secret");
    let (status, body) = secret_token(&org, &tenant, APP, &old.value).await;
    assert_eq!((status, code(&body)), (401, 7_000_222), "{body}");

    let (status, body) = org
        .form(
            &format!("/{tenant}/oauth2/v2.0/token"),
            &[
                ("grant_type", "client_credentials"),
                ("client_id", APP),
                ("scope", DEFAULT_SCOPE),
            ],
        )
        .await;
    assert_eq!((status, code(&body)), (401, 7_000_218), "{body}");
    let (status, body) = org
        .form(
            &format!("/{tenant}/oauth2/v2.0/token"),
            &[
                ("grant_type", "client_credentials"),
                ("client_id", APP),
                ("client_secret", &secret),
                ("scope", "https://graph.microsoft.com/Mail.Read"),
            ],
        )
        .await;
    assert_eq!((status, code(&body)), (400, 1_002_012), "{body}");
}

#[tokio::test]
async fn the_directory_lists_every_user_with_select_filter_paging_and_count() {
    let org = Org::start().await;
    let (tenant, secret) = tenant(&org).await;
    let token = token(&org, &tenant, &secret).await;

    let (status, all) = org.get(&token, "/v1.0/users", &[]).await;
    assert_eq!(status, 200, "{all}");
    assert_eq!(
        mails(&all).len(),
        5,
        "users with and without mailboxes, enabled or not"
    );
    assert!(
        all["value"][0].get("accountEnabled").is_none(),
        "only default properties"
    );
    let cara = all["value"]
        .as_array()
        .and_then(|v| {
            v.iter()
                .find(|u| u["userPrincipalName"] == format!("cara@{DOMAIN}"))
        })
        .cloned()
        .unwrap_or_default();
    assert_eq!(cara["mail"], Value::Null, "no Exchange mailbox, no mail");

    let (_, selected) = org
        .get(
            &token,
            "/v1.0/users?$select=id,mail,accountEnabled,department,assignedLicenses",
            &[],
        )
        .await;
    let support = selected["value"]
        .as_array()
        .and_then(|v| v.iter().find(|u| u["mail"] == format!("support@{DOMAIN}")))
        .cloned()
        .unwrap_or_default();
    assert_eq!(support["accountEnabled"], false);
    assert_eq!(support["assignedLicenses"], json!([]));
    assert!(support.get("displayName").is_none());

    let (_, sales) = org
        .get(&token, "/v1.0/users?$filter=department%20eq%20'Sales'", &[])
        .await;
    assert_eq!(
        mails(&sales),
        [
            format!("ada@{DOMAIN}"),
            format!("bob@{DOMAIN}"),
            format!("dan@{DOMAIN}")
        ]
    );
    let (_, prefix) = org
        .get(&token, "/v1.0/users?$filter=startswith(mail,'ad')", &[])
        .await;
    assert_eq!(mails(&prefix), [format!("ada@{DOMAIN}")]);
    let (_, enabled) = org
        .get(
            &token,
            "/v1.0/users?$filter=accountEnabled%20eq%20false",
            &[],
        )
        .await;
    assert_eq!(
        mails(&enabled),
        [format!("dan@{DOMAIN}"), format!("support@{DOMAIN}")]
    );

    // Advanced queries need ConsistencyLevel: eventual and $count=true.
    let (status, body) = org
        .get(
            &token,
            "/v1.0/users?$filter=endswith(mail,'@contoso.test')",
            &[],
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["code"], "Request_UnsupportedQuery");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .contains("'ConsistencyLevel:eventual' header is missing"));
    let (status, body) = org.get(&token, "/v1.0/users?$count=true", &[]).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("Request_BadRequest"))
    );
    let eventual = [("ConsistencyLevel", "eventual")];
    let (status, body) = org.get(&token, "/v1.0/users?$filter=endswith(mail,'@contoso.test')%20and%20department%20ne%20'Sales'&$count=true", &eventual).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["@odata.count"], 1,
        "only the shared mailbox has no department"
    );
    let (status, body) = org.get(&token, "/v1.0/users/$count", &eventual).await;
    assert_eq!((status, body), (200, json!(5)));

    // Paging: $top and @odata.nextLink with the other options carried.
    let mut seen = Vec::new();
    let mut next = Some(org.url("/v1.0/users?$top=2&$select=id,userPrincipalName"));
    while let Some(url) = next {
        let path = url.trim_start_matches(&org.emu.base_url).to_string();
        let (status, page) = org.get(&token, &path, &[]).await;
        assert_eq!(status, 200, "{page}");
        assert!(page["value"]
            .as_array()
            .is_some_and(|v| v.len() <= 2 && v.iter().all(|u| u.get("mail").is_none())));
        seen.extend(mails(&page));
        next = page["@odata.nextLink"].as_str().map(str::to_string);
    }
    assert_eq!(seen.len(), 5);
    seen.dedup();
    assert_eq!(seen.len(), 5);
    let (status, body) = org.get(&token, "/v1.0/users?$top=1000", &[]).await;
    assert_eq!(status, 400, "{body}");

    let (status, user) = org
        .get(
            &token,
            &format!("/v1.0/users/cara@{DOMAIN}?$select=id,accountEnabled,department"),
            &[],
        )
        .await;
    assert_eq!(
        (status, user["department"].as_str()),
        (200, Some("Support"))
    );
    let (status, body) = org
        .get(&token, "/v1.0/users/nobody@contoso.test", &[])
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("Request_ResourceNotFound"))
    );
}

#[tokio::test]
async fn groups_list_their_members_and_disabled_users_show_at_once() {
    let org = Org::start().await;
    let (tenant, secret) = tenant(&org).await;
    let token = token(&org, &tenant, &secret).await;
    let (status, groups) = org.get(&token, "/v1.0/groups", &[]).await;
    assert_eq!(status, 200, "{groups}");
    let id = groups["value"][0]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let (_, members) = org
        .get(&token, &format!("/v1.0/groups/{id}/members"), &[])
        .await;
    assert_eq!(mails(&members).len(), 3);
    assert_eq!(members["value"][0]["@odata.type"], "#microsoft.graph.user");
    let (_, users) = org.get(&token, &format!("/v1.0/groups/{id}/members/microsoft.graph.user?$select=id,userPrincipalName,accountEnabled"), &[]).await;
    assert_eq!(mails(&users).len(), 3);
    assert!(users["value"][0].get("@odata.type").is_none());
    let (status, body) = org
        .get(
            &token,
            "/v1.0/groups/00000000-0000-4000-8000-00000000ffff/members",
            &[],
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("Request_ResourceNotFound"))
    );

    org.emu
        .client()
        .update_tenant_user(
            &tenant,
            &format!("bob@{DOMAIN}"),
            &UserSpec {
                account_enabled: Some(false),
                ..UserSpec::default()
            },
        )
        .await
        .expect("disable");
    let (_, disabled) = org
        .get(
            &token,
            "/v1.0/users?$filter=accountEnabled%20eq%20false&$select=id,userPrincipalName",
            &[],
        )
        .await;
    assert!(mails(&disabled).contains(&format!("bob@{DOMAIN}")));
}
