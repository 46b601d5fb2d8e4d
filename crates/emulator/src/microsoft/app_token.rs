//! App-only tokens (`client_credentials`) for managed tenants: the app must be registered in
//! the tenant, and authenticate with one of its client secrets or with a client assertion
//! (RFC 7523 JWT, RS256, signed with the key of one of its certificates, `x5t` or `x5t#S256`
//! naming the certificate). The token carries the app's consented roles: none without admin
//! consent (a token is still issued; Graph then answers 403).
//!
//! Errors, as Entra words them (sources in the emulator README): 700016 app not in the
//! directory; 7000215 wrong secret; 7000222 expired secret; 7000218 no credential; 50027
//! malformed assertion or no thumbprint; 700021 `iss`/`sub` not the client id; 50012 wrong
//! `aud`; 700024 outside `nbf`..`exp`; 700027 certificate not registered or signature invalid;
//! 1000502 certificate outside its validity window.

use axum::http::HeaderMap;
use chrono::{DateTime, Utc};
use serde_json::json;

use super::aad::AadError;
use super::auth::APP_PREFIX;
use super::tenants::{AppRegistration, CertificateCredential, Tenant};
use crate::crypto::Jwt;
use crate::store::Provider;
use crate::x509::Certificate;
use crate::SharedState;

pub const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
const ACCESS_PREFIX: &str = "eyJ0eXAiOiJKV1QiLCJub25jZSI6";
/// Clock skew tolerated on `nbf` and `exp`.
const SKEW_SECS: i64 = 300;

type Form = std::collections::HashMap<String, String>;

/// Entra's timestamp style in 700024 (`2024-10-02T22:05:03.6755165Z`).
fn entra_time(t: DateTime<Utc>) -> String {
    format!(
        "{}.{:07}Z",
        t.format("%Y-%m-%dT%H:%M:%S"),
        t.timestamp_subsec_nanos() / 100
    )
}

fn malformed(detail: &str) -> AadError {
    AadError::new(
        "invalid_client",
        50_027,
        format!("Invalid JWT token. {detail}"),
    )
}

/// `client_credentials` against a managed tenant; `segment` is the `{tenant}` of the URL.
pub fn client_credentials(
    state: &SharedState,
    tenant: &Tenant,
    segment: &str,
    form: &Form,
    headers: &HeaderMap,
    client_id: &str,
    secret: Option<&str>,
) -> Result<serde_json::Value, AadError> {
    let app = tenant.app(client_id).ok_or_else(|| {
        AadError::new("unauthorized_client", 700_016, format!("Application with identifier '{client_id}' was not found in the directory '{}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.", tenant.display_name))
    })?;
    match (secret, form.get("client_assertion")) {
        (Some(secret), _) => check_secret(app, secret)?,
        (None, Some(assertion)) => {
            if form.get("client_assertion_type").map(String::as_str) != Some(ASSERTION_TYPE) {
                return Err(AadError::new("invalid_request", 50_027, format!("Invalid JWT token. The client_assertion_type must be '{ASSERTION_TYPE}'.")));
            }
            check_assertion(state, tenant, segment, headers, app, assertion)?;
        }
        (None, None) => return Err(AadError::new("invalid_client", 7_000_218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.")),
    }
    super::token::check_default_scope(form)?;
    let roles = app.roles();
    let grant = state.tokens.grant(
        Provider::Microsoft,
        &format!("{APP_PREFIX}{}", tenant.id),
        &app.client_id,
        &roles,
    );
    let ttl = state.tunables().access_token_ttl();
    let access = state.tokens.issue_access(ACCESS_PREFIX, grant, &roles, ttl);
    Ok(json!({
        "token_type": "Bearer",
        "expires_in": ttl.as_secs(),
        "ext_expires_in": ttl.as_secs(),
        "access_token": access,
    }))
}

fn check_secret(app: &AppRegistration, secret: &str) -> Result<(), AadError> {
    let Some(found) = app.secrets.iter().find(|s| s.value == secret) else {
        return Err(AadError::new("invalid_client", 7_000_215, format!("Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{}'.", app.client_id)));
    };
    if found.end <= Utc::now() {
        return Err(AadError::new("invalid_client", 7_000_222, format!("The provided client secret keys for app '{}' are expired. Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for added security: https://aka.ms/certCreds.", app.client_id)));
    }
    Ok(())
}

/// Whether `aud` is this tenant's token endpoint on this emulator (http or, behind a TLS
/// proxy, https; the tenant by id or domain).
fn audience_ok(state: &SharedState, tenant: &Tenant, segment: &str, aud: &str) -> bool {
    let Ok(aud) = url::Url::parse(aud) else {
        return false;
    };
    let Ok(base) = url::Url::parse(&state.base_url.read()) else {
        return false;
    };
    let same_host = aud.host_str() == base.host_str()
        && aud.port_or_known_default() == base.port_or_known_default()
        && matches!(aud.scheme(), "http" | "https");
    let path = aud.path().trim_end_matches('/');
    let tenant_ok = path
        .strip_prefix('/')
        .and_then(|p| p.strip_suffix("/oauth2/v2.0/token"))
        .is_some_and(|seg| {
            seg.eq_ignore_ascii_case(&tenant.id)
                || seg.eq_ignore_ascii_case(&tenant.domain)
                || seg.eq_ignore_ascii_case(segment)
        });
    same_host && tenant_ok && aud.query().is_none()
}

fn check_assertion(
    state: &SharedState,
    tenant: &Tenant,
    segment: &str,
    _headers: &HeaderMap,
    app: &AppRegistration,
    assertion: &str,
) -> Result<(), AadError> {
    let jwt = Jwt::decode(assertion).map_err(|_| {
        AadError::new(
            "invalid_client",
            50_027,
            "JWT token is invalid or malformed.",
        )
    })?;
    if !matches!(jwt.header_str("alg"), Some("RS256")) {
        return Err(malformed("The signing algorithm must be RS256."));
    }
    // Some clients (MSAL for Python) pad the base64url thumbprints.
    let x5t = jwt.header_str("x5t").map(|t| t.trim_end_matches('='));
    let x5t_s256 = jwt.header_str("x5t#S256").map(|t| t.trim_end_matches('='));
    if x5t.is_none() && x5t_s256.is_none() {
        return Err(malformed(
            "No certificate thumbprint specified in token header.",
        ));
    }
    for claim in ["iss", "sub"] {
        if jwt.claim_str(claim) != Some(app.client_id.as_str()) {
            return Err(AadError::new("invalid_client", 700_021, "Client assertion application identifier doesn't match 'client_id' parameter. Review the documentation at https://learn.microsoft.com/entra/identity-platform/certificate-credentials ."));
        }
    }
    if jwt.claim_str("jti").is_none_or(str::is_empty) {
        return Err(malformed("The 'jti' claim is required."));
    }
    let aud = jwt.claim_str("aud").unwrap_or_default();
    if !audience_ok(state, tenant, segment, aud) {
        return Err(AadError::new(
            "invalid_client",
            50_012,
            "Client assertion audience claim does not match Realm issuer.",
        ));
    }
    let exp = jwt
        .claim_time("exp")
        .ok_or_else(|| malformed("The 'exp' claim is required."))?;
    let nbf = jwt.claim_time("nbf").unwrap_or(0);
    let now = Utc::now();
    if now.timestamp() > exp + SKEW_SECS || now.timestamp() + SKEW_SECS < nbf {
        let at = |s: i64| DateTime::from_timestamp(s, 0).unwrap_or_default();
        return Err(AadError::new("invalid_client", 700_024, format!("Client assertion is not within its valid time range. Current time: {}, assertion valid from {}, expiry time of assertion {}. Review the documentation at https://learn.microsoft.com/entra/identity-platform/certificate-credentials .", entra_time(now), entra_time(at(nbf)), entra_time(at(exp)))));
    }
    let thumbprint_hex = x5t
        .and_then(|t| {
            base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, t).ok()
        })
        .map_or_else(
            || x5t_s256.unwrap_or_default().to_string(),
            |b| crate::x509::hex_upper(&b),
        );
    let cert = app
        .certificates
        .iter()
        .find(|c| x5t == Some(c.x5t.as_str()) || x5t_s256 == Some(c.x5t_s256.as_str()))
        .ok_or_else(|| not_registered(app, &thumbprint_hex))?;
    if now < cert.start || now > cert.end {
        return Err(AadError::new(
            "invalid_client",
            1_000_502,
            "The provided certificate is not within its specified validity window.",
        ));
    }
    if !verifies(cert, &jwt) {
        return Err(AadError::new("invalid_client", 700_027, format!("Client assertion failed signature validation. [Reason - The provided signature value did not match the expected signature value., Thumbprint of key used by client: '{}', Found key 'Start={}, End={}']", cert.thumbprint, cert.start.format("%m/%d/%Y %H:%M:%S"), cert.end.format("%m/%d/%Y %H:%M:%S"))));
    }
    Ok(())
}

fn verifies(cert: &CertificateCredential, jwt: &Jwt) -> bool {
    Certificate::parse(cert.certificate_pem.as_bytes())
        .is_ok_and(|c| jwt.verify_rs256(&c.public_key))
}

fn not_registered(app: &AppRegistration, thumbprint: &str) -> AadError {
    let id = &app.client_id;
    AadError::new("invalid_client", 700_027, format!("The certificate with identifier used to sign the client assertion is not registered on application. [Reason - The key was not found., Thumbprint of key used by client: '{thumbprint}', Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '{id}'. Review the documentation at https://docs.microsoft.com/en-us/graph/deployments to determine the corresponding service endpoint and https://docs.microsoft.com/en-us/graph/api/application-get?view=graph-rest-1.0&tabs=http to build a query request URL, such as 'https://graph.microsoft.com/beta/applications/{id}']."))
}
