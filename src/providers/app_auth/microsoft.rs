//! Microsoft identity platform, app-only: `POST {login}/{tenant}/oauth2/v2.0/token` with
//! `grant_type=client_credentials` and `scope=https://graph.microsoft.com/.default`, the app
//! proving itself with a client secret or a client assertion (an RS256 JWT whose header names
//! the certificate by `x5t`).
use chrono::{Duration, Utc};
use serde_json::json;

use super::{request_token, AppToken, CertificateCredential, ErrorAnswer, GrantError};
use crate::providers::Secret;

/// The one scope app-only Graph tokens are asked for.
pub const GRAPH_DEFAULT_SCOPE: &str = "https://graph.microsoft.com/.default";
const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// A client assertion lives this long (Entra accepts at most 10 minutes).
const ASSERTION_LIFETIME: Duration = Duration::minutes(5);

/// How the app proves itself.
pub enum ClientCredential<'a> {
    Secret(&'a Secret),
    Certificate(&'a CertificateCredential),
}

/// The token endpoint of a tenant.
pub fn token_url(login_url: &str, tenant: &str) -> String {
    format!(
        "{}/{}/oauth2/v2.0/token",
        login_url.trim_end_matches('/'),
        urlencode(tenant)
    )
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// The client assertion for `client_id` at `audience` (the token endpoint URL).
pub fn client_assertion(
    cert: &CertificateCredential,
    client_id: &str,
    audience: &str,
) -> Result<String, GrantError> {
    let now = Utc::now().timestamp();
    let header = json!({"alg": "RS256", "typ": "JWT", "x5t": cert.x5t});
    let claims = json!({
        "aud": audience,
        "iss": client_id,
        "sub": client_id,
        "jti": uuid::Uuid::new_v4().to_string(),
        "nbf": now,
        "iat": now,
        "exp": now + ASSERTION_LIFETIME.num_seconds(),
    });
    Ok(cert.sign(&header, &claims)?)
}

/// An app-only Graph token for `client_id` in `tenant`.
pub async fn client_credentials(
    http: &reqwest::Client,
    login_url: &str,
    tenant: &str,
    client_id: &str,
    credential: ClientCredential<'_>,
) -> Result<AppToken, GrantError> {
    let url = token_url(login_url, tenant);
    let mut form: Vec<(&str, String)> = vec![
        ("grant_type", "client_credentials".into()),
        ("client_id", client_id.into()),
        ("scope", GRAPH_DEFAULT_SCOPE.into()),
    ];
    match credential {
        ClientCredential::Secret(secret) => {
            form.push(("client_secret", secret.expose().to_string()));
        }
        ClientCredential::Certificate(cert) => {
            form.push(("client_assertion_type", ASSERTION_TYPE.into()));
            form.push(("client_assertion", client_assertion(cert, client_id, &url)?));
        }
    }
    request_token(
        (http, crate::providers::Provider::Microsoft),
        &url,
        &form,
        Utc::now(),
        classify,
    )
    .await
}

/// By the AADSTS code (`error_codes`), which is stable; the description only travels along.
fn classify(body: &ErrorAnswer, status: reqwest::StatusCode) -> GrantError {
    let detail = body.error_description.clone();
    match body.error_codes.first().copied() {
        Some(7_000_215) => GrantError::BadSecret(detail),
        Some(7_000_222) => GrantError::SecretExpired(detail),
        Some(700_027 | 50_027 | 700_021 | 50_012) => GrantError::CertificateRejected(detail),
        Some(1_000_502) => GrantError::CertificateExpired(detail),
        Some(700_024) => GrantError::ClockSkew(detail),
        Some(700_016) => GrantError::AppNotInTenant(detail),
        Some(90_002 | 900_023) => GrantError::TenantNotFound(detail),
        _ if status.is_server_error() => GrantError::Transient(detail),
        _ if status == reqwest::StatusCode::TOO_MANY_REQUESTS => GrantError::RateLimited,
        code => GrantError::Refused {
            code: code.map_or_else(|| body.error.clone(), |c| format!("AADSTS{c}")),
            detail,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(code: u64) -> ErrorAnswer {
        ErrorAnswer {
            error: "invalid_client".into(),
            error_description: format!("AADSTS{code}: text"),
            error_codes: vec![code],
        }
    }

    #[test]
    fn codes_classify_not_texts() {
        let bad = reqwest::StatusCode::UNAUTHORIZED;
        assert!(matches!(
            classify(&answer(7_000_215), bad),
            GrantError::BadSecret(_)
        ));
        assert!(matches!(
            classify(&answer(7_000_222), bad),
            GrantError::SecretExpired(_)
        ));
        assert!(matches!(
            classify(&answer(700_027), bad),
            GrantError::CertificateRejected(_)
        ));
        assert!(matches!(
            classify(&answer(1_000_502), bad),
            GrantError::CertificateExpired(_)
        ));
        assert!(matches!(
            classify(&answer(700_016), bad),
            GrantError::AppNotInTenant(_)
        ));
        assert!(matches!(
            classify(&answer(90_002), bad),
            GrantError::TenantNotFound(_)
        ));
        assert!(matches!(
            classify(&answer(1_002_012), bad),
            GrantError::Refused { code, .. } if code == "AADSTS1002012"
        ));
    }

    #[test]
    fn token_url_encodes_the_tenant() {
        assert_eq!(
            token_url("http://e/", "contoso.test"),
            "http://e/contoso.test/oauth2/v2.0/token"
        );
    }
}
