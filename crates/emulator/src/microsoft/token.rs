//! `POST /{tenant}/oauth2/v2.0/token` (`authorization_code` with PKCE, `refresh_token` with
//! rotation, `client_credentials` for app-only tokens) and the `OpenID` configuration document.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine as _;
use serde_json::json;
use sha2::Digest as _;

use super::aad::{parse_scopes, response_scope, AadError, GRAPH_RESOURCE};
use super::auth::APP_PREFIX;
use super::directory::{resolve_tenant, tenant_of, user_id, TenantSel};
use crate::google::clients::{self, ClientCheck};
use crate::latency::Endpoint;
use crate::store::Provider;
use crate::tokens::{CodeError, TokenError};
use crate::SharedState;

const ACCESS_PREFIX: &str = "EwBIA8l6BAAU";
const REFRESH_PREFIX: &str = "M.C5_SN1.0.U.";

type Form = HashMap<String, String>;

pub async fn token(
    State(state): State<SharedState>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    state.serve(Endpoint::GraphToken).await;
    let (latency, hit) = state.faults.check(
        &format!("/{tenant}/oauth2/v2.0/token"),
        "/{tenant}/oauth2/v2.0/token",
        None,
    );
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    if let Some(hit) = hit {
        let mut e = AadError::new(
            "temporarily_unavailable",
            90_033,
            "A transient error has occurred. Please try again.",
        );
        e.status = axum::http::StatusCode::from_u16(hit.status)
            .unwrap_or(axum::http::StatusCode::SERVICE_UNAVAILABLE);
        let mut response = e.into_response();
        if let Some(seconds) = hit.retry_after {
            response
                .headers_mut()
                .insert("retry-after", axum::http::HeaderValue::from(seconds));
        }
        return response;
    }
    match grant(&state, &tenant, &headers, &body) {
        Ok(value) => {
            let mut response = Json(value).into_response();
            response.headers_mut().insert(
                "cache-control",
                axum::http::HeaderValue::from_static("no-store, no-cache"),
            );
            response
        }
        Err(e) => e.into_response(),
    }
}

fn grant(
    state: &SharedState,
    tenant: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<serde_json::Value, AadError> {
    let form: Form = serde_urlencoded::from_bytes(body).map_err(|_| {
        AadError::new(
            "invalid_request",
            900_143,
            "The request body must be a form (application/x-www-form-urlencoded).",
        )
    })?;
    let sel = resolve_tenant(state, tenant).ok_or_else(|| {
        AadError::new("invalid_request", 90_002, format!("Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud."))
    })?;
    let (client_id, secret) = client_auth(&form, headers)?;
    if form.get("grant_type").map(String::as_str) == Some("client_credentials") {
        if let Some(managed) = super::tenants::find(state, tenant) {
            return super::app_token::client_credentials(
                state,
                &managed,
                tenant,
                &form,
                headers,
                &client_id,
                secret.as_deref(),
            );
        }
    }
    if clients::check(state, &client_id, secret.as_deref(), None) == ClientCheck::UnknownClient {
        return Err(AadError::new("unauthorized_client", 700_016, format!("Application with identifier '{client_id}' was not found in the directory '{tenant}'.")));
    }
    if secret.is_some()
        && clients::check(state, &client_id, secret.as_deref(), None) == ClientCheck::BadSecret
    {
        return Err(AadError::new("invalid_client", 7_000_215, "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID."));
    }
    let grant_type = form
        .get("grant_type")
        .ok_or_else(|| AadError::missing("grant_type"))?;
    match grant_type.as_str() {
        "authorization_code" => authorization_code(state, &sel, &form, &client_id),
        "refresh_token" => refresh(state, &sel, &form, &client_id),
        "client_credentials" => {
            client_credentials(state, &sel, tenant, &form, &client_id, secret.as_deref())
        }
        other => Err(AadError::new(
            "unsupported_grant_type",
            70_003,
            format!("The app requested an unsupported grant type '{other}'."),
        )),
    }
}

/// `client_id` (+ secret) from the form or HTTP Basic.
fn client_auth(form: &Form, headers: &HeaderMap) -> Result<(String, Option<String>), AadError> {
    let basic = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| {
            base64::engine::general_purpose::STANDARD
                .decode(b.trim())
                .ok()
        })
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| {
            let (id, secret) = s.split_once(':')?;
            let decode = |x: &str| {
                url::form_urlencoded::parse(format!("x={x}").as_bytes())
                    .next()
                    .map_or_else(|| x.to_string(), |(_, v)| v.into_owned())
            };
            Some((decode(id), decode(secret)))
        });
    if let Some((id, secret)) = basic {
        return Ok((id, Some(secret)));
    }
    let id = form
        .get("client_id")
        .filter(|c| !c.is_empty())
        .ok_or_else(|| AadError::missing("client_id"))?;
    Ok((id.clone(), form.get("client_secret").cloned()))
}

fn authorization_code(
    state: &SharedState,
    sel: &TenantSel,
    form: &Form,
    client_id: &str,
) -> Result<serde_json::Value, AadError> {
    let code = form.get("code").ok_or_else(|| AadError::missing("code"))?;
    let redirect_uri = form
        .get("redirect_uri")
        .ok_or_else(|| AadError::missing("redirect_uri"))?;
    let auth = state.tokens.redeem_code(code).map_err(|e| match e {
        CodeError::AlreadyUsed => AadError::new("invalid_grant", 54_005, "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token."),
        CodeError::Expired => AadError::new("invalid_grant", 70_008, "The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource."),
        CodeError::Unknown => AadError::new("invalid_grant", 9_002_313, "Invalid request. Request is malformed or invalid."),
    })?;
    if auth.provider != Provider::Microsoft || auth.client_id != client_id {
        return Err(AadError::new("invalid_grant", 700_005, "Provided Authorization Code is intended to use against other tenant or application, thus rejected."));
    }
    let mailbox = state.store.get(&auth.mailbox).filter(|m| sel.admits(m)).ok_or_else(|| {
        AadError::new("invalid_grant", 700_005, "Provided Authorization Code is intended to use against other tenant, thus rejected.")
    })?;
    if &auth.redirect_uri != redirect_uri {
        return Err(AadError::new("invalid_grant", 500_112, format!("The reply address '{redirect_uri}' does not match the reply address '{}' provided when requesting the Authorization code.", auth.redirect_uri)));
    }
    if let Some((method, challenge)) = &auth.pkce {
        let verifier = form
            .get("code_verifier")
            .ok_or_else(|| AadError::missing("code_verifier"))?;
        let computed = if method == "S256" {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .encode(sha2::Sha256::digest(verifier.as_bytes()))
        } else {
            verifier.clone()
        };
        if &computed != challenge {
            return Err(AadError::new("invalid_grant", 501_481, "The Code_Verifier does not match the code_challenge supplied in the authorization request."));
        }
    }
    let grant = state.tokens.grant(
        Provider::Microsoft,
        &mailbox.info.address,
        client_id,
        &auth.scopes,
    );
    Ok(delegated_response(
        state,
        grant,
        &auth.scopes,
        auth.offline,
        &mailbox,
        client_id,
        auth.nonce.as_deref(),
    ))
}

fn refresh(
    state: &SharedState,
    sel: &TenantSel,
    form: &Form,
    client_id: &str,
) -> Result<serde_json::Value, AadError> {
    let token = form
        .get("refresh_token")
        .ok_or_else(|| AadError::missing("refresh_token"))?;
    let info = state.tokens.check_refresh(token).map_err(|e| match e {
        TokenError::Revoked | TokenError::Expired => AadError::new("invalid_grant", 70_008, "The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource."),
        TokenError::Unknown => AadError::new("invalid_grant", 9_002_313, "Invalid request. Request is malformed or invalid."),
    })?;
    if info.provider != Provider::Microsoft || info.client_id != client_id {
        return Err(AadError::new(
            "invalid_grant",
            70_000,
            "Provided grant is invalid or malformed.",
        ));
    }
    let mailbox = state
        .store
        .get(&info.mailbox)
        .filter(|m| sel.admits(m))
        .ok_or_else(|| {
            AadError::new(
                "invalid_grant",
                700_005,
                "Provided refresh token is intended to use against other tenant, thus rejected.",
            )
        })?;
    let scopes = match form.get("scope") {
        Some(raw) => {
            let asked = parse_scopes(raw)?;
            if let Some(extra) = asked.iter().find(|s| !info.scopes.contains(s)) {
                return Err(AadError::new("invalid_grant", 65_001, format!("The user or administrator has not consented to use the application with ID '{client_id}'. Send an interactive authorization request for this user and resource ({extra}).")));
            }
            let mut kept: Vec<String> = asked;
            if info.scopes.iter().any(|s| s == "offline_access")
                && !kept.iter().any(|s| s == "offline_access")
            {
                kept.push("offline_access".into());
            }
            kept
        }
        None => info.scopes.clone(),
    };
    // Rotation: every refresh returns a new refresh token; the old one stays valid.
    Ok(delegated_response(
        state, info.grant, &scopes, true, &mailbox, client_id, None,
    ))
}

fn client_credentials(
    state: &SharedState,
    sel: &TenantSel,
    tenant: &str,
    form: &Form,
    client_id: &str,
    secret: Option<&str>,
) -> Result<serde_json::Value, AadError> {
    if secret.is_none() && !form.contains_key("client_assertion") {
        return Err(AadError::new("invalid_client", 7_000_218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'."));
    }
    let tenant_id = match sel {
        TenantSel::Tenant(id) => id,
        TenantSel::Organizations => {
            return Err(AadError::new("invalid_request", 900_023, format!("Specified tenant identifier '{tenant}' is neither a valid DNS name, nor a valid external domain.")));
        }
        TenantSel::Common | TenantSel::Consumers => {
            return Err(AadError::new("invalid_request", 9_001_023, "The grant type is not supported over the /common or /consumers endpoints. Please use the /organizations or tenant-specific endpoint."));
        }
    };
    check_default_scope(form)?;
    let scopes = vec![".default".to_string()];
    let grant = state.tokens.grant(
        Provider::Microsoft,
        &format!("{APP_PREFIX}{tenant_id}"),
        client_id,
        &scopes,
    );
    let ttl = state.tunables().access_token_ttl();
    let access = state
        .tokens
        .issue_access(ACCESS_PREFIX, grant, &scopes, ttl);
    Ok(json!({
        "token_type": "Bearer",
        "expires_in": ttl.as_secs(),
        "ext_expires_in": ttl.as_secs(),
        "access_token": access,
    }))
}

/// Client credentials ask for `https://graph.microsoft.com/.default` and nothing else.
pub(super) fn check_default_scope(form: &Form) -> Result<(), AadError> {
    let scope = form
        .get("scope")
        .ok_or_else(|| AadError::missing("scope"))?;
    if scope
        .trim()
        .eq_ignore_ascii_case(&format!("{GRAPH_RESOURCE}/.default"))
    {
        Ok(())
    } else {
        Err(AadError::new("invalid_scope", 1_002_012, format!("The provided value for scope {scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).")))
    }
}

fn delegated_response(
    state: &SharedState,
    grant: u64,
    scopes: &[String],
    offline: bool,
    mailbox: &crate::store::Mailbox,
    client_id: &str,
    nonce: Option<&str>,
) -> serde_json::Value {
    let ttl = state.tunables().access_token_ttl();
    let access = state.tokens.issue_access(ACCESS_PREFIX, grant, scopes, ttl);
    let mut body = json!({
        "token_type": "Bearer",
        "scope": response_scope(scopes),
        "expires_in": ttl.as_secs(),
        "ext_expires_in": ttl.as_secs(),
        "access_token": access,
    });
    if offline && scopes.iter().any(|s| s == "offline_access") {
        let cap = state.tunables().refresh_token_cap;
        body["refresh_token"] =
            json!(state
                .tokens
                .issue_refresh(REFRESH_PREFIX, grant, scopes, cap));
    }
    if scopes.iter().any(|s| s == "openid") {
        body["id_token"] = json!(id_token(state, mailbox, client_id, scopes, nonce));
    }
    body
}

/// An unsigned (`alg: none`) `OpenID Connect` `id_token` with the usual Entra claims.
fn id_token(
    state: &SharedState,
    mailbox: &crate::store::Mailbox,
    client_id: &str,
    scopes: &[String],
    nonce: Option<&str>,
) -> String {
    let tenant = tenant_of(mailbox);
    let now = chrono::Utc::now().timestamp();
    let oid = user_id(&mailbox.info.address);
    let mut claims = json!({
        "aud": client_id,
        "iss": format!("{}/{tenant}/v2.0", state.base_url.read()),
        "iat": now, "nbf": now, "exp": now + 3600,
        "name": mailbox.info.display_name,
        "oid": oid,
        "preferred_username": mailbox.info.address,
        "sub": super::directory::guid(crate::ids::fnv(client_id.as_bytes()), crate::ids::fnv(oid.as_bytes())),
        "tid": tenant,
        "ver": "2.0",
    });
    if scopes.iter().any(|s| s == "email") {
        claims["email"] = json!(mailbox.info.address);
    }
    if let Some(n) = nonce {
        claims["nonce"] = json!(n);
    }
    let enc = |v: &serde_json::Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
    };
    format!(
        "{}.{}.",
        enc(&json!({"typ": "JWT", "alg": "none"})),
        enc(&claims)
    )
}

/// `GET /{tenant}/v2.0/.well-known/openid-configuration`.
/// Behind a TLS-terminating proxy (`X-Forwarded-Proto: https`) the endpoints are advertised
/// with `https://`, as MSAL requires.
pub async fn openid_configuration(
    State(state): State<SharedState>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
) -> Response {
    let Some(sel) = resolve_tenant(&state, &tenant) else {
        return AadError::new(
            "invalid_tenant",
            90_002,
            format!("Tenant '{tenant}' not found."),
        )
        .into_response();
    };
    let mut base = state.base_url.read().clone();
    let forwarded_https = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("https"));
    if forwarded_https {
        if let Some(rest) = base.strip_prefix("http://") {
            base = format!("https://{rest}");
        }
    }
    let issuer_tenant = match &sel {
        TenantSel::Tenant(id) => id.clone(),
        _ => "{tenantid}".to_string(),
    };
    Json(json!({
        "token_endpoint": format!("{base}/{tenant}/oauth2/v2.0/token"),
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "jwks_uri": format!("{base}/{tenant}/discovery/v2.0/keys"),
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": format!("{base}/{issuer_tenant}/v2.0"),
        "request_uri_parameter_supported": false,
        "userinfo_endpoint": format!("{base}/oidc/userinfo"),
        "authorization_endpoint": format!("{base}/{tenant}/oauth2/v2.0/authorize"),
        "device_authorization_endpoint": format!("{base}/{tenant}/oauth2/v2.0/devicecode"),
        "http_logout_supported": true,
        "frontchannel_logout_supported": true,
        "end_session_endpoint": format!("{base}/{tenant}/oauth2/v2.0/logout"),
        "claims_supported": ["sub", "iss", "cloud_instance_name", "cloud_instance_host_name", "cloud_graph_host_name", "msgraph_host", "aud", "exp", "iat", "auth_time", "acr", "nonce", "preferred_username", "name", "tid", "ver", "at_hash", "c_hash", "email"],
        "kerberos_endpoint": format!("{base}/{tenant}/kerberos"),
        "tenant_region_scope": null,
        "cloud_instance_name": "microsoftonline.com",
        "cloud_graph_host_name": "graph.windows.net",
        "msgraph_host": "graph.microsoft.com",
        "rbac_url": "https://pas.windows.net",
    }))
    .into_response()
}
