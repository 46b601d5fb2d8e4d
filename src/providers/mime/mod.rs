//! Raw RFC 5322 bytes (Gmail `format=raw`, Graph `$value`) to everything they tell about a
//! message: ids, participants, dates, bodies, attachments. Pure and panic-free: any input gives
//! a best-effort [`ParsedMime`].
mod attachments;
mod body;
mod headers;
mod html;
mod separators;
mod tree;

use std::panic::{self, AssertUnwindSafe};

use chrono::{DateTime, Utc};
use mail_parser::{Message, MessageParser};

use crate::domain::message::{AttachmentMeta, MessageId, NormalizedMessage, Participant};

pub use body::{snippet, truncate_at_char_boundary};
pub use html::html_to_text;

/// Bounds on what one message may cost to store and to walk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Cap for `body_text` and for `body_html`, each, in UTF-8 bytes.
    pub max_body_bytes: usize,
    /// MIME parts nested deeper than this are ignored (clamped to [`tree::HARD_MAX_DEPTH`]).
    pub max_depth: usize,
    /// Attachments past this many are not listed.
    pub max_attachments: usize,
    /// A message larger than this (its raw bytes) keeps its text and attachment list, but not
    /// its attachments' content (the organization's or the mailbox's attachment limit).
    pub max_message_bytes: usize,
    /// Keep each attachment's decoded content (`AttachmentMeta::content`) for storage.
    pub keep_content: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_body_bytes: 1024 * 1024,
            max_depth: 32,
            max_attachments: 500,
            max_message_bytes: usize::try_from(crate::domain::attachments::DEFAULT_LIMIT_BYTES)
                .unwrap_or(usize::MAX),
            keep_content: false,
        }
    }
}

/// Everything derivable from the raw bytes alone.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ParsedMime {
    pub message_id: Option<MessageId>,
    pub in_reply_to: Option<MessageId>,
    pub references: Vec<MessageId>,
    pub subject: String,
    pub participants: Vec<Participant>,
    pub sent_at: Option<DateTime<Utc>>,
    pub body_text: Option<String>,
    pub body_html: Option<String>,
    pub body_truncated: bool,
    pub snippet: String,
    pub attachments: Vec<AttachmentMeta>,
    pub is_bulk: bool,
    pub auto_submitted: bool,
    pub size_bytes: u64,
    /// The limit the message is over (`Limits::max_message_bytes`), if it is.
    pub over_limit: Option<u64>,
}

/// What only the provider knows about a message: the connectors fill this in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderFields {
    pub provider_message_id: String,
    pub provider_thread_id: String,
    pub received_at: DateTime<Utc>,
    pub folders: Vec<String>,
    pub read: bool,
    pub starred: bool,
}

impl ParsedMime {
    /// Joins what the raw bytes said with what the provider said.
    pub fn into_message(self, provider: ProviderFields) -> NormalizedMessage {
        NormalizedMessage {
            provider_message_id: provider.provider_message_id,
            provider_thread_id: provider.provider_thread_id,
            message_id: self.message_id,
            in_reply_to: self.in_reply_to,
            references: self.references,
            subject: self.subject,
            participants: self.participants,
            sent_at: self.sent_at,
            received_at: provider.received_at,
            snippet: self.snippet,
            body_text: self.body_text,
            body_html: self.body_html,
            body_truncated: self.body_truncated,
            folders: provider.folders,
            read: provider.read,
            starred: provider.starred,
            attachments: self.attachments,
            is_bulk: self.is_bulk,
            auto_submitted: self.auto_submitted,
            size_bytes: self.size_bytes,
            over_limit: self.over_limit,
        }
    }
}

/// Parses one raw message. Never panics: unreadable parts are skipped, and if the MIME parser
/// itself fails the headers alone are tried, then an empty result carrying only the size.
pub fn parse(raw: &[u8], limits: &Limits) -> ParsedMime {
    let size_bytes = u64::try_from(raw.len()).unwrap_or(u64::MAX);
    let over = raw.len() > limits.max_message_bytes;
    let limits = &Limits {
        keep_content: limits.keep_content && !over,
        ..*limits
    };
    let repaired = separators::repair(raw);
    let raw: &[u8] = &repaired;
    let mut parsed = match guarded(|| MessageParser::default().parse(raw)) {
        Some(message) => from_message(&message, limits),
        None => guarded(|| MessageParser::default().parse_headers(raw))
            .map(|message| headers::read(&message))
            .unwrap_or_default(),
    };
    parsed.size_bytes = size_bytes;
    parsed.over_limit = over.then(|| u64::try_from(limits.max_message_bytes).unwrap_or(u64::MAX));
    parsed
}

/// The decoded content of the part stored under `part_key` (`attachments.part_key`: the
/// Gmail-style part path), or None when the message has no such part.
pub fn extract_part(raw: &[u8], part_key: &str, limits: &Limits) -> Option<Vec<u8>> {
    let repaired = separators::repair(raw);
    let raw: &[u8] = &repaired;
    let message = guarded(|| MessageParser::default().parse(raw))?;
    let tree = tree::Tree::build(&message, limits.max_depth);
    let node = tree.nodes.iter().position(|n| n.key == part_key)?;
    let part = tree.part(&message, node)?;
    Some(part.contents().to_vec())
}

/// mail-parser promises not to panic, but it has `debug_assert!`s and index arithmetic on
/// untrusted offsets; a dependency's bug must not take a sync worker down with it.
fn guarded<'x>(run: impl FnOnce() -> Option<Message<'x>>) -> Option<Message<'x>> {
    panic::catch_unwind(AssertUnwindSafe(run)).ok().flatten()
}

fn from_message(message: &Message<'_>, limits: &Limits) -> ParsedMime {
    let tree = tree::Tree::build(message, limits.max_depth);
    let bodies = body::extract(message, &tree, limits.max_body_bytes);
    let attachments = attachments::list(message, &tree, &bodies, limits);
    ParsedMime {
        body_text: bodies.text,
        body_html: bodies.html,
        body_truncated: bodies.truncated,
        snippet: bodies.snippet,
        attachments,
        ..headers::read(message)
    }
}

#[cfg(test)]
mod tests;
