//! The provider-neutral normalized message both connectors produce and the sync engine stores,
//! its participants and attachments, and the identifiers it is keyed by (`MessageId`,
//! `MessageKey`).
use std::collections::HashSet;
use std::fmt;

use chrono::{DateTime, Utc};

use crate::domain::address::EmailAddress;

/// One message as Threadline stores it, whichever provider it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NormalizedMessage {
    pub provider_message_id: String,
    pub provider_thread_id: String,
    pub message_id: Option<MessageId>,
    pub in_reply_to: Option<MessageId>,
    /// Oldest first, as in the header; without duplicates or this message's own id.
    pub references: Vec<MessageId>,
    pub subject: String,
    pub participants: Vec<Participant>,
    /// The `Date:` header, as the sender's clock claims.
    pub sent_at: Option<DateTime<Utc>>,
    /// The provider's own time (Gmail `internalDate`, Graph `receivedDateTime`).
    pub received_at: DateTime<Utc>,
    pub snippet: String,
    pub body_text: Option<String>,
    pub body_html: Option<String>,
    pub body_truncated: bool,
    pub folders: Vec<String>,
    pub read: bool,
    pub starred: bool,
    pub attachments: Vec<AttachmentMeta>,
    /// Mailing-list or bulk mail (see `mime::headers::is_bulk`).
    pub is_bulk: bool,
    /// `Auto-Submitted` other than `no` (out-of-office replies, notifications); kept apart from
    /// `is_bulk` because an auto-reply inside a real conversation is still part of it.
    pub auto_submitted: bool,
    pub size_bytes: u64,
    /// The attachment limit the message is over, if it is: it is stored with its text and
    /// attachment list but without its attachments' content, and ledgered `too_large`.
    pub over_limit: Option<u64>,
}

impl NormalizedMessage {
    /// This message's identity across mailboxes (see [`MessageKey`]).
    pub fn key(&self, account_id: i64) -> String {
        MessageKey::for_message(
            self.message_id.as_ref(),
            account_id,
            &self.provider_message_id,
        )
    }
}

/// Stored as text in `email_participants.role`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, sea_orm::DeriveValueType)]
#[sea_orm(value_type = "String")]
pub enum ParticipantRole {
    From,
    Sender,
    To,
    Cc,
    Bcc,
    ReplyTo,
}

impl ParticipantRole {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::From => "from",
            Self::Sender => "sender",
            Self::To => "to",
            Self::Cc => "cc",
            Self::Bcc => "bcc",
            Self::ReplyTo => "reply_to",
        }
    }

    pub const ALL: [Self; 6] = [
        Self::From,
        Self::Sender,
        Self::To,
        Self::Cc,
        Self::Bcc,
        Self::ReplyTo,
    ];
}

crate::domain::stored::text_enum!(ParticipantRole);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Participant {
    pub role: ParticipantRole,
    pub address: EmailAddress,
    /// Display name, RFC 2047 decoded; empty when the header had none.
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachmentMeta {
    /// The MIME part path in Gmail's `partId` convention: children of the root are "0", "1",
    /// their children "1.0", "1.1"; a message that is a single part is "". Stable for the
    /// message, unlike a provider's attachment id.
    pub part_key: String,
    /// Without any directory part; empty when the part had no name.
    pub filename: String,
    /// `type/subtype`, lowercase.
    pub content_type: String,
    /// Decoded bytes (for text parts: UTF-8 bytes after charset decoding).
    pub size: u64,
    /// Without angle brackets.
    pub content_id: Option<String>,
    pub inline: bool,
    /// The decoded bytes, kept only when the organization stores attachment content.
    pub content: Option<Vec<u8>>,
}

/// An RFC 5322 Message-ID without its angle brackets, parsed once.
///
/// The local part keeps its case: RFC 5256 and JWZ compare ids octet by octet and generators
/// rely on case (base64-like tokens). The domain after the last `@` is lowercased: RFC 5322
/// makes `id-right` a domain, which is case-insensitive, and gateways that re-case hostnames
/// must not split a thread. Lowercasing can only merge ids that name the same thing.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MessageId(String);

/// Longer ids are junk (RFC 5322 lines stop at 998 octets; real ids are under 250).
const MAX_ID_LEN: usize = 500;
/// How many References we keep: the thread root plus the most recent ancestors.
pub const MAX_REFERENCES: usize = 100;

impl MessageId {
    /// The first usable id in a header value such as `Message-ID` or `In-Reply-To`.
    pub fn parse(header: &str) -> Option<Self> {
        scan(header).into_iter().next()
    }

    /// Every usable id in a `References`/`In-Reply-To` value, oldest first. Tolerates missing
    /// brackets, commas, folding, comments and junk; drops duplicates (first occurrence wins).
    /// Past [`MAX_REFERENCES`] ids it keeps the first (the thread root, which JWZ needs to join
    /// a thread whose middle is lost, as RFC 5537 §3.4.4 trimming does) and the most recent.
    pub fn parse_list(header: &str) -> Vec<Self> {
        let mut seen = HashSet::new();
        let mut ids: Vec<Self> = scan(header)
            .into_iter()
            .filter(|id| seen.insert(id.0.clone()))
            .collect();
        if ids.len() > MAX_REFERENCES {
            let tail = ids.split_off(ids.len() - (MAX_REFERENCES - 1));
            ids.truncate(1);
            ids.extend(tail);
        }
        ids
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `token` is what stood between brackets, or a bare word that looked like an id.
    fn from_token(token: &str) -> Option<Self> {
        let token = token.trim();
        if token.is_empty()
            || token.len() > MAX_ID_LEN
            || token
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>'))
        {
            return None;
        }
        Some(Self(match token.rsplit_once('@') {
            Some((local, domain)) if !local.is_empty() && !domain.is_empty() => {
                format!("{local}@{}", domain.to_lowercase())
            }
            Some(_) => return None,
            None => token.to_string(),
        }))
    }
}

impl fmt::Display for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The ids in a header: the contents of `<...>` when the header has any brackets (words outside
/// them are prose such as `Your message of ...`), else bare words that contain an `@`.
fn scan(header: &str) -> Vec<MessageId> {
    if header.contains('<') && header.contains('>') {
        header
            .split('<')
            .skip(1)
            .filter_map(|rest| rest.split_once('>'))
            .filter_map(|(inside, _)| MessageId::from_token(inside))
            .collect()
    } else {
        strip_comments(header)
            .split(|c: char| c.is_whitespace() || matches!(c, ',' | ';'))
            .filter(|word| word.contains('@'))
            .filter_map(MessageId::from_token)
            .collect()
    }
}

/// Removes RFC 5322 `(comments)`, nested or unterminated, leaving a space in their place.
fn strip_comments(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.contains('(') {
        return text.into();
    }
    let mut out = String::with_capacity(text.len());
    let mut depth = 0usize;
    for c in text.chars() {
        match c {
            '(' => depth += 1,
            ')' if depth > 0 => {
                depth -= 1;
                if depth == 0 {
                    out.push(' ');
                }
            }
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out.into()
}

/// A message's identity across mailboxes and providers.
pub struct MessageKey;

impl MessageKey {
    /// `<message-id>` when the message has one (the same mail seen by two mailboxes is one
    /// message); else `x-local:{account_id}/{provider_message_id}`, which can never equal a
    /// Message-ID key because parsed ids contain no angle brackets.
    pub fn for_message(
        message_id: Option<&MessageId>,
        account_id: i64,
        provider_message_id: &str,
    ) -> String {
        match message_id {
            Some(id) => format!("<{id}>"),
            None => format!("x-local:{account_id}/{provider_message_id}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{MessageId, MessageKey, MAX_REFERENCES};

    fn ids(list: &[MessageId]) -> Vec<&str> {
        list.iter().map(MessageId::as_str).collect()
    }

    #[test]
    fn parses_single_ids() {
        let cases: [(&str, Option<&str>); 12] = [
            ("<abc@example.com>", Some("abc@example.com")),
            ("  <abc@example.com>  ", Some("abc@example.com")),
            (
                "<AbC.123@Mail.Example.COM>",
                Some("AbC.123@mail.example.com"),
            ),
            ("abc@example.com", Some("abc@example.com")),
            ("<abc@x> <def@y>", Some("abc@x")),
            ("<12345>", Some("12345")),
            (
                "<CAF=x+y/z@mail.gmail.com>",
                Some("CAF=x+y/z@mail.gmail.com"),
            ),
            ("", None),
            ("<>", None),
            ("<a b@example.com>", None),
            ("<@example.com>", None),
            ("just words", None),
        ];
        for (input, want) in cases {
            assert_eq!(
                MessageId::parse(input).as_ref().map(MessageId::as_str),
                want,
                "{input:?}"
            );
        }
    }

    #[test]
    fn parses_reference_lists() {
        let cases: [(&str, &[&str]); 10] = [
            ("<a@x> <b@x> <c@x>", &["a@x", "b@x", "c@x"]),
            ("<a@x>,<b@x>", &["a@x", "b@x"]),
            ("<a@x>\r\n <b@x>\r\n\t<c@x>", &["a@x", "b@x", "c@x"]),
            ("<a@x> <b@x> <a@x> <c@x> <b@X>", &["a@x", "b@x", "c@x"]),
            ("a@x b@x", &["a@x", "b@x"]),
            ("a@x, b@x; c@x", &["a@x", "b@x", "c@x"]),
            ("<a@x> (Alice's message of Mon) junk <b@x>", &["a@x", "b@x"]),
            ("Your message of \"Mon, 1 Jan\" <a@x>", &["a@x"]),
            ("(comment a@x) b@x", &["b@x"]),
            ("<>< > <a b@x>", &[]),
        ];
        for (input, want) in cases {
            assert_eq!(ids(&MessageId::parse_list(input)), want, "{input:?}");
        }
    }

    #[test]
    fn long_reference_lists_keep_the_root_and_the_latest() {
        let header = (0..250)
            .map(|i| format!("<m{i}@x>"))
            .collect::<Vec<_>>()
            .join(" ");
        let list = MessageId::parse_list(&header);
        assert_eq!(list.len(), MAX_REFERENCES);
        assert_eq!(list[0].as_str(), "m0@x");
        assert_eq!(list[1].as_str(), "m151@x");
        assert_eq!(list[MAX_REFERENCES - 1].as_str(), "m249@x");
    }

    #[test]
    fn message_keys() {
        let id = MessageId::parse("<A@Example.com>");
        assert_eq!(
            MessageKey::for_message(id.as_ref(), 7, "18c2"),
            "<A@example.com>"
        );
        assert_eq!(MessageKey::for_message(None, 7, "18c2"), "x-local:7/18c2");
    }
}
