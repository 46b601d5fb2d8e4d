//! Who may reach what: `/me` vs `/users/{id}`, delegated vs app-only, tenants, `/users` paging.

use threadline_emulator::store::{MailboxInfo, Provider};
use threadline_emulator::Quota;

use crate::graph::support::{code, emulator, COLLEAGUE, ME, OTHER_TENANT, TENANT};

#[tokio::test]
async fn me_needs_a_delegated_token() {
    let emu = emulator(Quota::Off, true).await;
    let app = emu.app_token(TENANT).await;
    let (status, body) = emu.get(&app, "/v1.0/me").await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(code(&body), "BadRequest");
    let (status, body) = emu.get(&app, "/v1.0/me/messages").await;
    assert_eq!(status, 400, "{body}");
    let (status, me) = emu.get(&app, &format!("/v1.0/users/{ME}")).await;
    assert_eq!(status, 200);
    assert_eq!(me["mail"], ME);
    let by_id = format!(
        "/v1.0/users/{}/messages",
        me["id"].as_str().unwrap_or_default()
    );
    assert_eq!(
        emu.get(&app, &by_id).await.0,
        200,
        "users/{{id}} works with the object id"
    );
}

#[tokio::test]
async fn delegated_tokens_reach_only_their_own_mailbox() {
    let emu = emulator(Quota::Off, true).await;
    let token = emu.user_token(ME).await;
    assert_eq!(
        emu.get(&token, &format!("/v1.0/users/{ME}/messages"))
            .await
            .0,
        200
    );
    let (status, body) = emu
        .get(&token, &format!("/v1.0/users/{COLLEAGUE}/messages"))
        .await;
    assert_eq!(status, 403);
    assert_eq!(code(&body), "ErrorAccessDenied");
    let (status, body) = emu.get(&token, "/v1.0/users").await;
    assert_eq!(status, 403);
    assert_eq!(code(&body), "Authorization_RequestDenied");
    // Without a mail scope.
    let body = emu.delegated(ME, "openid User.Read").await;
    let (status, body) = emu
        .get(
            body["access_token"].as_str().unwrap_or_default(),
            "/v1.0/me/messages",
        )
        .await;
    assert_eq!(status, 403);
    assert_eq!(code(&body), "ErrorAccessDenied");
}

#[tokio::test]
async fn app_tokens_reach_every_mailbox_of_their_tenant_only() {
    let emu = emulator(Quota::Off, true).await;
    let app = emu.app_token(TENANT).await;
    assert_eq!(
        emu.get(&app, &format!("/v1.0/users/{COLLEAGUE}/mailFolders"))
            .await
            .0,
        200
    );
    let (status, body) = emu
        .get(&app, "/v1.0/users/eve@elsewhere.test/messages")
        .await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(code(&body), "ErrorInvalidUser");
    let (status, body) = emu.get(&app, "/v1.0/users/eve@elsewhere.test").await;
    assert_eq!(status, 404);
    assert_eq!(code(&body), "Request_ResourceNotFound");
    let other = emu.app_token(OTHER_TENANT).await;
    assert_eq!(
        emu.get(&other, "/v1.0/users/eve@elsewhere.test/messages")
            .await
            .0,
        200
    );
}

#[tokio::test]
async fn personal_accounts_have_null_mail() {
    let emu = emulator(Quota::Off, true).await;
    let token = emu.user_token("pat@outlook.test").await;
    let (status, me) = emu.get(&token, "/v1.0/me").await;
    assert_eq!(status, 200);
    assert!(me["mail"].is_null(), "{me}");
    assert_eq!(me["userPrincipalName"], "pat@outlook.test");
}

#[tokio::test]
async fn users_pages_and_caps_top_at_999() {
    let emu = emulator(Quota::Off, true).await;
    for i in 0..5 {
        emu.emu.state.store.create(MailboxInfo {
            provider: Provider::Microsoft,
            address: format!("user{i}@ourco.test"),
            display_name: format!("User {i}"),
            tenant: Some(TENANT.into()),
        });
    }
    let app = emu.app_token(TENANT).await;
    let (page, _) = emu
        .all_pages(&app, "/v1.0/users?$top=2&$select=id,userPrincipalName", &[])
        .await;
    assert_eq!(page.len(), 7, "two tenant mailboxes + five");
    assert!(
        page.iter()
            .all(|u| u.as_object().is_some_and(|o| o.len() == 2)),
        "$select carried into nextLink"
    );
    let (status, first) = emu.get(&app, "/v1.0/users?$top=2").await;
    assert_eq!(status, 200);
    assert!(first["@odata.nextLink"]
        .as_str()
        .is_some_and(|l| l.contains("$skiptoken=") || l.contains("%24skiptoken=")));
    let (status, body) = emu.get(&app, "/v1.0/users?$top=1000").await;
    assert_eq!(status, 400);
    assert!(body["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .contains("between 1 and 999"));
}
