//! Microsoft identity platform: authorize/consent, code + PKCE, refresh rotation, client
//! credentials, AADSTS errors, OIDC discovery, expiry and revocation.

use serde_json::Value;
use threadline_emulator::Quota;

use crate::graph::support::{emulator, CLIENT, GRAPH_DEFAULT, ME, REDIRECT, TENANT, VERIFIER};

fn assert_aad_error(body: &Value, error: &str, code: u64) {
    assert_eq!(body["error"], error, "{body}");
    assert_eq!(body["error_codes"][0], code, "{body}");
    let description = body["error_description"].as_str().unwrap_or_default();
    assert!(
        description.starts_with(&format!("AADSTS{code}: ")),
        "{description}"
    );
    for key in ["timestamp", "trace_id", "correlation_id"] {
        assert!(body[key].is_string(), "{key} missing in {body}");
    }
}

#[tokio::test]
async fn authorization_code_with_pkce_gives_delegated_tokens_with_the_granted_scopes() {
    let emu = emulator(Quota::Off, true).await;
    let body = emu
        .delegated(ME, "openid email offline_access User.Read Mail.Read")
        .await;
    assert_eq!(body["token_type"], "Bearer");
    assert!(body["expires_in"].as_u64().is_some_and(|s| s > 0));
    assert!(body["ext_expires_in"].is_u64());
    assert!(body["refresh_token"].is_string() && body["id_token"].is_string());
    let scope = body["scope"].as_str().unwrap_or_default();
    assert!(
        scope.contains("https://graph.microsoft.com/Mail.Read")
            && scope.contains("https://graph.microsoft.com/User.Read"),
        "{scope}"
    );
    let token = body["access_token"].as_str().unwrap_or_default();
    assert!(!token.contains('.'), "access tokens are opaque (trap 25)");
    let (status, me) = emu.get(token, "/v1.0/me").await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["userPrincipalName"], ME);
    // Microsoft tokens are listed by the control plane.
    let tokens: Value = emu
        .http
        .get(format!("{}/_emulator/tokens", emu.base()))
        .send()
        .await
        .expect("tokens")
        .json()
        .await
        .expect("json");
    assert!(tokens.as_array().is_some_and(|t| t
        .iter()
        .any(|r| r["token"] == token && r["provider"] == "microsoft" && r["mailbox"] == ME)));
}

#[tokio::test]
async fn code_errors_are_aadsts_shaped() {
    let emu = emulator(Quota::Off, true).await;
    let code = emu
        .authorize_code(ME, "offline_access Mail.Read", "s")
        .await;
    // Wrong verifier.
    let (status, body) = emu.redeem(&code, REDIRECT, "wrong", &[]).await;
    assert_eq!(status, 400);
    assert_aad_error(&body, "invalid_grant", 501_481);
    // The code was consumed by the failed attempt as well: a fresh one, wrong redirect_uri.
    let code = emu
        .authorize_code(ME, "offline_access Mail.Read", "s")
        .await;
    let (status, body) = emu
        .redeem(&code, "http://127.0.0.1:9/other", VERIFIER, &[])
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "invalid_grant");
    // Redeeming twice.
    let code = emu
        .authorize_code(ME, "offline_access Mail.Read", "s")
        .await;
    assert_eq!(emu.redeem(&code, REDIRECT, VERIFIER, &[]).await.0, 200);
    let (status, body) = emu.redeem(&code, REDIRECT, VERIFIER, &[]).await;
    assert_eq!(status, 400);
    assert_aad_error(&body, "invalid_grant", 54_005);
    // Unknown grant type, missing parameter.
    let (status, body) = emu.grant("password", &[]).await;
    assert_eq!(status, 400);
    assert_aad_error(&body, "unsupported_grant_type", 70_003);
    let (status, body) = emu.grant("authorization_code", &[]).await;
    assert_eq!(status, 400);
    assert_aad_error(&body, "invalid_request", 900_144);
}

#[tokio::test]
async fn refresh_rotates_the_refresh_token_and_the_old_one_still_works() {
    let emu = emulator(Quota::Off, true).await;
    let first = emu.delegated(ME, "openid offline_access Mail.Read").await;
    let rt1 = first["refresh_token"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let refresh = |rt: String| {
        let emu = &emu;
        async move {
            emu.grant(
                "refresh_token",
                &[
                    ("refresh_token", &rt),
                    ("scope", "offline_access Mail.Read"),
                ],
            )
            .await
        }
    };
    let (status, second) = refresh(rt1.clone()).await;
    assert_eq!(status, 200, "{second}");
    let rt2 = second["refresh_token"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        !rt2.is_empty() && rt2 != rt1,
        "every refresh returns a new refresh token"
    );
    assert_ne!(second["access_token"], first["access_token"]);
    let (status, third) = refresh(rt2).await;
    assert_eq!(status, 200);
    assert!(third["refresh_token"].is_string());
    // The old refresh token is not revoked immediately (§C).
    assert_eq!(refresh(rt1).await.0, 200);
    // A scope beyond the grant is refused.
    let rt3 = third["refresh_token"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let (status, body) = emu
        .grant(
            "refresh_token",
            &[("refresh_token", &rt3), ("scope", "Mail.Send")],
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "invalid_grant");
}

#[tokio::test]
async fn expired_and_revoked_tokens_are_401_and_refresh_is_invalid_grant() {
    let emu = emulator(Quota::Off, true).await;
    let body = emu
        .delegated(ME, "offline_access User.Read Mail.Read")
        .await;
    let at = body["access_token"].as_str().unwrap_or_default();
    let rt = body["refresh_token"].as_str().unwrap_or_default();
    let r = emu
        .http
        .post(format!(
            "{}/_emulator/mailboxes/{ME}/expire-access-tokens",
            emu.base()
        ))
        .send()
        .await
        .expect("expire");
    assert_eq!(r.status().as_u16(), 200);
    let (status, h, body) = emu.get_full(at, "/v1.0/me/messages", &[]).await;
    assert_eq!(status, 401);
    assert!(h.contains_key("www-authenticate"));
    let body: Value = serde_json::from_slice(&body).unwrap_or_default();
    assert_eq!(body["error"]["code"], "InvalidAuthenticationToken");
    // Refresh works after expiry, then revocation kills both.
    let (status, fresh) = emu.grant("refresh_token", &[("refresh_token", rt)]).await;
    assert_eq!(status, 200);
    let at2 = fresh["access_token"].as_str().unwrap_or_default();
    assert_eq!(emu.get(at2, "/v1.0/me").await.0, 200);
    emu.http
        .post(format!(
            "{}/_emulator/mailboxes/{ME}/revoke-tokens",
            emu.base()
        ))
        .send()
        .await
        .expect("revoke");
    assert_eq!(emu.get(at2, "/v1.0/me").await.0, 401);
    let (status, body) = emu.grant("refresh_token", &[("refresh_token", rt)]).await;
    assert_eq!(status, 400);
    assert_aad_error(&body, "invalid_grant", 70_008);
    // No token at all.
    let r = emu
        .http
        .get(format!("{}/v1.0/me", emu.base()))
        .send()
        .await
        .expect("me");
    assert_eq!(r.status().as_u16(), 401);
}

#[tokio::test]
async fn client_credentials_give_tenant_scoped_app_tokens() {
    let emu = emulator(Quota::Off, false).await;
    let (status, body) = emu.client_credentials(TENANT, GRAPH_DEFAULT).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.get("refresh_token").is_none() && body.get("id_token").is_none());
    let (status, body) = emu
        .token_request(
            TENANT,
            &[
                ("client_id", CLIENT),
                ("grant_type", "client_credentials"),
                ("scope", "https://graph.microsoft.com/.default"),
            ],
        )
        .await;
    assert_eq!(status, 401);
    assert_aad_error(&body, "invalid_client", 7_000_218);
    let (status, body) = emu.client_credentials(TENANT, "Mail.Read").await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "invalid_scope");
    let (status, body) = emu.client_credentials("common", GRAPH_DEFAULT).await;
    assert_eq!(status, 400, "{body}");
    assert_aad_error(&body, "invalid_request", 9_001_023);
    let (status, body) = emu
        .client_credentials("no-such-tenant.test", GRAPH_DEFAULT)
        .await;
    assert_eq!(status, 400);
    assert_aad_error(&body, "invalid_request", 90_002);
    // The tenant's verified domain works too.
    let (status, _) = emu.client_credentials("ourco.test", GRAPH_DEFAULT).await;
    assert_eq!(status, 200);
}
