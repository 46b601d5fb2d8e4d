//! Google Cloud Pub/Sub push authentication: a push subscription with authentication sends
//! `Authorization: Bearer <ID token>`, an RS256 JWT signed by Google. [`verify`] checks it
//! before anything in the push is trusted: the signature with the key named by its `kid` in
//! Google's JWKS (`GOOGLE_CERTS_URL`), the issuer, the configured audience, the configured
//! service account (verified) and the expiry. The JWKS is cached in memory per instance
//! ([`CertsCache`]) and fetched again when a token names an unknown key, at most once a minute.
use std::collections::HashMap;
use std::fmt;
use std::time::{Duration, Instant};

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;

/// Issuers Google's ID tokens carry.
pub const ISSUERS: [&str; 2] = ["https://accounts.google.com", "accounts.google.com"];

/// Clock skew tolerated on `exp` (and `nbf`/`iat`), in seconds.
const LEEWAY_SECS: u64 = 60;

/// How often an unknown `kid` may send us back to Google for its keys.
const REFETCH_EVERY: Duration = Duration::from_secs(60);

/// Why a push's token was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum PushAuthError {
    #[error("no bearer token")]
    Missing,
    #[error("token refused: {0}")]
    Invalid(String),
    /// Google's keys could not be fetched: the push cannot be checked now (it is redelivered).
    #[error("signing keys unavailable: {0}")]
    KeysUnavailable(String),
}

/// What a push's token must say.
#[derive(Debug, Clone, Copy)]
pub struct Expected<'a> {
    pub audience: &'a str,
    pub service_account: &'a str,
}

#[derive(Deserialize)]
struct Claims {
    email: Option<String>,
    #[serde(default)]
    email_verified: serde_json::Value,
}

/// Google's signing keys by `kid`, and when they were last asked for.
#[derive(Default)]
pub struct CertsCache {
    inner: tokio::sync::Mutex<Cached>,
}

#[derive(Default)]
struct Cached {
    keys: HashMap<String, DecodingKey>,
    fetched: Option<Instant>,
}

impl fmt::Debug for CertsCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CertsCache")
    }
}

impl CertsCache {
    /// The key `kid`, from the cache or (unknown, and not asked within the last minute) from
    /// `url`. Requests that find it missing meanwhile wait for the one fetch.
    async fn key(
        &self,
        http: &reqwest::Client,
        url: &str,
        kid: &str,
    ) -> Result<DecodingKey, PushAuthError> {
        let mut cached = self.inner.lock().await;
        if let Some(key) = cached.keys.get(kid) {
            return Ok(key.clone());
        }
        if cached
            .fetched
            .is_some_and(|at| at.elapsed() < REFETCH_EVERY)
        {
            return Err(PushAuthError::Invalid(format!(
                "unknown signing key {kid:?}"
            )));
        }
        let set: JwkSet = fetch(http, url).await?;
        cached.fetched = Some(Instant::now());
        cached.keys = set
            .keys
            .iter()
            .filter_map(|jwk| {
                let kid = jwk.common.key_id.clone()?;
                DecodingKey::from_jwk(jwk).ok().map(|key| (kid, key))
            })
            .collect();
        cached
            .keys
            .get(kid)
            .cloned()
            .ok_or_else(|| PushAuthError::Invalid(format!("unknown signing key {kid:?}")))
    }
}

async fn fetch(http: &reqwest::Client, url: &str) -> Result<JwkSet, PushAuthError> {
    let unavailable =
        |e: reqwest::Error| PushAuthError::KeysUnavailable(e.without_url().to_string());
    http.get(url)
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .map_err(unavailable)?
        .error_for_status()
        .map_err(unavailable)?
        .json()
        .await
        .map_err(unavailable)
}

/// The bearer token of an `Authorization` header value.
pub fn bearer(header: Option<&str>) -> Result<&str, PushAuthError> {
    header
        .and_then(|h| {
            let (scheme, token) = h.trim().split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
        })
        .filter(|t| !t.is_empty())
        .ok_or(PushAuthError::Missing)
}

/// Check a push's ID token (see the module): Ok only when Google signed it for `expected`.
pub async fn verify(
    http: &reqwest::Client,
    certs: &CertsCache,
    certs_url: &str,
    token: &str,
    expected: Expected<'_>,
) -> Result<(), PushAuthError> {
    let invalid = |e: jsonwebtoken::errors::Error| PushAuthError::Invalid(describe(&e));
    let header = jsonwebtoken::decode_header(token).map_err(invalid)?;
    if header.alg != Algorithm::RS256 {
        return Err(PushAuthError::Invalid(format!(
            "algorithm {:?}, not RS256",
            header.alg
        )));
    }
    let kid = header
        .kid
        .ok_or_else(|| PushAuthError::Invalid("no key id".into()))?;
    let key = certs.key(http, certs_url, &kid).await?;
    let mut validation = Validation::new(Algorithm::RS256);
    validation.leeway = LEEWAY_SECS;
    validation.set_audience(&[expected.audience]);
    validation.set_issuer(&ISSUERS);
    validation.set_required_spec_claims(&["exp", "iss", "aud"]);
    let claims = jsonwebtoken::decode::<Claims>(token, &key, &validation)
        .map_err(invalid)?
        .claims;
    let verified = matches!(&claims.email_verified, serde_json::Value::Bool(true))
        || claims.email_verified.as_str() == Some("true");
    match claims.email {
        Some(email) if email.eq_ignore_ascii_case(expected.service_account) && verified => Ok(()),
        Some(email) if verified => Err(PushAuthError::Invalid(format!(
            "signed for service account {email}, not the configured one"
        ))),
        _ => Err(PushAuthError::Invalid(
            "no verified service account email".into(),
        )),
    }
}

fn describe(e: &jsonwebtoken::errors::Error) -> String {
    match e.kind() {
        ErrorKind::InvalidSignature => "bad signature".into(),
        ErrorKind::ExpiredSignature => "expired".into(),
        ErrorKind::InvalidAudience => "wrong audience".into(),
        ErrorKind::InvalidIssuer => "wrong issuer".into(),
        ErrorKind::MissingRequiredClaim(c) => format!("no {c} claim"),
        ErrorKind::InvalidAlgorithm => "wrong algorithm".into(),
        _ => "malformed".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::bearer;

    #[test]
    fn bearer_tokens_are_read_from_the_header() {
        assert_eq!(bearer(Some("Bearer abc")).unwrap(), "abc");
        assert_eq!(bearer(Some("bearer  abc ")).unwrap(), "abc");
        assert!(bearer(Some("Basic abc")).is_err());
        assert!(bearer(Some("Bearer ")).is_err());
        assert!(bearer(None).is_err());
    }
}
