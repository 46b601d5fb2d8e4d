//! Test vocabulary for sync: a linked Gmail mailbox with seeded mail, emulator changes, and the
//! comparison of what Threadline stored with the emulator's ground truth.
#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{json, Value};
use threadline::db::entities::{
    attachments, email_bodies, email_participants, emails, mail_accounts,
};
use threadline::sync::{self, SyncError, SyncOptions, SyncReport};
use threadline_emulator::corpus;

use crate::support::mail::approve;
use crate::support::TestApp;

pub const GMAIL: &str = "sam@gmail-sync.test";

/// Small pages (several transactions per label) and short waits.
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

/// An app with the Gmail mailbox linked: `generated` corpus messages plus one SPAM and one
/// TRASH message that must never be synced.
pub async fn linked(generated: usize) -> Linked {
    linked_tuned(generated, None).await
}

/// [`linked`], with emulator settings changed before the mailbox is linked.
pub async fn linked_tuned(generated: usize, tunables: Option<Value>) -> Linked {
    let app = TestApp::spawn_with_emulator().await;
    if let Some(body) = tunables {
        tune(&app, body).await;
    }
    app.setup_admin().await;
    app.provider_mailbox("google", GMAIL, "Sam Sync").await;
    if generated > 0 {
        let emulator = app.emulator.as_ref().expect("emulator");
        let mailbox = emulator.state.store.get(GMAIL).expect("mailbox");
        corpus::fill(&mailbox, 7, 0, generated).expect("corpus fills");
    }
    deliver(&app, &raw("spam-1", "Win a prize", false), "SPAM").await;
    deliver(&app, &raw("trash-1", "Old news", false), "TRASH").await;
    let res = app.connect("google", approve(GMAIL)).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let account = mail_accounts::Entity::find()
        .one(&app.db)
        .await
        .unwrap()
        .expect("linked account");
    Linked {
        app,
        account_id: account.id,
    }
}

impl Linked {
    pub async fn sync(&self) -> Result<SyncReport, SyncError> {
        sync::sync_account_with(&self.app.deps, self.account_id, &options()).await
    }

    pub async fn sync_ok(&self) -> SyncReport {
        self.sync().await.expect("sync pass succeeds")
    }
}

/// A small RFC 5322 message; `attach` adds a PDF part.
pub fn raw(tag: &str, subject: &str, attach: bool) -> String {
    let head = format!(
        "Message-ID: <{tag}@mail.example.test>\r\nFrom: Pat Buyer <pat@buyer.example>\r\n\
         To: Sam Sync <{GMAIL}>\r\nCc: ops@buyer.example\r\nSubject: {subject}\r\n\
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

/// Deliver a raw message with Gmail labels; returns its id.
pub async fn deliver(app: &TestApp, raw: &str, labels: &str) -> String {
    let res = app
        .client
        .post(app.emulator_url(&format!(
            "/_emulator/mailboxes/{GMAIL}/messages?labels={labels}"
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
        .patch(app.emulator_url(&format!("/_emulator/mailboxes/{GMAIL}/messages/{id}")))
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
        .delete(app.emulator_url(&format!("/_emulator/mailboxes/{GMAIL}/messages/{id}")))
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

/// Provider state as compared: labels without the UNREAD/STARRED flags, read, starred.
pub type State = (Vec<String>, bool, bool);

/// The emulator's ground truth by message id.
pub async fn truth(app: &TestApp) -> BTreeMap<String, State> {
    let res = app
        .client
        .get(app.emulator_url(&format!("/_emulator/mailboxes/{GMAIL}/messages")))
        .send()
        .await
        .unwrap();
    let items: Vec<Value> = res.json().await.unwrap();
    items
        .into_iter()
        .map(|m| {
            let mut labels: Vec<String> = m["labels"]
                .as_array()
                .unwrap()
                .iter()
                .map(|l| l.as_str().unwrap().to_string())
                .filter(|l| l != "UNREAD" && l != "STARRED")
                .collect();
            labels.sort();
            let state = (
                labels,
                m["read"].as_bool().unwrap(),
                m["starred"].as_bool().unwrap(),
            );
            (m["id"].as_str().unwrap().to_string(), state)
        })
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

fn in_scope(state: &State) -> bool {
    let l = &state.0;
    l.iter().any(|x| x == "INBOX" || x == "SENT") && !l.iter().any(|x| x == "SPAM" || x == "TRASH")
}

/// Every stored live message is in the provider with exactly its state; every synced-label
/// message of the provider is stored; deleted ones are gone from the provider.
pub async fn assert_matches_truth(l: &Linked) {
    let truth = truth(&l.app).await;
    let stored = stored(l).await;
    for (id, state) in &stored.live {
        assert_eq!(truth.get(id), Some(state), "stored message {id}");
    }
    for (id, state) in truth.iter().filter(|(_, s)| in_scope(s)) {
        assert!(
            stored.live.contains_key(id),
            "message {id} {state:?} not stored"
        );
    }
    for id in &stored.deleted {
        assert!(
            !truth.contains_key(id),
            "{id} marked deleted but still exists"
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

pub fn labels_json(labels: &[&str]) -> Value {
    json!(labels)
}

/// `GET /_emulator/stats`.
pub async fn emulator_stats(app: &TestApp) -> Value {
    app.client
        .get(app.emulator_url("/_emulator/stats"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Requests the emulator answered on `route` (a route template), and how many with `status`.
pub fn route_count(report: &Value, route: &str, status: Option<u16>) -> u64 {
    report["requests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["route"] == route)
        .map(|r| match status {
            None => r["requests"].as_u64().unwrap_or(0),
            Some(s) => r["statuses"][s.to_string()].as_u64().unwrap_or(0),
        })
        .sum()
}

/// Errors the emulator returned with `status`, on any route.
pub fn status_count(report: &Value, status: u16) -> u64 {
    report["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["statuses"][status.to_string()].as_u64().unwrap_or(0))
        .sum()
}

/// `PATCH /_emulator/settings`.
pub async fn tune(app: &TestApp, body: Value) {
    let res = app
        .client
        .patch(app.emulator_url("/_emulator/settings"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{}", res.status());
}
