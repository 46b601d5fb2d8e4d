//! Attachment metadata: every leaf that is not a body, keyed by its MIME part path.
use mail_parser::{ContentType, Message, MessagePart, MimeHeaders, PartType};

use super::body::Bodies;
use super::tree::{bare_content_id, Multipart, Tree};
use crate::domain::message::AttachmentMeta;

/// File names longer than this (in bytes) are cut; file systems stop at 255.
const MAX_FILENAME_BYTES: usize = 255;

/// Leaves in document order, minus the bodies and minus text alternatives that lost to a
/// richer one (a client never shows those as files). A forwarded `message/rfc822` is one
/// attachment: its own parts are not this message's attachments.
pub fn list(
    message: &Message<'_>,
    tree: &Tree,
    bodies: &Bodies,
    limits: &super::Limits,
) -> Vec<AttachmentMeta> {
    tree.leaves()
        .into_iter()
        .filter(|node| !bodies.body_nodes.contains(node))
        .filter_map(|node| {
            let part = tree.part(message, node)?;
            let text_alternative = tree.parent_kind(node) == Some(Multipart::Alternative)
                && matches!(part.body, PartType::Text(_) | PartType::Html(_));
            if text_alternative {
                return None;
            }
            let key = tree.nodes.get(node)?.key.clone();
            let mut meta = describe(part, key, bodies);
            // The same bytes a download takes (`extract_part`).
            meta.content = limits.keep_content.then(|| part.contents().to_vec());
            Some(meta)
        })
        .take(limits.max_attachments)
        .collect()
}

fn describe(part: &MessagePart<'_>, part_key: String, bodies: &Bodies) -> AttachmentMeta {
    let content_id = part.content_id().and_then(bare_content_id);
    let disposition_inline = part
        .content_disposition()
        .is_some_and(ContentType::is_inline);
    let referenced = content_id
        .as_ref()
        .is_some_and(|id| bodies.cid_refs.contains(&id.to_lowercase()));
    AttachmentMeta {
        part_key,
        filename: part
            .attachment_name()
            .map(clean_filename)
            .unwrap_or_default(),
        content_type: content_type(part),
        size: u64::try_from(part.len()).unwrap_or(u64::MAX),
        content_id,
        inline: disposition_inline || referenced,
        content: None,
    }
}

/// `type/subtype` as declared, else what mail-parser inferred from the missing header.
fn content_type(part: &MessagePart<'_>) -> String {
    let declared = part.content_type().map(|ct| match ct.subtype() {
        Some(subtype) => format!("{}/{}", ct.ctype(), subtype),
        None => ct.ctype().to_string(),
    });
    let inferred = || match part.body {
        PartType::Text(_) => "text/plain",
        PartType::Html(_) => "text/html",
        PartType::Message(_) => "message/rfc822",
        _ => "application/octet-stream",
    };
    declared
        .map(|t| {
            t.trim()
                .to_ascii_lowercase()
                .replace(|c: char| c.is_control(), "")
        })
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| inferred().to_string())
}

/// The name without any directory (senders leak `C:\Users\...` paths and `../` tricks are
/// possible), control characters or NULs, cut to a sane length on a char boundary.
pub(super) fn clean_filename(raw: &str) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or(raw);
    let mut name: String = base.chars().filter(|c| !c.is_control()).collect();
    let trimmed = name.trim();
    if trimmed.len() != name.len() {
        name = trimmed.to_string();
    }
    super::truncate_at_char_boundary(&mut name, MAX_FILENAME_BYTES);
    name
}
