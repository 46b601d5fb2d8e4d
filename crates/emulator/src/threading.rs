//! Gmail's threading rule: a message joins the thread of a message it references
//! (`In-Reply-To` / `References`) in the same mailbox when the normalised subjects match;
//! the thread id is the id of the thread's first message.

use super::mime::ParsedMessage;
use super::store::MailboxData;

impl MailboxData {
    /// The thread a new message joins: a message it references (In-Reply-To first, then
    /// References newest first) with the same normalised subject; `None` starts a thread.
    pub fn find_thread(&self, parsed: &ParsedMessage) -> Option<String> {
        let subject = normalise_subject(&parsed.subject);
        parsed
            .in_reply_to
            .iter()
            .chain(parsed.references.iter().rev())
            .find_map(|reference| {
                self.by_message_id
                    .get(&normalise_id(reference))?
                    .iter()
                    .find_map(|id| {
                        let m = self.messages.get(id)?;
                        (normalise_subject(&m.parsed.subject) == subject)
                            .then(|| m.thread_id.clone())
                    })
            })
    }
}

/// Subject without reply/forward prefixes and surrounding whitespace, lowercase.
pub fn normalise_subject(subject: &str) -> String {
    let mut s = subject.trim();
    loop {
        let lower = s.to_ascii_lowercase();
        let prefix = [
            "re:", "fwd:", "fw:", "aw:", "wg:", "sv:", "tr:", "re :", "fwd :",
        ]
        .iter()
        .find(|p| lower.starts_with(**p));
        match prefix {
            Some(p) => s = s.get(p.len()..).unwrap_or("").trim_start(),
            None => break,
        }
    }
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

pub fn normalise_id(id: &str) -> String {
    id.trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use axum::body::Bytes;

    use super::*;
    use crate::store::{Mailbox, MailboxInfo, MessageState, Provider};

    fn mailbox() -> Mailbox {
        Mailbox::new(MailboxInfo {
            provider: Provider::Google,
            address: "me@ourco.test".into(),
            display_name: "Me".into(),
            tenant: None,
        })
    }

    fn raw(id: &str, subject: &str, refs: &str) -> Bytes {
        Bytes::from(format!(
            "From: a@b.test\r\nMessage-ID: <{id}>\r\nSubject: {subject}\r\n{refs}\r\nbody\r\n"
        ))
    }

    #[test]
    fn replies_with_matching_subject_join_the_thread_of_the_first_message() {
        let mb = mailbox();
        let first = mb
            .deliver(raw("1@x", "Pricing", ""), MessageState::default(), 1)
            .ok();
        let reply = mb
            .deliver(
                raw("2@x", "Re: Pricing", "In-Reply-To: <1@x>"),
                MessageState::default(),
                2,
            )
            .ok();
        let other = mb
            .deliver(
                raw("3@x", "Other", "References: <1@x>"),
                MessageState::default(),
                3,
            )
            .ok();
        let thread = |id: &Option<String>| mb.get(id.as_deref().unwrap_or("")).map(|m| m.thread_id);
        assert_eq!(thread(&reply), first.clone());
        assert_eq!(thread(&first), first);
        assert_eq!(
            thread(&other),
            other,
            "a different subject starts a new thread"
        );
    }

    #[test]
    fn subjects_normalise() {
        assert_eq!(normalise_subject("Re: FWD:  Hello   World"), "hello world");
    }
}
