//! Microsoft Graph mail: the API calls the sync engine needs ([`client`], lookups batched in
//! [`batch`], errors classified in `errors`) and the mapping of a fetched MIME text plus the light delta fields to a
//! [`NormalizedMessage`]. Wire types stay private in `wire`.
pub mod batch;
pub mod client;
mod errors;
mod modify;
pub mod newest;
pub mod subscriptions;
mod wire;

pub use batch::{Located, MAX_BATCH};
pub use client::{DeltaItem, DeltaPage, Folder, GraphClient, Light};
pub use newest::{early_message, Early};

use chrono::{DateTime, Utc};

use crate::domain::message::NormalizedMessage;
use crate::providers::mime::{self, Limits, ProviderFields};

/// Folders synced when the mailbox's settings name none (each with its child folders).
pub const DEFAULT_FOLDERS: [&str; 2] = ["inbox", "sentitems"];
/// Well-known folders never synced, even when named: what sits there is gone for the CRM.
pub const NEVER_SYNCED: [&str; 3] = ["deleteditems", "junkemail", "recoverableitemsdeletions"];
/// Every well-known folder name (§D.2), matched case-insensitively.
pub const WELL_KNOWN: [&str; 17] = [
    "inbox",
    "drafts",
    "sentitems",
    "deleteditems",
    "junkemail",
    "archive",
    "outbox",
    "msgfolderroot",
    "clutter",
    "conflicts",
    "conversationhistory",
    "localfailures",
    "serverfailures",
    "recoverableitemsdeletions",
    "scheduled",
    "searchfolders",
    "syncissues",
];

/// Parses the MIME text and joins it with what Graph said: read and flagged from `isRead` and
/// `flag`, the folder the sync engine filed it under, `receivedDateTime`, the conversation.
/// `fetched_at` stands in for the received time when neither the provider nor the `Date:`
/// header gives one.
pub fn normalize(
    light: &Light,
    folder: &str,
    raw: &[u8],
    limits: &Limits,
    fetched_at: DateTime<Utc>,
) -> NormalizedMessage {
    let parsed = mime::parse(raw, limits);
    let received_at = light.received_at.or(parsed.sent_at).unwrap_or(fetched_at);
    parsed.into_message(ProviderFields {
        provider_message_id: light.id.clone(),
        provider_thread_id: light
            .conversation_id
            .clone()
            .unwrap_or_else(|| light.id.clone()),
        received_at,
        folders: vec![folder.to_string()],
        read: light.read,
        starred: light.flagged,
    })
}
