//! Google's JWT bearer grant (RFC 7523) for a service account with domain-wide delegation:
//! `POST {oauth2}/token` with `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer` and an
//! assertion signed with the key, `sub` = the Workspace user to act as.
use chrono::{Duration, Utc};
use serde_json::json;

use super::{request_token, AppToken, ErrorAnswer, GrantError, ServiceAccountKey};

const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
/// Google accepts assertions of at most one hour.
const ASSERTION_LIFETIME: Duration = Duration::hours(1);

pub const GMAIL_READONLY: &str = "https://www.googleapis.com/auth/gmail.readonly";
pub const DIRECTORY_USER_READONLY: &str =
    "https://www.googleapis.com/auth/admin.directory.user.readonly";

pub fn token_url(oauth2_url: &str) -> String {
    format!("{}/token", oauth2_url.trim_end_matches('/'))
}

/// A token acting as `subject` (or as the service account itself when `None`) for `scopes`.
pub async fn jwt_bearer(
    http: &reqwest::Client,
    oauth2_url: &str,
    key: &ServiceAccountKey,
    subject: Option<&str>,
    scopes: &[&str],
) -> Result<AppToken, GrantError> {
    let url = token_url(oauth2_url);
    let now = Utc::now();
    let mut claims = json!({
        "iss": key.client_email,
        "scope": scopes.join(" "),
        "aud": url,
        "iat": now.timestamp(),
        "exp": (now + ASSERTION_LIFETIME).timestamp(),
    });
    if let Some(subject) = subject {
        claims["sub"] = json!(subject);
    }
    let assertion = key.sign(&claims)?;
    request_token(
        (http, crate::providers::Provider::Google),
        &url,
        &[
            ("grant_type", GRANT_TYPE),
            ("assertion", assertion.as_str()),
        ],
        now,
        |body, _| classify(body, scopes),
    )
    .await
}

/// By `error`; Google's `invalid_grant` covers several causes that only its description tells
/// apart, so those few known descriptions are recognised here, once.
fn classify(body: &ErrorAnswer, scopes: &[&str]) -> GrantError {
    let detail = body.error_description.clone();
    match body.error.as_str() {
        "unauthorized_client" => GrantError::DelegationNotGranted {
            scopes: scopes.join(" "),
            detail,
        },
        "invalid_grant" if detail.starts_with("Invalid email or User ID") => {
            GrantError::UnknownUser(detail)
        }
        "invalid_grant" if detail.contains("short-lived token") => GrantError::ClockSkew(detail),
        "invalid_grant"
            if detail.starts_with("Invalid JWT Signature")
                || detail.contains("account not found") =>
        {
            GrantError::KeyRejected(detail)
        }
        code => GrantError::Refused {
            code: code.to_string(),
            detail,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(error: &str, description: &str) -> ErrorAnswer {
        ErrorAnswer {
            error: error.into(),
            error_description: description.into(),
            ..ErrorAnswer::default()
        }
    }

    #[test]
    fn errors_classify() {
        let scopes = [GMAIL_READONLY];
        assert!(matches!(
            classify(&answer("unauthorized_client", "Client is unauthorized"), &scopes),
            GrantError::DelegationNotGranted { scopes, .. } if scopes == GMAIL_READONLY
        ));
        assert!(matches!(
            classify(
                &answer("invalid_grant", "Invalid email or User ID"),
                &scopes
            ),
            GrantError::UnknownUser(_)
        ));
        assert!(matches!(
            classify(&answer("invalid_grant", "Invalid JWT Signature."), &scopes),
            GrantError::KeyRejected(_)
        ));
        assert!(matches!(
            classify(&answer("invalid_scope", "Empty or missing scope not allowed."), &scopes),
            GrantError::Refused { code, .. } if code == "invalid_scope"
        ));
    }
}
