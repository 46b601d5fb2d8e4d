//! Directory sync on a schedule: every connection has a recurring `directory_sync` job, due
//! every [`INTERVAL`](super::INTERVAL); [`run_next`] claims a due one (leased in the `jobs`
//! table, so several instances never read one directory at once) and runs it; [`run`] is the
//! cancellable loop `threadline serve` runs.
use std::time::Duration as StdDuration;

use tokio_util::sync::CancellationToken;

use super::{run_claimed, DirectorySyncError, Report, Trigger, DIRECTORY_SYNC, LEASE};
use crate::db::{self, connection_rules, jobs};
use crate::mailboxes::MailDeps;

/// How long an idle worker waits before looking for due work again.
const IDLE: StdDuration = StdDuration::from_secs(60);

/// Give every connection its recurring job, then run one due directory sync; `None` when
/// none is due.
pub async fn run_next(
    deps: &MailDeps,
    worker: &str,
) -> Result<Option<(i64, Report)>, DirectorySyncError> {
    let now = db::now();
    for c in connection_rules::all_connections(&deps.db).await? {
        jobs::ensure(&deps.db, c.organization_id, DIRECTORY_SYNC, c.id, now).await?;
    }
    let Some(job) = jobs::claim(&deps.db, DIRECTORY_SYNC, worker, LEASE, now).await? else {
        return Ok(None);
    };
    let Some(connection) =
        db::connections::find(&deps.db, job.organization_id, job.subject_id).await?
    else {
        // The connection was removed: its job goes too.
        jobs::remove(&deps.db, DIRECTORY_SYNC, job.subject_id).await?;
        return Ok(None);
    };
    let report = run_claimed(deps, &connection, &job, Trigger::Schedule, worker).await?;
    Ok(Some((connection.id, report)))
}

/// Run [`run_next`] until `shutdown`; leases are given back on the way out.
pub async fn run(deps: MailDeps, worker: String, shutdown: CancellationToken) {
    crate::lifecycle::run_steps("directory sync", IDLE, &shutdown, || {
        run_next(&deps, &worker)
    })
    .await;
    if let Err(e) = jobs::release_all(&deps.db, &worker).await {
        tracing::warn!(error = %e, "directory sync worker could not release its leases");
    }
}
