//! The blank line that ends a header block, put back where a sender left it out, as CPython's
//! `email` package reads such mail: a line in a header block that is neither a header nor a
//! continuation ends the block and is the first line of the body (`msg_35` of CPython's test
//! data: no blank line after the message's headers; `msg_47`: none after a part's headers).
//! `mail-parser` would read the line as a broken header and keep an empty body.
//!
//! Header blocks are the message's own and those after each delimiter line of a boundary the
//! message declares. A line ends a block when it has no `:` or a space inside the field name;
//! unless a later line of the same block is a well-known header (a badly folded header rather
//! than a missing blank line: its headers are kept).
use std::borrow::Cow;

/// Headers whose presence after an odd line says the block goes on (lowercase).
const KNOWN: [&str; 12] = [
    "from",
    "to",
    "cc",
    "date",
    "subject",
    "message-id",
    "mime-version",
    "content-type",
    "content-transfer-encoding",
    "content-disposition",
    "received",
    "reply-to",
];

/// `raw` with a line break inserted before each header block's first body line that lacks its
/// blank line; borrowed unchanged when nothing is missing (nearly always).
pub fn repair(raw: &[u8]) -> Cow<'_, [u8]> {
    let boundaries = boundaries(raw);
    let lines = lines(raw);
    let mut inserts: Vec<(usize, &'static [u8])> = Vec::new();
    let mut in_headers = true;
    for (i, &(start, end)) in lines.iter().enumerate() {
        let line = content(&raw[start..end]);
        if let Some(close) = delimiter(line, &boundaries) {
            in_headers = !close;
            continue;
        }
        if !in_headers {
            continue;
        }
        if line.is_empty() {
            in_headers = false;
        } else if !is_header(line) && !block_goes_on(raw, &lines[i + 1..], &boundaries) {
            let eol: &'static [u8] = if raw[start..end].ends_with(b"\r\n") {
                b"\r\n"
            } else {
                b"\n"
            };
            inserts.push((start, eol));
            in_headers = false;
        }
    }
    if inserts.is_empty() {
        return Cow::Borrowed(raw);
    }
    let mut out = Vec::with_capacity(raw.len() + inserts.len() * 2);
    let mut from = 0;
    for (at, eol) in inserts {
        out.extend_from_slice(&raw[from..at]);
        out.extend_from_slice(eol);
        from = at;
    }
    out.extend_from_slice(&raw[from..]);
    Cow::Owned(out)
}

/// Each line as `(start, end)`, its line break included.
fn lines(raw: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = 0;
    while start < raw.len() {
        let end = raw[start..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(raw.len(), |p| start + p + 1);
        out.push((start, end));
        start = end;
    }
    out
}

/// A line without its line break.
fn content(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// A header (`Name: value`, the name without spaces), a continuation (leading space or tab), or
/// an mbox `From ` line.
fn is_header(line: &[u8]) -> bool {
    if line.starts_with(b" ") || line.starts_with(b"\t") || line.starts_with(b"From ") {
        return true;
    }
    let Some(colon) = line.iter().position(|&b| b == b':') else {
        return false;
    };
    let name = &line[..colon];
    let name = name
        .iter()
        .rposition(|&b| b != b' ' && b != b'\t')
        .map_or(&name[..0], |last| &name[..=last]);
    !name.iter().any(|&b| b == b' ' || b == b'\t')
}

/// Lines looked at past an odd line for a header that says the block goes on.
const LOOK_AHEAD: usize = 100;

/// Does a well-known header follow in the same block (before a blank or delimiter line)?
fn block_goes_on(raw: &[u8], rest: &[(usize, usize)], boundaries: &[Vec<u8>]) -> bool {
    for &(start, end) in rest.iter().take(LOOK_AHEAD) {
        let line = content(&raw[start..end]);
        if line.is_empty() || delimiter(line, boundaries).is_some() {
            return false;
        }
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        let name = String::from_utf8_lossy(&line[..colon]).to_ascii_lowercase();
        if KNOWN.contains(&name.as_str()) {
            return true;
        }
    }
    false
}

/// For a delimiter line of a declared boundary: Some(true) when it closes (`--b--`).
fn delimiter(line: &[u8], boundaries: &[Vec<u8>]) -> Option<bool> {
    let rest = line.strip_prefix(b"--")?;
    let rest = trim_end(rest);
    boundaries.iter().find_map(|b| {
        let tail = rest.strip_prefix(b.as_slice())?;
        match tail {
            b"" => Some(false),
            b"--" => Some(true),
            _ => None,
        }
    })
}

fn trim_end(s: &[u8]) -> &[u8] {
    let end = s
        .iter()
        .rposition(|&b| b != b' ' && b != b'\t')
        .map_or(0, |p| p + 1);
    &s[..end]
}

/// Every `boundary=` parameter value in the message (quoted or not), longest first so a
/// boundary that is a prefix of another does not claim its lines.
fn boundaries(raw: &[u8]) -> Vec<Vec<u8>> {
    const KEY: &[u8] = b"boundary=";
    let mut out: Vec<Vec<u8>> = Vec::new();
    let mut i = 0;
    while i + KEY.len() <= raw.len() {
        if !raw[i..i + KEY.len()].eq_ignore_ascii_case(KEY) {
            i += 1;
            continue;
        }
        let mut j = i + KEY.len();
        let value = if raw.get(j) == Some(&b'"') {
            j += 1;
            let len = raw[j..]
                .iter()
                .position(|&b| b == b'"' || b == b'\n')
                .unwrap_or(raw.len() - j);
            &raw[j..j + len]
        } else {
            let len = raw[j..]
                .iter()
                .position(|&b| matches!(b, b';' | b' ' | b'\t' | b'\r' | b'\n'))
                .unwrap_or(raw.len() - j);
            &raw[j..j + len]
        };
        if !value.is_empty() && !out.iter().any(|b| b == value) {
            out.push(value.to_vec());
        }
        i = j;
    }
    out.sort_by_key(|b| std::cmp::Reverse(b.len()));
    out
}

#[cfg(test)]
mod tests {
    use super::repair;

    #[test]
    fn a_body_line_in_the_headers_starts_the_body() {
        let raw = b"From: a@b.c\nSubject: hi\ncounter to RFC 2822, no blank line\n";
        assert_eq!(
            &*repair(raw),
            b"From: a@b.c\nSubject: hi\n\ncounter to RFC 2822, no blank line\n"
        );
    }

    #[test]
    fn a_part_without_its_blank_line() {
        let raw = b"Content-Type: multipart/mixed; boundary=foo\r\n\r\n--foo\r\n\
                    Content-Type: text/plain\r\nbar\r\n\r\n--foo--\r\n";
        assert_eq!(
            &*repair(raw),
            &b"Content-Type: multipart/mixed; boundary=foo\r\n\r\n--foo\r\n\
               Content-Type: text/plain\r\n\r\nbar\r\n\r\n--foo--\r\n"[..]
        );
    }

    #[test]
    fn well_formed_and_badly_folded_mail_is_left_alone() {
        let fine = b"From: a@b.c\nSubject: hi\n\nbody: text\nmore\n";
        assert!(matches!(repair(fine), std::borrow::Cow::Borrowed(_)));
        let folded = b"Subject: a long\nsubject folded badly\nFrom: a@b.c\n\nbody\n";
        assert!(matches!(repair(folded), std::borrow::Cow::Borrowed(_)));
        for odd in [
            &b""[..],
            b"\n",
            b"x",
            b"boundary=",
            b"boundary=\"",
            b"--\n--",
        ] {
            let _ = repair(odd);
        }
    }
}
