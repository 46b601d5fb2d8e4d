//! The Gmail view of a stored message: labelIds, snippet, payload MIME tree (headers as
//! written, transfer-decoded bodies in base64url with padding), and ephemeral attachment ids.

use base64::Engine as _;

use super::wire::{Header, Message, MessagePart, MessagePartBody};
use crate::mime::{collapse, MimeNode};
use crate::store::{MessageState, StoredMessage};
use crate::tokens::random_string;

/// Characters of a Gmail snippet.
const SNIPPET_CHARS: usize = 200;
const ATTACHMENT_PREFIX: &str = "ANGjdJ";

pub fn b64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE.encode(bytes)
}

/// Gmail labelIds of a state: labels plus the UNREAD / STARRED flags.
pub fn label_ids(state: &MessageState) -> Vec<String> {
    let mut ids: Vec<String> = state.labels.iter().cloned().collect();
    if !state.read {
        ids.push("UNREAD".into());
    }
    if state.starred {
        ids.push("STARRED".into());
    }
    ids
}

/// `{id, threadId}` only.
pub fn reference(m: &StoredMessage) -> Message {
    Message {
        id: m.id.clone(),
        thread_id: m.thread_id.clone(),
        ..Message::default()
    }
}

/// `{id, threadId, labelIds}`.
pub fn with_labels(m: &StoredMessage) -> Message {
    Message {
        label_ids: label_ids(&m.state),
        ..reference(m)
    }
}

/// Gmail's HTML-escaped snippet.
pub fn snippet(m: &StoredMessage) -> String {
    collapse(&m.parsed.preview, SNIPPET_CHARS)
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// format=minimal.
pub fn minimal(m: &StoredMessage) -> Message {
    Message {
        snippet: Some(snippet(m)),
        history_id: Some(m.last_change.to_string()),
        internal_date: Some(m.internal_date_ms.to_string()),
        size_estimate: Some(u32::try_from(m.raw.len()).unwrap_or(u32::MAX)),
        ..with_labels(m)
    }
}

/// format=raw.
pub fn raw(m: &StoredMessage) -> Message {
    Message {
        raw: Some(b64url(&m.raw)),
        ..minimal(m)
    }
}

/// format=metadata: top-level headers only, filtered by `only` (case-insensitive) if given.
pub fn metadata(m: &StoredMessage, only: &[String]) -> Message {
    let root = &m.parsed.root;
    let headers = root
        .headers
        .iter()
        .filter(|h| only.is_empty() || only.iter().any(|o| o.eq_ignore_ascii_case(&h.name)))
        .map(|h| Header {
            name: h.name.clone(),
            value: h.value.clone(),
        })
        .collect();
    let payload = MessagePart {
        part_id: String::new(),
        mime_type: root.mime_type.clone(),
        filename: String::new(),
        headers,
        body: None,
        parts: Vec::new(),
    };
    Message {
        payload: Some(payload),
        ..minimal(m)
    }
}

/// format=full.
pub fn full(m: &StoredMessage, now_secs: i64) -> Message {
    Message {
        payload: Some(part(&m.id, &m.parsed.root, now_secs)),
        ..minimal(m)
    }
}

/// Whether a leaf part's body is served through attachments.get rather than inline.
pub fn is_attachment_part(node: &MimeNode) -> bool {
    !node.is_container()
        && (!node.filename.is_empty()
            || node.is_attachment
            || !(node.mime_type.starts_with("text/") || node.mime_type.starts_with("multipart/")))
}

fn part(message_id: &str, node: &MimeNode, now_secs: i64) -> MessagePart {
    let size = u32::try_from(node.body.len()).unwrap_or(u32::MAX);
    let body = if node.is_container() {
        MessagePartBody {
            attachment_id: None,
            size: 0,
            data: None,
        }
    } else if is_attachment_part(node) {
        MessagePartBody {
            attachment_id: Some(attachment_id(message_id, &node.part_id, now_secs)),
            size,
            data: None,
        }
    } else {
        MessagePartBody {
            attachment_id: None,
            size,
            data: (size > 0).then(|| b64url(&node.body)),
        }
    };
    MessagePart {
        part_id: node.part_id.clone(),
        mime_type: node.mime_type.clone(),
        filename: node.filename.clone(),
        headers: node
            .headers
            .iter()
            .map(|h| Header {
                name: h.name.clone(),
                value: h.value.clone(),
            })
            .collect(),
        body: Some(body),
        parts: node
            .children
            .iter()
            .map(|c| part(message_id, c, now_secs))
            .collect(),
    }
}

/// A fresh attachment id: different on every call, valid for any recent issue time.
pub fn attachment_id(message_id: &str, part_id: &str, now_secs: i64) -> String {
    let payload = format!("{now_secs}|{}|{message_id}|{part_id}", random_string(16));
    format!(
        "{ATTACHMENT_PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(payload)
    )
}

/// Decode an attachment id issued for `message_id` no longer than `ttl_secs` ago: its part id.
pub fn resolve_attachment(
    id: &str,
    message_id: &str,
    now_secs: i64,
    ttl_secs: u64,
) -> Option<String> {
    let encoded = id.strip_prefix(ATTACHMENT_PREFIX)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(encoded)
        .ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let mut fields = text.splitn(4, '|');
    let issued: i64 = fields.next()?.parse().ok()?;
    let _nonce = fields.next()?;
    let for_message = fields.next()?;
    let part_id = fields.next()?;
    let age = u64::try_from(now_secs.checked_sub(issued)?).ok()?;
    (for_message == message_id && age <= ttl_secs).then(|| part_id.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attachment_ids_differ_per_issue_but_resolve_while_fresh() {
        let a = attachment_id("abc", "1", 1000);
        let b = attachment_id("abc", "1", 1000);
        assert_ne!(a, b);
        assert_eq!(
            resolve_attachment(&a, "abc", 1100, 3600).as_deref(),
            Some("1")
        );
        assert_eq!(
            resolve_attachment(&b, "abc", 1100, 3600).as_deref(),
            Some("1")
        );
        assert_eq!(resolve_attachment(&a, "other", 1100, 3600), None);
        assert_eq!(resolve_attachment(&a, "abc", 10_000, 3600), None);
        assert_eq!(resolve_attachment("garbage", "abc", 1000, 3600), None);
    }
}
