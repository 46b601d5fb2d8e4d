//! Where a `next` or `back` parameter may send the browser: only a path on our own origin.
//! Anything else (another site, a scheme, a control character raw or percent-encoded, a
//! backslash, a scheme-relative `//host`) is refused, and the caller falls back to a page of
//! its own. What passes is printable ASCII, so it always makes a valid `Location` header.
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// Longer `next`/`back` values are refused (ours are short paths).
const MAX_LEN: usize = 2048;

/// `candidate` when it is a path on this origin, else None.
pub fn local_path(candidate: &str) -> Option<&str> {
    let raw = candidate.as_bytes();
    if raw.is_empty() || raw.len() > MAX_LEN || raw[0] != b'/' {
        return None;
    }
    // Printable ASCII only: no space, tab, CR, LF, other controls, DEL, or non-ASCII bytes.
    if !raw.iter().all(u8::is_ascii_graphic) {
        return None;
    }
    // Browsers decode before they resolve in places; check the path decoded once as well.
    let decoded = percent_decode(raw);
    for path in [raw, decoded.as_slice()] {
        if path.len() > 1 && matches!(path[1], b'/' | b'\\') {
            return None;
        }
        if path.iter().any(|b| *b == b'\\' || b.is_ascii_control()) {
            return None;
        }
    }
    Some(candidate)
}

/// The local path `candidate`, or `/`.
pub fn safe_next(candidate: &str) -> &str {
    local_path(candidate).unwrap_or("/")
}

/// A 303 to `path`; a value that cannot be a header (never the case for a [`local_path`])
/// goes to `/` rather than failing the request.
pub fn see_other(path: &str) -> Response {
    let location = HeaderValue::from_str(path).unwrap_or(HeaderValue::from_static("/"));
    (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response()
}

/// `%XX` sequences decoded once; malformed ones are kept as they are.
fn percent_decode(raw: &[u8]) -> Vec<u8> {
    let hex = |b: u8| char::from(b).to_digit(16);
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        if raw[i] == b'%' && i + 2 < raw.len() {
            if let (Some(h), Some(l)) = (hex(raw[i + 1]), hex(raw[i + 2])) {
                out.push(u8::try_from(h * 16 + l).unwrap_or(b'%'));
                i += 3;
                continue;
            }
        }
        out.push(raw[i]);
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{local_path, safe_next};

    #[test]
    fn local_paths_pass() {
        for good in [
            "/",
            "/admin/users",
            "/emails/12?images=1",
            "/timeline?q=a%20b#top",
            "/%2509/double-encoded-stays-a-path",
        ] {
            assert_eq!(local_path(good), Some(good), "{good}");
        }
    }

    #[test]
    fn everything_else_falls_back_to_the_home_page() {
        for bad in [
            "",
            "admin",
            "https://evil.example",
            "http:evil.example",
            "javascript:alert(1)",
            "//evil.example",
            "///evil.example",
            "/\\evil.example",
            "/a\\b",
            "/\t/evil.example/x",
            "/\r\nSet-Cookie: x=1",
            "/\n/evil.example",
            "/%09/evil.example/x",
            "/%0d/evil.example",
            "/%0a/evil.example",
            "/x%0D%0ASet-Cookie:%20a=b",
            "/%2F%2Fevil.example",
            "/%2fevil.example",
            "/%5Cevil.example",
            "/%5cevil.example",
            "/x%5Cy",
            "/%00",
            "/%7F",
            "/ space",
            "/caf\u{e9}",
            " /leading-space",
        ] {
            assert_eq!(local_path(bad), None, "{bad:?}");
            assert_eq!(safe_next(bad), "/", "{bad:?}");
        }
        assert_eq!(local_path(&format!("/{}", "a".repeat(3000))), None);
    }
}
