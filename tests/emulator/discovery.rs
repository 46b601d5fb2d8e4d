//! `OpenID` discovery, tokeninfo and `prompt=none`.

use serde_json::Value;

use crate::support::{location, query, Emu, READONLY, REDIRECT, VERIFIER};

#[tokio::test]
async fn openid_configuration_points_at_the_emulator() {
    let emu = Emu::start().await;
    let (status, doc) = emu
        .control(
            reqwest::Method::GET,
            "/.well-known/openid-configuration",
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(doc["token_endpoint"], emu.url("/token"));
    assert_eq!(doc["authorization_endpoint"], emu.url("/o/oauth2/v2/auth"));
    let (status, keys) = emu
        .control(reqwest::Method::GET, "/oauth2/v3/certs", None)
        .await;
    assert_eq!(
        (status, keys["keys"].as_array().map(Vec::len)),
        (200, Some(0))
    );
}

#[tokio::test]
async fn tokeninfo_reports_the_granted_scopes_and_rejects_unknown_tokens() {
    let emu = Emu::start().await;
    emu.mailbox("google", "me@ourco.test").await;
    let token = emu.token("me@ourco.test", &["email", READONLY]).await;
    let (status, info) = emu
        .control(
            reqwest::Method::GET,
            &format!("/tokeninfo?access_token={token}"),
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(info["email"], "me@ourco.test");
    assert!(info["scope"].as_str().is_some_and(|s| s.contains(READONLY)));
    assert!(info["expires_in"]
        .as_str()
        .and_then(|s| s.parse::<u64>().ok())
        .is_some_and(|n| n > 3000));
    let (status, body) = emu
        .control(reqwest::Method::GET, "/tokeninfo?access_token=nope", None)
        .await;
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
