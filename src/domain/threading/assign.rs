//! Incremental assignment for the sync engine: which thread a new message joins, which threads
//! it merges, from the thread keys already stored for the ids it mentions.
use super::{canonical_id, ThreadInput};
use crate::domain::message::MessageId;

/// Where a new message goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    /// The thread the new message belongs to.
    pub thread_key: String,
    /// Other existing threads the message connects: their messages move into `thread_key`.
    /// Sorted, without `thread_key`.
    pub merges: Vec<String>,
}

/// Header rules only (provider hints and the subject fallback need the whole thread and are
/// left to [`super::thread`]). `known(id)` is the thread key the store has for an id: a stored
/// message with that Message-ID, or a stored message that references it.
///
/// The ids are consulted root-most first: References (oldest first), In-Reply-To, then the
/// message's own Message-ID. The first known one names the thread; every other distinct known
/// key is merged into it. When none is known, the key is `<first reference>`, else
/// `<in-reply-to>`, else `<own id>`, else the message key: the same root-most id the batch
/// engine picks when the thread's root is missing.
pub fn assign(new: &ThreadInput, known: &dyn Fn(&MessageId) -> Option<String>) -> Assignment {
    let ids: Vec<&MessageId> = new
        .references
        .iter()
        .chain(&new.in_reply_to)
        .chain(&new.message_id)
        .collect();
    let mut found: Vec<String> = Vec::new();
    for id in &ids {
        if let Some(key) = known(id) {
            if !found.contains(&key) {
                found.push(key);
            }
        }
    }
    if found.is_empty() {
        let thread_key = ids
            .first()
            .map_or_else(|| new.key.clone(), |id| format!("<{}>", canonical_id(id)));
        return Assignment {
            thread_key,
            merges: Vec::new(),
        };
    }
    let thread_key = found.remove(0);
    found.sort();
    Assignment {
        thread_key,
        merges: found,
    }
}
