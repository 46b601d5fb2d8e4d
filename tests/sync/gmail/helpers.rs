//! Gmail sync vocabulary: the linked Gmail mailbox with seeded mail (plus SPAM and TRASH
//! messages that must never sync), label changes, and the comparison of what Threadline stored
//! with the emulator's ground truth.
#![allow(dead_code)]

use std::collections::BTreeMap;

use serde_json::Value;
use threadline_emulator::control::{DeliverQuery, TruthItem};

use crate::common::{self as common, Mailbox};
pub use crate::common::{
    clear_faults, emulator_stats, fault, options, route_count, row_counts, status_count, stored,
    tune, Linked, State,
};
use crate::support::TestApp;

pub const GMAIL: &str = "sam@gmail-sync.test";
const MAILBOX: Mailbox = Mailbox {
    provider: "google",
    address: GMAIL,
    name: "Sam Sync",
};

/// An app with the Gmail mailbox linked: `generated` corpus messages plus one SPAM and one
/// TRASH message that must never be synced.
pub async fn linked(generated: usize) -> Linked {
    linked_tuned(generated, None).await
}

/// [`linked`], with emulator settings changed before the mailbox is linked.
pub async fn linked_tuned(generated: usize, tunables: Option<Value>) -> Linked {
    let app = common::app_with_mailbox(MAILBOX, tunables, (7, 0), generated).await;
    deliver(&app, &raw("spam-1", "Win a prize", false), "SPAM").await;
    deliver(&app, &raw("trash-1", "Old news", false), "TRASH").await;
    common::link(app, MAILBOX).await
}

/// A small RFC 5322 message to the Gmail mailbox; `attach` adds a PDF part.
pub fn raw(tag: &str, subject: &str, attach: bool) -> String {
    common::message(&format!("Sam Sync <{GMAIL}>"), "", tag, subject, attach)
}

/// Deliver a raw message with Gmail labels; returns its id.
pub async fn deliver(app: &TestApp, raw: &str, labels: &str) -> String {
    let query = DeliverQuery {
        labels: Some(labels.to_string()),
        ..DeliverQuery::default()
    };
    common::deliver_to(app, GMAIL, &query, raw).await
}

pub async fn patch(app: &TestApp, id: &str, body: Value) {
    common::patch_in(app, GMAIL, id, body).await;
}

pub async fn delete(app: &TestApp, id: &str) {
    common::delete_in(app, GMAIL, id).await;
}

/// The emulator's ground truth as it lists it.
pub async fn truth_items(app: &TestApp) -> Vec<TruthItem> {
    common::messages_in(app, GMAIL).await
}

/// The emulator's ground truth by message id.
pub async fn truth(app: &TestApp) -> BTreeMap<String, State> {
    common::messages_in(app, GMAIL)
        .await
        .into_iter()
        .map(|m| {
            let mut labels: Vec<String> = m
                .labels
                .unwrap_or_default()
                .into_iter()
                .filter(|l| l != "UNREAD" && l != "STARRED")
                .collect();
            labels.sort();
            (m.id, State::new(labels, m.read, m.starred))
        })
        .collect()
}

/// In TRASH or SPAM: deleted in the provider.
pub fn in_bin(state: &State) -> bool {
    state.labels.iter().any(|x| x == "SPAM" || x == "TRASH")
}

fn in_scope(state: &State) -> bool {
    let l = &state.labels;
    l.iter().any(|x| x == "INBOX" || x == "SENT") && !l.iter().any(|x| x == "SPAM" || x == "TRASH")
}

/// Every stored live message is in the provider with exactly its state; every synced-label
/// message of the provider is stored; deleted ones are gone from the provider or in TRASH /
/// SPAM.
pub async fn assert_matches_truth(l: &Linked) {
    let truth = truth(&l.app).await;
    let stored = stored(l).await;
    for (id, state) in &stored.live {
        assert_eq!(truth.get(id), Some(state), "stored message {id}");
        assert!(!in_bin(state), "{id} in TRASH or SPAM but stored live");
    }
    for (id, state) in truth.iter().filter(|(_, s)| in_scope(s)) {
        assert!(
            stored.live.contains_key(id),
            "message {id} {state:?} not stored"
        );
    }
    for id in &stored.deleted {
        assert!(
            truth.get(id).is_none_or(in_bin),
            "{id} marked deleted but live in the provider: {:?}",
            truth.get(id)
        );
    }
}
