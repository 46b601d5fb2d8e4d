//! CSRF defence for every state-changing request: a per-session token (form field `csrf_token`
//! or header `X-CSRF-Token`, which htmx sends from the page's `hx-headers`) plus an Origin /
//! Sec-Fetch-Site check. Failing requests get 403 and never reach a handler.
use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use subtle::ConstantTimeEq;
use tower_sessions::Session;

use super::error::AppError;
use super::AppState;

const TOKEN_KEY: &str = "csrf.token";
pub const HEADER: &str = "X-CSRF-Token";
pub const FIELD: &str = "csrf_token";
/// Largest form body read to find the token (bigger forms must send the header).
const MAX_FORM_BYTES: usize = 2 * 1024 * 1024;

/// The session's token, created on first use.
pub async fn token(session: &Session) -> Result<String, tower_sessions::session::Error> {
    if let Some(token) = session.get::<String>(TOKEN_KEY).await? {
        return Ok(token);
    }
    rotate(session).await
}

/// Replace the session's token (at sign-in).
pub async fn rotate(session: &Session) -> Result<String, tower_sessions::session::Error> {
    let bytes: [u8; 32] = rand::random();
    let token = URL_SAFE_NO_PAD.encode(bytes);
    session.insert(TOKEN_KEY, &token).await?;
    Ok(token)
}

fn forbidden() -> Response {
    AppError::Forbidden(
        "This form has expired or came from another site. Go back, reload the page and try again.",
    )
    .into_response()
}

/// Middleware: reject unsafe methods without a valid token or from another origin.
pub async fn verify(
    State(state): State<AppState>,
    session: Session,
    req: Request,
    next: Next,
) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(req).await;
    }
    if !same_origin(req.headers(), &state.settings.base_url) {
        return forbidden();
    }
    let Ok(Some(expected)) = session.get::<String>(TOKEN_KEY).await else {
        return forbidden();
    };
    let (parts, body) = req.into_parts();
    let mut presented = parts
        .headers
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .map(String::from);
    let mut body = body;
    if presented.is_none() {
        let is_form = parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"));
        if is_form {
            let Ok(bytes) = to_bytes(body, MAX_FORM_BYTES).await else {
                return forbidden();
            };
            presented = form_field(&bytes, FIELD);
            body = Body::from(bytes);
        } else {
            presented = parts
                .uri
                .query()
                .and_then(|q| form_field(q.as_bytes(), FIELD));
        }
    }
    let valid = presented.is_some_and(|p| bool::from(p.as_bytes().ct_eq(expected.as_bytes())));
    if !valid {
        return forbidden();
    }
    next.run(Request::from_parts(parts, body)).await
}

fn form_field(bytes: &[u8], name: &str) -> Option<String> {
    url::form_urlencoded::parse(bytes)
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// Browsers say where a request comes from; refuse anything cross-site. Requests without these
/// headers (non-browser clients) still need the token.
fn same_origin(headers: &HeaderMap, base_url: &str) -> bool {
    let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if get("sec-fetch-site").is_some_and(|site| site == "cross-site" || site == "same-site") {
        return false;
    }
    let Some(origin) = get("origin") else {
        return true;
    };
    if origin == "null" {
        return false;
    }
    if origin.trim_end_matches('/') == origin_of(base_url) {
        return true;
    }
    // Same host as requested (covers the configured host reached by another name, and tests).
    let host = get("host").unwrap_or_default();
    origin
        .split_once("://")
        .is_some_and(|(_, rest)| !host.is_empty() && rest == host)
}

fn origin_of(url: &str) -> String {
    url::Url::parse(url)
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use axum::http::{HeaderMap, HeaderValue};

    use super::same_origin;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn origin_rules() {
        let base = "https://crm.example.com";
        assert!(same_origin(&headers(&[]), base));
        assert!(same_origin(
            &headers(&[("origin", "https://crm.example.com")]),
            base
        ));
        assert!(!same_origin(
            &headers(&[("origin", "https://evil.example")]),
            base
        ));
        assert!(!same_origin(&headers(&[("origin", "null")]), base));
        assert!(!same_origin(
            &headers(&[("sec-fetch-site", "cross-site")]),
            base
        ));
        assert!(same_origin(
            &headers(&[
                ("origin", "http://127.0.0.1:4000"),
                ("host", "127.0.0.1:4000")
            ]),
            base
        ));
    }
}
