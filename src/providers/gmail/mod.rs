//! Gmail: the API calls the sync engine needs ([`client`]) and the mapping of a fetched raw
//! message to a [`NormalizedMessage`]. Wire types stay private in `wire`.
mod batch;
pub mod client;
mod modify;
mod multipart;
pub mod watch;
mod wire;

use chrono::{DateTime, Utc};

pub use batch::{Fetched, MessageState, BATCH_MAX};
pub use client::{Change, GmailClient, HistoryPage, ListPage, RawMessage};
pub use modify::BATCH_MODIFY_MAX;
pub use watch::{Watch, WatchRefusal};

use crate::domain::message::NormalizedMessage;
use crate::providers::mime::{self, Limits, ProviderFields};

/// Labels synced when the mailbox's settings name none. SPAM and TRASH never are.
pub const DEFAULT_LABELS: [&str; 2] = ["INBOX", "SENT"];
pub const NEVER_SYNCED: [&str; 2] = ["SPAM", "TRASH"];

/// Quota units per method (provider-apis.md §B.10); a batch costs the sum of its parts.
pub mod units {
    pub const GET_PROFILE: u32 = 1;
    pub const LABELS_GET: u32 = 1;
    pub const HISTORY_LIST: u32 = 2;
    pub const MESSAGES_LIST: u32 = 5;
    pub const MESSAGES_GET: u32 = 5;
    pub const WATCH: u32 = 100;
    pub const STOP: u32 = 50;
    pub const BATCH_MODIFY: u32 = 50;
}

/// Parses the raw bytes and joins them with what Gmail said (labels, flags, internalDate).
/// `fetched_at` stands in for the received time when neither the provider nor the `Date:`
/// header gives one.
pub fn normalize(
    message: RawMessage,
    limits: &Limits,
    fetched_at: DateTime<Utc>,
) -> NormalizedMessage {
    let parsed = mime::parse(&message.raw, limits);
    let received_at = message
        .internal_date_ms
        .and_then(DateTime::<Utc>::from_timestamp_millis)
        .or(parsed.sent_at)
        .unwrap_or(fetched_at);
    let read = !message.label_ids.iter().any(|l| l == "UNREAD");
    let starred = message.label_ids.iter().any(|l| l == "STARRED");
    let thread = if message.thread_id.is_empty() {
        message.id.clone()
    } else {
        message.thread_id
    };
    parsed.into_message(ProviderFields {
        provider_message_id: message.id,
        provider_thread_id: thread,
        received_at,
        folders: message.label_ids,
        read,
        starred,
    })
}
