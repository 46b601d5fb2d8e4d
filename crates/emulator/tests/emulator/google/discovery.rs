//! `OpenID` discovery, tokeninfo and `prompt=none`.

use serde_json::Value;

use crate::google::support::{location, query, Emu, READONLY, REDIRECT, VERIFIER};

#[tokio::test]
async fn openid_configuration_points_at_the_emulator() {
    let emu = Emu::start().await;
    let (status, doc) = emu.control_get("/.well-known/openid-configuration").await;
    assert_eq!(status, 200);
    assert_eq!(doc["token_endpoint"], emu.url("/token"));
    assert_eq!(doc["authorization_endpoint"], emu.url("/o/oauth2/v2/auth"));
    let (status, keys) = emu.control_get("/oauth2/v3/certs").await;
    assert_eq!(
        (status, keys["keys"].as_array().map(Vec::len)),
        (200, Some(1)),
        "the key that signs Pub/Sub push tokens"
    );
}

#[tokio::test]
async fn tokeninfo_reports_the_granted_scopes_and_rejects_unknown_tokens() {
    let emu = Emu::start().await;
    emu.mailbox("google", "me@ourco.test").await;
    let token = emu.token("me@ourco.test", &["email", READONLY]).await;
    let (status, info) = emu
        .control_get(&format!("/tokeninfo?access_token={token}"))
        .await;
    assert_eq!(status, 200);
    assert_eq!(info["email"], "me@ourco.test");
    assert!(info["scope"].as_str().is_some_and(|s| s.contains(READONLY)));
    assert!(info["expires_in"]
        .as_str()
        .and_then(|s| s.parse::<u64>().ok())
        .is_some_and(|n| n > 3000));
    let (status, body) = emu.control_get("/tokeninfo?access_token=nope").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_token"))
    );
}

#[tokio::test]
async fn prompt_none_needs_an_earlier_consent() {
    let emu = Emu::start().await;
    emu.mailbox("google", "me@ourco.test").await;
    let r = emu
        .authorize("me@ourco.test", &[READONLY], "&prompt=none")
        .await;
    assert_eq!(r.status(), 302);
    let redirect = location(&r);
    assert_eq!(
        query(&redirect, "error").as_deref(),
        Some("consent_required")
    );
    assert_eq!(query(&redirect, "state").as_deref(), Some("st4te"));
    emu.token("me@ourco.test", &[READONLY]).await;
    let r = emu
        .authorize("me@ourco.test", &[READONLY], "&prompt=none")
        .await;
    assert_eq!(r.status(), 302);
    let code = query(&location(&r), "code").expect("silent approval");
    let (status, token): (u16, Value) = emu.exchange(&code, VERIFIER, REDIRECT).await;
    assert_eq!(status, 200, "{token}");
}

#[tokio::test]
async fn plain_pkce_and_http_basic_client_auth_work() {
    use base64::Engine as _;
    let emu = Emu::start().await;
    emu.mailbox("google", "me@ourco.test").await;
    let url = format!(
        "{}?client_id=basic-client&redirect_uri={}&response_type=code&scope={}&code_challenge=plain-verifier-plain-verifier-plain-verifier-1234&code_challenge_method=plain&login_hint=me@ourco.test",
        emu.url("/o/oauth2/v2/auth"),
        crate::google::support::urlencode(REDIRECT),
        crate::google::support::urlencode(READONLY)
    );
    let page = emu
        .http
        .get(url)
        .send()
        .await
        .expect("authorize")
        .text()
        .await
        .expect("page");
    let redirect = emu.consent(&page, "me@ourco.test", None, "approve").await;
    let code = query(&redirect, "code").expect("code");
    let basic = base64::engine::general_purpose::STANDARD.encode("basic-client:s3cret");
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
        (
            "code_verifier",
            "plain-verifier-plain-verifier-plain-verifier-1234",
        ),
    ];
    let r = emu
        .http
        .post(emu.url("/token"))
        .header("authorization", format!("Basic {basic}"))
        .form(&form)
        .send()
        .await
        .expect("token");
    assert_eq!(r.status(), 200);
    let token: Value = r.json().await.expect("json");
    assert!(token["access_token"].is_string());
}

#[tokio::test]
async fn a_short_access_token_ttl_makes_tokens_expire() {
    let emu = Emu::start().await;
    emu.mailbox("google", "me@ourco.test").await;
    emu.control(
        reqwest::Method::PATCH,
        "/_emulator/settings",
        Some(serde_json::json!({"access_token_ttl_secs": 1})),
    )
    .await;
    let token = emu.token_response("me@ourco.test", &[READONLY]).await;
    assert_eq!(token["expires_in"], 1);
    let at = token["access_token"].as_str().expect("at");
    assert_eq!(emu.get(at, "/gmail/v1/users/me/profile").await.0, 200);
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    assert_eq!(emu.get(at, "/gmail/v1/users/me/profile").await.0, 401);
}
