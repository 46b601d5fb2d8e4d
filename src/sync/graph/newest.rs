//! A freshly linked Outlook mailbox shows its newest mail first. Outlook serves one message's
//! MIME text per request, four at a time, so a listing's first page would wait seconds for its
//! `$value`s: instead one request lists the mailbox's newest messages with their headers
//! (`providers::graph::newest`), those in synced folders are stored at once from them, marked
//! as waiting for their MIME text (`db::mime_pending`), and [`fill`] fetches it, newest first,
//! committing as it arrives. The folders' delta listings then find them stored (and only
//! update their state). Every pass starts by filling what is still marked, so a pass killed at
//! any moment ends, after the next one, where a MIME-only sync would.
use std::collections::HashSet;

use super::super::session::Session;
use super::super::SyncError;
use super::apply::Bounded;
use super::folders::Synced;
use crate::db::emails;
use crate::db::mime_pending::{self, Due};
use crate::db::sync_runs::RunCounts;
use crate::domain::message::NormalizedMessage;
use crate::providers::graph::{early_message, Early};
use crate::providers::mime::{self, ProviderFields};
use crate::providers::ProviderError;
use crate::sync::chunks::Cadence;

/// Marked messages taken per round of [`fill`].
const FILL_ROUND: u64 = 256;

/// The mailbox's `SyncOptions::newest_first` newest messages, every folder.
pub async fn list(s: &Session) -> Result<Vec<Early>, SyncError> {
    let graph = s.graph().clone();
    let top = s.options().newest_first;
    s.call(|t| {
        let g = graph.clone();
        async move { g.newest(&t, top).await }
    })
    .await
}

/// Store the listed messages of synced folders that are not stored yet, marked as waiting for
/// their MIME text, in one transaction.
pub async fn store(s: &Session, synced: &Synced, listed: Vec<Early>) -> Result<(), SyncError> {
    let since = s
        .options()
        .since
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|d| d.and_utc());
    let now = crate::db::now();
    let limits = s.options().limits;
    let messages: Vec<NormalizedMessage> = listed
        .iter()
        .filter(|e| match (since, e.light.received_at) {
            (Some(since), Some(at)) => at >= since,
            (Some(_), None) => false,
            (None, _) => true,
        })
        .filter_map(|e| {
            let label = synced.label(e.light.folder_id.as_deref()?)?;
            early_message(e, label, &limits, now)
        })
        .collect();
    if messages.is_empty() {
        return Ok(());
    }
    let owner = s.owner();
    let ids: Vec<String> = messages
        .iter()
        .map(|m| m.provider_message_id.clone())
        .collect();
    let txn = crate::db::begin_write(&s.deps().db).await?;
    let stored = emails::ids_by_provider_id(&txn, owner.account_id, &ids).await?;
    let fresh: Vec<NormalizedMessage> = messages
        .into_iter()
        .filter(|m| !stored.contains_key(&m.provider_message_id))
        .collect();
    let upserted = {
        let mut directory = s.directory().await;
        emails::upsert_page(&txn, owner, &fresh, &mut directory, None, &s.store()).await?
    };
    let fresh_ids: Vec<String> = fresh
        .iter()
        .map(|m| m.provider_message_id.clone())
        .collect();
    let created = emails::ids_by_provider_id(&txn, owner.account_id, &fresh_ids).await?;
    let marks: Vec<(i64, chrono::DateTime<chrono::Utc>)> = fresh
        .iter()
        .filter_map(|m| Some((*created.get(&m.provider_message_id)?, m.received_at)))
        .collect();
    mime_pending::mark(&txn, owner.account_id, &marks).await?;
    s.hold_lease(&txn).await?;
    txn.commit().await?;
    s.grew(upserted.inserted).await;
    s.ledgered(&[], upserted.excluded);
    s.add(&RunCounts {
        stored: upserted.inserted,
        skipped: upserted.excluded,
        ..RunCounts::default()
    });
    Ok(())
}

/// What `$value` gave for a marked message.
enum Got {
    Mime(i64, Box<NormalizedMessage>),
    /// Deleted in the provider before its MIME text was fetched.
    Gone(i64, String),
    /// Graph refuses it for good: it stays as its headers made it.
    Refused(i64),
}

async fn fetch(s: Session, due: Due) -> Result<Got, SyncError> {
    let graph = s.graph().clone();
    let id = due.provider_message_id.clone();
    let got = s
        .call(|t| {
            let (g, id) = (graph.clone(), id.clone());
            async move { g.mime(&t, &id).await }
        })
        .await;
    match got {
        Ok(Some(raw)) => {
            let parsed = mime::parse(&raw, &s.options().limits);
            // Only the content fields are filled in; the provider's own stay as stored.
            let m = parsed.into_message(ProviderFields {
                provider_message_id: due.provider_message_id,
                provider_thread_id: String::new(),
                received_at: crate::db::now(),
                folders: Vec::new(),
                read: false,
                starred: false,
            });
            Ok(Got::Mime(due.email_id, Box::new(m)))
        }
        Ok(None) => Ok(Got::Gone(due.email_id, due.provider_message_id)),
        Err(SyncError::Provider(ProviderError::Permanent(detail))) => {
            tracing::warn!(id = due.provider_message_id, %detail, "Graph refused a MIME text");
            Ok(Got::Refused(due.email_id))
        }
        Err(e) => Err(e),
    }
}

/// Fetch the MIME text of every message still marked, newest first (four at a time), filling
/// them in chunks as they arrive (`sync::chunks`). Stops early at the pass's time slice.
pub async fn fill(s: &Session) -> Result<(), SyncError> {
    let db = &s.deps().db;
    let mut unfillable: HashSet<i64> = HashSet::new();
    loop {
        let due: Vec<Due> = mime_pending::due(db, s.owner().account_id, FILL_ROUND)
            .await?
            .into_iter()
            .filter(|d| !unfillable.contains(&d.email_id))
            .collect();
        if due.is_empty() {
            return Ok(());
        }
        let mut fetches = Bounded::new(s, due, fetch);
        let mut cadence = Cadence::start();
        let mut chunk = Vec::new();
        while let Some(got) = fetches.next().await? {
            if let Got::Refused(id) = &got {
                unfillable.insert(*id);
            }
            chunk.push(got);
            if !fetches.is_done() && !cadence.due(s) {
                continue;
            }
            commit(s, std::mem::take(&mut chunk)).await?;
            cadence.restart();
            if s.slice_spent() {
                return Ok(());
            }
        }
    }
}

/// One transaction: fill what arrived, mark what is gone as deleted in the provider, and drop
/// the markers of both (a refused message keeps its marker, and is tried again next pass).
async fn commit(s: &Session, chunk: Vec<Got>) -> Result<(), SyncError> {
    let owner = s.owner();
    let mut filled = Vec::new();
    let mut gone = Vec::new();
    let mut gone_ids = Vec::new();
    for got in chunk {
        match got {
            Got::Mime(id, m) => filled.push((id, *m)),
            Got::Gone(id, pid) => {
                gone_ids.push(id);
                gone.push(pid);
            }
            Got::Refused(_) => {}
        }
    }
    let fetched = filled.len() as u64;
    let txn = crate::db::begin_write(&s.deps().db).await?;
    mime_pending::fill(&txn, owner, &filled, &s.store()).await?;
    mime_pending::claim(&txn, &gone_ids).await?;
    let deleted = emails::mark_deleted(&txn, owner.account_id, &gone).await?;
    s.hold_lease(&txn).await?;
    txn.commit().await?;
    s.add(&RunCounts {
        fetched,
        deleted,
        ..RunCounts::default()
    });
    Ok(())
}
