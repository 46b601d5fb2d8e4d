//! Background sync: one step (`sync_next_due`: claim the due mailbox whose recent slices have
//! gone through the fewest messages (`jobs::claim`) under a short lease, heartbeat every third
//! of it while syncing, check it before each committed page, stop after a time slice at a
//! committed page, schedule the next pass: at once after a slice with more to do, counting the
//! messages it went through, else after the mailbox's interval) and a cancellable loop around
//! it that backs off when idle or failing and gives its leases back on shutdown. Worker ids
//! follow the instance (`{instance}-sync-{i}`), so a restarted instance reclaims its own leases
//! at once ([`reclaim`]); another instance takes a dead one's over when the lease expires.
use std::time::Duration as StdDuration;

use chrono::Duration;
use tokio_util::sync::CancellationToken;

use super::{sync_account_with, Holder, SyncError, SyncOptions, SyncReport};
use crate::db::{self, jobs, mail_accounts, sync_cursors, sync_runs};
use crate::domain::mailbox::MailboxStatus;
use crate::domain::sync_run::RunStatus;
use crate::mailboxes::MailDeps;
use crate::telemetry::record;

/// How long a claim holds without a heartbeat, by default (`THREADLINE_SYNC_LEASE_SECONDS`):
/// a dead instance's mailboxes are taken over within this.
pub const DEFAULT_LEASE: StdDuration = StdDuration::from_secs(20);
pub use crate::domain::sync_run::{DEFAULT_SLICE, DEFAULT_WORKERS};
const IDLE: StdDuration = StdDuration::from_secs(5);
/// When a mailbox refused by its tenant's policy is tried again: six hours later.
pub const REFUSED_RETRY_SECS: i64 = 6 * 3600;
const MAX_BACKOFF: StdDuration = StdDuration::from_secs(300);

/// Sync the due mailbox that has had the least ([`jobs::claim`]), if any is due: `Ok(None)`
/// when nothing is. A failed pass is rescheduled like a successful one (the next pass resumes
/// from the cursor) and returned as the error.
pub async fn sync_next_due(
    deps: &MailDeps,
    worker_id: &str,
) -> Result<Option<SyncReport>, SyncError> {
    sync_next_due_leased(deps, worker_id, DEFAULT_LEASE).await
}

/// [`sync_next_due`] with a lease of `lease`, renewed every third of it, and the default slice.
pub async fn sync_next_due_leased(
    deps: &MailDeps,
    worker_id: &str,
    lease: StdDuration,
) -> Result<Option<SyncReport>, SyncError> {
    let options = SyncOptions {
        slice: Some(DEFAULT_SLICE),
        ..SyncOptions::for_deps(deps)
    };
    sync_next_due_with(deps, worker_id, lease, &options).await
}

/// [`sync_next_due_leased`] with the pass's `options` (tests: small pages).
pub async fn sync_next_due_with(
    deps: &MailDeps,
    worker_id: &str,
    lease: StdDuration,
    options: &SyncOptions,
) -> Result<Option<SyncReport>, SyncError> {
    let lease_len = Duration::from_std(lease).unwrap_or(Duration::seconds(30));
    let Some(job) = jobs::claim(
        &deps.db,
        jobs::SYNC_ACCOUNT,
        worker_id,
        lease_len,
        db::now(),
    )
    .await?
    else {
        return Ok(None);
    };
    match run_claimed(deps, job, worker_id, lease, options).await {
        // The mailbox is gone (its job too now): nothing was due after all.
        Err(SyncError::NotFound) => Ok(None),
        other => other.map(Some),
    }
}

/// One pass over one mailbox now, under its job's lease like a worker's pass
/// (`threadline sync`): the run has a holder, so it is closed as interrupted if this process
/// dies, and no worker syncs the mailbox meanwhile. `Ok(None)` when another worker holds it.
pub async fn sync_mailbox_now(
    deps: &MailDeps,
    account: &crate::db::entities::mail_accounts::Model,
    worker_id: &str,
    lease: StdDuration,
    options: &SyncOptions,
) -> Result<Option<SyncReport>, SyncError> {
    let lease_len = Duration::from_std(lease).unwrap_or(Duration::seconds(30));
    jobs::ensure(
        &deps.db,
        account.organization_id,
        jobs::SYNC_ACCOUNT,
        account.id,
        db::now(),
    )
    .await?;
    let Some(job) = jobs::find(&deps.db, jobs::SYNC_ACCOUNT, account.id).await? else {
        return Ok(None);
    };
    let Some(job) = jobs::claim_id(&deps.db, job.id, worker_id, lease_len).await? else {
        return Ok(None);
    };
    run_claimed(deps, job, worker_id, lease, options)
        .await
        .map(Some)
}

/// The pass of a job this worker has just claimed: heartbeat, sync, reschedule.
async fn run_claimed(
    deps: &MailDeps,
    job: crate::db::entities::jobs::Model,
    worker_id: &str,
    lease: StdDuration,
    options: &SyncOptions,
) -> Result<SyncReport, SyncError> {
    let lease_len = Duration::from_std(lease).unwrap_or(Duration::seconds(30));
    let _held = record::LeaseHeld::new();
    let last = sync_runs::latest(&deps.db, job.subject_id).await?;
    // Its latest run still open under another holder: that holder's lease ran out mid-pass.
    if last.as_ref().is_some_and(|r| {
        r.status == RunStatus::Running && r.holder.as_deref().is_some_and(|h| h != worker_id)
    }) {
        record::lease_takeover();
    }
    // A push notification asked for this pass if it came after the mailbox's last pass began.
    let woken = job
        .woken_at
        .filter(|at| last.as_ref().is_none_or(|r| r.started_at < *at));
    // A takeover: the runs of holders whose lease is gone ended when they were last seen.
    let closed = sync_runs::interrupt_orphans(&deps.db, db::now()).await?;
    if closed > 0 {
        tracing::info!(closed, "closed the runs of dead holders as interrupted");
    }
    let _beat = {
        let (db, worker) = (deps.db.clone(), worker_id.to_string());
        AbortOnDrop(tokio::spawn(async move {
            loop {
                tokio::time::sleep(lease / 3).await;
                let until = db::now() + lease_len;
                if !matches!(jobs::heartbeat(&db, job.id, &worker, until).await, Ok(true)) {
                    tracing::warn!(job = job.id, "sync lease heartbeat failed");
                }
                if let Err(e) = sync_runs::heartbeat(&db, &worker).await {
                    tracing::warn!(error = %e, "sync run heartbeat failed");
                }
            }
        }))
    };
    let before = mail_accounts::find(&deps.db, job.subject_id).await?;
    // A mailbox that has never finished a pass (just linked) stops at its first committed page
    // that is not its last: every new mailbox shows its newest mail before anyone's history.
    let first = before.as_ref().is_some_and(|a| a.last_success_at.is_none());
    let provider = before.as_ref().map(|a| a.provider);
    let settings_before = before.map(|a| a.sync_settings);
    let options = SyncOptions {
        holder: Some(Holder {
            job_id: job.id,
            worker: worker_id.to_string(),
            lease,
        }),
        slice: options
            .slice
            .map(|s| if first { StdDuration::ZERO } else { s }),
        ..options.clone()
    };
    let result = sync_account_with(deps, job.subject_id, &options).await;
    if let (Some(at), Some(provider), Ok(_)) = (woken, provider, &result) {
        let elapsed = (db::now() - at).to_std().unwrap_or_default();
        record::push_to_stored(provider, elapsed);
    }
    if matches!(result, Err(SyncError::LeaseLost)) {
        // The new holder owns the job now: touch nothing of it.
        return Err(SyncError::LeaseLost);
    }
    if matches!(result, Err(SyncError::NotFound)) {
        jobs::remove(&deps.db, jobs::SYNC_ACCOUNT, job.subject_id).await?;
        return result;
    }
    let account = mail_accounts::find(&deps.db, job.subject_id).await?;
    // Settings changed while the pass ran: it stored cursors for the old ones; list afresh.
    if let Some(a) = &account {
        if settings_before.as_ref() != Some(&a.sync_settings) {
            sync_cursors::forget_all(&deps.db, a.id).await?;
        }
    }
    if let (Some(_), Ok(report)) = (&account, &result) {
        if report.more {
            // Stopped at its slice: due again at once, behind the mailboxes that have had less.
            jobs::requeue_slice(&deps.db, job.id, worker_id, went_through(report)).await?;
            return result;
        }
    }
    // A mailbox its tenant's policy refuses is not retried hot: hours later (an administrator
    // who fixed the scope can sync it at once from its page or the command line).
    // A pass that got through its work keeps the mailbox's push up (create, renew, repair).
    if let (Some(a), Ok(_)) = (&account, &result) {
        if a.status != MailboxStatus::Refused {
            super::push::maintain(deps, a).await;
        }
    }
    let interval = match &account {
        Some(a) if a.status == MailboxStatus::Refused => REFUSED_RETRY_SECS,
        Some(a) => super::push::next_poll_secs(deps, a).await?,
        None => 300,
    };
    let next = db::now() + Duration::seconds(interval);
    let error = result.as_ref().err().map(ToString::to_string);
    jobs::complete(&deps.db, job.id, worker_id, next, error).await?;
    result
}

/// The messages a pass went through, as the claim order counts them ([`jobs::claim`]): those
/// it listed, or those it wrote if more (a page of changes names each message once).
fn went_through(report: &SyncReport) -> u64 {
    let c = &report.counts;
    c.listed.max(c.stored + c.updated + c.skipped + c.deleted)
}

/// Stops the heartbeat however the step ends, cancellation included.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// On start-up, before an instance's workers run: the jobs its workers (`worker_ids`, the same
/// as before the restart) still hold are a dead process's: make them claimable at once, and
/// close that process's runs as interrupted. How many leases were reclaimed.
pub async fn reclaim(
    db: &sea_orm::DatabaseConnection,
    worker_ids: &[String],
) -> Result<u64, sea_orm::DbErr> {
    let mut reclaimed = 0;
    for id in worker_ids {
        reclaimed += jobs::release_all(db, id).await?;
        crate::db::write_back::outbox::release_all(db, id).await?;
    }
    let closed = sync_runs::interrupt_orphans(db, db::now()).await?;
    if reclaimed > 0 || closed > 0 {
        tracing::info!(
            reclaimed,
            closed,
            "reclaimed this instance's leases from before its restart"
        );
    }
    Ok(reclaimed)
}

/// Run [`sync_next_due`] until `shutdown` with the default lease and slice.
pub async fn run(deps: MailDeps, worker_id: String, shutdown: CancellationToken) {
    run_leased(deps, worker_id, DEFAULT_LEASE, shutdown).await;
}

/// [`run`] with a lease of `lease` and the default slice.
pub async fn run_leased(
    deps: MailDeps,
    worker_id: String,
    lease: StdDuration,
    shutdown: CancellationToken,
) {
    run_sliced(
        deps,
        worker_id,
        lease,
        DEFAULT_SLICE,
        DEFAULT_GRACE,
        shutdown,
    )
    .await;
}

/// How long a running pass has, once the instance shuts down, to reach its next committed
/// page, by default (`serve` gives half its shutdown bound).
pub const DEFAULT_GRACE: StdDuration = StdDuration::from_secs(15);

/// Run [`sync_next_due_with`] until `shutdown`, each pass stopping after `slice`: straight on
/// while work is due, a pause when idle, exponential backoff while the database itself fails.
/// Once `shutdown` is cancelled nothing more is claimed, and a running pass ends at its next
/// committed page; one that reaches none within `grace` (a slow provider page) is dropped as
/// a killed process's would be (what it committed stays; the next pass resumes from there).
/// Either way the leases are released on the way out, so another instance takes the mailbox
/// at once, and a dropped pass's run is closed as interrupted.
pub async fn run_sliced(
    deps: MailDeps,
    worker_id: String,
    lease: StdDuration,
    slice: StdDuration,
    grace: StdDuration,
    shutdown: CancellationToken,
) {
    let mut backoff = IDLE;
    let options = SyncOptions {
        slice: Some(slice),
        stop: Some(shutdown.clone()),
        reconcile_every: super::RECONCILE_EVERY,
        ..SyncOptions::for_deps(&deps)
    };
    loop {
        // Shutting down: claim nothing more. A pass already running is not dropped: it sees
        // the same cancellation and ends at its next committed page, its mailbox requeued.
        if shutdown.is_cancelled() {
            break;
        }
        // Armed before looking for work: a wake between the look and the pause is not missed.
        let announced = super::wake::announced();
        tokio::pin!(announced);
        announced.as_mut().enable();
        // Marks waiting to be written back go first: a few quick requests, due at once.
        let wrote = match super::write_back::drain_due(&deps, &worker_id, db::now()).await {
            Ok(n) => n,
            Err(e) => {
                tracing::warn!(error = %e, "write-back step failed");
                0
            }
        };
        let step = tokio::select! {
            step = sync_next_due_with(&deps, &worker_id, lease, &options) => step,
            () = past_grace(&shutdown, grace) => {
                tracing::warn!(
                    worker = %worker_id,
                    grace_ms = grace.as_millis(),
                    "shutting down: the pass reached no page in time; dropped (what it \
                     committed stays)"
                );
                break;
            }
        };
        let pause = match step {
            Ok(Some(_)) => {
                backoff = IDLE;
                StdDuration::ZERO
            }
            Ok(None) if wrote > 0 => StdDuration::ZERO,
            Ok(None) => IDLE,
            Err(SyncError::Db(e)) => {
                tracing::warn!(error = %e, "sync worker: database error; backing off");
                backoff = (backoff * 2).min(MAX_BACKOFF);
                backoff
            }
            // A mailbox's failure is recorded on it and its run; the worker carries on.
            Err(_) => StdDuration::ZERO,
        };
        if pause.is_zero() {
            continue;
        }
        tokio::select! {
            () = shutdown.cancelled() => break,
            () = tokio::time::sleep(pause) => {}
            // Work was announced (a push wake): look again now, unless the database is failing.
            () = &mut announced, if pause == IDLE => {}
        }
    }
    if let Err(e) = crate::db::write_back::outbox::release_all(&deps.db, &worker_id).await {
        tracing::warn!(error = %e, "sync worker could not release its write-back rows");
    }
    match jobs::release_all(&deps.db, &worker_id).await {
        Ok(0) => {}
        Ok(released) => {
            // A dropped pass left its run open: closed as interrupted, as a takeover would.
            if let Err(e) = sync_runs::interrupt_orphans(&deps.db, db::now()).await {
                tracing::warn!(error = %e, "sync worker could not close its interrupted run");
            }
            tracing::info!(worker = %worker_id, released, "sync worker gave its mailbox back");
        }
        Err(e) => tracing::warn!(error = %e, "sync worker could not release its leases"),
    }
}

/// `grace` after `shutdown` was cancelled.
async fn past_grace(shutdown: &CancellationToken, grace: StdDuration) {
    shutdown.cancelled().await;
    tokio::time::sleep(grace).await;
}
