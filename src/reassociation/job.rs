//! Re-association as leased jobs in the `jobs` table: one per business or contact (a later
//! edit widens the queued scope and starts over), chunks of [`CHUNK`] emails each committed
//! with the job's progress, so a lost lease or a crash resumes after the last committed chunk
//! and a page can show how far it got. [`run_next`] is the step; [`run`] the cancellable loop
//! that `threadline serve` runs.
use std::time::Duration as StdDuration;

use chrono::Duration;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, TransactionTrait};
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use super::{chunk, Counts, Subject, CHUNK};
use crate::db::combined::{self, FromPartRow, PartRow};
use crate::db::entities::jobs::Model as Job;
use crate::db::links::{self, Scope};
use crate::db::timeline::sql::Sql;
use crate::db::{self, directory, jobs};
use crate::domain::job::JobKind;

pub const BUSINESS: JobKind = JobKind::ReassociateBusiness;
pub const CONTACT: JobKind = JobKind::ReassociateContact;

const LEASE: Duration = Duration::minutes(5);
const IDLE: StdDuration = StdDuration::from_secs(2);
const RETRY: Duration = Duration::seconds(60);

/// A job's scope and how far it got.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Payload {
    pub scope: Scope,
    /// Emails up to this id are done.
    pub after: i64,
    /// Emails the scope reached when queued.
    pub total: u64,
    pub done: Counts,
}

/// Progress for a page.
#[derive(Debug, Clone)]
pub struct Progress {
    pub running: bool,
    pub total: u64,
    pub done: Counts,
    pub error: Option<String>,
}

impl Progress {
    pub fn percent(&self) -> u64 {
        (self.done.emails * 100)
            .checked_div(self.total)
            .unwrap_or(100)
            .min(100)
    }
}

fn key(subject: Subject) -> (JobKind, i64) {
    match subject {
        Subject::Business(id) => (BUSINESS, id),
        Subject::Contact(id) => (CONTACT, id),
    }
}

fn payload(job: &Job) -> Payload {
    payload_of(&job.payload)
}

/// A stored payload; one that cannot be read (an older shape) counts as empty.
fn payload_of(text: &str) -> Payload {
    serde_json::from_str(text).unwrap_or_default()
}

fn json(p: &Payload) -> String {
    serde_json::to_string(p).unwrap_or_else(|_| "{}".into())
}

/// Queue re-association of `scope` (widened with an unfinished earlier job's scope, which
/// then starts over); returns the job id.
pub async fn enqueue(
    db: &impl ConnectionTrait,
    org_id: i64,
    subject: Subject,
    mut scope: Scope,
    total: u64,
) -> Result<i64, DbErr> {
    let (kind, id) = key(subject);
    let mut total = total;
    if let Some(earlier) = jobs::find(db, kind, id).await? {
        if earlier.state != jobs::DONE {
            scope.merge(payload(&earlier).scope);
            total = links::affected(db, org_id, &scope, 0).await?.len() as u64;
        }
    }
    let p = Payload {
        scope,
        total,
        ..Payload::default()
    };
    jobs::replace(db, org_id, kind, id, json(&p)).await
}

/// Run a queued job now, in this task; None when another worker has it.
pub async fn run_inline<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    job_id: i64,
) -> Result<Option<Counts>, DbErr> {
    let worker = format!("inline-{}", uuid::Uuid::new_v4().simple());
    match jobs::claim_id(db, job_id, &worker, LEASE).await? {
        Some(job) => execute_or_retry(db, &job, &worker, db::now()).await,
        None => Ok(None),
    }
}

/// Claim the most overdue re-association job and run it to the end; None when none is due
/// (or its lease was lost on the way).
pub async fn run_next(db: &DatabaseConnection, worker: &str) -> Result<Option<Counts>, DbErr> {
    for kind in [BUSINESS, CONTACT] {
        if let Some(job) = jobs::claim(db, kind, worker, LEASE, db::now()).await? {
            return execute_or_retry(db, &job, worker, db::now() + RETRY).await;
        }
    }
    Ok(None)
}

/// [`execute`]; a failed run is queued again for `retry_at` with its error.
async fn execute_or_retry<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    job: &Job,
    worker: &str,
    retry_at: chrono::DateTime<chrono::Utc>,
) -> Result<Option<Counts>, DbErr> {
    match execute(db, job, worker).await {
        Ok(done) => Ok(done),
        Err(e) => {
            jobs::complete(db, job.id, worker, retry_at, Some(e.to_string())).await?;
            Err(e)
        }
    }
}

/// Process a held job chunk by chunk, each chunk committed with the job's progress.
async fn execute<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    job: &Job,
    worker: &str,
) -> Result<Option<Counts>, DbErr> {
    let org_id = job.organization_id;
    let mut p = payload(job);
    let dir = directory::load(db, org_id).await?;
    let ids = links::affected(db, org_id, &p.scope, p.after).await?;
    for ids in ids.chunks(CHUNK) {
        let txn = db::begin_write(db).await?;
        if db::is_postgres(&txn) {
            // A chunk lost in a crash is redone from the job's progress, committed with it:
            // no need to wait for the WAL flush on each of them.
            txn.execute_unprepared("SET LOCAL synchronous_commit = off")
                .await?;
        }
        let counts = chunk(&txn, org_id, &dir, ids, true).await?;
        p.done.add(counts);
        p.after = ids.last().copied().unwrap_or(p.after);
        if !jobs::progress(&txn, job.id, worker, json(&p), db::now() + LEASE).await? {
            // Replaced by a newer edit or taken over: that run redoes this chunk.
            txn.rollback().await?;
            return Ok(None);
        }
        txn.commit().await?;
    }
    jobs::finish(db, job.id, worker, json(&p)).await?;
    Ok(Some(p.done))
}

/// The re-association of a business's or contact's last edit, if one was queued.
pub async fn progress(
    db: &impl ConnectionTrait,
    org_id: i64,
    subject: Subject,
) -> Result<Option<Progress>, DbErr> {
    Ok(progress_of(
        &combined::one(db, |sql| progress_part(sql, org_id, subject)).await?,
    ))
}

/// [`progress`] as a part of a [`combined`] read: the subject's job, if any, as one row of
/// running (kind 1) or done (0), its payload and its last error.
pub fn progress_part(sql: &mut Sql, org_id: i64, subject: Subject) {
    let (kind, id) = key(subject);
    sql.push("SELECT CASE WHEN j.state = ")
        .bind(jobs::DONE)
        .push(" THEN 0 ELSE 1 END, j.id, j.payload, j.last_error FROM jobs j WHERE j.kind = ")
        .bind(kind)
        .push(" AND j.subject_id = ")
        .bind(id)
        .push(" AND j.organization_id = ")
        .bind(org_id);
}

/// [`progress_part`]'s row: the job's state, stored payload and last error.
struct ProgressRow {
    running: bool,
    payload: Payload,
    last_error: Option<String>,
}

impl FromPartRow for ProgressRow {
    fn from_part_row(row: PartRow) -> Option<Self> {
        Some(Self {
            running: row.kind != 0,
            payload: payload_of(row.text.as_deref().unwrap_or_default()),
            last_error: row.extra,
        })
    }
}

/// The progress of [`progress_part`]'s row.
pub fn progress_of(rows: &[PartRow]) -> Option<Progress> {
    let row: ProgressRow = rows.first().cloned()?.decode()?;
    Some(Progress {
        running: row.running,
        total: row.payload.total,
        done: row.payload.done,
        error: row.last_error,
    })
}

/// Run [`run_next`] until `shutdown`; leases are released on the way out.
pub async fn run(db: DatabaseConnection, worker: String, shutdown: CancellationToken) {
    crate::lifecycle::run_steps("re-association job", IDLE, &shutdown, || {
        run_next(&db, &worker)
    })
    .await;
    if let Err(e) = jobs::release_all(&db, &worker).await {
        tracing::warn!(error = %e, "re-association worker could not release its leases");
    }
}
