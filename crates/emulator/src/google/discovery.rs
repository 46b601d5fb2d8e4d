//! Google's `OpenID` discovery document, the JWKS of the emulator's signing key (it signs
//! Pub/Sub push tokens: `signing`) and the `tokeninfo` endpoint, with every endpoint pointing
//! at this emulator.

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

use super::oauth::{query_map, SCOPE_EMAIL};
use super::token::subject_id;
use crate::store::Provider;
use crate::SharedState;

pub fn router() -> Router<SharedState> {
    Router::new()
        .route(
            "/.well-known/openid-configuration",
            get(openid_configuration),
        )
        .route("/oauth2/v3/certs", get(certs))
        .route("/tokeninfo", get(tokeninfo).post(tokeninfo))
        .route("/oauth2/v3/tokeninfo", get(tokeninfo).post(tokeninfo))
}

async fn openid_configuration(State(state): State<SharedState>) -> Json<serde_json::Value> {
    let base = state.base_url.read().clone();
    Json(json!({
        "issuer": "https://accounts.google.com",
        "authorization_endpoint": format!("{base}/o/oauth2/v2/auth"),
        "token_endpoint": format!("{base}/token"),
        "userinfo_endpoint": format!("{base}/v1/userinfo"),
        "revocation_endpoint": format!("{base}/revoke"),
        "jwks_uri": format!("{base}/oauth2/v3/certs"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "scopes_supported": ["openid", "email", "profile"],
        "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
        "claims_supported": ["aud", "email", "email_verified", "exp", "iat", "iss", "name", "sub"],
        "code_challenge_methods_supported": ["plain", "S256"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
    }))
}

/// The emulator's Google signing key as a JWKS (Pub/Sub push tokens verify against it; the
/// OAuth `id_token`s do not, see `token`).
async fn certs(State(state): State<SharedState>) -> Response {
    let signer = state.ext.get::<super::signing::Signer>();
    match tokio::task::spawn_blocking(move || signer.jwks()).await {
        Ok(jwks) => (
            [(
                axum::http::header::CACHE_CONTROL,
                "public, max-age=21600, must-revalidate, no-transform",
            )],
            Json(jwks),
        )
            .into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

async fn tokeninfo(
    State(state): State<SharedState>,
    RawQuery(query): RawQuery,
    body: String,
) -> Response {
    let mut params = query_map(query.as_deref());
    params.extend(query_map(Some(&body)));
    let token = params.get("access_token").cloned().unwrap_or_default();
    match state.tokens.check_access(&token) {
        Ok(info) if info.provider == Provider::Google => {
            let expires_in = info.expires_in.unwrap_or(0);
            let mut out = json!({
                "azp": info.client_id,
                "aud": info.client_id,
                "sub": subject_id(&info.mailbox),
                "scope": info.scopes.join(" "),
                "exp": chrono::Utc::now().timestamp().saturating_add(i64::try_from(expires_in).unwrap_or(0)).to_string(),
                "expires_in": expires_in.to_string(),
                "access_type": "offline",
            });
            if let (true, Some(obj)) = (
                info.scopes.iter().any(|s| s == SCOPE_EMAIL),
                out.as_object_mut(),
            ) {
                obj.insert("email".into(), json!(info.mailbox));
                obj.insert("email_verified".into(), json!("true"));
            }
            Json(out).into_response()
        }
        _ => (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "invalid_token", "error_description": "Invalid Value"})),
        )
            .into_response(),
    }
}
