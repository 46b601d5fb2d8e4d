//! Push test vocabulary: an Outlook mailbox linked with push on, worker passes until nothing
//! is due, the mailbox's push row and sync job, the emulator's subscriptions and request
//! counts, and notification POSTs as Graph sends them.
use std::future::Future;
use std::time::Duration;

use chrono::Utc;
use reqwest::StatusCode;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};
use serde_json::Value;
use threadline::db::entities::{jobs, mailbox_push, sync_runs};
use threadline::db::jobs as jobs_db;
use threadline::sync::worker::sync_next_due;
use threadline_emulator::control::DeliverQuery;
use threadline_emulator::microsoft::notify::{Sub, Subs};

use crate::common::{self, Linked, Mailbox};
use crate::support::TestApp;

pub const ADDRESS: &str = "polly@push-graph.test";
pub const MAILBOX: Mailbox = Mailbox {
    provider: "microsoft",
    address: ADDRESS,
    name: "Polly Push",
};
pub const PUSH_ON: &[&str] = &["--push", "on"];

pub async fn linked_with(args: &[&str]) -> Linked {
    let app = TestApp::spawn_with_emulator_args(args).await;
    app.setup_admin().await;
    app.provider_mailbox(MAILBOX.provider, ADDRESS, MAILBOX.name)
        .await;
    deliver(&app, "seed", "Welcome").await;
    common::link(app, MAILBOX).await
}

pub async fn deliver(app: &TestApp, tag: &str, subject: &str) -> String {
    let to = format!("Polly Push <{ADDRESS}>");
    let raw = common::message(&to, "", tag, subject, false);
    let query = DeliverQuery {
        folder: Some("inbox".into()),
        read: Some(false),
        ..DeliverQuery::default()
    };
    common::deliver_to(app, ADDRESS, &query, &raw).await
}

/// Worker passes until nothing is due; how many ran.
pub async fn drain(app: &TestApp) -> usize {
    let mut passes = 0;
    while sync_next_due(&app.deps, "push-test-worker")
        .await
        .expect("the pass succeeds")
        .is_some()
    {
        passes += 1;
        assert!(passes < 20, "passes never stop");
    }
    passes
}

pub async fn row(app: &TestApp, account_id: i64) -> mailbox_push::Model {
    threadline::db::push::find(&app.db, account_id)
        .await
        .unwrap()
        .expect("the mailbox's push row")
}

pub fn subs(app: &TestApp) -> Vec<Sub> {
    let emulator = app.emulator.as_ref().expect("emulator");
    emulator.state.ext.get::<Subs>().all()
}

pub async fn job(l: &Linked) -> jobs::Model {
    jobs_db::find(&l.app.db, jobs_db::SYNC_ACCOUNT, l.account_id)
        .await
        .unwrap()
        .expect("the mailbox's sync job")
}

pub async fn runs(l: &Linked) -> u64 {
    sync_runs::Entity::find()
        .filter(sync_runs::Column::AccountId.eq(l.account_id))
        .count(&l.app.db)
        .await
        .unwrap()
}

/// Requests the emulator answered on exactly `route`.
pub async fn route_requests(app: &TestApp, route: &str) -> u64 {
    let report = common::emulator_stats(app).await;
    report["requests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["route"].as_str() == Some(route))
        .map(|r| r["requests"].as_u64().unwrap_or(0))
        .sum()
}

/// POST a notification body as Graph would (no session, no CSRF token).
pub async fn post(app: &TestApp, path: &str, body: &Value) -> StatusCode {
    reqwest::Client::new()
        .post(app.url(path))
        .json(body)
        .send()
        .await
        .unwrap()
        .status()
}

pub async fn wait_for<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while tokio::time::Instant::now() < deadline {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("timed out waiting for {what}");
}

pub async fn due(l: &Linked) -> bool {
    job(l).await.run_at <= Utc::now()
}

pub async fn set_expiry(app: &TestApp, row: &mailbox_push::Model, sub_id: &str) {
    let soon = Utc::now() + chrono::Duration::hours(2);
    let emulator = app.emulator.as_ref().unwrap();
    emulator
        .state
        .ext
        .get::<Subs>()
        .update(sub_id, |s| s.expires = soon);
    let mut active: mailbox_push::ActiveModel = row.clone().into();
    active.expires_at = Set(Some(soon));
    active.update(&app.db).await.unwrap();
}
