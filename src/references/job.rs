//! The retroactive apply of a reference rule as a leased job in the `jobs` table (one per
//! rule; a later edit replaces it and starts over): chunks of emails by id, each committed with
//! the job's progress, so a lost lease or a crash resumes after the last committed chunk.
//! [`run_next`] is the step; [`run`] the cancellable loop `threadline serve` runs.
use std::time::Duration as StdDuration;

use chrono::Duration;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, TransactionTrait};
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use crate::db::entities::jobs::Model as Job;
use crate::db::references::{self, apply, Compiled};
use crate::db::{self, jobs};
use crate::domain::job::JobKind;
use crate::domain::references::Pattern;

pub const KIND: JobKind = JobKind::ApplyReferences;

const LEASE: Duration = Duration::minutes(5);
const IDLE: StdDuration = StdDuration::from_secs(2);
const RETRY: Duration = Duration::seconds(60);

/// How far a job got.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Payload {
    /// Emails up to this id are done.
    pub after: i64,
    /// Emails of the organization when queued.
    pub total: u64,
    /// Emails gone through.
    pub done: u64,
    /// Matches written.
    pub matched: u64,
}

/// Progress for a page.
#[derive(Debug, Clone)]
pub struct Progress {
    pub running: bool,
    pub payload: Payload,
    pub error: Option<String>,
}

fn payload_of(text: &str) -> Payload {
    serde_json::from_str(text).unwrap_or_default()
}

fn json(p: &Payload) -> String {
    serde_json::to_string(p).unwrap_or_else(|_| "{}".into())
}

/// Queue the apply of rule `rule_id` from the first email (replacing an unfinished one).
pub async fn enqueue(
    db: &impl ConnectionTrait,
    org_id: i64,
    rule_id: i64,
    total: u64,
) -> Result<i64, DbErr> {
    let p = Payload {
        total,
        ..Payload::default()
    };
    jobs::replace(db, org_id, KIND, rule_id, json(&p)).await
}

/// Run a queued job now, in this task: the matches written; None when another worker has it.
pub async fn run_inline<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    job_id: i64,
) -> Result<Option<u64>, DbErr> {
    let worker = format!("inline-{}", uuid::Uuid::new_v4().simple());
    match jobs::claim_id(db, job_id, &worker, LEASE).await? {
        Some(job) => execute_or_retry(db, &job, &worker, db::now()).await,
        None => Ok(None),
    }
}

/// Claim the most overdue apply job and run it to the end; None when none is due.
pub async fn run_next(db: &DatabaseConnection, worker: &str) -> Result<Option<u64>, DbErr> {
    match jobs::claim(db, KIND, worker, LEASE, db::now()).await? {
        Some(job) => execute_or_retry(db, &job, worker, db::now() + RETRY).await,
        None => Ok(None),
    }
}

async fn execute_or_retry<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    job: &Job,
    worker: &str,
    retry_at: chrono::DateTime<chrono::Utc>,
) -> Result<Option<u64>, DbErr> {
    match execute(db, job, worker).await {
        Ok(done) => Ok(done),
        Err(e) => {
            jobs::complete(db, job.id, worker, retry_at, Some(e.to_string())).await?;
            Err(e)
        }
    }
}

async fn execute<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    job: &Job,
    worker: &str,
) -> Result<Option<u64>, DbErr> {
    let org_id = job.organization_id;
    let mut p = payload_of(&job.payload);
    let Some(rule) = references::find(db, org_id, job.subject_id).await? else {
        // The rule was deleted meanwhile: nothing to apply.
        jobs::finish(db, job.id, worker, json(&p)).await?;
        return Ok(Some(0));
    };
    let Ok(pattern) = Pattern::parse(&rule.pattern) else {
        jobs::finish(db, job.id, worker, json(&p)).await?;
        return Ok(Some(0));
    };
    let rule = Compiled {
        id: rule.id,
        pattern,
    };
    loop {
        let chunk = apply::emails_after(db, org_id, p.after).await?;
        let Some(last) = chunk.last() else { break };
        let txn = db::begin_write(db).await?;
        p.matched += apply::apply_chunk(&txn, org_id, &rule, &chunk).await?;
        p.after = last.id;
        p.done += chunk.len() as u64;
        if !jobs::progress(&txn, job.id, worker, json(&p), db::now() + LEASE).await? {
            // Replaced by a newer edit or taken over: that run redoes this chunk.
            txn.rollback().await?;
            return Ok(None);
        }
        txn.commit().await?;
        if chunk.len() < apply::CHUNK {
            break;
        }
    }
    apply::prune(db, rule.id).await?;
    jobs::finish(db, job.id, worker, json(&p)).await?;
    Ok(Some(p.matched))
}

/// The apply of rule `rule_id`, if one was queued.
pub async fn progress(db: &impl ConnectionTrait, rule_id: i64) -> Result<Option<Progress>, DbErr> {
    Ok(jobs::find(db, KIND, rule_id).await?.map(|j| Progress {
        running: j.state != jobs::DONE,
        payload: payload_of(&j.payload),
        error: j.last_error,
    }))
}

/// Run [`run_next`] until `shutdown`; leases are released on the way out.
pub async fn run(db: DatabaseConnection, worker: String, shutdown: CancellationToken) {
    crate::lifecycle::run_steps("reference apply job", IDLE, &shutdown, || {
        run_next(&db, &worker)
    })
    .await;
    if let Err(e) = jobs::release_all(&db, &worker).await {
        tracing::warn!(error = %e, "reference apply worker could not release its leases");
    }
}
