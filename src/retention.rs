//! Retention on a schedule: every organization has a recurring `retention` job, due once a
//! day; [`run_next`] claims a due one (leased in the `jobs` table, so with several instances
//! each organization is pruned by one of them, at most daily) and prunes its sync runs and
//! ledger history older than `THREADLINE_RETENTION_DAYS` ([`crate::db::retention`]); [`run`]
//! is the cancellable loop `threadline serve` runs when retention is on (days > 0). After each
//! organization's pruning it also sweeps stored attachment content no email uses and files a
//! crash left without a row ([`crate::db::blobs`]).
use std::time::Duration as StdDuration;

use chrono::Duration;
use sea_orm::{DatabaseConnection, DbErr, EntityTrait};
use tokio_util::sync::CancellationToken;

use crate::db::entities::organizations;
use crate::db::retention::Pruned;
use crate::db::{self, jobs};
use crate::domain::job::JobKind;

pub const RETENTION: JobKind = JobKind::Retention;
/// How long a claim holds; pruning in batches ends well within it.
const LEASE: Duration = Duration::minutes(10);
/// How often an organization is pruned.
pub const EVERY: Duration = Duration::days(1);
/// How long an idle worker waits before looking for due work again.
const IDLE: StdDuration = StdDuration::from_secs(300);

/// Give every organization its recurring job, then prune one whose job is due, keeping
/// `days` days; `None` when none is due.
pub async fn run_next(
    db: &DatabaseConnection,
    worker: &str,
    days: u32,
) -> Result<Option<(i64, Pruned)>, DbErr> {
    let now = db::now();
    let orgs: Vec<i64> = organizations::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|o| o.id)
        .collect();
    for org in orgs {
        jobs::ensure(db, org, RETENTION, org, now).await?;
    }
    let Some(job) = jobs::claim(db, RETENTION, worker, LEASE, now).await? else {
        return Ok(None);
    };
    let cutoff = now - Duration::days(i64::from(days));
    let result = db::retention::prune(db, job.organization_id, cutoff).await;
    let error = result.as_ref().err().map(ToString::to_string);
    jobs::complete(db, job.id, worker, now + EVERY, error).await?;
    let pruned = result?;
    if pruned != Pruned::default() {
        tracing::info!(
            organization = job.organization_id,
            runs = pruned.runs,
            ledger = pruned.ledger,
            days,
            "retention pruned old sync history"
        );
    }
    Ok(Some((job.organization_id, pruned)))
}

/// Stored attachment content no email uses, and files without a row.
async fn collect_attachments(db: &DatabaseConnection, blobs: &crate::db::blobs::BlobDir) {
    crate::db::blobs::sweep_quietly(db, blobs).await;
    match crate::db::blobs::collect_orphan_files(db, blobs).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(files = n, "removed attachment files no row stores"),
        Err(e) => tracing::warn!(error = %e, "cannot collect orphan attachment files"),
    }
}

/// Run [`run_next`] until `shutdown`; leases are given back on the way out.
pub async fn run(
    db: DatabaseConnection,
    worker: String,
    days: u32,
    blobs: crate::db::blobs::BlobDir,
    shutdown: CancellationToken,
) {
    let step = || async {
        let step = run_next(&db, &worker, days).await;
        if matches!(step, Ok(Some(_))) {
            collect_attachments(&db, &blobs).await;
        }
        step
    };
    crate::lifecycle::run_steps("retention", IDLE, &shutdown, step).await;
    if let Err(e) = jobs::release_all(&db, &worker).await {
        tracing::warn!(error = %e, "retention worker could not release its leases");
    }
}
