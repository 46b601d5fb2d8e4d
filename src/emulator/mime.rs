//! Provider-neutral parse of a raw RFC 5322 message: the MIME tree with headers as written
//! (name case, order, duplicates) and transfer-decoded bodies in their original charset, plus
//! the envelope fields both providers derive their views from. Never panics on bad input.

use std::sync::Arc;

use mail_parser::parsers::MessageStream;
use mail_parser::{Address, HeaderValue, MessageParser, MimeHeaders, PartType};

/// Deepest MIME nesting kept; deeper parts are dropped (real services cap nesting too).
const MAX_DEPTH: usize = 32;
/// Characters of body text kept in a snippet (Gmail ~200, Graph bodyPreview 255).
const SNIPPET_CHARS: usize = 255;

/// One header exactly as written (unfolded, RFC 2047 words decoded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawHeader {
    pub name: String,
    pub value: String,
}

/// One MIME part. `part_id` follows Gmail's numbering: `""` root, then `0`, `0.1`, ...
#[derive(Debug, Clone)]
pub struct MimeNode {
    pub part_id: String,
    pub headers: Vec<RawHeader>,
    /// Lowercase `type/subtype`.
    pub mime_type: String,
    /// Attachment name (`""` when none).
    pub filename: String,
    pub charset: Option<String>,
    /// Content-ID without angle brackets.
    pub content_id: Option<String>,
    /// `Content-Disposition: attachment`.
    pub is_attachment: bool,
    /// Body bytes after transfer decoding, in the part's own charset; empty for containers.
    pub body: Arc<[u8]>,
    pub children: Vec<MimeNode>,
}

impl MimeNode {
    pub fn is_container(&self) -> bool {
        self.mime_type.starts_with("multipart/")
    }

    /// Depth-first walk over this part and all its descendants.
    pub fn walk(&self) -> Vec<&MimeNode> {
        let mut out = vec![self];
        for child in &self.children {
            out.extend(child.walk());
        }
        out
    }

    pub fn find(&self, part_id: &str) -> Option<&MimeNode> {
        self.walk().into_iter().find(|n| n.part_id == part_id)
    }
}

/// A parsed mailbox address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailAddr {
    pub name: Option<String>,
    pub address: String,
}

/// Everything derived once from the raw bytes at delivery.
#[derive(Debug, Clone)]
pub struct ParsedMessage {
    pub root: MimeNode,
    pub subject: String,
    /// Message-ID without angle brackets.
    pub message_id: Option<String>,
    pub in_reply_to: Vec<String>,
    pub references: Vec<String>,
    /// `Date:` header as epoch milliseconds.
    pub date_ms: Option<i64>,
    pub from: Vec<EmailAddr>,
    pub sender: Vec<EmailAddr>,
    pub to: Vec<EmailAddr>,
    pub cc: Vec<EmailAddr>,
    pub bcc: Vec<EmailAddr>,
    pub reply_to: Vec<EmailAddr>,
    /// First text/plain body, decoded to UTF-8.
    pub text_body: Option<String>,
    /// First text/html body, decoded to UTF-8.
    pub html_body: Option<String>,
    /// Whitespace-collapsed plain text, at most 255 characters (not HTML-escaped).
    pub preview: String,
    pub has_attachments: bool,
}

/// Parse raw bytes; input mail-parser cannot make sense of yields a single text/plain part.
pub fn parse(raw: &[u8]) -> ParsedMessage {
    let Some(message) = MessageParser::default().parse(raw) else {
        return fallback(raw);
    };
    let root = build_node(&message, 0, String::new(), 0).unwrap_or_else(|| fallback_node(raw));
    let text_body = message.body_text(0).map(std::borrow::Cow::into_owned);
    let html_body = message.body_html(0).map(std::borrow::Cow::into_owned);
    let preview_source = match (&text_body, &html_body) {
        (Some(t), _) if !t.trim().is_empty() => t.clone(),
        (_, Some(h)) => mail_parser::decoders::html::html_to_text(h),
        (Some(t), None) => t.clone(),
        (None, None) => String::new(),
    };
    let has_attachments = root
        .walk()
        .iter()
        .any(|n| !n.filename.is_empty() || n.is_attachment);
    ParsedMessage {
        subject: message.subject().unwrap_or_default().to_string(),
        message_id: message.message_id().map(str::to_string),
        in_reply_to: id_list(message.in_reply_to()),
        references: id_list(message.references()),
        date_ms: message.date().map(|d| d.to_timestamp() * 1000),
        from: addresses(message.from()),
        sender: addresses(message.sender()),
        to: addresses(message.to()),
        cc: addresses(message.cc()),
        bcc: addresses(message.bcc()),
        reply_to: addresses(message.reply_to()),
        preview: collapse(&preview_source, SNIPPET_CHARS),
        text_body,
        html_body,
        has_attachments,
        root,
    }
}

fn fallback(raw: &[u8]) -> ParsedMessage {
    let text = String::from_utf8_lossy(raw).into_owned();
    ParsedMessage {
        root: fallback_node(raw),
        subject: String::new(),
        message_id: None,
        in_reply_to: Vec::new(),
        references: Vec::new(),
        date_ms: None,
        from: Vec::new(),
        sender: Vec::new(),
        to: Vec::new(),
        cc: Vec::new(),
        bcc: Vec::new(),
        reply_to: Vec::new(),
        preview: collapse(&text, SNIPPET_CHARS),
        text_body: Some(text),
        html_body: None,
        has_attachments: false,
    }
}

fn fallback_node(raw: &[u8]) -> MimeNode {
    MimeNode {
        part_id: String::new(),
        headers: Vec::new(),
        mime_type: "text/plain".into(),
        filename: String::new(),
        charset: None,
        content_id: None,
        is_attachment: false,
        body: Arc::from(raw),
        children: Vec::new(),
    }
}

fn build_node(
    message: &mail_parser::Message<'_>,
    index: usize,
    part_id: String,
    depth: usize,
) -> Option<MimeNode> {
    let part = message.parts.get(index)?;
    let raw = message.raw_message.as_ref();
    let headers = part.headers.iter().map(|h| raw_header(raw, h)).collect();
    let (mime_type, charset) = part.content_type().map_or_else(
        || (default_mime_type(&part.body).to_string(), None),
        |ct| {
            let sub = ct
                .subtype()
                .unwrap_or(if ct.ctype().eq_ignore_ascii_case("text") {
                    "plain"
                } else {
                    "octet-stream"
                });
            let mime = format!("{}/{}", ct.ctype(), sub).to_ascii_lowercase();
            (mime, ct.attribute("charset").map(str::to_string))
        },
    );
    let mut children = Vec::new();
    if let PartType::Multipart(ids) = &part.body {
        if depth < MAX_DEPTH {
            for (n, id) in ids.iter().enumerate() {
                let child_id = if part_id.is_empty() {
                    n.to_string()
                } else {
                    format!("{part_id}.{n}")
                };
                let child = usize::try_from(*id)
                    .ok()
                    .and_then(|id| build_node(message, id, child_id, depth + 1));
                children.extend(child);
            }
        }
    }
    Some(MimeNode {
        part_id,
        headers,
        mime_type,
        filename: part.attachment_name().unwrap_or_default().to_string(),
        charset,
        content_id: part.content_id().map(|c| {
            c.trim()
                .trim_start_matches('<')
                .trim_end_matches('>')
                .to_string()
        }),
        is_attachment: part
            .content_disposition()
            .is_some_and(mail_parser::ContentType::is_attachment),
        body: Arc::from(decoded_body(raw, part)),
        children,
    })
}

fn default_mime_type(body: &PartType<'_>) -> &'static str {
    match body {
        PartType::Multipart(_) => "multipart/mixed",
        PartType::Message(_) => "message/rfc822",
        PartType::Html(_) => "text/html",
        PartType::Binary(_) | PartType::InlineBinary(_) => "application/octet-stream",
        PartType::Text(_) => "text/plain",
    }
}

/// Transfer-decoded bytes in the part's own charset, decoded from the raw part body (not from
/// mail-parser's text, which is converted to UTF-8) with lenient decoders: like most mail
/// software, invalid base64 characters are skipped and stray `=` in quoted-printable kept.
fn decoded_body(raw: &[u8], part: &mail_parser::MessagePart<'_>) -> Vec<u8> {
    if matches!(part.body, PartType::Multipart(_)) {
        return Vec::new();
    }
    let start = usize::try_from(part.offset_body).unwrap_or(usize::MAX);
    let end = usize::try_from(part.offset_end).unwrap_or(usize::MAX);
    let Some(body) = raw.get(start..end.max(start)) else {
        return part.contents().to_vec();
    };
    let encoding = part
        .headers
        .iter()
        .find(|h| matches!(h.name, mail_parser::HeaderName::ContentTransferEncoding))
        .and_then(|h| h.value.as_text())
        .map(|v| v.trim().to_ascii_lowercase());
    match encoding.as_deref() {
        Some("base64") => lenient_base64(body),
        Some("quoted-printable") => lenient_quoted_printable(body),
        _ => body.to_vec(),
    }
}

fn base64_value(c: u8) -> Option<u8> {
    match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    }
}

/// MIME base64 (standard alphabet) that skips other characters and stops at padding.
pub fn lenient_base64(input: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len() / 4 * 3);
    let mut acc: u32 = 0;
    let mut bits = 0u32;
    for &c in input {
        if c == b'=' {
            break;
        }
        let Some(v) = base64_value(c) else { continue };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(u8::try_from((acc >> bits) & 0xff).unwrap_or(0));
        }
    }
    out
}

fn hex_value(c: u8) -> Option<u8> {
    char::from(c)
        .to_digit(16)
        .and_then(|d| u8::try_from(d).ok())
}

/// Quoted-printable that keeps invalid `=` sequences as they are.
pub fn lenient_quoted_printable(input: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        let c = input[i];
        if c != b'=' {
            out.push(c);
            i += 1;
            continue;
        }
        let rest = &input[i + 1..];
        // Soft line break: `=` then optional whitespace then a line end.
        let ws = rest
            .iter()
            .take_while(|b| **b == b' ' || **b == b'\t')
            .count();
        match rest.get(ws..) {
            Some([b'\r', b'\n', ..]) => i += 1 + ws + 2,
            Some([b'\n', ..]) => i += 1 + ws + 1,
            Some([]) => i = input.len(),
            _ => {
                let high = rest.first().copied().and_then(hex_value);
                let low = rest.get(1).copied().and_then(hex_value);
                if let (Some(h), Some(l)) = (high, low) {
                    out.push(h << 4 | l);
                    i += 3;
                } else {
                    out.push(b'=');
                    i += 1;
                }
            }
        }
    }
    out
}

fn raw_header(raw: &[u8], header: &mail_parser::Header<'_>) -> RawHeader {
    let field = usize::try_from(header.offset_field).unwrap_or(0);
    let start = usize::try_from(header.offset_start).unwrap_or(0);
    let end = usize::try_from(header.offset_end).unwrap_or(0);
    let name = raw
        .get(field..start.max(field))
        .map(|n| {
            String::from_utf8_lossy(n)
                .trim_end()
                .trim_end_matches(':')
                .trim()
                .to_string()
        })
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| header.name.as_str().to_string());
    let value = raw
        .get(start..end.max(start))
        .map(unfold)
        .unwrap_or_default();
    RawHeader {
        name,
        value: decode_words(&value),
    }
}

/// Remove folding line breaks, keep the following whitespace, trim.
fn unfold(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    text.replace("\r\n", "\n")
        .replace('\n', "")
        .trim()
        .to_string()
}

/// Decode RFC 2047 encoded words; whitespace between two adjacent words is dropped.
pub fn decode_words(value: &str) -> String {
    if !value.contains("=?") {
        return value.to_string();
    }
    let bytes = value.as_bytes();
    let mut out = String::with_capacity(value.len());
    let mut pending_ws = String::new();
    let mut last_was_word = false;
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'=' && bytes.get(i + 1) == Some(&b'?') {
            let mut stream = MessageStream::new(&bytes[i + 1..]);
            if let Some(decoded) = stream.decode_rfc2047() {
                if !last_was_word {
                    out.push_str(&pending_ws);
                }
                pending_ws.clear();
                out.push_str(&decoded);
                i += 1 + stream.offset();
                last_was_word = true;
                continue;
            }
        }
        let ch_len = utf8_len(bytes[i]);
        let chunk = value.get(i..i + ch_len).unwrap_or("");
        if chunk.chars().all(char::is_whitespace) && !chunk.is_empty() {
            pending_ws.push_str(chunk);
        } else {
            out.push_str(&pending_ws);
            pending_ws.clear();
            out.push_str(chunk);
            last_was_word = false;
        }
        i += ch_len.max(1);
    }
    out.push_str(&pending_ws);
    out
}

fn utf8_len(first: u8) -> usize {
    match first {
        0xF0..=0xFF => 4,
        0xE0..=0xEF => 3,
        0xC0..=0xDF => 2,
        _ => 1,
    }
}

fn id_list(value: &HeaderValue<'_>) -> Vec<String> {
    match value {
        HeaderValue::Text(t) => vec![t.to_string()],
        HeaderValue::TextList(list) => list.iter().map(ToString::to_string).collect(),
        _ => Vec::new(),
    }
}

fn addresses(value: Option<&Address<'_>>) -> Vec<EmailAddr> {
    let Some(value) = value else {
        return Vec::new();
    };
    value
        .iter()
        .filter_map(|a| {
            Some(EmailAddr {
                name: a.name().map(str::to_string),
                address: a.address()?.to_string(),
            })
        })
        .collect()
}

/// Collapse whitespace runs to one space and keep at most `max` characters.
pub fn collapse(text: &str, max: usize) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(max)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_adjacent_encoded_words_and_keeps_plain_text() {
        assert_eq!(
            decode_words("=?utf-8?q?Caf=C3=A9?= =?utf-8?q?_au_lait?="),
            "Café au lait"
        );
        assert_eq!(
            decode_words("Re: =?iso-8859-1?q?Gr=FC=DFe?= now"),
            "Re: Grüße now"
        );
        assert_eq!(decode_words("no words"), "no words");
    }

    #[test]
    fn lenient_decoders_match_common_mail_software() {
        assert_eq!(
            lenient_base64(b"ecO2dMOkIHZhYW4uCg== ignored"),
            "yötä vaan.\n".as_bytes()
        );
        assert_eq!(lenient_base64(b"AAEC\r\nAw=="), vec![0, 1, 2, 3]);
        assert_eq!(
            lenient_quoted_printable(b"a=3Db=\r\nc x=\"y\" =F6"),
            b"a=bc x=\"y\" \xf6"
        );
    }

    #[test]
    fn garbage_never_panics() {
        for raw in [
            &b""[..],
            b"\xff\xfe",
            b"Content-Type: multipart/mixed\r\n\r\n--",
            b":::",
        ] {
            let parsed = parse(raw);
            assert!(parsed.root.part_id.is_empty());
        }
    }
}
