//! Installation-wide figures for the metrics gauges, read when `/metrics` is scraped: one
//! aggregate over the mailboxes (count by provider and status, and the oldest last success)
//! and one over the due jobs. Counts only: no organization, user or mailbox comes out.
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbErr, FromQueryResult, Statement};

/// Mailboxes of one provider in one status.
#[derive(Debug, Clone, FromQueryResult)]
pub struct MailboxFigure {
    pub provider: String,
    pub status: String,
    pub mailboxes: i64,
    /// The oldest of their last successful passes (their link time for those without one).
    pub oldest_success: Option<DateTime<Utc>>,
}

/// Every mailbox, grouped by provider and status (one query).
pub async fn mailboxes(db: &impl ConnectionTrait) -> Result<Vec<MailboxFigure>, DbErr> {
    let sql = "SELECT provider, status, COUNT(*) AS mailboxes, \
               MIN(COALESCE(last_success_at, created_at)) AS oldest_success \
               FROM mail_accounts GROUP BY provider, status";
    let stmt = Statement::from_string(db.get_database_backend(), sql);
    MailboxFigure::find_by_statement(stmt).all(db).await
}

#[derive(Debug, Clone, FromQueryResult)]
pub struct JobsDue {
    pub kind: String,
    pub due: i64,
}

/// Jobs due now that no worker holds, by kind: queued and due, or held under an expired
/// lease; jobs of paused mailboxes wait for their owner, not for a worker, and are left out
/// (as `jobs::claim` leaves them).
pub async fn jobs_due(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
) -> Result<Vec<JobsDue>, DbErr> {
    let backend = db.get_database_backend();
    let param = match backend {
        sea_orm::DbBackend::Postgres => "$1",
        _ => "?",
    };
    let sql = format!(
        "SELECT kind, COUNT(*) AS due FROM jobs WHERE ((state = 'queued' AND run_at <= {param}) \
         OR (state = 'running' AND lease_until < {param})) AND {} GROUP BY kind",
        super::jobs::PAUSED
    );
    let values: Vec<sea_orm::Value> = match backend {
        sea_orm::DbBackend::Postgres => vec![now.into()],
        _ => vec![now.into(), now.into()],
    };
    let stmt = Statement::from_sql_and_values(backend, sql, values);
    JobsDue::find_by_statement(stmt).all(db).await
}
