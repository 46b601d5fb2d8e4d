//! Top-level header fields: Message-ID, In-Reply-To, References, Subject, Date, participants
//! and the bulk/automation markers.
use std::borrow::Cow;
use std::collections::HashSet;

use chrono::{DateTime, FixedOffset, NaiveDate, TimeZone, Utc};
use mail_parser::{Header, HeaderValue, Message};

use crate::domain::address::EmailAddress;
use crate::domain::message::{MessageId, Participant, ParticipantRole};

use super::ParsedMime;

/// Subjects and display names longer than this (bytes) are cut.
const MAX_SUBJECT_BYTES: usize = 2000;
const MAX_NAME_BYTES: usize = 500;

/// A [`ParsedMime`] holding what the top-level headers say; bodies and attachments are left empty.
pub fn read(message: &Message<'_>) -> ParsedMime {
    let headers = message.headers();
    let first = |name: &str| headers.iter().find(|h| h.name().eq_ignore_ascii_case(name));
    let raw_of = |name: &str| {
        first(name)
            .map(|h| raw_value(message, h))
            .unwrap_or_default()
    };

    let message_id = MessageId::parse(&raw_of("Message-ID"));
    // A message never refers to itself: such a link would be a one-message cycle.
    let not_self = |id: &MessageId| Some(id) != message_id.as_ref();
    let in_reply_to = MessageId::parse_list(&raw_of("In-Reply-To"))
        .into_iter()
        .find(not_self);
    let references = MessageId::parse_list(&raw_of("References"))
        .into_iter()
        .filter(not_self)
        .collect();

    ParsedMime {
        in_reply_to,
        references,
        message_id,
        subject: message.subject().map(clean_subject).unwrap_or_default(),
        participants: participants(headers),
        sent_at: first("Date").and_then(|h| sent_at(&h.value, &raw_value(message, h))),
        is_bulk: is_bulk(
            first("List-Id").map(|h| raw_value(message, h)).as_deref(),
            first("List-Unsubscribe")
                .map(|h| raw_value(message, h))
                .as_deref(),
            first("Precedence")
                .map(|h| raw_value(message, h))
                .as_deref(),
        ),
        auto_submitted: first("Auto-Submitted")
            .is_some_and(|h| first_word(&raw_value(message, h)) != "no"),
        ..ParsedMime::default()
    }
}

/// The header's text as it stands in the message (folding included), lossy for 8-bit junk.
fn raw_value<'m>(message: &'m Message<'_>, header: &Header<'_>) -> Cow<'m, str> {
    let range = header.offset_start as usize..header.offset_end as usize;
    let bytes = message.raw_message.get(range).unwrap_or_default();
    String::from_utf8_lossy(bytes)
}

fn clean_subject(subject: &str) -> String {
    let mut out = single_line(subject);
    super::truncate_at_char_boundary(&mut out, MAX_SUBJECT_BYTES);
    out
}

/// Folding and control characters become single spaces; NULs go.
fn single_line(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut space = false;
    for c in text.chars().filter(|&c| c != '\0') {
        if c.is_whitespace() || c.is_control() {
            space = true;
            continue;
        }
        if space && !out.is_empty() {
            out.push(' ');
        }
        space = false;
        out.push(c);
    }
    out
}

/// From, Sender, To, Cc, Bcc and Reply-To, every instance of each (broken mailers repeat
/// them), group members included; unparseable addresses are skipped, repeats dropped.
fn participants(headers: &[Header<'_>]) -> Vec<Participant> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for header in headers {
        let Some(role) = role_of(header.name()) else {
            continue;
        };
        let HeaderValue::Address(address) = &header.value else {
            continue;
        };
        for addr in address.iter() {
            let Some(parsed) = addr.address().and_then(|a| EmailAddress::parse(a).ok()) else {
                continue;
            };
            if !seen.insert((role, parsed.clone())) {
                continue;
            }
            out.push(Participant {
                role,
                name: addr
                    .name()
                    .map(|n| display_name(n, &parsed))
                    .unwrap_or_default(),
                address: parsed,
            });
        }
    }
    out
}

fn role_of(name: &str) -> Option<ParticipantRole> {
    Some(match name.to_ascii_lowercase().as_str() {
        "from" => ParticipantRole::From,
        "sender" => ParticipantRole::Sender,
        "to" => ParticipantRole::To,
        "cc" => ParticipantRole::Cc,
        "bcc" => ParticipantRole::Bcc,
        "reply-to" => ParticipantRole::ReplyTo,
        _ => return None,
    })
}

/// Quotes and stray brackets trimmed; a "name" that is just the address is no name.
fn display_name(raw: &str, address: &EmailAddress) -> String {
    let mut name = single_line(raw)
        .trim_matches(|c: char| c == '"' || c == '\'' || c.is_whitespace())
        .to_string();
    if name
        .trim_matches(['<', '>'])
        .eq_ignore_ascii_case(address.as_str())
    {
        return String::new();
    }
    super::truncate_at_char_boundary(&mut name, MAX_NAME_BYTES);
    name
}

/// The earliest and latest `Date:` we believe. Outside this range the header is a broken
/// clock (epoch zero, year 2099 spam) and a timeline is better off with the received time.
fn plausible(at: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let earliest = Utc.with_ymd_and_hms(1980, 1, 1, 0, 0, 0).single()?;
    let latest = Utc.with_ymd_and_hms(2100, 1, 1, 0, 0, 0).single()?;
    (earliest..latest).contains(&at).then_some(at)
}

/// mail-parser's lenient parse first (two-digit years, obsolete zones, missing weekday);
/// chrono's RFC 2822 parser for what it gave up on.
fn sent_at(value: &HeaderValue<'_>, raw: &str) -> Option<DateTime<Utc>> {
    let lenient = match value {
        HeaderValue::DateTime(dt) => {
            let date = NaiveDate::from_ymd_opt(dt.year.into(), dt.month.into(), dt.day.into())?;
            let time = date.and_hms_opt(
                dt.hour.into(),
                dt.minute.into(),
                u32::from(dt.second.min(59)),
            )?;
            let offset = i32::from(dt.tz_hour) * 3600 + i32::from(dt.tz_minute) * 60;
            let offset = if dt.tz_before_gmt { -offset } else { offset };
            FixedOffset::east_opt(offset)
                .and_then(|tz| tz.from_local_datetime(&time).single())
                .map(|at| at.with_timezone(&Utc))
        }
        _ => None,
    };
    let strict = || {
        DateTime::parse_from_rfc2822(raw.trim())
            .ok()
            .map(|at| at.with_timezone(&Utc))
    };
    lenient.or_else(strict).and_then(plausible)
}

/// Bulk = mail sent to a list rather than to a person: a List-Id or List-Unsubscribe header
/// (RFC 2919/2369; bulk senders must send List-Unsubscribe) or `Precedence: bulk|list|junk`.
/// Auto-Submitted is deliberately not bulk: an out-of-office reply inside a real conversation
/// belongs to it, so it is reported separately.
pub(super) fn is_bulk(
    list_id: Option<&str>,
    list_unsubscribe: Option<&str>,
    precedence: Option<&str>,
) -> bool {
    let present = |value: Option<&str>| value.is_some_and(|v| !v.trim().is_empty());
    present(list_id)
        || present(list_unsubscribe)
        || precedence.is_some_and(|v| matches!(first_word(v).as_str(), "bulk" | "list" | "junk"))
}

/// The first token of a structured value, lowercase (`auto-replied; x=y (c)` gives
/// `auto-replied`).
fn first_word(value: &str) -> String {
    value
        .trim()
        .split(|c: char| c.is_whitespace() || matches!(c, ';' | '('))
        .next()
        .unwrap_or("")
        .to_ascii_lowercase()
}
