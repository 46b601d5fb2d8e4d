//! The OData URL forms Graph accepts besides plain path segments, normalised before routing:
//! key segments (`/users('ada@contoso.test')`, `/mailFolders('inbox')`, `/messages('AAMk...')`,
//! quotes also percent-encoded as `%27`), and function calls (`/messages/delta()`,
//! `/messages/microsoft.graph.delta()`, `/messages/microsoft.graph.delta`, as the Kiota-based
//! Graph SDKs send them). Only `/v1.0/` paths are touched; the query string is kept.

use axum::extract::Request;
use axum::http::Uri;

/// One path segment in its plain form.
fn segment(seg: &str) -> String {
    let decoded = seg
        .replace("%27", "'")
        .replace("%28", "(")
        .replace("%29", ")");
    if let Some(name) = decoded
        .strip_prefix("microsoft.graph.")
        .map(|s| s.trim_end_matches("()"))
        .filter(|s| !s.is_empty())
    {
        if name == "delta" {
            return "delta".into();
        }
    }
    if decoded == "delta()" {
        return "delta".into();
    }
    if let Some((name, rest)) = decoded.split_once("('") {
        if let Some(key) = rest.strip_suffix("')") {
            if !name.is_empty() && !key.is_empty() {
                return format!("{name}/{}", key.replace("''", "'"));
            }
        }
    }
    seg.to_string()
}

/// The plain form of a Graph path (`None` when nothing changes).
pub fn normalise(path: &str) -> Option<String> {
    let rest = path.strip_prefix("/v1.0/")?;
    if !rest.contains(['(', '%']) && !rest.contains("microsoft.graph.delta") {
        return None;
    }
    let plain: Vec<String> = rest.split('/').map(segment).collect();
    let out = format!("/v1.0/{}", plain.join("/"));
    (out != path).then_some(out)
}

/// Rewrite a request's URI to the plain form before routing.
pub fn rewrite(mut request: Request) -> Request {
    let Some(path) = normalise(request.uri().path()) else {
        return request;
    };
    let target = match request.uri().query() {
        Some(q) => format!("{path}?{q}"),
        None => path,
    };
    let mut parts = request.uri().clone().into_parts();
    if let Ok(pq) = target.parse() {
        parts.path_and_query = Some(pq);
        if let Ok(uri) = Uri::from_parts(parts) {
            *request.uri_mut() = uri;
        }
    }
    request
}

#[cfg(test)]
mod tests {
    use super::normalise;

    #[test]
    fn key_segments_and_delta_functions_become_plain_paths() {
        assert_eq!(
            normalise("/v1.0/users('ada@contoso.test')/mailFolders('inbox')/messages/delta()")
                .as_deref(),
            Some("/v1.0/users/ada@contoso.test/mailFolders/inbox/messages/delta")
        );
        assert_eq!(
            normalise("/v1.0/me/mailFolders/inbox/messages/microsoft.graph.delta()").as_deref(),
            Some("/v1.0/me/mailFolders/inbox/messages/delta")
        );
        assert_eq!(
            normalise("/v1.0/me/mailFolders(%27inbox%27)/messages").as_deref(),
            Some("/v1.0/me/mailFolders/inbox/messages")
        );
        assert_eq!(normalise("/v1.0/me/messages"), None);
        assert_eq!(normalise("/gmail/v1/users/me/messages"), None);
    }
}
