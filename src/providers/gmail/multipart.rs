//! multipart/mixed framing of Gmail batch requests and replies (RFC 2046 §5.1; provider-apis.md
//! §B.11): a request is built from path-only `application/http` parts; a reply is split at its
//! boundary and each part's embedded HTTP response read with `httparse`. Malformed input never
//! panics: a part that cannot be read is simply absent from the result, and the caller treats
//! what it did not get back as not done.
use std::fmt::Write as _;
use std::time::Duration;

/// Headers read per part (outer or inner); a part with more is unreadable.
const MAX_HEADERS: usize = 64;

/// One part of a batch reply: the embedded HTTP response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Reply {
    /// The part's `Content-ID` without `<>` and without Google's `response-` prefix.
    pub content_id: Option<String>,
    pub status: u16,
    pub retry_after: Option<Duration>,
    pub body: Vec<u8>,
}

/// The `boundary` parameter of a multipart `Content-Type`.
pub(super) fn boundary(content_type: &str) -> Option<String> {
    let mut params = content_type.split(';');
    let kind = params.next()?.trim();
    if !kind.to_ascii_lowercase().starts_with("multipart/") {
        return None;
    }
    params.find_map(|p| {
        let (k, v) = p.split_once('=')?;
        let v = v.trim().trim_matches('"');
        (k.trim().eq_ignore_ascii_case("boundary") && !v.is_empty()).then(|| v.to_string())
    })
}

/// A multipart/mixed body of GET requests: `(content id, path-only target)` each.
pub(super) fn request(boundary: &str, parts: &[(String, String)]) -> String {
    let mut out = String::new();
    for (id, target) in parts {
        let _ = write!(
            out,
            "--{boundary}\r\nContent-Type: application/http\r\nContent-ID: <{id}>\r\n\r\n\
             GET {target}\r\n\r\n"
        );
    }
    let _ = write!(out, "--{boundary}--\r\n");
    out
}

/// Every readable part of a multipart reply, in order. A part not closed by a delimiter (a
/// truncated reply) is dropped.
pub(super) fn replies(body: &[u8], boundary: &str) -> Vec<Reply> {
    split(body, boundary)
        .into_iter()
        .filter_map(parse_part)
        .collect()
}

/// Part contents between delimiter lines (`--boundary` at a line start).
fn split<'a>(body: &'a [u8], boundary: &str) -> Vec<&'a [u8]> {
    let delimiter = format!("--{boundary}");
    let delimiter = delimiter.as_bytes();
    let mut parts = Vec::new();
    let mut open: Option<usize> = None;
    let mut from = 0;
    while let Some(at) = find(body, delimiter, from) {
        from = at + delimiter.len();
        if at > 0 && body.get(at - 1) != Some(&b'\n') {
            continue;
        }
        if let Some(start) = open.take() {
            let mut end = at;
            if end > start && body.get(end - 1) == Some(&b'\n') {
                end -= 1;
                if end > start && body.get(end - 1) == Some(&b'\r') {
                    end -= 1;
                }
            }
            if let Some(part) = body.get(start..end.max(start)) {
                parts.push(part);
            }
        }
        let rest = body.get(from..).unwrap_or_default();
        if rest.starts_with(b"--") {
            break;
        }
        // The delimiter line may carry transport padding; the part starts on the next line.
        match rest.iter().position(|&b| b == b'\n') {
            Some(nl) => open = Some(from + nl + 1),
            None => break,
        }
    }
    parts
}

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if needle.is_empty() {
        return None;
    }
    haystack
        .get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

fn parse_part(part: &[u8]) -> Option<Reply> {
    let mut outer = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let (used, outer) = match httparse::parse_headers(part, &mut outer).ok()? {
        httparse::Status::Complete(done) => done,
        httparse::Status::Partial => return None,
    };
    let content_id = header(outer, "content-id").map(|v| {
        let v = v.trim().trim_start_matches('<').trim_end_matches('>');
        v.strip_prefix("response-").unwrap_or(v).to_string()
    });
    let inner = part.get(used..)?;
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut response = httparse::Response::new(&mut headers);
    let head = match response.parse(inner).ok()? {
        httparse::Status::Complete(n) => n,
        httparse::Status::Partial => return None,
    };
    let status = response.code?;
    let retry_after = header(response.headers, "retry-after")
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    let mut body = inner.get(head..)?;
    if let Some(len) = header(response.headers, "content-length") {
        let len: usize = len.trim().parse().ok()?;
        // Shorter than announced: cut off in transit.
        body = body.get(..len)?;
    }
    Some(Reply {
        content_id,
        status,
        retry_after,
        body: body.to_vec(),
    })
}

fn header<'a>(headers: &[httparse::Header<'a>], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case(name))
        .and_then(|h| std::str::from_utf8(h.value).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOGLE_SHAPED: &str = "--batch_abc\r\nContent-Type: application/http\r\n\
        Content-ID: <response-item1>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Type: application/json; \
        charset=UTF-8\r\n\r\n{\"id\":\"a\"}\r\n--batch_abc\r\nContent-Type: application/http\r\n\
        Content-ID: <response-item2>\r\n\r\nHTTP/1.1 429 Too Many Requests\r\nRetry-After: 7\r\n\
        Content-Length: 2\r\n\r\n{}\r\n--batch_abc--\r\n";

    #[test]
    fn boundaries_are_read_quoted_or_not() {
        assert_eq!(
            boundary("multipart/mixed; boundary=batch_abc").as_deref(),
            Some("batch_abc")
        );
        assert_eq!(
            boundary("Multipart/Mixed; charset=x; Boundary=\"b c\"").as_deref(),
            Some("b c")
        );
        assert_eq!(boundary("application/json"), None);
        assert_eq!(boundary("multipart/mixed"), None);
        assert_eq!(boundary("multipart/mixed; boundary=\"\""), None);
    }

    #[test]
    fn a_google_shaped_reply_parses_part_by_part() {
        let r = replies(GOOGLE_SHAPED.as_bytes(), "batch_abc");
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].content_id.as_deref(), Some("item1"));
        assert_eq!(r[0].status, 200);
        assert_eq!(r[0].body, b"{\"id\":\"a\"}");
        assert_eq!(r[1].content_id.as_deref(), Some("item2"));
        assert_eq!(r[1].status, 429);
        assert_eq!(r[1].retry_after, Some(Duration::from_secs(7)));
        assert_eq!(r[1].body, b"{}");
    }

    #[test]
    fn bare_newlines_preamble_and_padding_are_tolerated() {
        let body = "preamble\n--b \t\nContent-ID: <x>\n\nHTTP/1.1 404 Not Found\n\n{}\n--b--\n";
        let r = replies(body.as_bytes(), "b");
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].status, 404);
        assert_eq!(r[0].content_id.as_deref(), Some("x"));
    }

    #[test]
    fn a_truncated_reply_drops_the_unfinished_part() {
        let cut = &GOOGLE_SHAPED[..GOOGLE_SHAPED.len() - 40];
        let r = replies(cut.as_bytes(), "batch_abc");
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].status, 200);
        // Content-Length longer than what arrived: unreadable, not a short body.
        let short = "--b\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n{}\r\n--b--";
        assert!(replies(short.as_bytes(), "b").is_empty());
    }

    #[test]
    fn garbage_never_panics() {
        let samples: [&[u8]; 9] = [
            b"",
            b"--",
            b"--b",
            b"--b\r\n",
            b"--b\r\n\r\n",
            b"--b\r\nnot a header\r\n\r\nHTTP/1.1 200\r\n\r\n--b--",
            b"--b\r\n\r\nHTTP/9 abc\r\n\r\n--b--",
            b"\xff\xfe--b\r\n\xff: \xff\r\n\r\nHTTP/1.1 200 OK\r\nRetry-After: \xff\r\n\r\n\xff\r\n--b--",
            b"--b--b--b\n--b\n--b\n",
        ];
        for s in samples {
            let _ = replies(s, "b");
        }
        // Every prefix of a valid reply.
        for n in 0..GOOGLE_SHAPED.len() {
            let _ = replies(&GOOGLE_SHAPED.as_bytes()[..n], "batch_abc");
        }
    }

    #[test]
    fn a_request_round_trips_through_the_split() {
        let body = request(
            "bb",
            &[
                (
                    "item1".into(),
                    "/gmail/v1/users/me/messages/a?format=raw".into(),
                ),
                (
                    "item2".into(),
                    "/gmail/v1/users/me/messages/b?format=raw".into(),
                ),
            ],
        );
        let parts = split(body.as_bytes(), "bb");
        assert_eq!(parts.len(), 2);
        let text = String::from_utf8_lossy(parts[1]);
        assert!(text.contains("Content-ID: <item2>"));
        assert!(text.contains("GET /gmail/v1/users/me/messages/b?format=raw"));
        assert!(body.ends_with("--bb--\r\n"));
    }
}
