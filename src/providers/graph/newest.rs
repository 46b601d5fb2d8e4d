//! The newest messages of the whole mailbox (`GET /me/messages`, newest first) with enough of
//! their Graph fields to show them before their MIME text arrives: the light fields, the
//! preview and `internetMessageHeaders` (only returned when `$select`ed, §D.3). A message is
//! made from its headers the way its MIME text would make it ([`early_message`]), so its
//! message id, references and thread are the same; the body, attachments and size come later
//! from `$value`.
use chrono::{DateTime, Utc};

use super::client::{check, decode, light, GraphClient, Light};
use super::wire;
use crate::domain::message::NormalizedMessage;
use crate::providers::mime::{self, Limits, ProviderFields};
use crate::providers::{ProviderError, Secret};

const NEWEST_SELECT: &str = "id,isRead,flag,parentFolderId,receivedDateTime,internetMessageId,\
                             conversationId,subject,bodyPreview,internetMessageHeaders";

/// A message as the newest-mail listing returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Early {
    pub light: Light,
    /// `bodyPreview`: the first 255 characters of the body.
    pub preview: String,
    /// `internetMessageHeaders`, in order; empty when Graph gave none (mail composed in
    /// Outlook has no internet headers until it is sent).
    pub headers: Vec<(String, String)>,
}

impl GraphClient {
    /// The `top` newest messages of the mailbox, every folder (the caller keeps the synced
    /// ones).
    pub async fn newest(&self, token: &Secret, top: u32) -> Result<Vec<Early>, ProviderError> {
        let mut url = url::Url::parse(&self.url("/messages"))
            .map_err(|e| ProviderError::Permanent(format!("bad Graph URL: {e}")))?;
        url.query_pairs_mut()
            .append_pair("$select", NEWEST_SELECT)
            .append_pair("$orderby", "receivedDateTime desc")
            .append_pair("$top", &top.clamp(1, super::client::MAX_PAGE).to_string());
        let res = check(
            self.send("messages.list", url.as_str(), token, None)
                .await?,
        )
        .await?;
        let page: wire::Page = decode(res).await?;
        Ok(page.value.into_iter().filter_map(early).collect())
    }
}

fn early(v: serde_json::Value) -> Option<Early> {
    let head: wire::MessageHead = serde_json::from_value(v.clone()).unwrap_or_default();
    let m: wire::Message = serde_json::from_value(v).ok()?;
    if m.id.is_empty() || m.removed.is_some() {
        return None;
    }
    Some(Early {
        light: light(m),
        preview: head.body_preview.unwrap_or_default(),
        headers: head
            .internet_message_headers
            .unwrap_or_default()
            .into_iter()
            .map(|h| (h.name, h.value))
            .collect(),
    })
}

/// The message as its headers make it, filed under `folder`: ids, references, subject,
/// participants, dates and list marks as the MIME text would give them; the preview as its
/// snippet; no body, attachments or size yet. None without headers or a Message-ID: such a
/// message waits for its MIME text (its thread could not be told from Graph's fields alone).
pub fn early_message(
    e: &Early,
    folder: &str,
    limits: &Limits,
    now: DateTime<Utc>,
) -> Option<NormalizedMessage> {
    let mut block = String::new();
    for (name, value) in &e.headers {
        let name = name.trim();
        let printable = |c: char| c.is_ascii_graphic() && c != ':';
        // Content headers describe a body that is not there; the rest is what the MIME text
        // carries.
        if name.is_empty()
            || !name.chars().all(printable)
            || name.to_ascii_lowercase().starts_with("content-")
        {
            continue;
        }
        let value: String = value
            .chars()
            .map(|c| if c == '\r' || c == '\n' { ' ' } else { c })
            .collect();
        block.push_str(name);
        block.push_str(": ");
        block.push_str(value.trim());
        block.push_str("\r\n");
    }
    if block.is_empty() {
        return None;
    }
    block.push_str("\r\n");
    let parsed = mime::parse(block.as_bytes(), limits);
    parsed.message_id.as_ref()?;
    let received_at = e.light.received_at.or(parsed.sent_at).unwrap_or(now);
    let mut m = parsed.into_message(ProviderFields {
        provider_message_id: e.light.id.clone(),
        provider_thread_id: e
            .light
            .conversation_id
            .clone()
            .unwrap_or_else(|| e.light.id.clone()),
        received_at,
        folders: vec![folder.to_string()],
        read: e.light.read,
        starred: e.light.flagged,
    });
    m.snippet = mime::snippet(&e.preview);
    m.body_text = None;
    m.body_html = None;
    m.attachments.clear();
    m.size_bytes = 0;
    Some(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn early_of(headers: &[(&str, &str)]) -> Early {
        Early {
            light: Light {
                id: "AAMk1".into(),
                read: true,
                flagged: false,
                folder_id: Some("inbox-id".into()),
                received_at: DateTime::parse_from_rfc3339("2026-11-16T10:00:05Z")
                    .ok()
                    .map(|d| d.with_timezone(&Utc)),
                conversation_id: Some("conv".into()),
            },
            preview: "Hello   there,\r\nsee you".into(),
            headers: headers
                .iter()
                .map(|(n, v)| ((*n).to_string(), (*v).to_string()))
                .collect(),
        }
    }

    #[test]
    fn headers_make_the_message_its_mime_text_would() {
        let raw = "Message-ID: <m2@x.test>\r\nIn-Reply-To: <m1@x.test>\r\n\
                   References: <m0@x.test> <m1@x.test>\r\nFrom: Pat Buyer <pat@buyer.example>\r\n\
                   To: Olive <olive@o.test>, ops@buyer.example\r\nSubject: Re: Quote\r\n\
                   Date: Mon, 16 Nov 2026 10:00:00 +0000\r\nList-Unsubscribe: <mailto:u@x.test>\r\n\
                   Content-Type: text/plain; charset=utf-8\r\n\r\nHello there, see you\r\n";
        let full = mime::parse(raw.as_bytes(), &Limits::default());
        let e = early_of(&[
            ("Message-ID", "<m2@x.test>"),
            ("In-Reply-To", "<m1@x.test>"),
            ("References", "<m0@x.test> <m1@x.test>"),
            ("From", "Pat Buyer <pat@buyer.example>"),
            ("To", "Olive <olive@o.test>, ops@buyer.example"),
            ("Subject", "Re: Quote"),
            ("Date", "Mon, 16 Nov 2026 10:00:00 +0000"),
            ("List-Unsubscribe", "<mailto:u@x.test>"),
            ("Content-Type", "multipart/mixed; boundary=\"b\""),
        ]);
        let m = early_message(&e, "inbox", &Limits::default(), Utc::now()).expect("a message");
        assert_eq!(m.message_id, full.message_id);
        assert_eq!(m.in_reply_to, full.in_reply_to);
        assert_eq!(m.references, full.references);
        assert_eq!(m.subject, full.subject);
        assert_eq!(m.participants, full.participants);
        assert_eq!(m.sent_at, full.sent_at);
        assert!(m.is_bulk && full.is_bulk);
        assert_eq!(m.snippet, "Hello there, see you");
        assert_eq!(m.provider_thread_id, "conv");
        assert_eq!(m.folders, vec!["inbox".to_string()]);
        assert!(m.read && m.body_text.is_none() && m.attachments.is_empty());
    }

    #[test]
    fn without_headers_or_message_id_it_waits_for_the_mime_text() {
        let limits = Limits::default();
        assert!(early_message(&early_of(&[]), "inbox", &limits, Utc::now()).is_none());
        let no_id = early_of(&[("Subject", "Hi"), ("From", "a@b.test")]);
        assert!(early_message(&no_id, "inbox", &limits, Utc::now()).is_none());
    }

    #[test]
    fn odd_header_names_and_folded_values_cannot_inject_lines() {
        let e = early_of(&[
            ("Message-ID", "<m@x.test>"),
            ("Bad Name", "x"),
            ("Subject", "One\r\nBcc: evil@x.test"),
        ]);
        let m = early_message(&e, "inbox", &Limits::default(), Utc::now()).expect("a message");
        assert!(m.participants.is_empty(), "{:?}", m.participants);
        assert_eq!(m.subject, "One Bcc: evil@x.test");
    }
}
