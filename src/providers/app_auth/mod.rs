//! Tokens for organization-wide connections, obtained without a user at the keyboard:
//! Microsoft's client-credentials grant (a client secret, or a client assertion signed with the
//! app's certificate) and Google's JWT bearer grant (RFC 7523) signed with a service account key,
//! acting as a Workspace user (domain-wide delegation). Failures are classified by the
//! providers' error codes so callers can say exactly what to fix. No database here.
pub mod google;
pub mod keys;
pub mod microsoft;

use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;

use super::Secret;
pub use keys::{CertificateCredential, KeyError, ServiceAccountKey};

/// An access token and when it stops working. Neither grant gives a refresh token: ask again.
#[derive(Debug, Clone)]
pub struct AppToken {
    pub access_token: Secret,
    pub expires_at: DateTime<Utc>,
}

/// A token request the provider refused, by what the admin must do about it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GrantError {
    /// AADSTS7000215: the client secret is wrong (often the secret's id instead of its value).
    #[error("the client secret is wrong ({0})")]
    BadSecret(String),
    /// AADSTS7000222: the client secret has expired.
    #[error("the client secret has expired ({0})")]
    SecretExpired(String),
    /// AADSTS700027 and AADSTS50027: the certificate is not registered on the app, or the
    /// assertion's signature does not verify with it.
    #[error("the certificate was rejected ({0})")]
    CertificateRejected(String),
    /// AADSTS1000502: the certificate is outside its validity window.
    #[error("the certificate has expired or is not yet valid ({0})")]
    CertificateExpired(String),
    /// AADSTS700024 / Google "short-lived token": the assertion's times were refused; this
    /// machine's clock is probably wrong.
    #[error("the signed assertion's time was refused; check this server's clock ({0})")]
    ClockSkew(String),
    /// AADSTS700016: the application id is not registered (or not consented) in this tenant.
    #[error("the application is not in this tenant ({0})")]
    AppNotInTenant(String),
    /// AADSTS90002 / 900023: no such tenant.
    #[error("the tenant was not found ({0})")]
    TenantNotFound(String),
    /// Google `unauthorized_client`: domain-wide delegation is not granted to this client id
    /// for every requested scope.
    #[error("domain-wide delegation is not granted for {scopes} ({detail})")]
    DelegationNotGranted { scopes: String, detail: String },
    /// Google `invalid_grant` "Invalid email or User ID": no such user in the domain, or the
    /// user is suspended.
    #[error("Google does not know this user or the user cannot be impersonated ({0})")]
    UnknownUser(String),
    /// Google `invalid_grant` for the key: unknown service account, deleted key, bad signature.
    #[error("the service account key was rejected ({0})")]
    KeyRejected(String),
    /// Anything else the provider refused, with its code.
    #[error("the provider refused the token request: {code}: {detail}")]
    Refused { code: String, detail: String },
    #[error("rate limited by the token endpoint")]
    RateLimited,
    #[error("token endpoint unavailable: {0}")]
    Transient(String),
    /// The stored certificate or key cannot sign.
    #[error(transparent)]
    Key(#[from] KeyError),
}

impl GrantError {
    /// Worth trying again later without changing anything.
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::RateLimited | Self::Transient(_))
    }
}

/// Classify a failed HTTP exchange (no answer, 429, 5xx) that carried no usable error body.
pub(crate) fn transport(err: reqwest::Error) -> GrantError {
    GrantError::Transient(err.without_url().to_string())
}

pub(crate) fn by_status(status: reqwest::StatusCode) -> Option<GrantError> {
    if status == reqwest::StatusCode::TOO_MANY_REQUESTS {
        Some(GrantError::RateLimited)
    } else if status.is_server_error() {
        Some(GrantError::Transient(format!("HTTP {status}")))
    } else {
        None
    }
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    expires_in: i64,
}

/// A token endpoint's refusal; `error_codes` is Microsoft's (AADSTS numbers), empty from Google.
#[derive(Deserialize, Default)]
pub(crate) struct ErrorAnswer {
    #[serde(default)]
    pub error: String,
    #[serde(default)]
    pub error_description: String,
    #[serde(default)]
    pub error_codes: Vec<u64>,
}

/// POST `form` to the token endpoint at `url`: the token (valid from `started` for the
/// answer's `expires_in`), or the refusal, by status when it carried no error body and
/// otherwise by the provider's `classify`.
pub(crate) async fn request_token<F: serde::Serialize + ?Sized>(
    (http, provider): (&reqwest::Client, crate::providers::Provider),
    url: &str,
    form: &F,
    started: DateTime<Utc>,
    classify: impl FnOnce(&ErrorAnswer, reqwest::StatusCode) -> GrantError,
) -> Result<AppToken, GrantError> {
    let req = http.post(url).form(form);
    let res = crate::telemetry::record::provider_request(provider, "token", req)
        .await
        .map_err(transport)?;
    let status = res.status();
    if status.is_success() {
        let answer: TokenAnswer = res.json().await.map_err(transport)?;
        return Ok(AppToken {
            access_token: Secret::new(answer.access_token),
            expires_at: started + Duration::seconds(answer.expires_in.max(0)),
        });
    }
    let body: ErrorAnswer = res.json().await.unwrap_or_default();
    if body.error.is_empty() {
        if let Some(err) = by_status(status) {
            return Err(err);
        }
    }
    Err(classify(&body, status))
}
