//! Gauges computed when `/metrics` is scraped: mailboxes by status and the sync lag (one
//! aggregate query), jobs due by kind (one more), mailboxes by reconciliation status, and
//! this instance's database pools (no query). Every label combination is set on each scrape, so a status that empties reads 0
//! rather than its last count.
use std::sync::Arc;

use chrono::{DateTime, Utc};
use metrics::gauge;
use parking_lot::Mutex;
use sea_orm::{DatabaseConnection, DbErr};

use super::exporter as names;
use crate::db::gauges::{JobsDue, MailboxFigure};
use crate::domain::job::JobKind;
use crate::domain::mailbox::MailboxStatus;
use crate::domain::provider::Provider;

/// The pools this instance opened: the web's, and the sync workers' once they run.
#[derive(Clone)]
pub struct Pools(Arc<Mutex<Vec<DatabaseConnection>>>);

impl Pools {
    pub fn new(web: DatabaseConnection) -> Self {
        Self(Arc::new(Mutex::new(vec![web])))
    }

    /// Count another pool of this instance (the sync workers' own).
    pub fn add(&self, pool: DatabaseConnection) {
        self.0.lock().push(pool);
    }

    /// The web pool, where the gauges' queries run.
    fn web(&self) -> DatabaseConnection {
        self.0.lock()[0].clone()
    }

    /// `(in use, idle)` connections over every pool.
    fn connections(&self) -> (u64, u64) {
        self.0.lock().iter().fold((0, 0), |(used, idle), db| {
            let (size, free) = match db {
                DatabaseConnection::SqlxSqlitePoolConnection(_) => {
                    let p = db.get_sqlite_connection_pool();
                    (p.size(), p.num_idle())
                }
                DatabaseConnection::SqlxPostgresPoolConnection(_) => {
                    let p = db.get_postgres_connection_pool();
                    (p.size(), p.num_idle())
                }
                DatabaseConnection::Disconnected => (0, 0),
            };
            let free = u64::try_from(free).unwrap_or(u64::MAX);
            (used + u64::from(size).saturating_sub(free), idle + free)
        })
    }
}

/// Refresh every gauge from the database and the pools. A failed query leaves its gauges as
/// they were (logged); the pools are always read.
pub async fn refresh(pools: &Pools) {
    let (used, idle) = pools.connections();
    #[allow(clippy::cast_precision_loss)]
    {
        gauge!(names::DB_POOL, "state" => "in_use").set(used as f64);
        gauge!(names::DB_POOL, "state" => "idle").set(idle as f64);
    }
    let db = pools.web();
    let now = crate::db::now();
    match crate::db::gauges::mailboxes(&db).await {
        Ok(rows) => set_mailboxes(&rows, now),
        Err(e) => warn(&e),
    }
    match crate::db::gauges::jobs_due(&db, now).await {
        Ok(rows) => set_jobs(&rows),
        Err(e) => warn(&e),
    }
    match crate::db::reconciliation::mailboxes_by_status(&db).await {
        Ok((matches, differs, unknown)) => {
            #[allow(clippy::cast_precision_loss)]
            for (status, n) in [
                ("matches", matches),
                ("differs", differs),
                ("unknown", unknown),
            ] {
                gauge!(names::RECONCILIATION, "status" => status).set(n as f64);
            }
        }
        Err(e) => warn(&e),
    }
}

fn warn(e: &DbErr) {
    tracing::warn!(error = %e, "metrics: could not read the gauges' figures");
}

#[allow(clippy::cast_precision_loss)]
fn set_mailboxes(rows: &[MailboxFigure], now: DateTime<Utc>) {
    for provider in [Provider::Google, Provider::Microsoft] {
        let p = provider.as_str();
        let of = |status: MailboxStatus| {
            rows.iter()
                .filter(move |r| r.provider == p && r.status == status.as_str())
        };
        for status in MailboxStatus::ALL {
            let n: i64 = of(status).map(|r| r.mailboxes).sum();
            gauge!(names::MAILBOXES, "provider" => p, "status" => status.as_str()).set(n as f64);
        }
        let lag = of(MailboxStatus::Active)
            .filter_map(|r| r.oldest_success)
            .min()
            .map_or(0.0, |oldest| {
                (now - oldest).num_milliseconds().max(0) as f64 / 1000.0
            });
        gauge!(names::SYNC_LAG, "provider" => p).set(lag);
    }
}

#[allow(clippy::cast_precision_loss)]
fn set_jobs(rows: &[JobsDue]) {
    for kind in JobKind::ALL {
        let n: i64 = rows
            .iter()
            .filter(|r| r.kind == kind.as_str())
            .map(|r| r.due)
            .sum();
        gauge!(names::JOBS_DUE, "kind" => kind.as_str()).set(n as f64);
    }
}
