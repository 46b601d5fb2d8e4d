//! Background sync: one step (`sync_next_due`: claim the most overdue mailbox under a lease,
//! heartbeat while syncing it, schedule its next pass) and a cancellable loop around it that
//! backs off when idle or failing and gives its leases back on shutdown.
use std::time::Duration as StdDuration;

use chrono::Duration;
use tokio_util::sync::CancellationToken;

use super::{sync_account, SyncError, SyncReport};
use crate::db::{self, jobs, mail_accounts, sync_cursors};
use crate::mailboxes::MailDeps;

/// How long a claim holds without a heartbeat (a crashed worker's job is free after this).
const LEASE: Duration = Duration::minutes(5);
const HEARTBEAT: StdDuration = StdDuration::from_secs(60);
const IDLE: StdDuration = StdDuration::from_secs(5);
const MAX_BACKOFF: StdDuration = StdDuration::from_secs(300);

/// Sync the most overdue mailbox, if any is due: `Ok(None)` when nothing is. A failed pass is
/// rescheduled like a successful one (the next pass resumes from the cursor) and returned as
/// the error.
pub async fn sync_next_due(
    deps: &MailDeps,
    worker_id: &str,
) -> Result<Option<SyncReport>, SyncError> {
    let Some(job) = jobs::claim(&deps.db, jobs::SYNC_ACCOUNT, worker_id, LEASE, db::now()).await?
    else {
        return Ok(None);
    };
    let _beat = {
        let (db, worker) = (deps.db.clone(), worker_id.to_string());
        AbortOnDrop(tokio::spawn(async move {
            loop {
                tokio::time::sleep(HEARTBEAT).await;
                let until = db::now() + LEASE;
                if !matches!(jobs::heartbeat(&db, job.id, &worker, until).await, Ok(true)) {
                    tracing::warn!(job = job.id, "sync lease heartbeat failed");
                }
            }
        }))
    };
    let settings_before = mail_accounts::find(&deps.db, job.subject_id)
        .await?
        .map(|a| a.sync_settings);
    let result = sync_account(deps, job.subject_id).await;
    if matches!(result, Err(SyncError::NotFound)) {
        jobs::remove(&deps.db, jobs::SYNC_ACCOUNT, job.subject_id).await?;
        return Ok(None);
    }
    let account = mail_accounts::find(&deps.db, job.subject_id).await?;
    // Settings changed while the pass ran: it stored cursors for the old ones; list afresh.
    if let Some(a) = &account {
        if settings_before.as_ref() != Some(&a.sync_settings) {
            sync_cursors::forget_all(&deps.db, a.id).await?;
        }
    }
    let interval = account.map_or(300, |a| a.sync_interval_secs.max(30));
    let next = db::now() + Duration::seconds(i64::from(interval));
    let error = result.as_ref().err().map(ToString::to_string);
    jobs::complete(&deps.db, job.id, worker_id, next, error).await?;
    result.map(Some)
}

/// Stops the heartbeat however the step ends, cancellation included.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Run [`sync_next_due`] until `shutdown`: straight on while work is due, a pause when idle,
/// exponential backoff while the database itself fails. Leases are released on the way out.
pub async fn run(deps: MailDeps, worker_id: String, shutdown: CancellationToken) {
    let mut backoff = IDLE;
    loop {
        let step = tokio::select! {
            () = shutdown.cancelled() => break,
            step = sync_next_due(&deps, &worker_id) => step,
        };
        let pause = match step {
            Ok(Some(_)) => {
                backoff = IDLE;
                StdDuration::ZERO
            }
            Ok(None) => IDLE,
            Err(SyncError::Db(e)) => {
                tracing::warn!(error = %e, "sync worker: database error; backing off");
                backoff = (backoff * 2).min(MAX_BACKOFF);
                backoff
            }
            // A mailbox's failure is recorded on it and its run; the worker carries on.
            Err(_) => StdDuration::ZERO,
        };
        tokio::select! {
            () = shutdown.cancelled() => break,
            () = tokio::time::sleep(pause) => {}
        }
    }
    if let Err(e) = jobs::release_all(&deps.db, &worker_id).await {
        tracing::warn!(error = %e, "sync worker could not release its leases");
    }
}
