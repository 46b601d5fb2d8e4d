//! Builders for `ThreadInput` and a compact view of threads for assertions.
use chrono::{DateTime, Duration, TimeZone, Utc};
use threadline::domain::message::MessageId;
use threadline::domain::threading::{Node, Thread, ThreadInput};

pub fn id(text: &str) -> MessageId {
    MessageId::parse(&format!("<{text}>")).expect("test ids parse")
}

pub fn at(minute: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 5, 15, 9, 0, 0)
        .single()
        .expect("valid date")
        + Duration::minutes(minute)
}

/// A message keyed like `MessageKey` does: `<id>` when it has one.
pub fn msg(message_id: &str, minute: i64) -> ThreadInput {
    ThreadInput {
        key: format!("<{message_id}>"),
        message_id: Some(id(message_id)),
        in_reply_to: None,
        references: Vec::new(),
        subject: "Subject".into(),
        date: at(minute),
        mailbox: 1,
        provider_thread_id: None,
    }
}

/// A message without Message-ID.
pub fn bare(key: &str, minute: i64) -> ThreadInput {
    ThreadInput {
        key: key.into(),
        message_id: None,
        ..msg("unused@x", minute)
    }
}

pub trait Build {
    fn refs(self, ids: &[&str]) -> Self;
    fn irt(self, parent: &str) -> Self;
    fn subject(self, subject: &str) -> Self;
    fn mailbox(self, mailbox: i64, thread: &str) -> Self;
}

impl Build for ThreadInput {
    fn refs(mut self, ids: &[&str]) -> Self {
        self.references = ids.iter().map(|i| id(i)).collect();
        self
    }
    fn irt(mut self, parent: &str) -> Self {
        self.in_reply_to = Some(id(parent));
        self
    }
    fn subject(mut self, subject: &str) -> Self {
        self.subject = subject.into();
        self
    }
    fn mailbox(mut self, mailbox: i64, thread: &str) -> Self {
        self.mailbox = mailbox;
        self.provider_thread_id = Some(thread.into());
        self
    }
}

/// A tree as text: `key(child,child)`, placeholders as `?id`.
pub fn shape(node: &Node) -> String {
    let me = if node.is_placeholder() {
        format!(
            "?{}",
            node.message_id
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default()
        )
    } else {
        node.keys.join("+")
    };
    if node.children.is_empty() {
        me
    } else {
        let kids: Vec<String> = node.children.iter().map(shape).collect();
        format!("{me}({})", kids.join(","))
    }
}

/// Every thread as `thread_key = shape`.
pub fn shapes(threads: &[Thread]) -> Vec<String> {
    threads
        .iter()
        .map(|t| format!("{} = {}", t.thread_key, shape(&t.root)))
        .collect()
}
