//! Writing the owners' marks back to their mailboxes (issue 24): one step ([`drain_due`])
//! leases due rows of the outbox (`db::write_back::outbox`), and for each mailbox sends them
//! through a provider session of its own (its limiter, token refresh after a 401, throttle and
//! backoff retries): Gmail `users.messages.batchModify` (UNREAD / STARRED labels, one request
//! per distinct change), Graph `PATCH /messages/{id}` (`isRead`, `flag`). A write the provider
//! took leaves the outbox; one it refused waits and is tried again later, never dropped,
//! unless write-back was turned off or the grant lost its write scope meanwhile.
//!
//! No echo: the next sync sees the label or `isRead` change the write produced and stores it
//! as the provider's state of the copy; sync never queues writes (only a reader's toggle does),
//! so nothing is written again and the reader's mark is left alone.
use std::collections::BTreeMap;
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};

use super::limiter::{Limiter, Profile};
use super::org_access::Access;
use super::{Session, SyncError, SyncOptions};
use crate::db::emails::Owner;
use crate::db::entities::mail_accounts::Model as Account;
use crate::db::mail_accounts;
use crate::db::write_back::outbox::{self, Pending};
use crate::db::write_back::{eligibility_of, settings};
use crate::domain::write_back::{gmail_labels, Eligibility};
use crate::mailboxes::MailDeps;
use crate::providers::gmail::{units, BATCH_MODIFY_MAX};
use crate::providers::Provider;

/// How long a lease on outbox rows holds (a crashed instance's rows are due again after it).
pub const LEASE_SECS: i64 = 60;
/// Rows leased per step.
const STEP_ROWS: u32 = 200;
/// First wait after a failed write; doubled per attempt, at most [`MAX_RETRY_SECS`].
const RETRY_BASE_SECS: i64 = 30;
const MAX_RETRY_SECS: i64 = 3600;

/// When a row that failed `attempts` times before is tried again.
pub fn retry_at(now: DateTime<Utc>, attempts: i64) -> DateTime<Utc> {
    let shift = u32::try_from(attempts.clamp(0, 7)).unwrap_or(7);
    now + Duration::seconds((RETRY_BASE_SECS << shift).min(MAX_RETRY_SECS))
}

/// Write the outbox rows due at `now` (at most a step's worth) for `worker`; how many
/// reached the provider.
pub async fn drain_due(
    deps: &MailDeps,
    worker: &str,
    now: DateTime<Utc>,
) -> Result<usize, SyncError> {
    let rows = outbox::lease(
        &deps.db,
        worker,
        now,
        Duration::seconds(LEASE_SECS),
        STEP_ROWS,
    )
    .await?;
    let mut by_account: BTreeMap<i64, Vec<Pending>> = BTreeMap::new();
    for row in rows {
        by_account.entry(row.account_id).or_default().push(row);
    }
    let mut written = 0;
    for (account_id, rows) in by_account {
        written += drain_account(deps, worker, account_id, &rows, now).await?;
    }
    Ok(written)
}

async fn drain_account(
    deps: &MailDeps,
    worker: &str,
    account_id: i64,
    rows: &[Pending],
    now: DateTime<Utc>,
) -> Result<usize, SyncError> {
    let account = mail_accounts::find(&deps.db, account_id).await?;
    let allows = match &account {
        Some(a) => settings::org_allows(&deps.db, a.organization_id).await?,
        None => false,
    };
    let Some(account) = account.filter(|a| eligibility_of(a, allows) == Eligibility::On) else {
        for row in rows {
            outbox::drop_leased(&deps.db, row, worker).await?;
        }
        return Ok(0);
    };
    let session = session(deps, &account);
    let outcomes = match account.provider {
        Provider::Google => gmail(&session, rows).await,
        Provider::Microsoft => graph(&session, rows).await,
    };
    let mut written = 0;
    for (row, outcome) in rows.iter().zip(outcomes) {
        match outcome {
            Ok(()) => {
                written += 1;
                outbox::done(&deps.db, row, worker).await?;
            }
            Err(SyncError::Db(e)) => return Err(SyncError::Db(e)),
            Err(e) => {
                tracing::warn!(account = account.id, error = %e, "write-back failed; will retry");
                let at = retry_at(now, row.attempts);
                outbox::failed(&deps.db, row, worker, &e.to_string(), at).await?;
            }
        }
    }
    if written > 0 {
        tracing::info!(
            account = account.id,
            written,
            "marks written back to the mailbox"
        );
    }
    Ok(written)
}

/// A session for the writes: the owner's grant, the provider's limiter, and short patience
/// (a write that keeps failing waits in the outbox rather than holding a worker).
fn session(deps: &MailDeps, account: &Account) -> Session {
    let owner = Owner {
        organization_id: account.organization_id,
        account_id: account.id,
    };
    let options = SyncOptions {
        throttle_tries: 2,
        transient_tries: 2,
        max_retry_after: StdDuration::from_secs(30),
        ..SyncOptions::for_deps(deps)
    };
    let profile = match account.provider {
        Provider::Google => Profile::gmail(options.gmail_units_per_minute),
        Provider::Microsoft => Profile::graph(options.graph_requests_per_10_minutes),
    };
    let limiter = Limiter::new(profile);
    Session::with_access(
        deps.clone(),
        owner,
        account.provider,
        Access::Own,
        options,
        limiter,
    )
}

/// One batchModify per distinct label change (and per 1,000 ids); each row's outcome.
async fn gmail(session: &Session, rows: &[Pending]) -> Vec<Result<(), SyncError>> {
    let mut groups: BTreeMap<(Vec<&str>, Vec<&str>), Vec<usize>> = BTreeMap::new();
    for (i, row) in rows.iter().enumerate() {
        groups
            .entry(gmail_labels(row.read, row.starred))
            .or_default()
            .push(i);
    }
    let mut outcomes: Vec<Option<Result<(), SyncError>>> = rows.iter().map(|_| None).collect();
    for ((add, remove), members) in groups {
        for chunk in members.chunks(BATCH_MODIFY_MAX) {
            let result = if add.is_empty() && remove.is_empty() {
                Ok(())
            } else {
                let ids: Vec<String> = chunk
                    .iter()
                    .map(|&i| rows[i].provider_message_id.clone())
                    .collect();
                let client = session.gmail();
                session
                    .call_cost(units::BATCH_MODIFY, |token| {
                        let (ids, add, remove) = (&ids, &add, &remove);
                        async move { client.batch_modify(&token, ids, add, remove).await }
                    })
                    .await
            };
            for &i in chunk {
                outcomes[i] = Some(match &result {
                    Ok(()) => Ok(()),
                    Err(e) => Err(again(e)),
                });
            }
        }
    }
    outcomes.into_iter().map(|o| o.unwrap_or(Ok(()))).collect()
}

/// One PATCH per message (a message gone from the mailbox has nothing left to change).
async fn graph(session: &Session, rows: &[Pending]) -> Vec<Result<(), SyncError>> {
    let mut outcomes = Vec::with_capacity(rows.len());
    for row in rows {
        if row.read.is_none() && row.starred.is_none() {
            outcomes.push(Ok(()));
            continue;
        }
        let client = session.graph();
        let id = row.provider_message_id.as_str();
        let result = session
            .call(
                |token| async move { client.patch_flags(&token, id, row.read, row.starred).await },
            )
            .await;
        outcomes.push(result.map(|_| ()));
    }
    outcomes
}

/// The same failure for each row of a shared request.
fn again(e: &SyncError) -> SyncError {
    match e {
        SyncError::Db(d) => SyncError::Internal(format!("database: {d}")),
        other => SyncError::Internal(other.to_string()),
    }
}
