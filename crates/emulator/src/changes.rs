//! Per-mailbox change log: every add, delete and state change with a monotonically increasing
//! sequence number (with gaps, like Gmail history ids). Gmail history and Graph delta are both
//! views over it. A cursor epoch and a floor make old cursors expire on demand or by retention.

use std::collections::VecDeque;

use super::store::MessageState;

/// What happened to one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChangeKind {
    /// Delivered (or imported) with this state.
    Added { state: MessageState },
    /// Permanently deleted; `state` is the last state it had.
    Deleted { state: MessageState },
    /// Read/starred/labels/folder changed.
    StateChanged {
        before: MessageState,
        after: MessageState,
    },
}

/// One entry of the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub seq: u64,
    pub message_id: String,
    pub thread_id: String,
    pub kind: ChangeKind,
}

/// A cursor older than the log's floor (expired by the control plane or by retention).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CursorExpired;

#[derive(Debug)]
pub struct ChangeLog {
    entries: VecDeque<Change>,
    head: u64,
    /// Cursors strictly below this are invalid.
    floor: u64,
    epoch: u64,
    retention: usize,
}

impl ChangeLog {
    /// `start` seeds the first sequence number so mailboxes do not share history ids.
    pub fn new(start: u64, retention: usize) -> Self {
        Self {
            entries: VecDeque::new(),
            head: start,
            floor: start,
            epoch: 0,
            retention,
        }
    }

    /// The newest sequence number (Gmail: the mailbox `historyId`).
    pub fn head(&self) -> u64 {
        self.head
    }

    /// Incremented by every `expire`; providers put it into opaque cursors (delta tokens).
    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    /// The lowest cursor still accepted.
    pub fn floor(&self) -> u64 {
        self.floor
    }

    fn advance(&mut self) -> u64 {
        // Gaps of 1..=7 so clients cannot assume consecutive ids (trap: "random gaps").
        let gap = 1 + (self.head.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 61);
        self.head += gap;
        self.head
    }

    /// Append a change and return its sequence number.
    pub fn record(&mut self, message_id: &str, thread_id: &str, kind: ChangeKind) -> u64 {
        let seq = self.advance();
        self.entries.push_back(Change {
            seq,
            message_id: message_id.to_string(),
            thread_id: thread_id.to_string(),
            kind,
        });
        while self.entries.len() > self.retention {
            if let Some(dropped) = self.entries.pop_front() {
                self.floor = self.floor.max(dropped.seq);
            }
        }
        seq
    }

    /// Changes strictly after `cursor`, oldest first.
    pub fn since(&self, cursor: u64) -> Result<impl Iterator<Item = &Change>, CursorExpired> {
        if cursor < self.floor {
            return Err(CursorExpired);
        }
        let start = self.entries.partition_point(|c| c.seq <= cursor);
        Ok(self.entries.range(start..))
    }

    /// Invalidate every cursor issued so far; the head moves past them so new cursors differ.
    pub fn expire(&mut self) {
        self.entries.clear();
        self.epoch += 1;
        let new_head = self.advance() + 1;
        self.floor = new_head;
        self.head = new_head;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn added() -> ChangeKind {
        ChangeKind::Added {
            state: MessageState::default(),
        }
    }

    #[test]
    fn sequences_increase_with_gaps_and_since_filters() {
        let mut log = ChangeLog::new(1000, 10);
        let a = log.record("m1", "t1", added());
        let b = log.record("m2", "t2", added());
        assert!(a > 1000 && b > a);
        let after_a: Vec<_> = log
            .since(a)
            .map(|i| i.map(|c| c.seq).collect())
            .unwrap_or_default();
        assert_eq!(after_a, vec![b]);
        assert_eq!(log.since(b).map(Iterator::count), Ok(0));
    }

    #[test]
    fn expire_invalidates_all_earlier_cursors() {
        let mut log = ChangeLog::new(1000, 10);
        let a = log.record("m1", "t1", added());
        let head = log.head();
        log.expire();
        assert!(log.since(a).is_err());
        assert!(log.since(head).is_err());
        assert!(log.since(log.head()).is_ok());
        assert_eq!(log.epoch(), 1);
    }

    #[test]
    fn retention_raises_the_floor() {
        let mut log = ChangeLog::new(1000, 2);
        let first = log.record("m1", "t1", added());
        log.record("m2", "t2", added());
        log.record("m3", "t3", added());
        assert!(log.since(first - 1).is_err());
        assert_eq!(log.since(first).map(Iterator::count), Ok(2));
    }
}
