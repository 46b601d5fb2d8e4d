//! Retention: an organization's sync runs and ledger history older than the configured age go,
//! in batches of [`BATCH`] rows, each its own short statement (no long lock; sync keeps
//! writing in between). Kept whatever their age: each mailbox's most recent run (pages show
//! the last sync), runs still running, the audit log, and every ledger entry that is still
//! current, i.e. stands for a message the provider holds and Threadline deliberately does
//! not store (excluded by a rule, purged by an administrator, or not fetched because of an
//! error): ingest needs those marks so a later pass does not fetch the mail again, and
//! reconciliation counts them. Ledger entries that are only history go: messages deleted in
//! the provider (before they could be fetched, or since they were ledgered), and errors
//! whose message was stored since.
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbErr, Value};

use super::exclusions::EXCLUDED;
use super::purge::PURGED;
use super::reconciliation::GONE;
use crate::domain::sync_run::RunStatus;

/// Rows deleted per statement.
pub const BATCH: i64 = 1000;

/// What one pruning removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pruned {
    pub runs: u64,
    pub ledger: u64,
}

/// Prune organization `org_id`'s runs and ledger history from before `cutoff`.
pub async fn prune(
    db: &impl ConnectionTrait,
    org_id: i64,
    cutoff: DateTime<Utc>,
) -> Result<Pruned, DbErr> {
    let runs = "DELETE FROM sync_runs WHERE id IN (SELECT r.id FROM sync_runs r \
                WHERE r.organization_id = ? AND r.started_at < ? AND r.status <> ? \
                AND r.id < (SELECT MAX(n.id) FROM sync_runs n WHERE n.account_id = r.account_id) \
                ORDER BY r.id LIMIT ?)";
    let runs = batches(
        db,
        runs,
        vec![
            org_id.into(),
            cutoff.into(),
            RunStatus::Running.as_str().into(),
        ],
    )
    .await?;
    let ledger = "DELETE FROM sync_ledger WHERE id IN (SELECT l.id FROM sync_ledger l \
                  WHERE l.organization_id = ? AND ((l.gone_at IS NOT NULL AND l.gone_at < ?) \
                  OR (l.reason = ? AND l.created_at < ?) \
                  OR (l.reason NOT IN (?, ?) AND l.created_at < ? AND EXISTS (SELECT 1 \
                  FROM emails e WHERE e.account_id = l.account_id \
                  AND e.provider_message_id = l.provider_message_id))) ORDER BY l.id LIMIT ?)";
    let ledger = batches(
        db,
        ledger,
        vec![
            org_id.into(),
            cutoff.into(),
            GONE.into(),
            cutoff.into(),
            EXCLUDED.into(),
            PURGED.into(),
            cutoff.into(),
        ],
    )
    .await?;
    Ok(Pruned { runs, ledger })
}

/// Run `sql` (its last placeholder the batch size) until a batch deletes less than a full one.
async fn batches(db: &impl ConnectionTrait, sql: &str, values: Vec<Value>) -> Result<u64, DbErr> {
    let mut total = 0;
    loop {
        let mut bound = values.clone();
        bound.push(BATCH.into());
        let st = super::batch::statement(db.get_database_backend(), sql, bound);
        let deleted = db.execute(st).await?.rows_affected();
        total += deleted;
        if deleted < u64::try_from(BATCH).unwrap_or(u64::MAX) {
            return Ok(total);
        }
    }
}
