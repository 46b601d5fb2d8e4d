//! Reference rules end to end: saving a rule queues its retroactive apply ([`job`]), run at
//! once in the request when the organization's mail is small, else left to the job worker;
//! ingest matches new mail itself (`db::ingest`).
pub mod job;

use sea_orm::{ConnectionTrait, TransactionTrait};

use crate::db::entities::reference_rules::Model as Rule;
use crate::db::references::{self, ReferenceError, RuleInput};

/// Mail applied in the request that saved the rule, at most (beyond, the worker applies it).
pub const INLINE_LIMIT: u64 = 5_000;

/// What saving a rule did.
#[derive(Debug, Clone)]
pub struct Saved {
    pub rule: Rule,
    /// Matches written when the apply ran in the request; None when left to the worker.
    pub applied: Option<u64>,
}

/// Save a new rule (`id` None) or change rule `id`, and (re)apply it to stored mail.
pub async fn save<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    org_id: i64,
    actor: i64,
    id: Option<i64>,
    input: &RuleInput,
) -> Result<Saved, ReferenceError> {
    let txn = crate::db::begin_write(db).await?;
    let rule = references::save(&txn, org_id, actor, id, input).await?;
    let total = references::apply::email_count(&txn, org_id).await?;
    let job_id = job::enqueue(&txn, org_id, rule.id, total).await?;
    txn.commit().await?;
    let applied = if total <= INLINE_LIMIT {
        job::run_inline(db, job_id).await.unwrap_or_else(|e| {
            tracing::warn!(error = %e, job = job_id, "reference apply left to the job worker");
            None
        })
    } else {
        None
    };
    Ok(Saved { rule, applied })
}
