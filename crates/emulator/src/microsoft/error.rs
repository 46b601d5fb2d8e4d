//! Graph error bodies (`{"error":{"code","message","innerError":{..}}}`, §D.11) and the
//! per-request ids (`request-id`, `client-request-id`) they and every Graph response carry.

use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

/// Ids of the Graph request being served.
#[derive(Debug, Clone)]
pub struct RequestIds {
    pub request_id: String,
    pub client_request_id: String,
}

tokio::task_local! {
    static IDS: RequestIds;
}

/// The ids of the current request (fresh ones outside a Graph request).
pub fn current_ids() -> RequestIds {
    IDS.try_with(Clone::clone)
        .unwrap_or_else(|_| fresh_ids(None))
}

fn fresh_ids(client: Option<&str>) -> RequestIds {
    let request_id = uuid::Uuid::new_v4().to_string();
    RequestIds {
        client_request_id: client.map_or_else(|| request_id.clone(), str::to_string),
        request_id,
    }
}

/// Middleware: give the request its ids and echo them as response headers.
pub async fn with_request_ids(request: Request, next: Next) -> Response {
    let client = request
        .headers()
        .get("client-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let ids = fresh_ids(client.as_deref());
    let mut response = IDS.scope(ids.clone(), next.run(request)).await;
    let headers = response.headers_mut();
    for (name, value) in [
        ("request-id", ids.request_id.as_str()),
        ("client-request-id", ids.client_request_id.as_str()),
    ] {
        if let Ok(v) = HeaderValue::from_str(value) {
            headers.insert(name, v);
        }
    }
    headers.insert(
        "x-ms-ags-diagnostic",
        HeaderValue::from_static(
            r#"{"ServerInfo":{"DataCenter":"Emulator","Slice":"E","Ring":"1","ScaleUnit":"000","RoleInstance":"EMU01","ADSiteName":"EMU"}}"#,
        ),
    );
    response
}

/// A Graph error response.
#[derive(Debug, Clone)]
pub struct GraphError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub retry_after: Option<u64>,
    /// Render as a connection cut mid-answer (an injected `drop` fault).
    pub drop: bool,
}

impl GraphError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            retry_after: None,
            drop: false,
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "BadRequest", message)
    }

    pub fn invalid_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "ErrorInvalidRequest", message)
    }

    pub fn item_not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "ErrorItemNotFound",
            "The specified object was not found in the store.",
        )
    }

    pub fn access_denied() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "ErrorAccessDenied",
            "Access is denied. Check credentials and try again.",
        )
    }

    pub fn unauthenticated(message: &str) -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "InvalidAuthenticationToken",
            message,
        )
    }

    pub fn sync_state_not_found() -> Self {
        Self::new(
            StatusCode::GONE,
            "SyncStateNotFound",
            "The sync state generation is not found; the delta token is no longer valid.",
        )
    }

    #[must_use]
    pub fn with_retry_after(mut self, seconds: Option<u64>) -> Self {
        self.retry_after = seconds;
        self
    }

    #[must_use]
    pub fn dropping(mut self, drop: bool) -> Self {
        self.drop = drop;
        self
    }

    /// The JSON body (also used inside `$batch` responses).
    pub fn body(&self) -> serde_json::Value {
        let ids = current_ids();
        json!({
            "error": {
                "code": self.code,
                "message": self.message,
                "innerError": {
                    "date": chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S").to_string(),
                    "request-id": ids.request_id,
                    "client-request-id": ids.client_request_id,
                }
            }
        })
    }
}

impl IntoResponse for GraphError {
    fn into_response(self) -> Response {
        if self.drop {
            return dropped();
        }
        let mut response = (self.status, Json(self.body())).into_response();
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert("retry-after", HeaderValue::from(seconds));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                "www-authenticate",
                HeaderValue::from_static(
                    r#"Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000""#,
                ),
            );
        }
        response
    }
}

/// Reading fails after part of the body: the server aborts the connection mid-answer.
struct Cut;

impl tokio::io::AsyncRead for Cut {
    fn poll_read(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
        _: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "injected connection drop",
        )))
    }
}

/// A 200 whose body breaks off: what a client sees when the connection drops mid-answer.
fn dropped() -> Response {
    use tokio::io::AsyncReadExt as _;
    let partial: &'static [u8] = br#"{"@odata.context":"#;
    let body = axum::body::Body::from_stream(tokio_util::io::ReaderStream::new(partial.chain(Cut)));
    let mut response = (StatusCode::OK, body).into_response();
    response.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// A JSON body with the Graph content type.
pub fn odata_json(status: StatusCode, value: &serde_json::Value) -> Response {
    let mut response = (status, Json(value)).into_response();
    response.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        HeaderValue::from_static(
            "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8",
        ),
    );
    response
}
