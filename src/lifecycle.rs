//! An instance's life as an operator's load balancer and supervisor see it: readiness
//! (`/readyz`: the database answers, no migration is pending, the sync workers run) and the
//! bounded graceful shutdown of `serve` (`THREADLINE_SHUTDOWN_SECONDS`).
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use sea_orm::DatabaseConnection;

/// How many of an instance's background sync workers are running, against how many it starts
/// (`THREADLINE_SYNC_WORKERS`; 0: sync only through `threadline sync`, and readiness does not
/// ask for workers). Cheap to clone; every clone counts the same workers.
#[derive(Clone, Debug, Default)]
pub struct Workers(Arc<Counts>);

#[derive(Debug, Default)]
struct Counts {
    expected: usize,
    running: AtomicUsize,
}

impl Workers {
    pub fn new(expected: usize) -> Self {
        Self(Arc::new(Counts {
            expected,
            running: AtomicUsize::new(0),
        }))
    }

    /// A worker begins: counted until the returned guard is dropped (the worker's task ends,
    /// however: stopped, aborted or panicked).
    pub fn started(&self) -> Running {
        self.0.running.fetch_add(1, Ordering::SeqCst);
        Running(self.clone())
    }

    pub fn running(&self) -> usize {
        self.0.running.load(Ordering::SeqCst)
    }

    pub fn expected(&self) -> usize {
        self.0.expected
    }
}

/// One running worker (see [`Workers::started`]).
#[derive(Debug)]
pub struct Running(Workers);

impl Drop for Running {
    fn drop(&mut self) {
        (self.0).0.running.fetch_sub(1, Ordering::SeqCst);
    }
}

/// How long each readiness question may take: a database that does not answer within it is
/// not ready, and a load balancer's probe gets its answer in time.
const CHECK_TIMEOUT: Duration = Duration::from_secs(3);

/// What keeps the instance from being ready, one line per failing check (`database`,
/// `migrations`, `workers`); empty when it is ready.
pub async fn not_ready(db: &DatabaseConnection, workers: &Workers) -> Vec<String> {
    let mut failing = Vec::new();
    match tokio::time::timeout(CHECK_TIMEOUT, crate::db::schema::status(db)).await {
        Ok(Ok(status)) => {
            if !status.pending.is_empty() {
                failing.push(format!(
                    "migrations: {} pending ({}); run `threadline migrate` or restart",
                    status.pending.len(),
                    status.pending.join(", ")
                ));
            }
            if !status.unknown.is_empty() {
                failing.push(format!(
                    "migrations: applied by a newer Threadline ({})",
                    status.unknown.join(", ")
                ));
            }
        }
        Ok(Err(e)) => failing.push(format!("database: {e}")),
        Err(_) => failing.push(format!(
            "database: no answer within {} s",
            CHECK_TIMEOUT.as_secs()
        )),
    }
    let (running, expected) = (workers.running(), workers.expected());
    if running < expected {
        failing.push(format!(
            "workers: {running} of {expected} sync workers running"
        ));
    }
    failing
}

/// After a shutdown ran out of time: which leases this instance's workers (`worker_ids`) still
/// hold, logged one by one (another instance takes each over once it expires). Asked for at
/// most a second: the database may be why the shutdown hung.
pub async fn log_leases_left(db: &DatabaseConnection, worker_ids: &[String]) {
    let held = tokio::time::timeout(
        Duration::from_secs(1),
        crate::db::jobs::held_by(db, worker_ids),
    )
    .await;
    match held {
        Ok(Ok(jobs)) if jobs.is_empty() => {
            tracing::warn!("shutdown timed out; no lease was left held");
        }
        Ok(Ok(jobs)) => {
            for job in jobs {
                tracing::warn!(
                    job = job.id,
                    kind = job.kind.as_str(),
                    subject = job.subject_id,
                    worker = job.locked_by.as_deref().unwrap_or_default(),
                    lease_until = ?job.lease_until,
                    "shutdown timed out; lease left held (it expires by itself)"
                );
            }
        }
        Ok(Err(e)) => tracing::warn!(error = %e, "shutdown timed out; cannot list the leases left"),
        Err(_) => {
            tracing::warn!("shutdown timed out; the database did not say which leases are left");
        }
    }
}

/// A background worker's loop: `step` again at once after a step that did some work
/// (`Ok(Some(_))`), after `idle` when there was none or it failed (logged with `what`), until
/// `shutdown`. A step in flight when `shutdown` comes is dropped at its next await: each step
/// commits its own work, so nothing is left half-done. The caller gives its leases back after.
pub async fn run_steps<T, E, F, Fut>(
    what: &str,
    idle: Duration,
    shutdown: &tokio_util::sync::CancellationToken,
    mut step: F,
) where
    E: std::fmt::Display,
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<Option<T>, E>>,
{
    loop {
        let done = tokio::select! {
            () = shutdown.cancelled() => break,
            done = step() => done,
        };
        let pause = match done {
            Ok(Some(_)) => Duration::ZERO,
            Ok(None) => idle,
            Err(e) => {
                tracing::warn!(error = %e, "{what} failed; retrying later");
                idle
            }
        };
        tokio::select! {
            () = shutdown.cancelled() => break,
            () = tokio::time::sleep(pause) => {}
        }
    }
}
