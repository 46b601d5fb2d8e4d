//! Microsoft identity platform errors (`{"error","error_description":"AADSTSnnnn: ..",
//! "error_codes":[..],"timestamp","trace_id","correlation_id"}`) and scope handling.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

/// The Graph resource identifier scopes are qualified with.
pub const GRAPH_RESOURCE: &str = "https://graph.microsoft.com";
/// OIDC scopes, which belong to no resource.
const OIDC_SCOPES: [&str; 4] = ["openid", "profile", "email", "offline_access"];

/// A token-endpoint error.
#[derive(Debug, Clone)]
pub struct AadError {
    pub status: StatusCode,
    pub error: &'static str,
    pub code: u32,
    pub description: String,
}

impl AadError {
    pub fn new(error: &'static str, code: u32, description: impl Into<String>) -> Self {
        let status = if error == "invalid_client" {
            StatusCode::UNAUTHORIZED
        } else {
            StatusCode::BAD_REQUEST
        };
        Self {
            status,
            error,
            code,
            description: description.into(),
        }
    }

    pub fn missing(parameter: &str) -> Self {
        Self::new(
            "invalid_request",
            900_144,
            format!("The request body must contain the following parameter: '{parameter}'."),
        )
    }

    pub fn body(&self) -> serde_json::Value {
        let trace = uuid::Uuid::new_v4().to_string();
        let correlation = uuid::Uuid::new_v4().to_string();
        let now = chrono::Utc::now();
        let timestamp = now.format("%Y-%m-%d %H:%M:%SZ").to_string();
        json!({
            "error": self.error,
            "error_description": format!(
                "AADSTS{}: {} Trace ID: {trace} Correlation ID: {correlation} Timestamp: {timestamp}",
                self.code, self.description
            ),
            "error_codes": [self.code],
            "timestamp": timestamp,
            "trace_id": trace,
            "correlation_id": correlation,
            "error_uri": format!("https://login.microsoftonline.com/error?code={}", self.code),
        })
    }
}

impl IntoResponse for AadError {
    fn into_response(self) -> Response {
        let mut response = (self.status, Json(self.body())).into_response();
        response.headers_mut().insert(
            "cache-control",
            HeaderValue::from_static("no-store, no-cache"),
        );
        response
    }
}

/// Split a space-separated scope list; `None` when it names more than one resource.
pub fn parse_scopes(raw: &str) -> Result<Vec<String>, AadError> {
    let mut out = Vec::new();
    let mut resource: Option<String> = None;
    for scope in raw.split_whitespace() {
        let (res, name) = split_resource(scope);
        if let Some(res) = res {
            if resource
                .as_deref()
                .is_some_and(|r| !r.eq_ignore_ascii_case(&res))
            {
                return Err(AadError::new(
                    "invalid_scope",
                    28_000,
                    "Provided value for the input parameter scope is not valid because it contains more than one resource.",
                ));
            }
            resource = Some(res);
        }
        let canonical = canonical(&name);
        if !out.contains(&canonical) {
            out.push(canonical);
        }
    }
    if let Some(res) = resource {
        if !res.eq_ignore_ascii_case(GRAPH_RESOURCE) {
            return Err(AadError::new(
                "invalid_resource",
                500_011,
                format!("The resource principal named {res} was not found in the tenant."),
            ));
        }
    }
    Ok(out)
}

/// `(resource, name)` of a scope; bare Graph scopes have no resource.
fn split_resource(scope: &str) -> (Option<String>, String) {
    match scope.rsplit_once('/') {
        Some((res, name)) if res.contains("://") => (Some(res.to_string()), name.to_string()),
        _ => (None, scope.to_string()),
    }
}

/// Canonical spelling of a scope name (`mail.read` -> `Mail.Read`).
fn canonical(name: &str) -> String {
    let lower = name.to_ascii_lowercase();
    if OIDC_SCOPES.contains(&lower.as_str()) || name == ".default" {
        return lower;
    }
    name.split('.')
        .map(|p| {
            let mut c = p.chars();
            c.next().map_or_else(String::new, |f| {
                f.to_uppercase().collect::<String>() + &c.as_str().to_ascii_lowercase()
            })
        })
        .collect::<Vec<_>>()
        .join(".")
        .replace("Readwrite", "ReadWrite")
        .replace("Readbasic", "ReadBasic")
}

/// The `scope` of a token response: OIDC scopes bare (without `offline_access`), Graph ones
/// qualified with the resource.
pub fn response_scope(scopes: &[String]) -> String {
    scopes
        .iter()
        .filter(|s| s.as_str() != "offline_access")
        .map(|s| {
            if OIDC_SCOPES.contains(&s.as_str()) {
                s.clone()
            } else {
                format!("{GRAPH_RESOURCE}/{s}")
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Whether the scopes allow reading mail.
pub fn can_read_mail(scopes: &[String]) -> bool {
    scopes
        .iter()
        .any(|s| s.starts_with("Mail.Read") || s == "Mail.ReadWrite" || s == ".default")
}

/// Whether the scopes allow changing mail.
pub fn can_write_mail(scopes: &[String]) -> bool {
    scopes
        .iter()
        .any(|s| s == "Mail.ReadWrite" || s == ".default")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_are_canonicalised_and_one_resource_only() {
        let scopes = parse_scopes(
            "openid offline_access https://graph.microsoft.com/mail.readwrite User.Read",
        )
        .unwrap_or_default();
        assert_eq!(
            scopes,
            ["openid", "offline_access", "Mail.ReadWrite", "User.Read"]
        );
        assert_eq!(
            response_scope(&scopes),
            "openid https://graph.microsoft.com/Mail.ReadWrite https://graph.microsoft.com/User.Read"
        );
        assert!(parse_scopes("https://graph.microsoft.com/Mail.Read https://outlook.office.com/IMAP.AccessAsUser.All").is_err());
    }
}
