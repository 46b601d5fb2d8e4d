//! Reconciliation at the end of a finished pass: for each synced folder (label), the
//! provider's own count (Graph `totalItemCount`, read with the pass's folder look-ups; Gmail
//! `messagesTotal`, one `labels.get` per synced label, 1 unit each, under the pass's limiter)
//! against the messages Threadline holds live in it plus those the ledger kept out of it.
//! Only a pass that ran to its end over a fully listed mailbox checks; a mailbox that syncs
//! only mail since a date is not reconciled (the provider counts its older mail too).
use super::session::Session;
use super::SyncError;
use crate::db::reconciliation::{self, Check};
use crate::db::sync_cursors::{self, PHASE_INCREMENTAL};
use crate::providers::gmail::units;
use crate::providers::Provider;

/// A synced folder's count at the provider.
#[derive(Debug, Clone)]
pub struct ProviderTotal {
    /// The label its messages carry in `emails.folders`.
    pub folder: String,
    pub name: String,
    /// The `sync_cursors.scope` that syncs it.
    pub scope: String,
    pub count: u64,
}

/// Check and record the mailbox's folders after a pass that finished (not stopped at its
/// slice). A failure is logged, never the pass's.
pub async fn after_pass(s: &Session, provider: Provider) {
    if let Err(e) = check(s, provider).await {
        tracing::warn!(account = s.owner().account_id, error = %e, "reconciliation failed");
    }
}

async fn check(s: &Session, provider: Provider) -> Result<(), SyncError> {
    let db = &s.deps().db;
    let owner = s.owner();
    if s.options().since.is_some() {
        reconciliation::clear(db, owner.account_id).await?;
        return Ok(());
    }
    let every = s.options().reconcile_every;
    if !every.is_zero() {
        // Checked recently (a worker's pass woken again by push): not again yet.
        let last = reconciliation::of_mailbox(db, owner.account_id)
            .await?
            .checked_at;
        let every = chrono::Duration::from_std(every).unwrap_or(chrono::Duration::MAX);
        if last.is_some_and(|at| crate::db::now() - at < every) {
            return Ok(());
        }
    }
    let cursors = sync_cursors::rows(db, owner.account_id).await?;
    let listed = |scope: &str| {
        cursors
            .iter()
            .find(|c| c.scope == scope)
            .filter(|c| c.phase == PHASE_INCREMENTAL && c.page_token.is_none())
    };
    let totals = match provider {
        Provider::Google => gmail_totals(s).await?,
        Provider::Microsoft => s.provider_totals(),
    };
    let mut checks = Vec::with_capacity(totals.len());
    for t in totals {
        // A folder still being listed is not compared yet.
        let Some(cursor) = listed(&t.scope) else {
            return Ok(());
        };
        let binned = provider == Provider::Google;
        checks.push(Check {
            stored: reconciliation::stored_in(db, owner.account_id, &t.folder, binned).await?,
            ledgered: reconciliation::ledgered_in(db, owner.account_id, &t.folder).await?,
            folder: t.folder,
            name: t.name,
            provider_count: t.count,
            synced_at: Some(cursor.updated_at),
        });
    }
    if checks.is_empty() {
        return Ok(());
    }
    reconciliation::record(db, owner, &checks, crate::db::now()).await?;
    Ok(())
}

/// `messagesTotal` of each synced Gmail label (a label the mailbox lacks is left out).
async fn gmail_totals(s: &Session) -> Result<Vec<ProviderTotal>, SyncError> {
    let mut out = Vec::new();
    for label in super::gmail::labels(s) {
        let gmail = s.gmail().clone();
        let got = s
            .call_cost(units::LABELS_GET, |t| {
                let (g, label) = (gmail.clone(), label.clone());
                async move { g.label_total(&t, &label).await }
            })
            .await?;
        if let Some((name, count)) = got {
            out.push(ProviderTotal {
                folder: label,
                name,
                scope: super::gmail::SCOPE.to_string(),
                count,
            });
        }
    }
    Ok(out)
}
