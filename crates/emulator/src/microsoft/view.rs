//! The Graph view of a stored message, derived from the raw RFC 5322 bytes as Outlook does:
//! body (HTML part, else text part; `Prefer: outlook.body-content-type`), bodyPreview,
//! recipients, conversationId/Index (Thread-Index, else the conversation of the thread),
//! importance, receipts, ids (regular ids change on move, immutable ones do not, trap 15).

use std::collections::HashMap;

use base64::engine::general_purpose::{STANDARD, URL_SAFE};
use base64::Engine as _;
use parking_lot::Mutex;

use super::folders::{folder_id, key_of};
use super::wire::{
    EmailAddress, FollowupFlag, InternetMessageHeader, ItemBody, Message, Recipient,
};
use crate::ids::fnv;
use crate::mime::{EmailAddr, ParsedMessage};
use crate::store::{Mailbox, StoredMessage};

/// How the client asked to see messages (`Prefer` headers, `$select`).
#[allow(clippy::struct_excessive_bools)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ViewPrefs {
    pub text_body: bool,
    pub immutable_ids: bool,
    pub with_headers: bool,
    pub with_unique_body: bool,
}

impl ViewPrefs {
    /// Read the `Prefer` headers.
    pub fn from_headers(headers: &axum::http::HeaderMap) -> Self {
        let prefer: String = headers
            .get_all("prefer")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect::<Vec<_>>()
            .join(",")
            .to_ascii_lowercase();
        Self {
            text_body: prefer.contains(r#"outlook.body-content-type="text""#)
                || prefer.contains("outlook.body-content-type=text"),
            immutable_ids: prefer.contains(r#"idtype="immutableid""#),
            ..Self::default()
        }
    }

    /// `Preference-Applied` values to echo.
    pub fn applied(&self) -> Option<String> {
        let mut out = Vec::new();
        if self.text_body {
            out.push(r#"outlook.body-content-type="text""#);
        }
        if self.immutable_ids {
            out.push(r#"IdType="ImmutableId""#);
        }
        (!out.is_empty()).then(|| out.join(", "))
    }
}

/// When each (message, change) was first seen, for `lastModifiedDateTime`.
#[derive(Default)]
pub struct Modified(Mutex<HashMap<(String, u64), i64>>);

/// The REST id of a message in a folder: regular ids embed the folder, immutable ids are the
/// store id.
pub fn rest_id(store_id: &str, folder_key: &str, immutable: bool) -> String {
    if immutable {
        return store_id.to_string();
    }
    let mut bytes = vec![b'R'];
    bytes.extend_from_slice(&fnv(folder_key.as_bytes()).to_be_bytes()[4..]);
    bytes.extend_from_slice(store_id.as_bytes());
    format!("AAMkA{}", URL_SAFE.encode(bytes))
}

/// Find a message by regular or immutable id; a regular id of a moved message is stale.
pub fn lookup(mailbox: &Mailbox, id: &str) -> Option<StoredMessage> {
    let regular = id
        .strip_prefix("AAMkA")
        .and_then(|rest| URL_SAFE.decode(rest).ok())
        .filter(|b| b.first() == Some(&b'R') && b.len() > 5);
    match regular {
        Some(bytes) => {
            let store_id = std::str::from_utf8(&bytes[5..]).ok()?;
            let message = mailbox.get(store_id)?;
            let key = key_of(message.state.folder.as_ref());
            (bytes[1..5] == fnv(key.as_bytes()).to_be_bytes()[4..]).then_some(message)
        }
        None => mailbox.get(id),
    }
}

fn iso(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

fn recipient(a: &EmailAddr) -> Recipient {
    Recipient {
        email_address: EmailAddress {
            name: a
                .name
                .clone()
                .filter(|n| !n.trim().is_empty())
                .unwrap_or_else(|| a.address.clone()),
            address: a.address.clone(),
        },
    }
}

fn header<'a>(parsed: &'a ParsedMessage, name: &str) -> Option<&'a str> {
    parsed
        .root
        .headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case(name))
        .map(|h| h.value.as_str())
}

/// Whether Graph's body is HTML: the first part of the message's HTML body (RFC 8621
/// `htmlBody` selection) is a real text/html part, not text mail-parser converted. Computed
/// once per message.
#[derive(Default)]
pub struct HtmlBodies(Mutex<HashMap<String, bool>>);

impl HtmlBodies {
    pub fn is_html(&self, m: &StoredMessage) -> bool {
        if let Some(known) = self.0.lock().get(&m.id) {
            return *known;
        }
        let html = mail_parser::MessageParser::default()
            .parse(&m.raw)
            .is_some_and(|msg| {
                msg.html_body
                    .first()
                    .and_then(|i| msg.parts.get(usize::try_from(*i).unwrap_or(usize::MAX)))
                    .is_some_and(|p| matches!(p.body, mail_parser::PartType::Html(_)))
            });
        self.0.lock().insert(m.id.clone(), html);
        html
    }
}

/// Graph's `body`: the HTML part, else the text part; text when preferred.
pub fn body(parsed: &ParsedMessage, is_html: bool, prefer_text: bool) -> ItemBody {
    let html = is_html.then(|| parsed.html_body.clone()).flatten();
    match (prefer_text, html) {
        (false, Some(h)) => ItemBody {
            content_type: "html",
            content: h,
        },
        _ => ItemBody {
            content_type: "text",
            content: parsed.text_body.clone().unwrap_or_default(),
        },
    }
}

fn importance(parsed: &ParsedMessage) -> &'static str {
    let value = header(parsed, "Importance")
        .or_else(|| header(parsed, "X-Priority"))
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    match value.chars().next() {
        Some('h' | '1' | '2') => "high",
        Some('l' | '4' | '5') => "low",
        _ => "normal",
    }
}

/// 16 bytes identifying the conversation: from Thread-Index when present, else the thread.
fn conversation_guid(message: &StoredMessage) -> Vec<u8> {
    let from_index = header(&message.parsed, "Thread-Index")
        .and_then(|v| STANDARD.decode(v.trim()).ok())
        .filter(|b| b.len() >= 22)
        .map(|b| b[6..22].to_vec());
    from_index.unwrap_or_else(|| {
        let h = fnv(message.thread_id.as_bytes());
        [h.to_be_bytes(), h.rotate_left(29).to_be_bytes()].concat()
    })
}

fn conversation_index(message: &StoredMessage, guid: &[u8]) -> String {
    if let Some(v) = header(&message.parsed, "Thread-Index") {
        if STANDARD.decode(v.trim()).is_ok_and(|b| b.len() >= 22) {
            return v.trim().to_string();
        }
    }
    // FILETIME (100 ns since 1601) of the receipt, top 5 bytes after a reserved 0x01.
    let filetime = u64::try_from(message.internal_date_ms.max(0)).unwrap_or(0) * 10_000
        + 116_444_736_000_000_000;
    let mut bytes = vec![1u8];
    bytes.extend_from_slice(&filetime.to_be_bytes()[..5]);
    bytes.extend_from_slice(guid);
    STANDARD.encode(bytes)
}

/// The `changeKey` of a message version (the etag is `W/"{changeKey}"`).
pub fn change_key(address: &str, m: &StoredMessage) -> String {
    let mut ck = fnv(address.as_bytes()).to_be_bytes().to_vec();
    ck.extend_from_slice(&m.last_change.to_be_bytes());
    format!("CQAAABYAAAD{}", STANDARD.encode(ck))
}

/// Render the Graph message.
pub fn render(
    mailbox: &Mailbox,
    modified: &Modified,
    html: &HtmlBodies,
    m: &StoredMessage,
    prefs: ViewPrefs,
) -> Message {
    let parsed = &m.parsed;
    let address = &mailbox.info.address;
    let key = key_of(m.state.folder.as_ref());
    let id = rest_id(&m.id, &key, prefs.immutable_ids);
    let salt = fnv(address.as_bytes());
    let change_key = change_key(address, m);
    let modified_ms = if m.last_change == m.added_seq {
        m.internal_date_ms
    } else {
        *modified
            .0
            .lock()
            .entry((m.id.clone(), m.last_change))
            .or_insert_with(|| chrono::Utc::now().timestamp_millis())
    };
    let guid = conversation_guid(m);
    let mut conv = salt.to_be_bytes().to_vec();
    conv.extend_from_slice(&guid);
    let attachments = super::attachments::parts(parsed);
    let bulk = header(parsed, "List-Unsubscribe").is_some()
        || header(parsed, "Precedence").is_some_and(|p| {
            matches!(
                p.trim().to_ascii_lowercase().as_str(),
                "bulk" | "list" | "junk"
            )
        });
    let from = parsed.from.first().map(recipient);
    let is_html = html.is_html(m);
    Message {
        etag: format!("W/\"{change_key}\""),
        web_link: format!(
            "https://outlook.office365.com/owa/?ItemID={}&exvsurl=1&viewmodel=ReadMessageItem",
            url::form_urlencoded::byte_serialize(id.as_bytes()).collect::<String>()
        ),
        id,
        created_date_time: iso(m.internal_date_ms),
        last_modified_date_time: iso(modified_ms),
        change_key,
        categories: Vec::new(),
        received_date_time: iso(m.internal_date_ms),
        sent_date_time: iso(parsed.date_ms.unwrap_or(m.internal_date_ms)),
        has_attachments: attachments.iter().any(|a| !a.is_inline),
        internet_message_id: parsed.message_id.as_ref().map(|i| format!("<{i}>")),
        subject: parsed.subject.clone(),
        body_preview: parsed.preview.clone(),
        importance: importance(parsed),
        parent_folder_id: folder_id(address, &key),
        conversation_id: format!("AAQkAD{}", URL_SAFE.encode(conv)),
        conversation_index: conversation_index(m, &guid),
        is_delivery_receipt_requested: header(parsed, "Return-Receipt-To").is_some(),
        is_read_receipt_requested: header(parsed, "Disposition-Notification-To").is_some(),
        is_read: m.state.read,
        is_draft: key == "drafts",
        inference_classification: if bulk { "other" } else { "focused" },
        body: body(parsed, is_html, prefs.text_body),
        sender: parsed
            .sender
            .first()
            .map(recipient)
            .or_else(|| from.clone()),
        from,
        to_recipients: parsed.to.iter().map(recipient).collect(),
        cc_recipients: parsed.cc.iter().map(recipient).collect(),
        bcc_recipients: parsed.bcc.iter().map(recipient).collect(),
        reply_to: parsed.reply_to.iter().map(recipient).collect(),
        flag: FollowupFlag {
            flag_status: if m.state.starred {
                "flagged"
            } else {
                "notFlagged"
            },
        },
        internet_message_headers: prefs.with_headers.then(|| {
            parsed
                .root
                .headers
                .iter()
                .map(|h| InternetMessageHeader {
                    name: h.name.clone(),
                    value: h.value.clone(),
                })
                .collect()
        }),
        unique_body: prefs
            .with_unique_body
            .then(|| body(parsed, is_html, prefs.text_body)),
    }
}
