//! `/static/…`: the CSS, the vendored htmx and `live.js`, compiled into the binary (release
//! builds; debug builds read `static/` at run time), so a copied binary or a container image
//! serves them with nothing beside it. Each answer carries an `ETag` (from the file's SHA-256)
//! and `Cache-Control: no-cache`: browsers keep the file and revalidate it, getting 304 until
//! an upgrade changes it.
use axum::extract::Path;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use base64::Engine;
use rust_embed::Embed;

#[derive(Embed)]
#[folder = "static/"]
struct Files;

/// The `/static/{*path}` route.
pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new().route("/static/{*path}", get(file))
}

async fn file(Path(path): Path<String>, headers: HeaderMap) -> Response {
    // Only the embedded names exist: `..` or an absolute path names nothing.
    let Some(found) = Files::get(&path) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let hash = found.metadata.sha256_hash();
    let tag = format!(
        "\"{}\"",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&hash[..18])
    );
    let Ok(etag) = HeaderValue::from_str(&tag) else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let fresh = headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.trim() == tag || t.trim() == "*");
    let cache = (header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if fresh {
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, etag), cache]).into_response();
    }
    let mime = HeaderValue::from_str(found.metadata.mimetype())
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    (
        [(header::CONTENT_TYPE, mime), (header::ETAG, etag), cache],
        found.data.into_owned(),
    )
        .into_response()
}
