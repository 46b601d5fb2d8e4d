//! Organization directories and mailbox probes for organization-wide connections: Microsoft
//! Graph users and group members (app-only), the Google Admin SDK Directory API (as a delegated
//! administrator), and "read one message" on Graph and Gmail to check that a mailbox is
//! reachable. Typed, paged results; failures classified by the providers' error codes. No
//! database here: `connections` supplies the tokens.
pub mod google;
pub mod graph;
pub mod probe;

use std::time::Duration;

use reqwest::{Response, StatusCode};
use serde_json::Value;

use super::{Provider, Secret};

/// One page of a listing and how to ask for the next.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Graph: the `@odata.nextLink` URL; Google: the `nextPageToken`.
    pub next: Option<String>,
    /// Graph with `$count=true`: `@odata.count`.
    pub count: Option<u64>,
}

/// A directory or mailbox request the provider refused, by what to do about it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DirectoryError {
    /// 401: the token was refused; forget it and ask for a new one once.
    #[error("access token refused")]
    Unauthorized,
    /// Graph 403 `Authorization_RequestDenied` (the app has no directory role: admin consent
    /// missing), Google 403 on the directory (not an administrator, or the scope is missing).
    #[error("insufficient privileges: {0}")]
    InsufficientPrivileges(String),
    /// Graph 403 `ErrorAccessDenied` on mail: the mailbox is outside the app's RBAC scope /
    /// application access policy, or `Mail.Read` is not granted.
    #[error("access to this mailbox is denied: {0}")]
    MailboxAccessDenied(String),
    /// Graph 404 `MailboxNotEnabledForRESTAPI`, Gmail 400 `failedPrecondition`: the user has
    /// no mailbox there.
    #[error("the user has no mailbox: {0}")]
    MailboxNotEnabled(String),
    #[error("not found: {0}")]
    NotFound(String),
    /// 400: the filter or query is not accepted as written.
    #[error("the query was not accepted: {0}")]
    BadQuery(String),
    #[error("rate limited")]
    RateLimited { retry_after: Option<Duration> },
    #[error("temporarily unavailable: {0}")]
    Transient(String),
    #[error("refused: HTTP {status} {code}: {message}")]
    Refused {
        status: u16,
        code: String,
        message: String,
    },
    /// A next-page link that points somewhere other than the configured API host.
    #[error("the provider sent a paging link to another host: {0}")]
    ForeignLink(String),
    #[error("unreadable answer: {0}")]
    Decode(String),
}

impl DirectoryError {
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::RateLimited { .. } | Self::Transient(_))
    }
}

pub(crate) fn transport(err: reqwest::Error) -> DirectoryError {
    if err.is_decode() {
        DirectoryError::Decode(err.without_url().to_string())
    } else {
        DirectoryError::Transient(err.without_url().to_string())
    }
}

/// The error body's code and message: Graph `{"error":{"code":"X","message"}}`, Google
/// `{"error":{"code":400,"message","errors":[{"reason"}],"status"}}` (the reason is the code).
fn code_and_message(body: &Value) -> (String, String) {
    let error = &body["error"];
    let message = error["message"].as_str().unwrap_or_default().to_string();
    let code = error["code"]
        .as_str()
        .map(str::to_string)
        .or_else(|| error["errors"][0]["reason"].as_str().map(str::to_string))
        .or_else(|| error["status"].as_str().map(str::to_string))
        .unwrap_or_default();
    (code, message)
}

/// Classify a non-success answer by status and provider error code.
pub(crate) async fn failure(res: Response) -> DirectoryError {
    let status = res.status();
    let retry_after = res
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    let body: Value = res.json().await.unwrap_or(Value::Null);
    let (code, message) = code_and_message(&body);
    classify(status, &code, message, retry_after)
}

fn classify(
    status: StatusCode,
    code: &str,
    message: String,
    retry_after: Option<Duration>,
) -> DirectoryError {
    match (status.as_u16(), code) {
        (401, _) => DirectoryError::Unauthorized,
        (429, _) => DirectoryError::RateLimited { retry_after },
        (s, _) if s >= 500 => DirectoryError::Transient(format!("HTTP {s} {code}: {message}")),
        (404, "MailboxNotEnabledForRESTAPI") | (400, "failedPrecondition") => {
            DirectoryError::MailboxNotEnabled(message)
        }
        (403, "ErrorAccessDenied") => DirectoryError::MailboxAccessDenied(message),
        (
            403,
            "Authorization_RequestDenied"
            | "forbidden"
            | "insufficientPermissions"
            | "PERMISSION_DENIED",
        ) => DirectoryError::InsufficientPrivileges(message),
        (404, _) => DirectoryError::NotFound(message),
        (400, _) => DirectoryError::BadQuery(if code.is_empty() {
            message
        } else {
            format!("{code}: {message}")
        }),
        (s, _) => DirectoryError::Refused {
            status: s,
            code: code.to_string(),
            message,
        },
    }
}

/// GET `url` with a bearer token (and extra headers), JSON back; recorded in the metrics as the
/// provider's `endpoint`.
pub(crate) async fn get_json(
    http: &reqwest::Client,
    (provider, endpoint): (Provider, &'static str),
    token: &Secret,
    url: &str,
    headers: &[(&str, &str)],
) -> Result<Value, DirectoryError> {
    let mut request = http.get(url).bearer_auth(token.expose());
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let res = crate::telemetry::record::provider_request(provider, endpoint, request)
        .await
        .map_err(transport)?;
    if !res.status().is_success() {
        return Err(failure(res).await);
    }
    res.json().await.map_err(transport)
}

/// Percent-encode one URL path segment.
pub(crate) fn segment(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(status: u16, code: &str) -> DirectoryError {
        classify(
            StatusCode::from_u16(status).unwrap(),
            code,
            "m".into(),
            None,
        )
    }

    #[test]
    fn policy_errors_are_told_apart() {
        assert!(matches!(
            c(404, "MailboxNotEnabledForRESTAPI"),
            DirectoryError::MailboxNotEnabled(_)
        ));
        assert!(matches!(
            c(400, "failedPrecondition"),
            DirectoryError::MailboxNotEnabled(_)
        ));
        assert!(matches!(
            c(403, "ErrorAccessDenied"),
            DirectoryError::MailboxAccessDenied(_)
        ));
        assert!(matches!(
            c(403, "Authorization_RequestDenied"),
            DirectoryError::InsufficientPrivileges(_)
        ));
        assert!(matches!(
            c(404, "Request_ResourceNotFound"),
            DirectoryError::NotFound(_)
        ));
        assert!(matches!(
            c(400, "Request_UnsupportedQuery"),
            DirectoryError::BadQuery(_)
        ));
        assert_eq!(c(401, ""), DirectoryError::Unauthorized);
        assert!(c(503, "").is_transient());
    }

    #[test]
    fn google_codes_come_from_the_reason() {
        let body = serde_json::json!({"error":{"code":400,"message":"Mail service not enabled",
            "errors":[{"reason":"failedPrecondition"}],"status":"FAILED_PRECONDITION"}});
        assert_eq!(
            code_and_message(&body),
            (
                "failedPrecondition".into(),
                "Mail service not enabled".into()
            )
        );
    }
}
