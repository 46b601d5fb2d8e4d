//! Managed Microsoft tenants, mail side: mailboxes by kind (user, shared, disabled, without
//! Exchange) and by the app's scope, admin consent (tokens without roles, the admin-consent
//! endpoint), and the OData URL forms of Graph paths.

use serde_json::{json, Value};
use threadline_emulator::microsoft::tenant_control::{AddSecret, CreateApp, PatchApp};

use super::microsoft::{secret_token, tenant, token, APP, DOMAIN};
use super::Org;

#[tokio::test]
async fn mailboxes_answer_by_kind_and_by_the_apps_scope() {
    let org = Org::start().await;
    let (tenant, secret) = tenant(&org).await;
    let token = token(&org, &tenant, &secret).await;
    let messages = |who: &str| format!("/v1.0/users/{who}@{DOMAIN}/messages?$select=subject");
    let (status, body) = org.get(&token, &messages("ada"), &[]).await;
    assert_eq!(
        (status, body["value"][0]["subject"].as_str()),
        (200, Some("hello ada"))
    );
    let (status, body) = org.get(&token, &messages("support"), &[]).await;
    assert_eq!(
        (status, body["value"][0]["subject"].as_str()),
        (200, Some("hello support")),
        "a shared mailbox reads like any"
    );
    let (status, _) = org.get(&token, &messages("dan"), &[]).await;
    assert_eq!(
        status, 200,
        "a disabled account's mailbox stays readable app-only"
    );
    let (status, body) = org.get(&token, &messages("cara"), &[]).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("MailboxNotEnabledForRESTAPI"))
    );
    assert_eq!(
        body["error"]["message"],
        "The mailbox is either inactive, soft-deleted, or is hosted on-premise."
    );

    let client = org.emu.client();
    let scope = json!({"mailboxes": [format!("ada@{DOMAIN}"), format!("support@{DOMAIN}")]});
    client
        .update_app(
            &tenant,
            APP,
            &PatchApp {
                mailbox_scope: Some(scope),
                ..PatchApp::default()
            },
        )
        .await
        .expect("scope");
    assert_eq!(org.get(&token, &messages("ada"), &[]).await.0, 200);
    assert_eq!(org.get(&token, &messages("support"), &[]).await.0, 200);
    let (status, body) = org.get(&token, &messages("bob"), &[]).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("ErrorAccessDenied"))
    );
    assert_eq!(
        body["error"]["message"],
        "Access is denied. Check credentials and try again."
    );
    let (status, _) = org
        .get(
            &token,
            &format!("/v1.0/users/bob@{DOMAIN}/mailFolders/inbox/messages/delta"),
            &[],
        )
        .await;
    assert_eq!(status, 403, "delta is mail too");
    let (status, _) = org
        .get(&token, &format!("/v1.0/users/bob@{DOMAIN}"), &[])
        .await;
    assert_eq!(status, 200, "the scope limits mail, not the directory");
    let policy = json!({"mailboxes": [format!("ada@{DOMAIN}")], "mechanism": "access_policy"});
    client
        .update_app(
            &tenant,
            APP,
            &PatchApp {
                mailbox_scope: Some(policy),
                ..PatchApp::default()
            },
        )
        .await
        .expect("policy");
    let (_, body) = org.get(&token, &messages("bob"), &[]).await;
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("[RAOP]"),
        "{body}"
    );
    client
        .update_app(
            &tenant,
            APP,
            &PatchApp {
                mailbox_scope: Some(Value::Null),
                ..PatchApp::default()
            },
        )
        .await
        .expect("lift");
    assert_eq!(org.get(&token, &messages("bob"), &[]).await.0, 200);
}

#[tokio::test]
async fn without_admin_consent_the_token_carries_no_roles_and_graph_refuses() {
    let org = Org::start().await;
    let (tenant, _) = tenant(&org).await;
    let client = org.emu.client();
    let app = client
        .create_app(&tenant, &CreateApp::default())
        .await
        .expect("app");
    let secret = client
        .add_secret(&tenant, &app.client_id, &AddSecret::default())
        .await
        .expect("secret");
    let (status, body) = secret_token(&org, &tenant, &app.client_id, &secret.value).await;
    assert_eq!(status, 200, "Entra issues the token anyway: {body}");
    let token = body["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let (status, body) = org.get(&token, "/v1.0/users", &[]).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("Authorization_RequestDenied"))
    );
    let (status, body) = org
        .get(&token, &format!("/v1.0/users/ada@{DOMAIN}/messages"), &[])
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("ErrorAccessDenied"))
    );
    client
        .update_app(
            &tenant,
            &app.client_id,
            &PatchApp {
                admin_consent: Some(true),
                ..PatchApp::default()
            },
        )
        .await
        .expect("consent");
    assert_eq!(
        org.get(&token, "/v1.0/users", &[]).await.0,
        403,
        "roles are fixed when the token is issued"
    );
    let (_, body) = secret_token(&org, &tenant, &app.client_id, &secret.value).await;
    let fresh = body["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert_eq!(org.get(&fresh, "/v1.0/users", &[]).await.0, 200);
    assert_eq!(
        org.get(&fresh, &format!("/v1.0/users/ada@{DOMAIN}/messages"), &[])
            .await
            .0,
        200
    );
}

#[tokio::test]
async fn the_admin_consent_endpoint_grants_the_apps_permissions() {
    let org = Org::start().await;
    let (tenant, _) = tenant(&org).await;
    let client = org.emu.client();
    let app = client
        .create_app(&tenant, &CreateApp::default())
        .await
        .expect("app");
    let secret = client
        .add_secret(&tenant, &app.client_id, &AddSecret::default())
        .await
        .expect("secret");
    let back = "http://127.0.0.1:9/org/consent";
    let url = org.url(&format!("/{tenant}/adminconsent"));
    let page = org
        .http
        .get(&url)
        .query(&[
            ("client_id", app.client_id.as_str()),
            ("redirect_uri", back),
            ("state", "s1"),
        ])
        .send()
        .await
        .expect("page");
    assert_eq!(page.status().as_u16(), 200);
    assert!(page.text().await.unwrap_or_default().contains("Mail.Read"));
    let form = [
        ("client_id", app.client_id.as_str()),
        ("redirect_uri", back),
        ("state", "s1"),
    ];
    let cancel = org
        .http
        .post(&url)
        .form(&[form[0], form[1], form[2], ("decision", "cancel")])
        .send()
        .await
        .expect("cancel");
    let location = cancel.headers()["location"]
        .to_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        location.starts_with(back)
            && location.contains("error=access_denied")
            && location.contains("state=s1"),
        "{location}"
    );
    assert!(!client
        .tenant(&tenant)
        .await
        .expect("tenant")
        .apps
        .iter()
        .any(|a| a.client_id == app.client_id && a.admin_consent));
    let accept = org
        .http
        .post(&url)
        .form(&[form[0], form[1], form[2], ("decision", "accept")])
        .send()
        .await
        .expect("accept");
    assert_eq!(accept.status().as_u16(), 302);
    let location = accept.headers()["location"]
        .to_str()
        .unwrap_or_default()
        .to_string();
    assert_eq!(
        location,
        format!("{back}?admin_consent=True&tenant={tenant}&state=s1")
    );
    let (_, body) = secret_token(&org, &tenant, &app.client_id, &secret.value).await;
    let token = body["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert_eq!(org.get(&token, "/v1.0/users", &[]).await.0, 200);
    let unknown = org
        .http
        .get(&url)
        .query(&[("client_id", "nope"), ("redirect_uri", back)])
        .send()
        .await
        .expect("unknown");
    assert_eq!(unknown.status().as_u16(), 400);
    assert!(unknown
        .text()
        .await
        .unwrap_or_default()
        .contains("AADSTS700016"));
}

#[tokio::test]
async fn odata_key_segments_and_delta_functions_are_accepted() {
    let org = Org::start().await;
    let (tenant, secret) = tenant(&org).await;
    let token = token(&org, &tenant, &secret).await;
    for path in [
        format!("/v1.0/users('ada@{DOMAIN}')/mailFolders('inbox')/messages?$select=subject"),
        format!("/v1.0/users(%27ada@{DOMAIN}%27)/mailFolders/inbox/messages?$select=subject"),
    ] {
        let (status, body) = org.get(&token, &path, &[]).await;
        assert_eq!(
            (status, body["value"][0]["subject"].as_str()),
            (200, Some("hello ada")),
            "{path}: {body}"
        );
    }
    let batch = json!({"requests": [{"id": "1", "method": "GET", "url": format!("/users('ada@{DOMAIN}')/mailFolders('inbox')/messages?$select=subject")}]});
    let answer: Value = org
        .http
        .post(org.url("/v1.0/$batch"))
        .bearer_auth(&token)
        .json(&batch)
        .send()
        .await
        .expect("batch")
        .json()
        .await
        .expect("json");
    assert_eq!(answer["responses"][0]["status"], 200, "{answer}");
    for function in [
        "delta()",
        "microsoft.graph.delta()",
        "microsoft.graph.delta",
    ] {
        let path = format!("/v1.0/users/ada@{DOMAIN}/mailFolders('inbox')/messages/{function}");
        let (status, body) = org.get(&token, &path, &[]).await;
        assert_eq!(status, 200, "{path}: {body}");
        assert!(
            body["@odata.deltaLink"].is_string() || body["@odata.nextLink"].is_string(),
            "{body}"
        );
    }
}
