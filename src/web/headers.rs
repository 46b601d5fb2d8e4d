//! Security headers on every response. Routes that need a different CSP (sandboxed email
//! bodies) set their own and keep it.
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

use super::AppState;
use crate::config::Settings;

macro_rules! csp_base {
    () => {
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
         object-src 'none'; base-uri 'none'; frame-ancestors 'none'; frame-src 'self'"
    };
}

/// The page CSP. `form-action` also governs where a form's redirects may lead (browsers
/// enforce it on them), so "Connect Gmail" / "Reconnect" need the configured providers'
/// sign-in origins; nothing else.
fn csp(settings: &Settings) -> HeaderValue {
    let urls = &settings.provider_urls;
    let mut origins: Vec<String> = vec!["'self'".into()];
    for (configured, url) in [
        (settings.google.is_some(), &urls.google_accounts),
        (settings.microsoft.is_some(), &urls.microsoft_login),
    ] {
        let origin = url::Url::parse(url).map(|u| u.origin());
        if let (true, Ok(origin)) = (configured, origin) {
            let origin = origin.ascii_serialization();
            if origin.starts_with("http") && !origins.contains(&origin) {
                origins.push(origin);
            }
        }
    }
    let policy = format!("{}; form-action {}", csp_base!(), origins.join(" "));
    HeaderValue::from_str(&policy)
        .unwrap_or_else(|_| HeaderValue::from_static(concat!(csp_base!(), "; form-action 'self'")))
}

/// Sets fixed values, replacing what the response had.
pub fn set_static<const N: usize>(h: &mut HeaderMap, values: [(HeaderName, &'static str); N]) {
    for (name, value) in values {
        h.insert(name, HeaderValue::from_static(value));
    }
}

pub async fn security(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(header::CONTENT_SECURITY_POLICY, csp(&state.settings));
        h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
    set_static(
        h,
        [
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::REFERRER_POLICY, "same-origin"),
            (
                HeaderName::from_static("cross-origin-opener-policy"),
                "same-origin",
            ),
        ],
    );
    if state.settings.secure_cookies() {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    if !h.contains_key(header::CACHE_CONTROL) && is_html(h) {
        // Pages show private mail: never keep them in shared or back-button caches.
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    res
}

fn is_html(h: &HeaderMap) -> bool {
    h.get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("text/html"))
}
