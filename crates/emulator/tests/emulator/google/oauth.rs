//! Google OAuth 2.0: consent, code + PKCE exchange, refresh, revocation, userinfo, errors.

use serde_json::{json, Value};
use threadline_emulator::EmulatorConfig;

use crate::google::schema::assert_google_error;
use crate::google::support::{
    config, location, query, urlencode, Emu, CLIENT_ID, MODIFY, READONLY, REDIRECT, VERIFIER,
};

async fn emu() -> Emu {
    let emu = Emu::start().await;
    emu.mailbox("google", "me@ourco.test").await;
    emu.mailbox("google", "other@ourco.test").await;
    emu
}

async fn code_for(emu: &Emu, extra: &str) -> String {
    let r = emu
        .authorize("me@ourco.test", &["openid", "email", MODIFY], extra)
        .await;
    assert_eq!(r.status(), 200, "consent page");
    let page = r.text().await.expect("page");
    assert!(
        page.contains("me@ourco.test") && page.contains("other@ourco.test"),
        "lists google mailboxes"
    );
    let redirect = emu.consent(&page, "me@ourco.test", None, "approve").await;
    assert_eq!(query(&redirect, "state").as_deref(), Some("st4te"));
    query(&redirect, "code").expect("code")
}

#[tokio::test]
async fn the_code_flow_issues_tokens_with_the_granted_scope_and_an_id_token() {
    let emu = emu().await;
    let code = code_for(&emu, "&access_type=offline").await;
    let (status, body) = emu.exchange(&code, VERIFIER, REDIRECT).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["access_token"]
        .as_str()
        .is_some_and(|t| t.starts_with("ya29.")));
    assert_eq!(body["token_type"], "Bearer");
    assert!(body["expires_in"].as_u64().is_some_and(|n| n > 0));
    assert!(body["refresh_token"].is_string());
    assert!(body["id_token"]
        .as_str()
        .is_some_and(|t| t.split('.').count() == 3));
    let scope = body["scope"].as_str().expect("scope");
    assert!(
        scope.contains(MODIFY) && scope.contains("https://www.googleapis.com/auth/userinfo.email")
    );

    let at = body["access_token"].as_str().expect("at");
    let (status, info) = emu.get(at, "/v1/userinfo").await;
    assert_eq!(status, 200);
    assert_eq!(info["email"], "me@ourco.test");
    assert_eq!(info["email_verified"], true);
    assert!(info["sub"]
        .as_str()
        .is_some_and(|s| s.chars().all(|c| c.is_ascii_digit())));
}

#[tokio::test]
async fn pkce_mismatch_code_reuse_and_redirect_mismatch_are_invalid_grant() {
    let emu = emu().await;
    let code = code_for(&emu, "").await;
    let (status, body) = emu
        .exchange(
            &code,
            "the-wrong-verifier-the-wrong-verifier-the-wrong",
            REDIRECT,
        )
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    assert_eq!(body["error_description"], "Invalid code verifier.");

    let code = code_for(&emu, "").await;
    let (status, body) = emu
        .exchange(&code, VERIFIER, "http://127.0.0.1:9/other")
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("redirect_uri_mismatch"))
    );

    let code = code_for(&emu, "").await;
    assert_eq!(emu.exchange(&code, VERIFIER, REDIRECT).await.0, 200);
    let (status, body) = emu.exchange(&code, VERIFIER, REDIRECT).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "codes are one-time"
    );

    let (status, body) = emu.exchange("4/0Anonsense", VERIFIER, REDIRECT).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
}

#[tokio::test]
async fn deny_redirects_with_access_denied_and_the_state() {
    let emu = emu().await;
    let page = emu
        .authorize("me@ourco.test", &[READONLY], "")
        .await
        .text()
        .await
        .expect("page");
    let redirect = emu.consent(&page, "me@ourco.test", None, "deny").await;
    assert_eq!(query(&redirect, "error").as_deref(), Some("access_denied"));
    assert_eq!(query(&redirect, "state").as_deref(), Some("st4te"));
    assert!(query(&redirect, "code").is_none());
}

#[tokio::test]
async fn authorize_validates_client_redirect_response_type_and_scope() {
    let emu = emu().await;
    let base = emu.url("/o/oauth2/v2/auth");
    let cb = urlencode(REDIRECT);
    for (q, expect) in [
        (format!("redirect_uri={cb}&response_type=code&scope=openid"), "client_id"),
        ("client_id=c&response_type=code&scope=openid".to_string(), "redirect_uri"),
        (format!("client_id=c&redirect_uri={cb}&response_type=token&scope=openid"), "unsupported_response_type"),
        (format!("client_id=c&redirect_uri={cb}&response_type=code"), "scope"),
        (format!("client_id=c&redirect_uri={cb}&response_type=code&scope=openid&code_challenge=x&code_challenge_method=MD5"), "code_challenge_method"),
    ] {
        let r = emu.http.get(format!("{base}?{q}")).send().await.expect("authorize");
        assert_eq!(r.status(), 400, "{q}");
        assert!(r.text().await.expect("page").contains(expect), "{q} mentions {expect}");
    }
}

#[tokio::test]
async fn refresh_returns_no_new_refresh_token_and_a_second_consent_only_with_prompt_consent() {
    let emu = emu().await;
    let first = emu.token_response("me@ourco.test", &[READONLY]).await;
    let rt = first["refresh_token"]
        .as_str()
        .expect("first consent gives a refresh token");
    let (status, refreshed) = emu.refresh(rt).await;
    assert_eq!(status, 200);
    assert!(
        refreshed.get("refresh_token").is_none(),
        "Google does not rotate: {refreshed}"
    );
    assert!(refreshed["access_token"].is_string());
    let again = emu.token_response("me@ourco.test", &[READONLY]).await;
    assert!(
        again.get("refresh_token").is_none(),
        "no refresh token on a repeated consent"
    );
    let r = emu
        .authorize(
            "me@ourco.test",
            &[READONLY],
            "&access_type=offline&prompt=consent",
        )
        .await;
    let redirect = emu.approve(r, None).await;
    let (_, forced) = emu.exchange_redirect(&redirect).await;
    assert!(
        forced["refresh_token"].is_string(),
        "prompt=consent issues a new refresh token"
    );
}

#[tokio::test]
async fn granular_consent_can_grant_fewer_scopes_than_requested() {
    let emu = emu().await;
    let r = emu
        .authorize("me@ourco.test", &["openid", READONLY, MODIFY], "")
        .await;
    let redirect = emu.approve(r, Some(&[READONLY])).await;
    let granted = query(&redirect, "scope").expect("scope");
    assert!(granted.contains(READONLY) && !granted.contains(MODIFY) && granted.contains("openid"));
    let (_, token) = emu.exchange_redirect(&redirect).await;
    assert_eq!(token["scope"].as_str(), Some(granted.as_str()));
    let at = token["access_token"].as_str().expect("at");
    let (status, body) = emu
        .post(
            at,
            "/gmail/v1/users/me/messages/0123456789abcdef/modify",
            json!({"addLabelIds": ["STARRED"]}),
        )
        .await;
    assert_eq!(status, 403);
    assert_google_error(&body, 403, "insufficientPermissions");
}

#[tokio::test]
async fn revoke_tokens_kills_access_with_401_and_refresh_with_invalid_grant() {
    let emu = emu().await;
    let token = emu.token_response("me@ourco.test", &[READONLY]).await;
    let at = token["access_token"].as_str().expect("at");
    let rt = token["refresh_token"].as_str().expect("rt");
    assert_eq!(emu.get(at, "/gmail/v1/users/me/profile").await.0, 200);
    let (status, _) = emu
        .control(
            reqwest::Method::POST,
            "/_emulator/mailboxes/me@ourco.test/revoke-tokens",
            None,
        )
        .await;
    assert_eq!(status, 200);
    let (status, body) = emu.get(at, "/gmail/v1/users/me/profile").await;
    assert_eq!(status, 401);
    assert_google_error(&body, 401, "authError");
    let (status, body) = emu.refresh(rt).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    assert_eq!(
        body["error_description"],
        "Token has been expired or revoked."
    );
}

#[tokio::test]
async fn expired_access_tokens_get_401_and_refresh_recovers() {
    let emu = emu().await;
    let token = emu.token_response("me@ourco.test", &[READONLY]).await;
    let at = token["access_token"].as_str().expect("at");
    let (status, _) = emu
        .control(
            reqwest::Method::POST,
            "/_emulator/mailboxes/me@ourco.test/expire-access-tokens",
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(emu.get(at, "/gmail/v1/users/me/profile").await.0, 401);
    let (_, refreshed) = emu
        .refresh(token["refresh_token"].as_str().expect("rt"))
        .await;
    assert_eq!(
        emu.get(
            refreshed["access_token"].as_str().expect("at"),
            "/gmail/v1/users/me/profile"
        )
        .await
        .0,
        200
    );
}

#[tokio::test]
async fn the_revoke_endpoint_revokes_the_grant() {
    let emu = emu().await;
    let token = emu.token_response("me@ourco.test", &[READONLY]).await;
    let at = token["access_token"].as_str().expect("at");
    let r = emu
        .http
        .post(emu.url(&format!("/revoke?token={at}")))
        .send()
        .await
        .expect("revoke");
    assert_eq!(r.status(), 200);
    assert_eq!(emu.get(at, "/gmail/v1/users/me/profile").await.0, 401);
    let (status, _) = emu
        .refresh(token["refresh_token"].as_str().expect("rt"))
        .await;
    assert_eq!(status, 400);
    let r = emu
        .http
        .post(emu.url("/revoke"))
        .form(&[("token", "unknown")])
        .send()
        .await
        .expect("revoke");
    assert_eq!(r.status(), 400);
}

#[tokio::test]
async fn auto_consent_redirects_immediately_for_the_login_hint() {
    let emu = Emu::with(EmulatorConfig {
        auto_consent: true,
        ..config()
    })
    .await;
    emu.mailbox("google", "first@ourco.test").await;
    emu.mailbox("google", "me@ourco.test").await;
    let r = emu.authorize("me@ourco.test", &[READONLY], "").await;
    assert_eq!(r.status(), 302);
    let code = query(&location(&r), "code").expect("code");
    let (_, token) = emu.exchange(&code, VERIFIER, REDIRECT).await;
    let (_, profile) = emu
        .get(
            token["access_token"].as_str().expect("at"),
            "/gmail/v1/users/me/profile",
        )
        .await;
    assert_eq!(profile["emailAddress"], "me@ourco.test");
}

#[tokio::test]
async fn a_clients_file_restricts_clients_secrets_and_redirect_uris() {
    let dir = std::env::temp_dir().join(format!("tl-clients-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let file = dir.join("clients.json");
    let clients =
        json!([{"client_id": CLIENT_ID, "client_secret": "right", "redirect_uris": [REDIRECT]}]);
    std::fs::write(&file, clients.to_string()).expect("write");
    let emu = Emu::with(EmulatorConfig {
        clients_file: Some(file),
        ..config()
    })
    .await;
    emu.mailbox("google", "me@ourco.test").await;
    let r = emu
        .http
        .get(format!(
            "{}?client_id=stranger&redirect_uri={}&response_type=code&scope=openid",
            emu.url("/o/oauth2/v2/auth"),
            urlencode(REDIRECT)
        ))
        .send()
        .await
        .expect("authorize");
    assert_eq!(r.status(), 401);
    assert!(r.text().await.expect("page").contains("invalid_client"));
    let r = emu
        .http
        .get(format!(
            "{}?client_id={CLIENT_ID}&redirect_uri={}&response_type=code&scope=openid",
            emu.url("/o/oauth2/v2/auth"),
            urlencode("http://evil.test/cb")
        ))
        .send()
        .await
        .expect("authorize");
    assert_eq!(r.status(), 400);
    assert!(r
        .text()
        .await
        .expect("page")
        .contains("redirect_uri_mismatch"));
    let r = emu.authorize("me@ourco.test", &[READONLY], "").await;
    let redirect = emu.approve(r, None).await;
    let (status, body) = emu.exchange_redirect(&redirect).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client")),
        "test-secret is not the registered secret"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn token_endpoint_errors_use_the_oauth_shape() {
    let emu = emu().await;
    let r = emu
        .http
        .post(emu.url("/token"))
        .form(&[("grant_type", "password"), ("client_id", "c")])
        .send()
        .await
        .expect("token");
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["error"], "unsupported_grant_type");
    assert!(body["error_description"].is_string());
    assert_eq!(body.as_object().map(serde_json::Map::len), Some(2));
    let r = emu
        .http
        .post(emu.url("/token"))
        .form(&[("grant_type", "authorization_code")])
        .send()
        .await
        .expect("token");
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["error"], "invalid_request");
}
