//! Test vocabulary for Outlook sync: a linked Outlook mailbox with seeded mail in Inbox, Sent
//! Items, a child folder of Inbox, Junk Email and Deleted Items; emulator changes; and the exact
//! comparison of what Threadline stored with the emulator's ground truth.
#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::Value;
use threadline::db::entities::{
    attachments, email_bodies, email_participants, emails, mail_accounts,
};
use threadline::sync::{self, SyncError, SyncOptions, SyncReport};
use threadline_emulator::corpus;
use threadline_emulator::microsoft::folders::{folder_id, normalise_key};

use crate::support::mail::approve;
use crate::support::TestApp;

pub const OUTLOOK: &str = "olive@outlook-sync.test";
/// A child folder of Inbox (synced with it).
pub const CLIENTS: &str = "inbox/Clients";

/// Small pages (several transactions per folder) and short waits.
pub fn options() -> SyncOptions {
    SyncOptions {
        page_size: 7,
        backoff_base: Duration::from_millis(10),
        max_retry_after: Duration::from_secs(2),
        ..SyncOptions::default()
    }
}

pub struct Linked {
    pub app: TestApp,
    pub account_id: i64,
}

/// An app with the Outlook mailbox linked: `generated` corpus messages (Inbox and Sent Items),
/// two in `inbox/Clients`, and one each in Junk Email and Deleted Items that must never sync.
pub async fn linked(generated: usize) -> Linked {
    let app = TestApp::spawn_with_emulator().await;
    app.setup_admin().await;
    app.provider_mailbox("microsoft", OUTLOOK, "Olive Outlook")
        .await;
    if generated > 0 {
        let emulator = app.emulator.as_ref().expect("emulator");
        let mailbox = emulator.state.store.get(OUTLOOK).expect("mailbox");
        corpus::fill(&mailbox, 11, 1, generated).expect("corpus fills");
    }
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
    let res = app.connect("microsoft", approve(OUTLOOK)).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let account = mail_accounts::Entity::find()
        .one(&app.db)
        .await
        .unwrap()
        .expect("linked account");
    assert_eq!(account.provider.as_str(), "microsoft");
    Linked {
        app,
        account_id: account.id,
    }
}

impl Linked {
    pub async fn sync_with(&self, options: &SyncOptions) -> Result<SyncReport, SyncError> {
        sync::sync_account_with(&self.app.deps, self.account_id, options).await
    }

    pub async fn sync(&self) -> Result<SyncReport, SyncError> {
        self.sync_with(&options()).await
    }

    pub async fn sync_ok(&self) -> SyncReport {
        self.sync().await.expect("sync pass succeeds")
    }
}

/// A small RFC 5322 message; `attach` adds a PDF part.
pub fn raw(tag: &str, subject: &str, attach: bool) -> String {
    let head = format!(
        "Message-ID: <{tag}@mail.example.test>\r\nFrom: Pat Buyer <pat@buyer.example>\r\n\
         To: Olive Outlook <{OUTLOOK}>\r\nCc: ops@buyer.example\r\nSubject: {subject}\r\n\
         References: <root-{tag}@mail.example.test>\r\n\
         Date: Mon, 16 Nov 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\n"
    );
    if attach {
        format!(
            "{head}Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\n\
             Content-Type: text/plain; charset=utf-8\r\n\r\nSee attached, {tag}.\r\n--b1\r\n\
             Content-Type: application/pdf; name=\"quote.pdf\"\r\n\
             Content-Disposition: attachment; filename=\"quote.pdf\"\r\n\
             Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--b1--\r\n"
        )
    } else {
        format!("{head}Content-Type: text/plain; charset=utf-8\r\n\r\nHello from {tag}.\r\n")
    }
}

/// Deliver a raw message into an Outlook folder (`inbox`, `inbox/Clients`, ...); returns its
/// (immutable) id.
pub async fn deliver(app: &TestApp, raw: &str, folder: &str, read: bool) -> String {
    let res = app
        .client
        .post(app.emulator_url(&format!(
            "/_emulator/mailboxes/{OUTLOOK}/messages?folder={folder}&read={read}"
        )))
        .header("Content-Type", "message/rfc822")
        .body(raw.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let v: Value = res.json().await.unwrap();
    v["id"].as_str().unwrap().to_string()
}

pub async fn patch(app: &TestApp, id: &str, body: Value) {
    let res = app
        .client
        .patch(app.emulator_url(&format!("/_emulator/mailboxes/{OUTLOOK}/messages/{id}")))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "{}",
        res.text().await.unwrap()
    );
}

pub async fn delete(app: &TestApp, id: &str) {
    let res = app
        .client
        .delete(app.emulator_url(&format!("/_emulator/mailboxes/{OUTLOOK}/messages/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
}

pub async fn control_post(app: &TestApp, path: &str, body: Option<Value>) {
    let mut req = app.client.post(app.emulator_url(path));
    if let Some(body) = body {
        req = req.json(&body);
    }
    let res = req.send().await.unwrap();
    assert!(res.status().is_success(), "{path}: {}", res.status());
}

pub async fn expire_cursors(app: &TestApp) {
    control_post(
        app,
        &format!("/_emulator/mailboxes/{OUTLOOK}/expire-cursors"),
        None,
    )
    .await;
}

pub async fn fault(app: &TestApp, rule: Value) {
    control_post(app, "/_emulator/faults", Some(rule)).await;
}

pub async fn clear_faults(app: &TestApp) {
    let res = app
        .client
        .delete(app.emulator_url("/_emulator/faults"))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success());
}

/// Provider state as compared: folder labels (as Threadline files them), read, flagged.
pub type State = (Vec<String>, bool, bool);

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

/// The emulator's ground truth by id: (folder key, read, flagged).
pub async fn truth(app: &TestApp) -> BTreeMap<String, (String, bool, bool)> {
    let res = app
        .client
        .get(app.emulator_url(&format!("/_emulator/mailboxes/{OUTLOOK}/messages")))
        .send()
        .await
        .unwrap();
    let items: Vec<Value> = res.json().await.unwrap();
    items
        .into_iter()
        .map(|m| {
            let folder = m["folder"].as_str().unwrap_or("inbox").to_string();
            let state = (
                folder,
                m["read"].as_bool().unwrap(),
                m["starred"].as_bool().unwrap(),
            );
            (m["id"].as_str().unwrap().to_string(), state)
        })
        .collect()
}

/// What Threadline must hold: every message of a synced folder, with its label and flags.
pub async fn expected(app: &TestApp) -> BTreeMap<String, State> {
    truth(app)
        .await
        .into_iter()
        .filter(|(_, (folder, _, _))| synced_folder(folder))
        .map(|(id, (folder, read, flagged))| (id, (vec![label_of(&folder)], read, flagged)))
        .collect()
}

pub struct Stored {
    pub live: BTreeMap<String, State>,
    pub deleted: BTreeSet<String>,
}

pub async fn stored(l: &Linked) -> Stored {
    let rows = emails::Entity::find()
        .filter(emails::Column::AccountId.eq(l.account_id))
        .all(&l.app.db)
        .await
        .unwrap();
    let mut out = Stored {
        live: BTreeMap::new(),
        deleted: BTreeSet::new(),
    };
    for r in rows {
        if r.deleted_in_provider_at.is_some() {
            out.deleted.insert(r.provider_message_id);
        } else {
            let labels: Vec<String> = r.folders.into_iter().collect();
            out.live.insert(
                r.provider_message_id,
                (labels, r.provider_read, r.provider_starred),
            );
        }
    }
    out
}

/// Stored live messages are exactly the synced-folder messages of the provider, each with its
/// folder, read and flagged state; messages marked deleted are nowhere synced any more.
pub async fn assert_matches_truth(l: &Linked) {
    let expected = expected(&l.app).await;
    let stored = stored(l).await;
    for (id, state) in &expected {
        assert_eq!(stored.live.get(id), Some(state), "message {id}");
    }
    for (id, state) in &stored.live {
        assert!(
            expected.contains_key(id),
            "stored {id} {state:?} is not in a synced folder"
        );
    }
    for id in &stored.deleted {
        assert!(
            !expected.contains_key(id),
            "{id} marked deleted but still synced"
        );
    }
}

/// Rows per table for the mailbox: (emails, bodies, participants, attachments).
pub async fn row_counts(l: &Linked) -> (u64, u64, u64, u64) {
    let ids: Vec<i64> = emails::Entity::find()
        .filter(emails::Column::AccountId.eq(l.account_id))
        .all(&l.app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.id)
        .collect();
    let db = &l.app.db;
    let bodies = email_bodies::Entity::find()
        .filter(email_bodies::Column::EmailId.is_in(ids.clone()))
        .count(db)
        .await
        .unwrap();
    let people = email_participants::Entity::find()
        .filter(email_participants::Column::EmailId.is_in(ids.clone()))
        .count(db)
        .await
        .unwrap();
    let files = attachments::Entity::find()
        .filter(attachments::Column::EmailId.is_in(ids.clone()))
        .count(db)
        .await
        .unwrap();
    (ids.len() as u64, bodies, people, files)
}
