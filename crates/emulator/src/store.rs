//! The mail store: mailboxes of raw RFC 5322 messages with provider-neutral state, a change log
//! per mailbox and one `RwLock` per mailbox so readers of different mailboxes never contend.
//! Provider views (Gmail, Graph) are computed from `StoredMessage` by the provider modules.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use axum::body::Bytes;
use parking_lot::RwLock;
use serde::{Deserialize, Serialize};

use super::changes::{ChangeKind, ChangeLog};
use super::ids::{fnv, new_message_id};
use super::mime::{self, ParsedMessage};
use super::threading::normalise_id;

/// Largest raw message accepted (Gmail: 25 MB attachments, 35 MB total with encoding).
pub const MAX_RAW_BYTES: usize = 36 * 1024 * 1024;
/// Change-log entries kept per mailbox before the oldest cursors expire.
pub const DEFAULT_RETENTION: usize = 200_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    Google,
    Microsoft,
}

/// Identity of a mailbox.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MailboxInfo {
    pub provider: Provider,
    /// Lowercase address; the key of the mailbox.
    pub address: String,
    pub display_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
}

/// Provider-neutral, user-visible state. Gmail: `labels` holds label ids other than `UNREAD`
/// and `STARRED` (those are `read`/`starred`). Outlook: `folder` holds the folder (well-known
/// name or id, owned by the Microsoft views), `starred` means flagged and `labels` may hold
/// categories.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MessageState {
    pub read: bool,
    pub starred: bool,
    pub labels: BTreeSet<String>,
    pub folder: Option<String>,
}

/// One stored message.
#[derive(Debug, Clone)]
pub struct StoredMessage {
    pub id: String,
    pub thread_id: String,
    pub raw: Bytes,
    pub parsed: Arc<ParsedMessage>,
    pub state: MessageState,
    /// Receipt time (Gmail internalDate, Graph receivedDateTime), epoch ms.
    pub internal_date_ms: i64,
    /// Sequence number of the last change to this message.
    pub last_change: u64,
    /// Sequence number of its delivery.
    pub added_seq: u64,
}

/// A user-created Gmail label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserLabel {
    pub id: String,
    pub name: String,
}

/// Everything behind one mailbox's lock.
#[derive(Debug)]
pub struct MailboxData {
    pub messages: HashMap<String, StoredMessage>,
    /// `(internal_date_ms, id)`, iterate in reverse for newest first.
    pub by_date: BTreeSet<(i64, String)>,
    /// Normalised Message-ID -> store ids carrying it.
    pub by_message_id: HashMap<String, Vec<String>>,
    pub thread_sizes: HashMap<String, usize>,
    pub log: ChangeLog,
    pub user_labels: Vec<UserLabel>,
    counter: u64,
}

pub struct Mailbox {
    pub info: MailboxInfo,
    pub data: RwLock<MailboxData>,
}

/// Why a delivery was refused.
#[derive(Debug, thiserror::Error)]
pub enum DeliverError {
    #[error("the message is empty")]
    Empty,
    #[error("the message is larger than {MAX_RAW_BYTES} bytes")]
    TooLarge,
}

impl Mailbox {
    pub fn new(info: MailboxInfo) -> Self {
        let start = 1000 + (fnv(info.address.as_bytes()) % 90_000) * 10;
        let data = MailboxData {
            messages: HashMap::new(),
            by_date: BTreeSet::new(),
            by_message_id: HashMap::new(),
            thread_sizes: HashMap::new(),
            log: ChangeLog::new(start, DEFAULT_RETENTION),
            user_labels: Vec::new(),
            counter: 0,
        };
        Self {
            info,
            data: RwLock::new(data),
        }
    }

    /// Store a raw message; the thread is chosen as Gmail does (a referenced message of this
    /// mailbox with the same normalised subject); returns the new id.
    pub fn deliver(
        &self,
        raw: Bytes,
        state: MessageState,
        internal_date_ms: i64,
    ) -> Result<String, DeliverError> {
        if raw.is_empty() {
            return Err(DeliverError::Empty);
        }
        if raw.len() > MAX_RAW_BYTES {
            return Err(DeliverError::TooLarge);
        }
        let parsed = Arc::new(mime::parse(&raw));
        let mut data = self.data.write();
        data.counter += 1;
        let id = new_message_id(
            self.info.provider,
            internal_date_ms,
            data.counter,
            &self.info,
        );
        let thread_id = data.find_thread(&parsed).unwrap_or_else(|| id.clone());
        let seq = data.log.record(
            &id,
            &thread_id,
            ChangeKind::Added {
                state: state.clone(),
            },
        );
        if let Some(mid) = &parsed.message_id {
            data.by_message_id
                .entry(normalise_id(mid))
                .or_default()
                .push(id.clone());
        }
        *data.thread_sizes.entry(thread_id.clone()).or_default() += 1;
        data.by_date.insert((internal_date_ms, id.clone()));
        let message = StoredMessage {
            id: id.clone(),
            thread_id,
            raw,
            parsed,
            state,
            internal_date_ms,
            last_change: seq,
            added_seq: seq,
        };
        data.messages.insert(id.clone(), message);
        Ok(id)
    }

    /// Apply `change` to a message's state; records a change only if something differs.
    /// Returns `None` when the message does not exist.
    pub fn update_state(
        &self,
        id: &str,
        change: impl FnOnce(&mut MessageState),
    ) -> Option<StoredMessage> {
        let mut data = self.data.write();
        let message = data.messages.get(id)?;
        let before = message.state.clone();
        let mut after = before.clone();
        change(&mut after);
        if after == before {
            return Some(message.clone());
        }
        let thread_id = message.thread_id.clone();
        let seq = data.log.record(
            id,
            &thread_id,
            ChangeKind::StateChanged {
                before,
                after: after.clone(),
            },
        );
        let message = data.messages.get_mut(id)?;
        message.state = after;
        message.last_change = seq;
        Some(message.clone())
    }

    /// Permanently delete; returns false when there was no such message.
    pub fn delete(&self, id: &str) -> bool {
        let mut data = self.data.write();
        let Some(message) = data.messages.remove(id) else {
            return false;
        };
        data.by_date
            .remove(&(message.internal_date_ms, message.id.clone()));
        if let Some(mid) = &message.parsed.message_id {
            if let Some(ids) = data.by_message_id.get_mut(&normalise_id(mid)) {
                ids.retain(|x| x != id);
            }
        }
        if let Some(size) = data.thread_sizes.get_mut(&message.thread_id) {
            *size = size.saturating_sub(1);
            if *size == 0 {
                data.thread_sizes.remove(&message.thread_id);
            }
        }
        data.log.record(
            id,
            &message.thread_id,
            ChangeKind::Deleted {
                state: message.state,
            },
        );
        true
    }

    /// Invalidate every history id / delta token issued so far.
    /// Ids handed out afterwards (a message's `historyId`, the profile's) are valid again, so
    /// a client that resyncs and keeps the newest message's historyId does not loop on 404s.
    pub fn expire_cursors(&self) {
        let mut data = self.data.write();
        data.log.expire();
        let floor = data.log.floor();
        for message in data.messages.values_mut() {
            message.last_change = message.last_change.max(floor);
        }
    }

    pub fn get(&self, id: &str) -> Option<StoredMessage> {
        self.data.read().messages.get(id).cloned()
    }

    /// Id of the user label with this id or name (names match case-insensitively).
    pub fn find_user_label(&self, id_or_name: &str) -> Option<String> {
        let data = self.data.read();
        data.user_labels
            .iter()
            .find(|l| l.id == id_or_name || l.name.eq_ignore_ascii_case(id_or_name))
            .map(|l| l.id.clone())
    }

    /// Id of the user label with this id or name, creating it when `create` is set.
    pub fn user_label(&self, id_or_name: &str, create: bool) -> Option<String> {
        let mut data = self.data.write();
        if let Some(l) = data
            .user_labels
            .iter()
            .find(|l| l.id == id_or_name || l.name == id_or_name)
        {
            return Some(l.id.clone());
        }
        if !create {
            return None;
        }
        let id = format!("Label_{}", data.user_labels.len() + 1);
        data.user_labels.push(UserLabel {
            id: id.clone(),
            name: id_or_name.to_string(),
        });
        Some(id)
    }
}

impl MailboxData {
    pub fn threads_total(&self) -> usize {
        self.thread_sizes.len()
    }
}

/// All mailboxes, keyed by lowercase address.
#[derive(Default)]
pub struct Store {
    mailboxes: RwLock<HashMap<String, Arc<Mailbox>>>,
    /// Other addresses of a mailbox (lowercase alias -> address), as a renamed directory user's
    /// new address reaches the mailbox it always had.
    aliases: RwLock<HashMap<String, String>>,
}

impl Store {
    /// Create a mailbox; `None` if the address is taken.
    pub fn create(&self, mut info: MailboxInfo) -> Option<Arc<Mailbox>> {
        info.address = info.address.trim().to_ascii_lowercase();
        let mut map = self.mailboxes.write();
        if map.contains_key(&info.address) {
            return None;
        }
        let mailbox = Arc::new(Mailbox::new(info));
        map.insert(mailbox.info.address.clone(), mailbox.clone());
        Some(mailbox)
    }

    pub fn get(&self, address: &str) -> Option<Arc<Mailbox>> {
        let map = self.mailboxes.read();
        let lower = address.to_ascii_lowercase();
        map.get(address)
            .or_else(|| map.get(&lower))
            .or_else(|| self.aliases.read().get(&lower).and_then(|a| map.get(a)))
            .cloned()
    }

    /// Make `alias` another address of the mailbox `address` (a rename); false when `alias`
    /// is a mailbox's own address or `address` no mailbox's.
    pub fn alias(&self, alias: &str, address: &str) -> bool {
        let (alias, address) = (
            alias.trim().to_ascii_lowercase(),
            address.to_ascii_lowercase(),
        );
        let map = self.mailboxes.read();
        let target = match map.get(&address) {
            Some(m) => m.info.address.clone(),
            None => match self.aliases.read().get(&address) {
                Some(a) => a.clone(),
                None => return false,
            },
        };
        if map.contains_key(&alias) {
            return false;
        }
        self.aliases.write().insert(alias, target);
        true
    }

    /// Every mailbox, sorted by address.
    pub fn all(&self) -> Vec<Arc<Mailbox>> {
        let mut all: Vec<_> = self.mailboxes.read().values().cloned().collect();
        all.sort_by(|a, b| a.info.address.cmp(&b.info.address));
        all
    }

    pub fn of_provider(&self, provider: Provider) -> Vec<Arc<Mailbox>> {
        self.all()
            .into_iter()
            .filter(|m| m.info.provider == provider)
            .collect()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// An empty Gmail mailbox (also for `threading`'s tests).
    pub(crate) fn mailbox() -> Mailbox {
        Mailbox::new(MailboxInfo {
            provider: Provider::Google,
            address: "me@ourco.test".into(),
            display_name: "Me".into(),
            tenant: None,
        })
    }

    /// A minimal raw message; `refs` are extra header lines.
    pub(crate) fn raw(id: &str, subject: &str, refs: &str) -> Bytes {
        Bytes::from(format!(
            "From: a@b.test\r\nMessage-ID: <{id}>\r\nSubject: {subject}\r\n{refs}\r\nbody\r\n"
        ))
    }

    #[test]
    fn google_ids_are_16_hex_digits() {
        let mb = mailbox();
        let id = mb.deliver(
            raw("1@x", "s", ""),
            MessageState::default(),
            1_700_000_000_000,
        );
        let id = id.unwrap_or_default();
        assert_eq!(id.len(), 16);
        assert!(id.chars().all(|c| c.is_ascii_hexdigit()));
    }
}
