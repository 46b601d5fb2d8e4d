//! Google token endpoint (`POST /token`: `authorization_code` with exact `redirect_uri` and
//! PKCE, `refresh_token` without rotation), `POST /revoke` and `OpenID` `GET /v1/userinfo`.
//!
//! The `id_token` is a JWT whose claims are real (iss, aud, sub, email, nonce, iat, exp) but
//! whose RS256 signature is not verifiable (the JWKS at `/oauth2/v3/certs` holds only the key
//! that signs Pub/Sub push tokens).

use std::collections::HashMap;

use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine as _;
use serde::Serialize;
use serde_json::json;
use sha2::{Digest as _, Sha256};

use super::error::OAuthError;
use super::oauth::{query_map, SCOPE_EMAIL, SCOPE_PROFILE};
use crate::clients::{self, ClientCheck};
use crate::ids::fnv;
use crate::latency::Endpoint;
use crate::store::Provider;
use crate::tokens::{AuthCode, CodeError, TokenError};
use crate::SharedState;

pub fn router() -> Router<SharedState> {
    Router::new()
        .route("/token", post(token))
        .route("/revoke", post(revoke))
        .route("/v1/userinfo", get(userinfo).post(userinfo))
        // Legacy hosts' paths (www.googleapis.com/oauth2/v2|v3/userinfo, oauth2/v4/token).
        .route("/oauth2/v2/userinfo", get(userinfo).post(userinfo))
        .route("/oauth2/v3/userinfo", get(userinfo).post(userinfo))
        .route("/oauth2/v4/token", post(token))
        .route("/o/oauth2/token", post(token))
}

#[derive(Debug, Serialize)]
struct TokenResponse {
    access_token: String,
    expires_in: u64,
    token_type: &'static str,
    scope: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    id_token: Option<String>,
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Client id and secret from the form or HTTP Basic.
fn client_auth(
    headers: &HeaderMap,
    form: &HashMap<String, String>,
) -> (Option<String>, Option<String>) {
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|v| {
            base64::engine::general_purpose::STANDARD
                .decode(v.trim())
                .ok()
        })
        .and_then(|v| String::from_utf8(v).ok())
        .and_then(|v| {
            let (id, secret) = v.split_once(':')?;
            let decode = |s: &str| {
                url::form_urlencoded::parse(format!("x={s}").as_bytes())
                    .next()
                    .map(|(_, v)| v.into_owned())
            };
            Some((decode(id)?, decode(secret)?))
        });
    match basic {
        Some((id, secret)) => (Some(id), Some(secret)),
        None => (
            form.get("client_id").cloned(),
            form.get("client_secret").cloned(),
        ),
    }
}

async fn token(State(state): State<SharedState>, headers: HeaderMap, body: String) -> Response {
    state.serve(Endpoint::GoogleToken).await;
    let form = query_map(Some(&body));
    if form.get("grant_type").map(String::as_str) == Some(super::delegation::GRANT_TYPE) {
        return match super::delegation::grant(&state, &form) {
            Ok(granted) => (
                [(
                    header::CACHE_CONTROL,
                    "no-cache, no-store, max-age=0, must-revalidate",
                )],
                Json(json!({
                    "access_token": granted.access_token,
                    "expires_in": granted.expires_in,
                    "token_type": "Bearer",
                })),
            )
                .into_response(),
            Err(err) => err.into_response(),
        };
    }
    match exchange(&state, &headers, &form) {
        Ok(response) => (
            [
                (
                    header::CACHE_CONTROL,
                    "no-cache, no-store, max-age=0, must-revalidate",
                ),
                (header::PRAGMA, "no-cache"),
            ],
            Json(response),
        )
            .into_response(),
        Err(err) => err.into_response(),
    }
}

fn exchange(
    state: &SharedState,
    headers: &HeaderMap,
    form: &HashMap<String, String>,
) -> Result<TokenResponse, OAuthError> {
    let (client_id, secret) = client_auth(headers, form);
    let client_id = client_id.filter(|c| !c.is_empty()).ok_or_else(|| {
        OAuthError::invalid_request("Could not determine client ID from request.")
    })?;
    match clients::check(
        state,
        &client_id,
        Some(secret.as_deref().unwrap_or("")),
        None,
    ) {
        ClientCheck::UnknownClient => {
            return Err(OAuthError::new(
                401,
                "invalid_client",
                "The OAuth client was not found.",
            ))
        }
        ClientCheck::BadSecret => {
            return Err(OAuthError::new(401, "invalid_client", "Unauthorized"))
        }
        ClientCheck::Ok | ClientCheck::RedirectMismatch => {}
    }
    match form.get("grant_type").map(String::as_str) {
        Some("authorization_code") => code_grant(state, &client_id, form),
        Some("refresh_token") => refresh_grant(state, &client_id, form),
        None => Err(OAuthError::new(
            400,
            "unsupported_grant_type",
            "Invalid grant_type: ",
        )),
        Some(other) => Err(OAuthError::new(
            400,
            "unsupported_grant_type",
            format!("Invalid grant_type: {other}"),
        )),
    }
}

fn code_grant(
    state: &SharedState,
    client_id: &str,
    form: &HashMap<String, String>,
) -> Result<TokenResponse, OAuthError> {
    let code = form
        .get("code")
        .filter(|c| !c.is_empty())
        .ok_or_else(|| OAuthError::invalid_request("Missing required parameter: code"))?;
    let redirect_uri = form
        .get("redirect_uri")
        .ok_or_else(|| OAuthError::invalid_request("Missing parameter: redirect_uri"))?;
    let auth = state.tokens.redeem_code(code).map_err(|e| match e {
        CodeError::Unknown => OAuthError::invalid_grant("Malformed auth code."),
        CodeError::AlreadyUsed | CodeError::Expired => OAuthError::invalid_grant("Bad Request"),
    })?;
    if auth.provider != Provider::Google || auth.client_id != client_id {
        return Err(OAuthError::new(400, "invalid_grant", "Bad Request"));
    }
    if &auth.redirect_uri != redirect_uri {
        return Err(OAuthError::new(400, "redirect_uri_mismatch", "Bad Request"));
    }
    check_pkce(&auth, form.get("code_verifier").map(String::as_str))?;
    if state.store.get(&auth.mailbox).is_none() {
        return Err(OAuthError::invalid_grant("Account has been deleted"));
    }
    let tunables = state.tunables();
    let grant = state
        .tokens
        .grant(Provider::Google, &auth.mailbox, client_id, &auth.scopes);
    let refresh_token = (auth.offline
        && (auth.forced_consent || !state.tokens.has_refresh_token(grant)))
    .then(|| {
        state
            .tokens
            .issue_refresh("1//0g", grant, &auth.scopes, tunables.refresh_token_cap)
    });
    let access_token =
        state
            .tokens
            .issue_access("ya29.a0", grant, &auth.scopes, tunables.access_token_ttl());
    let id_token = auth
        .scopes
        .iter()
        .any(|s| s == "openid")
        .then(|| id_token(state, &auth, tunables.access_token_ttl_secs));
    Ok(TokenResponse {
        access_token,
        expires_in: tunables.access_token_ttl_secs,
        token_type: "Bearer",
        scope: auth.scopes.join(" "),
        refresh_token,
        id_token,
    })
}

fn check_pkce(auth: &AuthCode, verifier: Option<&str>) -> Result<(), OAuthError> {
    let Some((method, challenge)) = &auth.pkce else {
        return Ok(());
    };
    let verifier = verifier
        .filter(|v| !v.is_empty())
        .ok_or_else(|| OAuthError::invalid_grant("Missing code verifier."))?;
    let computed = if method == "S256" {
        b64(&Sha256::digest(verifier.as_bytes()))
    } else {
        verifier.to_string()
    };
    if &computed == challenge {
        Ok(())
    } else {
        Err(OAuthError::invalid_grant("Invalid code verifier."))
    }
}

fn refresh_grant(
    state: &SharedState,
    client_id: &str,
    form: &HashMap<String, String>,
) -> Result<TokenResponse, OAuthError> {
    let rt = form
        .get("refresh_token")
        .filter(|c| !c.is_empty())
        .ok_or_else(|| OAuthError::invalid_request("Missing required parameter: refresh_token"))?;
    let info = state
        .tokens
        .check_refresh(rt)
        .map_err(|_| OAuthError::invalid_grant("Token has been expired or revoked."))?;
    if info.provider != Provider::Google {
        return Err(OAuthError::invalid_grant(
            "Token has been expired or revoked.",
        ));
    }
    if info.client_id != client_id {
        return Err(OAuthError::new(401, "unauthorized_client", "Unauthorized"));
    }
    let tunables = state.tunables();
    let access_token = state.tokens.issue_access(
        "ya29.a0",
        info.grant,
        &info.scopes,
        tunables.access_token_ttl(),
    );
    Ok(TokenResponse {
        access_token,
        expires_in: tunables.access_token_ttl_secs,
        token_type: "Bearer",
        scope: info.scopes.join(" "),
        refresh_token: None,
        id_token: None,
    })
}

/// Stable numeric Google account id of a mailbox.
pub fn subject_id(address: &str) -> String {
    format!("1{:020}", fnv(address.as_bytes()))
}

fn id_token(state: &SharedState, auth: &AuthCode, ttl: u64) -> String {
    let now = chrono::Utc::now().timestamp();
    let name = state
        .store
        .get(&auth.mailbox)
        .map(|m| m.info.display_name.clone())
        .unwrap_or_default();
    let mut claims = json!({
        "iss": "https://accounts.google.com",
        "azp": auth.client_id,
        "aud": auth.client_id,
        "sub": subject_id(&auth.mailbox),
        "email": auth.mailbox,
        "email_verified": true,
        "name": name,
        "iat": now,
        "exp": now.saturating_add(i64::try_from(ttl).unwrap_or(3599)),
    });
    if let (Some(nonce), Some(obj)) = (&auth.nonce, claims.as_object_mut()) {
        obj.insert("nonce".into(), json!(nonce));
    }
    let head = b64(br#"{"alg":"RS256","kid":"threadline-emulator","typ":"JWT"}"#);
    let body = b64(claims.to_string().as_bytes());
    let signature = b64(&Sha256::digest(format!("{head}.{body}").as_bytes()));
    format!("{head}.{body}.{signature}")
}

async fn revoke(
    State(state): State<SharedState>,
    RawQuery(query): RawQuery,
    body: String,
) -> Response {
    let token = query_map(query.as_deref())
        .remove("token")
        .or_else(|| query_map(Some(&body)).remove("token"));
    match token {
        Some(t) if state.tokens.revoke_token(&t) => {
            (StatusCode::OK, Json(json!({}))).into_response()
        }
        _ => OAuthError::new(400, "invalid_token", "Token expired or revoked").into_response(),
    }
}

async fn userinfo(State(state): State<SharedState>, headers: HeaderMap) -> Response {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    let info = match state.tokens.check_access(token.trim()) {
        Ok(info) if info.provider == Provider::Google => info,
        Ok(_) | Err(TokenError::Unknown | TokenError::Expired | TokenError::Revoked) => {
            return (
                StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, "Bearer error=\"invalid_token\"")],
                Json(
                    json!({"error": "invalid_request", "error_description": "Invalid Credentials"}),
                ),
            )
                .into_response()
        }
    };
    let mut out = json!({ "sub": subject_id(&info.mailbox) });
    let Some(obj) = out.as_object_mut() else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    if info
        .scopes
        .iter()
        .any(|s| s == SCOPE_PROFILE || s == "openid")
    {
        let name = state
            .store
            .get(&info.mailbox)
            .map(|m| m.info.display_name.clone())
            .unwrap_or_default();
        let mut parts = name.splitn(2, ' ');
        obj.insert("name".into(), json!(name));
        obj.insert("given_name".into(), json!(parts.next().unwrap_or("")));
        if let Some(family) = parts.next() {
            obj.insert("family_name".into(), json!(family));
        }
        obj.insert(
            "picture".into(),
            json!("https://lh3.googleusercontent.com/a/default-user=s96-c"),
        );
    }
    if info.scopes.iter().any(|s| s == SCOPE_EMAIL) {
        obj.insert("email".into(), json!(info.mailbox));
        obj.insert("email_verified".into(), json!(true));
    }
    Json(out).into_response()
}
