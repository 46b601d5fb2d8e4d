//! Provider-neutral parse of a raw RFC 5322 message: the MIME tree with headers as written
//! (name case, order, duplicates) and transfer-decoded bodies in their original charset, plus
//! the envelope fields both providers derive their views from. Never panics on bad input.

use std::sync::Arc;

use mail_parser::{Address, HeaderValue, MessageParser, MimeHeaders, PartType};

use super::encoding::{decode_words, lenient_base64, lenient_quoted_printable};

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

    /// Depth-first walk over this message's own parts: an attached message (message/rfc822)
    /// is one part, its inner parts are not visited (use `walk_all` for those).
    pub fn walk(&self) -> Vec<&MimeNode> {
        let mut out = vec![self];
        if !self.mime_type.starts_with("message/") {
            for child in &self.children {
                out.extend(child.walk());
            }
        }
        out
    }

    /// Depth-first walk over every part, including those of attached messages.
    pub fn walk_all(&self) -> Vec<&MimeNode> {
        let mut out = vec![self];
        for child in &self.children {
            out.extend(child.walk_all());
        }
        out
    }

    /// The part with this Gmail part id, at any depth.
    pub fn find(&self, part_id: &str) -> Option<&MimeNode> {
        self.walk_all().into_iter().find(|n| n.part_id == part_id)
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
        date_ms: message
            .date()
            .map(|d| d.to_timestamp().saturating_mul(1000)),
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
    // An attached message (message/rfc822) keeps its bytes as the part body and, like Gmail,
    // exposes its own MIME tree as the single child `<partId>.0`.
    if let (PartType::Message(inner), true) = (&part.body, depth < MAX_DEPTH) {
        let child_id = if part_id.is_empty() {
            "0".to_string()
        } else {
            format!("{part_id}.0")
        };
        children.extend(build_node(inner, 0, child_id, depth + 1));
    }
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
