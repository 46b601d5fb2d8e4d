//! Google's error bodies: the API shape
//! `{"error":{"code","message","errors":[{"message","domain","reason"}],"status"}}` and the
//! OAuth token-endpoint shape `{"error","error_description"}`.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use serde_json::json;

use crate::faults::FaultHit;
use crate::gate::Refusal;
use crate::quota::Throttle;

/// A Gmail / Google API error.
#[derive(Debug, Clone)]
pub struct GoogleError {
    pub code: u16,
    pub message: String,
    pub reason: &'static str,
    pub domain: &'static str,
    pub status: &'static str,
    /// The per-error message when it differs from the top one.
    pub detail_message: Option<&'static str>,
    /// Point at the `Authorization` header (401s).
    pub at_authorization_header: bool,
    pub retry_after: Option<u64>,
}

impl GoogleError {
    pub(crate) fn new(
        code: u16,
        message: impl Into<String>,
        reason: &'static str,
        status: &'static str,
    ) -> Self {
        Self {
            code,
            message: message.into(),
            reason,
            domain: "global",
            status,
            detail_message: None,
            at_authorization_header: false,
            retry_after: None,
        }
    }

    pub fn unauthenticated() -> Self {
        let mut e = Self::new(
            401,
            "Request had invalid authentication credentials. Expected OAuth 2 access token, login \
             cookie or other valid authentication credential. See \
             https://developers.google.com/identity/sign-in/web/devconsole-project.",
            "authError",
            "UNAUTHENTICATED",
        );
        e.detail_message = Some("Invalid Credentials");
        e.at_authorization_header = true;
        e
    }

    pub fn insufficient_scope() -> Self {
        Self::new(
            403,
            "Request had insufficient authentication scopes.",
            "insufficientPermissions",
            "PERMISSION_DENIED",
        )
    }

    /// 403 `forbidden` (metadata-scope restrictions, delegation).
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(403, message, "forbidden", "PERMISSION_DENIED")
    }

    pub fn not_found() -> Self {
        Self::new(
            404,
            "Requested entity was not found.",
            "notFound",
            "NOT_FOUND",
        )
    }

    /// A generic error for a status produced outside the handlers (extractor rejections).
    pub fn from_status(code: u16, message: String) -> Self {
        let message = if message.is_empty() {
            "Invalid request".to_string()
        } else {
            message
        };
        match code {
            401 => Self::unauthenticated(),
            404 => Self::not_found(),
            405 => Self::new(405, message, "httpMethodNotAllowed", "UNIMPLEMENTED"),
            413 => Self::new(
                413,
                "Request payload size exceeds the limit",
                "badRequest",
                "INVALID_ARGUMENT",
            ),
            _ => Self::new(400, message, "invalidArgument", "INVALID_ARGUMENT"),
        }
    }

    pub fn invalid_argument(message: impl Into<String>) -> Self {
        Self::new(400, message, "invalidArgument", "INVALID_ARGUMENT")
    }

    pub fn failed_precondition(message: impl Into<String>) -> Self {
        Self::new(400, message, "failedPrecondition", "FAILED_PRECONDITION")
    }

    /// Per-user quota exhausted (429 as Gmail sends it today, with Retry-After).
    pub fn user_rate_limited(retry_after: u64) -> Self {
        let wait = chrono::Duration::seconds(i64::try_from(retry_after.min(86_400)).unwrap_or(60));
        let now = chrono::Utc::now();
        let at = now.checked_add_signed(wait).unwrap_or(now);
        let mut e = Self::new(
            429,
            format!(
                "User-rate limit exceeded.  Retry after {}",
                at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
            ),
            "rateLimitExceeded",
            "RESOURCE_EXHAUSTED",
        );
        e.domain = "usageLimits";
        e.retry_after = Some(retry_after);
        e
    }

    pub fn too_many_concurrent() -> Self {
        let mut e = Self::new(
            429,
            "Too many concurrent requests for user",
            "rateLimitExceeded",
            "RESOURCE_EXHAUSTED",
        );
        e.domain = "usageLimits";
        e
    }

    /// An injected fault with its status.
    pub fn fault(hit: FaultHit) -> Self {
        let mut e = match hit.status {
            429 => Self::new(
                429,
                "Resource has been exhausted (e.g. check quota).",
                "rateLimitExceeded",
                "RESOURCE_EXHAUSTED",
            ),
            500 => Self::new(500, "Backend Error", "backendError", "INTERNAL"),
            502 => Self::new(502, "Bad Gateway", "backendError", "UNAVAILABLE"),
            504 => Self::new(
                504,
                "Deadline exceeded",
                "backendError",
                "DEADLINE_EXCEEDED",
            ),
            _ => Self::new(
                503,
                "The service is currently unavailable.",
                "backendError",
                "UNAVAILABLE",
            ),
        };
        e.retry_after = hit.retry_after;
        e
    }

    /// The 403 forms of the per-user quota error: the quota-metric message (observed since
    /// 2021) or, with `legacy`, the older `userRateLimitExceeded`.
    pub fn user_rate_limited_403(retry_after: u64, legacy: bool) -> Self {
        let mut e = if legacy {
            Self::new(
                403,
                "User Rate Limit Exceeded",
                "userRateLimitExceeded",
                "PERMISSION_DENIED",
            )
        } else {
            Self::new(
                403,
                "Quota exceeded for quota metric 'Queries' and limit 'Queries per minute per user' \
                 of service 'gmail.googleapis.com' for consumer 'project_number:000000000000'.",
                "rateLimitExceeded",
                "PERMISSION_DENIED",
            )
        };
        e.domain = "usageLimits";
        e.retry_after = Some(retry_after);
        e
    }

    /// Render a gate refusal; `quota_error` picks the form of the per-user quota error:
    /// `"429"`, `"403"` or `"403-legacy"`.
    pub fn from_refusal(refusal: Refusal, quota_error: &str) -> Self {
        match refusal {
            Refusal::Fault(hit) => Self::fault(hit),
            Refusal::Throttle(Throttle::Rate { retry_after }) if quota_error.starts_with("403") => {
                Self::user_rate_limited_403(retry_after, quota_error == "403-legacy")
            }
            Refusal::Throttle(Throttle::Rate { retry_after }) => {
                Self::user_rate_limited(retry_after)
            }
            Refusal::Throttle(Throttle::Concurrency) => Self::too_many_concurrent(),
        }
    }

    pub fn body(&self) -> serde_json::Value {
        let mut detail = json!({
            "message": self.detail_message.unwrap_or(&self.message),
            "domain": self.domain,
            "reason": self.reason,
        });
        if let (true, Some(obj)) = (self.at_authorization_header, detail.as_object_mut()) {
            obj.insert("location".into(), json!("Authorization"));
            obj.insert("locationType".into(), json!("header"));
        }
        json!({ "error": {
            "code": self.code,
            "message": self.message,
            "errors": [detail],
            "status": self.status,
        }})
    }
}

impl IntoResponse for GoogleError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (status, Json(self.body())).into_response();
        let headers = response.headers_mut();
        if let Some(secs) = self.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if self.code == 401 {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(
                    "Bearer realm=\"https://accounts.google.com/\", error=\"invalid_token\"",
                ),
            );
        }
        response
    }
}

/// An OAuth endpoint error (`/token`, `/revoke`).
#[derive(Debug, Clone, Serialize)]
pub struct OAuthError {
    #[serde(skip)]
    pub status: u16,
    pub error: &'static str,
    pub error_description: String,
}

impl OAuthError {
    pub fn new(status: u16, error: &'static str, description: impl Into<String>) -> Self {
        Self {
            status,
            error,
            error_description: description.into(),
        }
    }

    pub fn invalid_grant(description: impl Into<String>) -> Self {
        Self::new(400, "invalid_grant", description)
    }

    pub fn invalid_request(description: impl Into<String>) -> Self {
        Self::new(400, "invalid_request", description)
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::BAD_REQUEST);
        (status, Json(self)).into_response()
    }
}
