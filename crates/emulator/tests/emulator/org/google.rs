//! Google Workspace: a service account's key file, the JWT bearer grant with domain-wide
//! delegation and its exact errors, Gmail as the impersonated user, and the Admin SDK
//! Directory `users.list`.

use serde_json::{json, Value};
use threadline_emulator::control::DeliverQuery;
use threadline_emulator::crypto::{generate_key, private_key_from_pem, sign_rs256};
use threadline_emulator::google::workspace_control::{
    CreateDomain, CreateServiceAccount, ServiceAccountKeyFile, WorkspaceUserSpec,
};

use super::{now, Org};

const DOMAIN: &str = "example.test";
const GMAIL: &str = "https://www.googleapis.com/auth/gmail.readonly";
const DIRECTORY: &str = "https://www.googleapis.com/auth/admin.directory.user.readonly";
const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
const UNAUTHORIZED: &str = "Client is unauthorized to retrieve access tokens using this method, or client not authorized for any of the scopes requested.";
const TIMEFRAME: &str = "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.";

/// A domain (admin, ann /Sales, ben /Sales/East, cid /Support suspended, dee without Gmail),
/// a service account with delegation for Gmail read-only and the directory.
async fn workspace(org: &Org) -> ServiceAccountKeyFile {
    let client = org.emu.client();
    client
        .create_domain(&CreateDomain {
            domain: DOMAIN.into(),
            customer_id: None,
        })
        .await
        .expect("domain");
    let users = [
        ("admin", "/", true, false, true),
        ("ann", "/Sales", false, false, true),
        ("ben", "/Sales/East", false, false, true),
        ("cid", "/Support", false, true, true),
        ("dee", "/Support", false, false, false),
    ];
    for (name, unit, admin, suspended, gmail) in users {
        client
            .create_workspace_user(
                DOMAIN,
                &WorkspaceUserSpec {
                    primary_email: Some(format!("{name}@{DOMAIN}")),
                    given_name: Some(name.to_uppercase()),
                    family_name: Some("Tester".into()),
                    org_unit_path: Some(unit.into()),
                    is_admin: Some(admin),
                    suspended: Some(suspended),
                    is_mailbox_setup: Some(gmail),
                    ..WorkspaceUserSpec::default()
                },
            )
            .await
            .expect("user");
    }
    let key = client
        .create_service_account(&CreateServiceAccount::default())
        .await
        .expect("service account");
    client
        .grant_delegation(DOMAIN, &key.client_id, &[GMAIL, DIRECTORY])
        .await
        .expect("grant");
    let raw = format!("From: x@client.test\r\nTo: ann@{DOMAIN}\r\nSubject: hello ann\r\nMessage-ID: <ann@client.test>\r\nDate: Tue, 01 Oct 2024 10:00:00 +0000\r\n\r\nHi.\r\n");
    client
        .deliver(
            &format!("ann@{DOMAIN}"),
            raw,
            &DeliverQuery {
                labels: Some("INBOX".into()),
                ..DeliverQuery::default()
            },
        )
        .await
        .expect("deliver");
    key
}

fn claims(key: &ServiceAccountKeyFile, sub: &str, scope: &str) -> Value {
    let t = now();
    json!({"iss": key.client_email, "sub": sub, "scope": scope, "aud": key.token_uri, "iat": t, "exp": t + 3600})
}

fn sign(key: &ServiceAccountKeyFile, claims: &Value) -> String {
    let private = private_key_from_pem(&key.private_key).expect("key");
    sign_rs256(
        &private,
        &json!({"alg": "RS256", "typ": "JWT", "kid": key.private_key_id}),
        claims,
    )
}

async fn grant(org: &Org, assertion: &str) -> (u16, Value) {
    org.form(
        "/token",
        &[("grant_type", JWT_BEARER), ("assertion", assertion)],
    )
    .await
}

async fn token_for(org: &Org, key: &ServiceAccountKeyFile, sub: &str, scope: &str) -> String {
    let (status, body) = grant(org, &sign(key, &claims(key, sub, scope))).await;
    assert_eq!(status, 200, "{body}");
    body["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

fn with(mut base: Value, changes: Value) -> Value {
    if let (Value::Object(b), Value::Object(c)) = (&mut base, changes) {
        b.extend(c);
    }
    base
}

fn error(body: &Value) -> (&str, &str) {
    (
        body["error"].as_str().unwrap_or_default(),
        body["error_description"].as_str().unwrap_or_default(),
    )
}

#[tokio::test]
async fn the_key_file_is_googles_and_delegation_reads_gmail_as_the_user() {
    let org = Org::start().await;
    let key = workspace(&org).await;
    assert_eq!(key.kind, "service_account");
    assert_eq!(key.token_uri, org.url("/token"));
    assert_eq!(key.private_key_id.len(), 40);
    assert!(key.client_id.len() == 21 && key.client_id.chars().all(|c| c.is_ascii_digit()));
    assert!(key.client_email.ends_with(".iam.gserviceaccount.com"));
    assert!(key.private_key.starts_with("-----BEGIN PRIVATE KEY-----\n"));
    let file = serde_json::to_value(&key).expect("json");
    for field in [
        "type",
        "project_id",
        "private_key_id",
        "private_key",
        "client_email",
        "client_id",
        "auth_uri",
        "token_uri",
        "auth_provider_x509_cert_url",
        "client_x509_cert_url",
        "universe_domain",
    ] {
        assert!(file.get(field).is_some(), "{field}");
    }

    let (status, body) = grant(
        &org,
        &sign(&key, &claims(&key, &format!("ann@{DOMAIN}"), GMAIL)),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (body["token_type"].as_str(), body["expires_in"].as_u64()),
        (Some("Bearer"), Some(3599))
    );
    assert!(body.get("refresh_token").is_none());
    let token = body["access_token"].as_str().unwrap_or_default();
    let (status, list) = org.get(token, "/gmail/v1/users/me/messages", &[]).await;
    assert_eq!(
        (status, list["resultSizeEstimate"].as_u64()),
        (200, Some(1)),
        "{list}"
    );
    assert_eq!(
        org.get(token, &format!("/gmail/v1/users/ann@{DOMAIN}/profile"), &[])
            .await
            .0,
        200
    );
    assert_eq!(
        org.get(
            token,
            &format!("/gmail/v1/users/ben@{DOMAIN}/messages"),
            &[]
        )
        .await
        .0,
        403,
        "a token is for its subject only"
    );

    let dee = token_for(&org, &key, &format!("dee@{DOMAIN}"), GMAIL).await;
    let (status, body) = org.get(&dee, "/gmail/v1/users/me/messages", &[]).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["message"], "Mail service not enabled");
    assert_eq!(body["error"]["errors"][0]["reason"], "failedPrecondition");
    assert_eq!(body["error"]["status"], "FAILED_PRECONDITION");
}

#[tokio::test]
async fn each_delegation_failure_gets_googles_error() {
    let org = Org::start().await;
    let key = workspace(&org).await;
    let ann = format!("ann@{DOMAIN}");

    let modify = "https://www.googleapis.com/auth/gmail.modify";
    let (status, body) = grant(
        &org,
        &sign(&key, &claims(&key, &ann, &format!("{GMAIL} {modify}"))),
    )
    .await;
    assert_eq!(
        (status, error(&body)),
        (401, ("unauthorized_client", UNAUTHORIZED)),
        "a scope not granted"
    );

    for (sub, why) in [
        (format!("nobody@{DOMAIN}"), "unknown"),
        (format!("cid@{DOMAIN}"), "suspended"),
        ("x@other.test".to_string(), "outside"),
    ] {
        let (status, body) = grant(&org, &sign(&key, &claims(&key, &sub, GMAIL))).await;
        assert_eq!(
            (status, error(&body)),
            (400, ("invalid_grant", "Invalid email or User ID")),
            "{why}"
        );
    }

    let mut stranger = key.clone();
    stranger.private_key =
        threadline_emulator::crypto::private_key_pem(&generate_key().expect("key")).expect("pem");
    let (status, body) = grant(&org, &sign(&stranger, &claims(&key, &ann, GMAIL))).await;
    assert_eq!(
        (status, error(&body)),
        (400, ("invalid_grant", "Invalid JWT Signature."))
    );

    let too_long = with(claims(&key, &ann, GMAIL), json!({"exp": now() + 7200}));
    assert_eq!(
        error(&grant(&org, &sign(&key, &too_long)).await.1),
        ("invalid_grant", TIMEFRAME)
    );
    let expired = with(
        claims(&key, &ann, GMAIL),
        json!({"iat": now() - 7200, "exp": now() - 3600}),
    );
    assert_eq!(
        error(&grant(&org, &sign(&key, &expired)).await.1),
        ("invalid_grant", TIMEFRAME)
    );
    let wrong_aud = with(
        claims(&key, &ann, GMAIL),
        json!({"aud": "https://example.test/token"}),
    );
    assert_eq!(
        error(&grant(&org, &sign(&key, &wrong_aud)).await.1).0,
        "invalid_grant"
    );
    let unknown = with(
        claims(&key, &ann, GMAIL),
        json!({"iss": "ghost@threadline-org.iam.gserviceaccount.com"}),
    );
    assert_eq!(
        error(&grant(&org, &sign(&key, &unknown)).await.1),
        ("invalid_grant", "Invalid grant: account not found")
    );
    let (status, body) = grant(
        &org,
        &sign(&key, &with(claims(&key, &ann, GMAIL), json!({"scope": ""}))),
    )
    .await;
    assert_eq!((status, error(&body).0), (400, "invalid_scope"));

    // A deleted key stops signing; revoking the delegation stops every scope.
    let client = org.emu.client();
    let second = client
        .add_service_account_key(&key.client_email)
        .await
        .expect("key");
    assert_eq!(
        grant(&org, &sign(&second, &claims(&second, &ann, GMAIL)))
            .await
            .0,
        200
    );
    client
        .delete_service_account_key(&key.client_email, &second.private_key_id)
        .await
        .expect("delete");
    assert_eq!(
        error(
            &grant(&org, &sign(&second, &claims(&second, &ann, GMAIL)))
                .await
                .1
        ),
        ("invalid_grant", "Invalid JWT Signature.")
    );
    client
        .revoke_delegation(DOMAIN, &key.client_id)
        .await
        .expect("revoke");
    let (status, body) = grant(&org, &sign(&key, &claims(&key, &ann, GMAIL))).await;
    assert_eq!((status, error(&body).0), (401, "unauthorized_client"));
}

fn emails(body: &Value) -> Vec<String> {
    body["users"]
        .as_array()
        .map(|v| {
            v.iter()
                .map(|u| u["primaryEmail"].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn the_directory_lists_users_with_paging_and_queries_for_an_admin() {
    let org = Org::start().await;
    let key = workspace(&org).await;
    let admin = token_for(&org, &key, &format!("admin@{DOMAIN}"), DIRECTORY).await;
    let list = |q: &str| format!("/admin/directory/v1/users?customer=my_customer{q}");

    let (status, body) = org.get(&admin, &list(""), &[]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["kind"], "admin#directory#users");
    assert_eq!(emails(&body).len(), 5);
    let cid = body["users"]
        .as_array()
        .and_then(|u| {
            u.iter()
                .find(|u| u["primaryEmail"] == format!("cid@{DOMAIN}"))
        })
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        (cid["suspended"].as_bool(), cid["orgUnitPath"].as_str()),
        (Some(true), Some("/Support"))
    );
    assert_eq!(cid["name"]["fullName"], "CID Tester");
    assert_eq!(cid["kind"], "admin#directory#user");
    assert!(cid["id"].as_str().is_some_and(|id| id.len() == 21));
    let dee = body["users"]
        .as_array()
        .and_then(|u| {
            u.iter()
                .find(|u| u["primaryEmail"] == format!("dee@{DOMAIN}"))
        })
        .cloned()
        .unwrap_or_default();
    assert_eq!(dee["isMailboxSetup"], false);

    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page_token = token
            .as_deref()
            .map(|t| format!("&pageToken={t}"))
            .unwrap_or_default();
        let (status, page) = org
            .get(&admin, &list(&format!("&maxResults=2{page_token}")), &[])
            .await;
        assert_eq!(status, 200, "{page}");
        assert!(emails(&page).len() <= 2);
        seen.extend(emails(&page));
        token = page["nextPageToken"].as_str().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    assert_eq!(seen.len(), 5);

    let query = |q: &str| {
        list(&format!(
            "&query={}",
            url::form_urlencoded::byte_serialize(q.as_bytes()).collect::<String>()
        ))
    };
    assert_eq!(
        emails(&org.get(&admin, &query("orgUnitPath='/Sales'"), &[]).await.1),
        [format!("ann@{DOMAIN}"), format!("ben@{DOMAIN}")]
    );
    assert_eq!(
        emails(&org.get(&admin, &query("email:an*"), &[]).await.1),
        [format!("ann@{DOMAIN}")]
    );
    assert_eq!(
        emails(&org.get(&admin, &query("isSuspended=true"), &[]).await.1),
        [format!("cid@{DOMAIN}")]
    );
    assert_eq!(
        emails(
            &org.get(
                &admin,
                &query("orgUnitPath=/Support isSuspended=false"),
                &[]
            )
            .await
            .1
        ),
        [format!("dee@{DOMAIN}")]
    );
    assert_eq!(org.get(&admin, &query("nonsense=1"), &[]).await.0, 400);
    assert_eq!(org.get(&admin, &list("&maxResults=501"), &[]).await.0, 400);
    assert_eq!(
        org.get(&admin, "/admin/directory/v1/users", &[]).await.0,
        400,
        "customer or domain is required"
    );
    assert_eq!(
        org.get(
            &admin,
            &format!("/admin/directory/v1/users?domain={DOMAIN}"),
            &[]
        )
        .await
        .0,
        200
    );

    let ann = token_for(&org, &key, &format!("ann@{DOMAIN}"), DIRECTORY).await;
    let (status, body) = org.get(&ann, &list(""), &[]).await;
    assert_eq!(
        (status, body["error"]["message"].as_str()),
        (403, Some("Not Authorized to access this resource/api"))
    );
    let gmail_only = token_for(&org, &key, &format!("admin@{DOMAIN}"), GMAIL).await;
    let (status, body) = org.get(&gmail_only, &list(""), &[]).await;
    assert_eq!(
        (status, body["error"]["message"].as_str()),
        (403, Some("Request had insufficient authentication scopes."))
    );
}
