//! Outlook sync vocabulary: the linked Outlook mailbox with seeded mail in Inbox, Sent Items, a
//! child folder of Inbox, Junk Email and Deleted Items; folder changes; and the exact comparison
//! of what Threadline stored with the emulator's ground truth.
#![allow(dead_code)]

use std::collections::BTreeMap;

use serde_json::Value;
use threadline_emulator::control::{DeliverQuery, TruthItem};
use threadline_emulator::microsoft::folders::{folder_id, normalise_key};

use crate::common::{self, Mailbox};
pub use crate::common::{emulator_stats, fault, options, row_counts, stored, Linked, State};
use crate::support::TestApp;

pub const OUTLOOK: &str = "olive@outlook-sync.test";
/// A child folder of Inbox (synced with it).
pub const CLIENTS: &str = "inbox/Clients";
const MAILBOX: Mailbox = Mailbox {
    provider: "microsoft",
    address: OUTLOOK,
    name: "Olive Outlook",
};

/// An app with the Outlook mailbox linked: `generated` corpus messages (Inbox and Sent Items),
/// two in `inbox/Clients`, and one each in Junk Email and Deleted Items that must never sync.
pub async fn linked(generated: usize) -> Linked {
    let app = common::app_with_mailbox(MAILBOX, None, (11, 1), generated).await;
    deliver(&app, &raw("client-1", "Quote", true), CLIENTS, true).await;
    deliver(&app, &raw("client-2", "Order", false), CLIENTS, false).await;
    deliver(
        &app,
        &raw("junk-1", "Win a prize", false),
        "junkemail",
        false,
    )
    .await;
    deliver(&app, &raw("bin-1", "Old news", false), "deleteditems", true).await;
    common::link(app, MAILBOX).await
}

/// A small RFC 5322 message to the Outlook mailbox; `attach` adds a PDF part.
pub fn raw(tag: &str, subject: &str, attach: bool) -> String {
    let to = format!("Olive Outlook <{OUTLOOK}>");
    let references = format!("References: <root-{tag}@mail.example.test>\r\n");
    common::message(&to, &references, tag, subject, attach)
}

/// Deliver a raw message into an Outlook folder (`inbox`, `inbox/Clients`, ...); returns its
/// (immutable) id.
pub async fn deliver(app: &TestApp, raw: &str, folder: &str, read: bool) -> String {
    let query = DeliverQuery {
        folder: Some(folder.to_string()),
        read: Some(read),
        ..DeliverQuery::default()
    };
    common::deliver_to(app, OUTLOOK, &query, raw).await
}

pub async fn patch(app: &TestApp, id: &str, body: Value) {
    common::patch_in(app, OUTLOOK, id, body).await;
}

pub async fn delete(app: &TestApp, id: &str) {
    common::delete_in(app, OUTLOOK, id).await;
}

pub async fn expire_cursors(app: &TestApp) {
    app.emulator_client()
        .expire_cursors(OUTLOOK)
        .await
        .expect("expire-cursors");
}

/// The label Threadline files a folder's messages under: the well-known name, else its id.
pub fn label_of(folder_key: &str) -> String {
    let key = normalise_key(folder_key);
    if key.contains('/') {
        folder_id(OUTLOOK, &key)
    } else {
        key
    }
}

/// Whether a folder (emulator key) is synced by default: Inbox, Sent Items and their children.
pub fn synced_folder(folder_key: &str) -> bool {
    let key = normalise_key(folder_key);
    let top = key.split('/').next().unwrap_or_default();
    matches!(top, "inbox" | "sentitems")
}

/// A message's place in the emulator: its folder key, read, flagged.
#[derive(Debug, Clone)]
pub struct Placement {
    pub folder: String,
    pub read: bool,
    pub flagged: bool,
}

/// The emulator's ground truth as it lists it.
pub async fn truth_items(app: &TestApp) -> Vec<TruthItem> {
    common::messages_in(app, OUTLOOK).await
}

/// The emulator's ground truth by id.
pub async fn truth(app: &TestApp) -> BTreeMap<String, Placement> {
    common::messages_in(app, OUTLOOK)
        .await
        .into_iter()
        .map(|m| {
            let placement = Placement {
                folder: m.folder.unwrap_or_else(|| "inbox".to_string()),
                read: m.read,
                flagged: m.starred,
            };
            (m.id, placement)
        })
        .collect()
}

/// What Threadline must hold: every message of a synced folder, with its label and flags.
pub async fn expected(app: &TestApp) -> BTreeMap<String, State> {
    truth(app)
        .await
        .into_iter()
        .filter(|(_, p)| synced_folder(&p.folder))
        .map(|(id, p)| {
            let state = State {
                labels: vec![label_of(&p.folder)],
                read: p.read,
                starred: p.flagged,
            };
            (id, state)
        })
        .collect()
}

/// Whether a folder (emulator key) is Deleted Items, Junk Email or under them: what sits there
/// is deleted in the provider.
pub fn in_bin(folder_key: &str) -> bool {
    let key = normalise_key(folder_key);
    let top = key.split('/').next().unwrap_or_default();
    matches!(top, "deleteditems" | "junkemail")
}

/// The label of a folder outside the synced ones: its well-known name, else its display name.
pub fn label_elsewhere(folder_key: &str) -> String {
    let key = normalise_key(folder_key);
    key.rsplit('/').next().unwrap_or_default().to_string()
}

/// Stored live messages are the synced-folder messages of the provider, each with its folder,
/// read and flagged state, plus messages moved to a folder outside the synced ones (filed
/// under it); messages marked deleted are gone or under Deleted Items / Junk Email.
pub async fn assert_matches_truth(l: &Linked) {
    let expected = expected(&l.app).await;
    let truth = truth(&l.app).await;
    let stored = stored(l).await;
    for (id, state) in &expected {
        assert_eq!(stored.live.get(id), Some(state), "message {id}");
    }
    for (id, state) in &stored.live {
        if expected.contains_key(id) {
            continue;
        }
        let place = truth.get(id);
        assert!(
            place.is_some_and(|p| !in_bin(&p.folder)),
            "stored {id} {state:?} is neither synced nor live elsewhere: {place:?}"
        );
        if let Some(p) = place {
            assert_eq!(
                state.labels,
                vec![label_elsewhere(&p.folder)],
                "message {id}"
            );
        }
    }
    for id in &stored.deleted {
        assert!(
            !expected.contains_key(id),
            "{id} marked deleted but still synced"
        );
        assert!(
            truth.get(id).is_none_or(|p| in_bin(&p.folder)),
            "{id} marked deleted but live in {:?}",
            truth.get(id)
        );
    }
}

/// Stored live ids filed under `label` alone.
pub async fn filed(l: &Linked, label: &str) -> Vec<String> {
    stored(l)
        .await
        .live
        .into_iter()
        .filter(|(_, s)| s.labels == vec![label.to_string()])
        .map(|(id, _)| id)
        .collect()
}
