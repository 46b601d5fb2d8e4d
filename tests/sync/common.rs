//! Sync vocabulary shared by the Gmail and Outlook suites, parametrised by the provider's
//! mailbox: sync options, linking a seeded mailbox, emulator changes, faults and settings, the
//! emulator's request stats, and what Threadline stored for the mailbox.
#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use reqwest::StatusCode;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, Statement};
use serde_json::Value;
use threadline::db::entities::{
    attachments, email_bodies, email_participants, emails, mail_accounts, sync_cursors, sync_runs,
};
use threadline::db::sync_runs as runs_db;
use threadline::sync::{self, SyncError, SyncOptions, SyncReport};
use threadline_emulator::control::{DeliverQuery, MessagePatch, TruthItem};
use threadline_emulator::corpus;
use threadline_emulator::faults::FaultRule;
use tokio::task::JoinHandle;

use crate::support::mail::approve;
use crate::support::TestApp;

/// One provider's test mailbox: provider name as the app spells it, address, display name.
#[derive(Clone, Copy)]
pub struct Mailbox {
    pub provider: &'static str,
    pub address: &'static str,
    pub name: &'static str,
}

/// Deliver to `mailbox` a message from `from` (`Name <address>`) with subject `subject {tag}`,
/// unread or read.
pub async fn deliver_from(
    l: &Linked,
    mailbox: Mailbox,
    query: &DeliverQuery,
    (tag, from): (&str, &str),
    unread: bool,
) -> String {
    let to = format!("{} <{}>", mailbox.name, mailbox.address);
    let raw = message(&to, "", tag, &format!("subject {tag}"), unread)
        .replace("Pat Buyer <pat@buyer.example>", from);
    deliver_to(&l.app, mailbox.address, query, &raw).await
}

/// Small pages (several transactions per label or folder) and short waits.
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

    /// A sync pass running in the background.
    pub fn spawn_pass(&self, options: SyncOptions) -> JoinHandle<Result<SyncReport, SyncError>> {
        let deps = self.app.deps.clone();
        let account = self.account_id;
        tokio::spawn(async move { sync::sync_account_with(&deps, account, &options).await })
    }
}

/// Wait until a listing whose cursor scope starts with `scope` has committed a page (a page
/// token is stored).
pub async fn until_a_page_is_committed(l: &Linked, scope: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while tokio::time::Instant::now() < deadline {
        let cursors = sync_cursors::Entity::find()
            .filter(sync_cursors::Column::AccountId.eq(l.account_id))
            .all(&l.app.db)
            .await
            .unwrap();
        if cursors
            .iter()
            .any(|c| c.scope.starts_with(scope) && c.page_token.is_some())
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    panic!("no {scope} page was committed");
}

/// Clear the faults and sync again: the pass succeeds and leaves one body per email. Its report
/// and the mailbox's row counts after it.
pub async fn resume_without_faults(l: &Linked) -> (SyncReport, RowCounts) {
    clear_faults(&l.app).await;
    let report = l.sync_ok().await;
    let counts = row_counts(l).await;
    assert_eq!(counts.emails, counts.bodies, "one body per email");
    (report, counts)
}

/// Slow the pass down with the `slow` fault rule, start it, and kill it once a page under
/// `scope` is committed.
pub async fn kill_a_pass_after_its_first_page(l: &Linked, scope: &str, slow: Value) {
    fault(&l.app, slow).await;
    let pass = l.spawn_pass(options());
    until_a_page_is_committed(l, scope).await;
    pass.abort();
    let _ = pass.await;
}

/// Slow the pass down with the `slow` fault rule (two tries per transient error), and once a
/// page under `scope` is committed make every request `cut` fails: the pass fails with a
/// provider error, keeps its first page, and records the error on its run and on the account.
/// Returns how many messages were kept.
pub async fn fail_a_pass_after_its_first_page(
    l: &Linked,
    scope: &str,
    slow: Value,
    cut: Value,
) -> usize {
    fault(&l.app, slow).await;
    let pass = l.spawn_pass(SyncOptions {
        transient_tries: 2,
        ..options()
    });
    until_a_page_is_committed(l, scope).await;
    fault(&l.app, cut).await;
    let failed = pass.await.unwrap();
    assert!(matches!(failed, Err(SyncError::Provider(_))), "{failed:?}");
    let partial = stored(l).await.live.len();
    assert!(partial > 0, "the first page was kept");
    let runs = runs_db::runs(&l.app.db, l.account_id).await.unwrap();
    assert_eq!(runs[0].status.as_str(), "failed");
    assert!(runs[0].error.is_some());
    let account = mail_accounts::Entity::find_by_id(l.account_id)
        .one(&l.app.db)
        .await
        .unwrap()
        .unwrap();
    assert!(account.last_error.is_some());
    partial
}

/// The app with an admin and the provider's mailbox in the emulator (emulator settings changed
/// first when `tunables` is given), `generated` corpus messages filled in with `seed`.
pub async fn app_with_mailbox(
    mailbox: Mailbox,
    tunables: Option<Value>,
    (seed, index): (u64, usize),
    generated: usize,
) -> TestApp {
    let app = TestApp::spawn_with_emulator().await;
    if let Some(body) = tunables {
        tune(&app, body).await;
    }
    app.setup_admin().await;
    app.provider_mailbox(mailbox.provider, mailbox.address, mailbox.name)
        .await;
    if generated > 0 {
        let emulator = app.emulator.as_ref().expect("emulator");
        let store = emulator.state.store.get(mailbox.address).expect("mailbox");
        corpus::fill(&store, seed, index, generated).expect("corpus fills");
    }
    app
}

/// Connect the mailbox through the app's OAuth flow; the linked account.
pub async fn link(app: TestApp, mailbox: Mailbox) -> Linked {
    let res = app
        .connect(mailbox.provider, approve(mailbox.address))
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let account = mail_accounts::Entity::find()
        .one(&app.db)
        .await
        .unwrap()
        .expect("linked account");
    assert_eq!(account.provider.as_str(), mailbox.provider);
    Linked {
        app,
        account_id: account.id,
    }
}

/// A small RFC 5322 message to `to` (with `extra` headers); `attach` adds a PDF part.
pub fn message(to: &str, extra: &str, tag: &str, subject: &str, attach: bool) -> String {
    let head = format!(
        "Message-ID: <{tag}@mail.example.test>\r\nFrom: Pat Buyer <pat@buyer.example>\r\n\
         To: {to}\r\nCc: ops@buyer.example\r\nSubject: {subject}\r\n{extra}\
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

/// Deliver a raw message into `address` at the given placement; returns its id.
pub async fn deliver_to(app: &TestApp, address: &str, query: &DeliverQuery, raw: &str) -> String {
    app.emulator_client()
        .deliver(address, raw, query)
        .await
        .expect("delivered")
}

/// Change a message as its user would (fields of [`MessagePatch`] as JSON).
pub async fn patch_in(app: &TestApp, address: &str, id: &str, body: Value) {
    let change: MessagePatch = serde_json::from_value(body).expect("a message patch");
    app.emulator_client()
        .patch_message(address, id, &change)
        .await
        .expect("message patched");
}

pub async fn delete_in(app: &TestApp, address: &str, id: &str) {
    app.emulator_client()
        .delete_message(address, id)
        .await
        .expect("message deleted");
}

/// The emulator's ground truth of `address`.
pub async fn messages_in(app: &TestApp, address: &str) -> Vec<TruthItem> {
    app.emulator_client().truth(address).await.expect("truth")
}

/// Inject a fault rule (fields of [`FaultRule`] as JSON).
pub async fn fault(app: &TestApp, rule: Value) {
    let rule: FaultRule = serde_json::from_value(rule).expect("a fault rule");
    app.emulator_client()
        .inject_fault(&rule)
        .await
        .expect("fault injected");
}

pub async fn clear_faults(app: &TestApp) {
    app.emulator_client()
        .clear_faults()
        .await
        .expect("faults cleared");
}

/// Change emulator settings (fields of its tunables as JSON).
pub async fn tune(app: &TestApp, body: Value) {
    app.emulator_client().tune(&body).await.expect("tuned");
}

/// The emulator's request statistics, as JSON.
pub async fn emulator_stats(app: &TestApp) -> Value {
    let report = app.emulator_client().stats().await.expect("stats");
    serde_json::to_value(report).expect("stats as JSON")
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

/// A message's provider state as compared: its labels (Gmail labels without the UNREAD and
/// STARRED flags, or the label Threadline files an Outlook folder under), read, starred.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct State {
    pub labels: Vec<String>,
    pub read: bool,
    pub starred: bool,
}

impl State {
    pub fn new(labels: Vec<String>, read: bool, starred: bool) -> Self {
        Self {
            labels,
            read,
            starred,
        }
    }
}

/// What Threadline holds for the mailbox: live messages with their state, and the ids of
/// messages marked deleted in the provider.
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
            let state = State {
                labels: r.folders.into_iter().collect(),
                read: r.provider_read,
                starred: r.provider_starred,
            };
            out.live.insert(r.provider_message_id, state);
        }
    }
    out
}

/// Rows per table for the mailbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowCounts {
    pub emails: u64,
    pub bodies: u64,
    pub participants: u64,
    pub attachments: u64,
}

/// The ids of the mailbox's stored emails.
pub async fn email_ids(l: &Linked) -> Vec<i64> {
    emails::Entity::find()
        .filter(emails::Column::AccountId.eq(l.account_id))
        .all(&l.app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.id)
        .collect()
}

pub async fn row_counts(l: &Linked) -> RowCounts {
    let ids = email_ids(l).await;
    let db = &l.app.db;
    let bodies = email_bodies::Entity::find()
        .filter(email_bodies::Column::EmailId.is_in(ids.clone()))
        .count(db)
        .await
        .unwrap();
    let participants = email_participants::Entity::find()
        .filter(email_participants::Column::EmailId.is_in(ids.clone()))
        .count(db)
        .await
        .unwrap();
    let attachments = attachments::Entity::find()
        .filter(attachments::Column::EmailId.is_in(ids.clone()))
        .count(db)
        .await
        .unwrap();
    RowCounts {
        emails: ids.len() as u64,
        bodies,
        participants,
        attachments,
    }
}

/// The pass stored exactly one email more than `before`, each with its body, and the next pass
/// is incremental and changes no row count. Returns the counts after the pass.
pub async fn assert_one_email_more_then_quiet(l: &Linked, before: RowCounts) -> RowCounts {
    let after = row_counts(l).await;
    assert_eq!(after.emails, before.emails + 1, "no duplicates");
    assert_eq!(after.emails, after.bodies);
    let next = l.sync_ok().await;
    assert_eq!(next.kind.as_str(), "incremental");
    assert_eq!(row_counts(l).await, after);
    after
}

/// Revoke the mailbox's grants at the provider and sync: the pass fails asking for a
/// reconnect, stores nothing, and leaves the account `needs_reconnect` and its run failed.
/// Returns the account and its runs (newest first) for further checks.
pub async fn assert_revoked_grant_needs_reconnect(
    l: &Linked,
    address: &str,
) -> (mail_accounts::Model, Vec<sync_runs::Model>) {
    let before = row_counts(l).await;
    l.app
        .emulator_client()
        .revoke_tokens(address)
        .await
        .expect("revoke-tokens");
    let err = l.sync().await.unwrap_err();
    assert!(matches!(err, SyncError::NeedsReconnect), "{err:?}");
    assert_eq!(row_counts(l).await, before);
    let account = mail_accounts::Entity::find_by_id(l.account_id)
        .one(&l.app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(account.status.as_str(), "needs_reconnect");
    let runs = runs_db::runs(&l.app.db, l.account_id).await.unwrap();
    assert_eq!(runs[0].status.as_str(), "failed");
    (account, runs)
}

/// Runs the `threadline` binary on the test app's database without blocking the runtime (the
/// emulator it talks to lives in this process): `client` is the OAuth client's id and secret
/// flags with their values, `urls` the flags pointed at the emulator.
pub async fn threadline(
    l: &Linked,
    args: &[&str],
    client: [&str; 4],
    urls: &[&str],
) -> std::process::Output {
    let e = l.app.emulator.as_ref().expect("emulator").base_url.clone();
    let db = &l.app.test_db;
    let data = db.dir.join("data").display().to_string();
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_threadline"));
    cmd.current_dir(&db.dir)
        .env_remove("DATABASE_URL")
        .env_remove("THREADLINE_SECRET_KEY")
        .args(args)
        .args(["--database-url", &db.url, "--data-dir", &data])
        .args(client);
    for flag in urls {
        cmd.args([*flag, e.as_str()]);
    }
    cmd.output().await.expect("threadline runs")
}

/// The `sync` command succeeded and reported the initial sync of `address`.
pub fn assert_initial_sync_done(out: &std::process::Output, address: &str) {
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains(&format!("{address}: initial sync done")),
        "{stdout}"
    );
}

/// A short lease for the takeover tests (renewed every second while a pass runs).
pub const TEST_LEASE: Duration = Duration::from_secs(3);

/// One worker step of `worker` (small pages, [`TEST_LEASE`]).
pub async fn worker_step(l: &Linked, worker: &str) -> Result<Option<SyncReport>, SyncError> {
    sync::worker::sync_next_due_with(&l.app.deps, worker, TEST_LEASE, &options()).await
}

/// Slow the pass down with `slow`, let `worker` claim the mailbox and start its pass, and kill
/// the worker (its pass and heartbeat) once a page under `scope` is committed.
pub async fn kill_a_worker_after_its_first_page(
    l: &Linked,
    worker: &str,
    scope: &str,
    slow: Value,
) {
    fault(&l.app, slow).await;
    let deps = l.app.deps.clone();
    let id = worker.to_string();
    let pass = tokio::spawn(async move {
        sync::worker::sync_next_due_with(&deps, &id, TEST_LEASE, &options()).await
    });
    until_a_page_is_committed(l, scope).await;
    pass.abort();
    let _ = pass.await;
}

/// The mailbox's runs, newest first, none of them still `running`.
pub async fn runs_all_ended(l: &Linked) -> Vec<sync_runs::Model> {
    let runs = runs_db::runs(&l.app.db, l.account_id).await.unwrap();
    assert!(
        runs.iter().all(|r| r.status.as_str() != "running"),
        "no run stays running: {:?}",
        runs.iter().map(|r| r.status.as_str()).collect::<Vec<_>>()
    );
    runs
}

/// Killed after its first page, worker `a-sync-0` restarts (same instance): its lease is
/// reclaimed at once, its run closed as an interrupted first listing, and the listing resumes
/// at once, while another instance could not take the mailbox before.
pub async fn the_same_instance_resumes_at_once(l: &Linked, scope: &str, slow: Value) {
    kill_a_worker_after_its_first_page(l, "a-sync-0", scope, slow).await;
    assert!(
        worker_step(l, "b-sync-0").await.unwrap().is_none(),
        "another instance waits for the lease"
    );
    let reclaimed = sync::worker::reclaim(&l.app.db, &["a-sync-0".to_string()])
        .await
        .unwrap();
    assert_eq!(reclaimed, 1);
    let runs = runs_all_ended(l).await;
    assert_eq!(runs[0].status.as_str(), "interrupted");
    assert_eq!(runs[0].kind.as_str(), "initial", "a first listing");
    assert!(runs[0].finished_at.is_some(), "ended when last seen");
    clear_faults(&l.app).await;
    let report = worker_step(l, "a-sync-0")
        .await
        .unwrap()
        .expect("the restarted instance resumes at once");
    assert_eq!(report.kind.as_str(), "initial", "the listing resumes");
    let runs = runs_all_ended(l).await;
    assert_eq!(runs[0].status.as_str(), "succeeded");
    assert_eq!(runs[0].kind.as_str(), "initial");
}

/// Killed after its first page, worker `a-sync-0` never comes back: `b-sync-0` of another
/// instance takes the mailbox over once the lease expires, and closes the dead pass's run.
pub async fn another_instance_takes_over_after_the_lease(l: &Linked, scope: &str, slow: Value) {
    kill_a_worker_after_its_first_page(l, "a-sync-0", scope, slow).await;
    clear_faults(&l.app).await;
    let deadline = tokio::time::Instant::now() + TEST_LEASE * 10;
    let report = loop {
        if let Some(report) = worker_step(l, "b-sync-0").await.unwrap() {
            break report;
        }
        assert!(tokio::time::Instant::now() < deadline, "taken over");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(report.kind.as_str(), "initial", "the listing resumes");
    let runs = runs_all_ended(l).await;
    assert_eq!(runs[0].status.as_str(), "succeeded");
    assert_eq!(runs[1].status.as_str(), "interrupted");
    assert_eq!(runs[1].kind.as_str(), "initial");
}

/// While `a-sync-0`'s pass runs, another worker takes its job over (as after an expired
/// lease): the pass ends with "lease lost" at its next page and records nothing more.
pub async fn a_pass_that_loses_its_lease_stops_writing(l: &Linked, scope: &str, slow: Value) {
    use threadline::db::jobs;
    fault(&l.app, slow).await;
    let deps = l.app.deps.clone();
    let pass = tokio::spawn(async move {
        sync::worker::sync_next_due_with(&deps, "a-sync-0", TEST_LEASE, &options()).await
    });
    until_a_page_is_committed(l, scope).await;
    // As if the lease had expired: b claims with a clock past it.
    let later = threadline::db::now() + chrono::Duration::hours(1);
    let taken = jobs::claim(
        &l.app.db,
        jobs::SYNC_ACCOUNT,
        "b-sync-0",
        chrono::Duration::hours(2),
        later,
    )
    .await
    .unwrap();
    assert!(taken.is_some(), "b takes the job over");
    let lost = pass.await.unwrap();
    assert!(matches!(lost, Err(SyncError::LeaseLost)), "{lost:?}");
    assert!(lost.unwrap_err().to_string().contains("lease lost"));
    let job = jobs::find(&l.app.db, jobs::SYNC_ACCOUNT, l.account_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        job.locked_by.as_deref(),
        Some("b-sync-0"),
        "a left b's job alone"
    );
    let closed = runs_db::interrupt_orphans(&l.app.db, threadline::db::now())
        .await
        .unwrap();
    assert_eq!(closed, 1);
    let runs = runs_all_ended(l).await;
    assert_eq!(runs[0].status.as_str(), "interrupted");
}

/// A stored message's row id and folders (labels), live or not.
pub async fn stored_folders(l: &Linked, provider_message_id: &str) -> (i64, Vec<String>) {
    let row = emails::Entity::find()
        .filter(emails::Column::AccountId.eq(l.account_id))
        .filter(emails::Column::ProviderMessageId.eq(provider_message_id))
        .one(&l.app.db)
        .await
        .unwrap()
        .expect("stored");
    (row.id, row.folders.into_iter().collect())
}

/// What a stopped pass is judged by: the mailbox's live emails, or those complete (stored with
/// their MIME text: Outlook stores its newest mail from Graph's fields first, its MIME later).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Held {
    Live,
    Complete,
}

/// How many emails the mailbox holds, as `what` counts them.
pub async fn held(l: &Linked, what: Held) -> usize {
    match what {
        Held::Live => stored(l).await.live.len(),
        Held::Complete => {
            let db = &l.app.db;
            let sql = format!(
                "SELECT COUNT(*) FROM emails e WHERE e.account_id = {} \
                 AND e.deleted_in_provider_at IS NULL \
                 AND NOT EXISTS (SELECT 1 FROM mime_pending p WHERE p.email_id = e.id)",
                l.account_id
            );
            let row = db
                .query_one(Statement::from_string(db.get_database_backend(), sql))
                .await
                .unwrap()
                .expect("a count");
            usize::try_from(row.try_get_by_index::<i64>(0).unwrap()).unwrap()
        }
    }
}

/// A pass that stores nothing new for this long is stuck, whatever the machine's load.
const STUCK: Duration = Duration::from_secs(120);

/// Passes stopped (the future dropped, as a killed process stops) after `window` each, or
/// later, as soon as they have stored something new: how long a pass takes to get going
/// (connections, token, listing) is the machine's, not the product's, and a pass stopped before
/// it could store anything proves nothing. Until one finishes first or `attempts` have run:
/// what the mailbox holds (as `what` counts) after each stopped pass.
pub async fn stop_passes_repeatedly(
    l: &Linked,
    options: &SyncOptions,
    (window, what): (Duration, Held),
    attempts: usize,
) -> Vec<usize> {
    let mut after = Vec::new();
    for _ in 0..attempts {
        let before = held(l, what).await;
        let pass = l.spawn_pass(options.clone());
        tokio::time::sleep(window).await;
        let stuck_at = tokio::time::Instant::now() + STUCK;
        while !pass.is_finished() && held(l, what).await <= before {
            assert!(
                tokio::time::Instant::now() < stuck_at,
                "a pass stored nothing new in {STUCK:?}: {after:?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let finished = pass.is_finished();
        pass.abort();
        let outcome = pass.await;
        if finished {
            outcome.expect("the pass ran").expect("the pass succeeds");
            break;
        }
        after.push(held(l, what).await);
    }
    after
}

/// The stopped passes never stall: of any two in a row, one stored something new, until
/// everything of the listing was stored (a pass lives until it stores something, but what it
/// stored may be undone by a deletion between stops); and the passes were stopped at least
/// `min` times before one finished (its page takes longer than a pass lives).
pub fn assert_each_stopped_pass_advanced(after: &[usize], min: usize, total: usize) {
    assert!(
        after.len() >= min,
        "only {} stopped passes: the window is too long to prove anything ({after:?})",
        after.len()
    );
    assert!(
        after[0] > 0,
        "the first stopped pass kept nothing: {after:?}"
    );
    for w in after.windows(3) {
        assert!(
            w[2] > w[0] || w[0] >= total,
            "two stopped passes in a row made no progress: {after:?}"
        );
    }
}

/// One email row per stored message and one body per email: nothing was duplicated.
pub async fn assert_no_duplicates(l: &Linked) {
    let counts = row_counts(l).await;
    let held = stored(l).await;
    assert_eq!(counts.emails, counts.bodies, "one body per email");
    assert_eq!(
        counts.emails,
        u64::try_from(held.live.len() + held.deleted.len()).unwrap(),
        "one row per provider message"
    );
}
