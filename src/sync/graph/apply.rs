//! Turning one delta page into database changes: new messages fetched as MIME (at most four
//! requests at a time, Graph's per-mailbox cap), known ones updated from the light fields, and
//! messages that left a folder looked up (in `$batch`es of 20) where they are now: gone
//! (deleted in the provider); under Deleted Items or Junk Email (deleted in the provider, filed
//! there); any other folder, synced or not (live, filed under it: a move out of the synced
//! folders is not a deletion). New messages are committed in chunks as they arrive; the rest
//! of the page follows with its cursor in one transaction.
use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::task::JoinSet;

use super::super::session::{Session, Skip};
use super::super::SyncError;
use super::folders::{self, Place, Synced, SyncedFolder};
use crate::db::emails;
use crate::db::sync_cursors::{self, Cursor};
use crate::db::sync_runs::RunCounts;
use crate::domain::message::NormalizedMessage;
use crate::domain::stored::Folders;
use crate::providers::graph::{self, DeltaItem, Light, Located, MAX_BATCH};
use crate::providers::ProviderError;
use crate::sync::chunks::Cadence;

/// Outlook serves at most four concurrent requests per app and mailbox (§D.9).
pub const GRAPH_CONCURRENCY: usize = 4;

/// New provider-side state of a stored message.
#[derive(Debug, Clone)]
struct StateUpdate {
    id: String,
    label: String,
    read: bool,
    starred: bool,
}

/// What one page (or the sweep after a listing) changes.
#[derive(Debug, Default)]
pub struct Work {
    fresh: Vec<NormalizedMessage>,
    skips: Vec<Skip>,
    updates: Vec<StateUpdate>,
    /// Messages now under Deleted Items or Junk Email: filed there, deleted in the provider.
    binned: Vec<StateUpdate>,
    deleted: Vec<String>,
    /// Ids the page named in the folder (stamped when the page belongs to a full listing).
    named: Vec<String>,
    fetched: u64,
}

impl Work {
    /// Messages the page named as present in the folder.
    pub fn named(&self) -> u64 {
        self.named.len() as u64
    }
}

/// `f` over `items`, at most [`GRAPH_CONCURRENCY`] (and `SyncOptions::concurrency`) at a
/// time, each result handed out as it arrives; the first failure aborts the rest (so does
/// dropping it).
pub(super) struct Bounded<T, R, F> {
    session: Session,
    items: std::vec::IntoIter<T>,
    f: F,
    tasks: JoinSet<Result<R, SyncError>>,
    limit: usize,
}

impl<T, R, F, Fut> Bounded<T, R, F>
where
    T: Send + 'static,
    R: Send + 'static,
    F: Fn(Session, T) -> Fut,
    Fut: Future<Output = Result<R, SyncError>> + Send + 'static,
{
    pub(super) fn new(s: &Session, items: Vec<T>, f: F) -> Self {
        Self {
            session: s.clone(),
            items: items.into_iter(),
            f,
            tasks: JoinSet::new(),
            limit: s.options().concurrency.clamp(1, GRAPH_CONCURRENCY),
        }
    }

    /// Whether every result has been handed out.
    pub(super) fn is_done(&self) -> bool {
        self.items.len() == 0 && self.tasks.is_empty()
    }

    pub(super) async fn next(&mut self) -> Result<Option<R>, SyncError> {
        while self.tasks.len() < self.limit {
            let Some(item) = self.items.next() else { break };
            self.tasks.spawn((self.f)(self.session.clone(), item));
        }
        let Some(joined) = self.tasks.join_next().await else {
            return Ok(None);
        };
        match joined.map_err(|e| SyncError::Internal(e.to_string()))? {
            Ok(r) => Ok(Some(r)),
            Err(e) => {
                self.tasks.abort_all();
                Err(e)
            }
        }
    }
}

async fn fetch(
    s: Session,
    (light, label): (Light, String),
) -> Result<Result<NormalizedMessage, Skip>, SyncError> {
    let graph = s.graph().clone();
    let id = light.id.clone();
    let got = s
        .call(|t| {
            let (g, id) = (graph.clone(), id.clone());
            async move { g.mime(&t, &id).await }
        })
        .await;
    let skip = |reason, detail: String| {
        Ok(Err(Skip {
            id: id.clone(),
            reason,
            detail,
        }))
    };
    match got {
        Ok(Some(raw)) => Ok(Ok(graph::normalize(
            &light,
            &label,
            &raw,
            &s.options().limits,
            crate::db::now(),
        ))),
        Ok(None) => skip(
            "gone",
            "deleted in the provider before it was fetched".into(),
        ),
        Err(SyncError::Provider(ProviderError::Permanent(detail))) => {
            skip("provider_error", detail)
        }
        Err(e) => Err(e),
    }
}

/// One batch of lookups (at most [`MAX_BATCH`]), asking again for the sub-requests Graph
/// throttled or failed transiently, after the longest `Retry-After` they named. None: gone.
async fn locate_batch(
    s: &Session,
    ids: Vec<String>,
) -> Result<Vec<(String, Option<Light>)>, SyncError> {
    let opts = s.options();
    let mut out = Vec::with_capacity(ids.len());
    let mut pending = ids;
    let mut rounds = 0u32;
    while !pending.is_empty() {
        let graph = s.graph().clone();
        let answers = s
            .call(|t| {
                let (g, ids) = (graph.clone(), pending.clone());
                async move { g.locate_many(&t, &ids).await }
            })
            .await?;
        let mut again = Vec::new();
        let mut wait: Option<Duration> = None;
        for (id, located) in answers {
            match located {
                Located::Here(l) => out.push((id, Some(l))),
                Located::Missing => out.push((id, None)),
                Located::Again(w) => {
                    again.push(id);
                    wait = wait.max(w);
                }
                Located::Refused(detail) => {
                    tracing::warn!(id, %detail, "Graph refused a lookup; the message is left as stored");
                }
            }
        }
        if again.is_empty() {
            break;
        }
        rounds += 1;
        if rounds >= opts.throttle_tries {
            return Err(ProviderError::RateLimited { retry_after: wait }.into());
        }
        let pause = wait.unwrap_or(opts.backoff_base * rounds);
        tokio::time::sleep(pause.min(opts.max_retry_after)).await;
        pending = again;
    }
    Ok(out)
}

/// Prepare a delta page of `folder`: the last entry per id wins (pages may repeat ids).
pub async fn page(
    s: &Session,
    synced: &Synced,
    folder: &SyncedFolder,
    items: Vec<DeltaItem>,
) -> Result<Work, SyncError> {
    let mut last: HashMap<String, DeltaItem> = HashMap::new();
    let mut order = Vec::new();
    for item in items {
        let id = match &item {
            DeltaItem::Upsert(l) => l.id.clone(),
            DeltaItem::Removed(id) => id.clone(),
        };
        if last.insert(id.clone(), item).is_none() {
            order.push(id);
        }
    }
    let mut upserts = Vec::new();
    let mut removed = Vec::new();
    for id in order {
        match last.remove(&id) {
            Some(DeltaItem::Upsert(l)) => upserts.push(l),
            Some(DeltaItem::Removed(id)) => removed.push(id),
            None => {}
        }
    }
    let db = &s.deps().db;
    let account = s.owner().account_id;
    let ids: Vec<String> = upserts.iter().map(|l| l.id.clone()).collect();
    let (stored, kept_out) = emails::stored_or_kept_out(db, account, &ids).await?;
    let mut work = Work {
        named: ids,
        ..Work::default()
    };
    let mut wanted = Vec::new();
    // Purged or excluded messages are never fetched again.
    for l in upserts.into_iter().filter(|l| !kept_out.contains(&l.id)) {
        // A message is in exactly one folder: the one delta names, unless it says otherwise.
        let label = l
            .folder_id
            .as_deref()
            .and_then(|f| synced.label(f))
            .unwrap_or(&folder.label)
            .to_string();
        if stored.contains_key(&l.id) {
            work.updates.push(StateUpdate {
                id: l.id,
                label,
                read: l.read,
                starred: l.flagged,
            });
        } else {
            wanted.push((l, label));
        }
    }
    let arrived = fetch_in_chunks(s, folder, wanted).await?;
    work.fresh = arrived.fresh;
    work.skips = arrived.skips;
    work.fetched = arrived.fetched;
    // Only stored messages matter; one that left before we stored it is simply not fetched.
    let gone_stored = emails::ids_by_provider_id(db, account, &removed).await?;
    let removed: Vec<String> = removed
        .into_iter()
        .filter(|id| gone_stored.contains_key(id))
        .collect();
    resolve_departed(s, synced, removed, &mut work).await?;
    Ok(work)
}

/// Fetch the MIME of new messages, committing what has arrived whenever a chunk is due
/// (`sync::chunks`): new messages only, which a page resumed after a restart finds stored and
/// updates instead of fetching. What arrived after the last chunk is returned for the page's
/// transaction.
async fn fetch_in_chunks(
    s: &Session,
    folder: &SyncedFolder,
    wanted: Vec<(Light, String)>,
) -> Result<Work, SyncError> {
    let mut fetches = Bounded::new(s, wanted, fetch);
    let mut cadence = Cadence::start();
    let mut chunk = Work::default();
    while let Some(got) = fetches.next().await? {
        match got {
            Ok(m) => {
                chunk.fetched += 1;
                chunk.fresh.push(m);
            }
            Err(skip) => chunk.skips.push(skip),
        }
        if fetches.is_done() || !cadence.due(s) {
            continue;
        }
        let scope = super::scope(&folder.id);
        let counts = store(s, &scope, std::mem::take(&mut chunk), None, None).await?;
        s.add(&counts);
        cadence.restart();
    }
    Ok(chunk)
}

/// Stored messages no longer named where we filed them: where are they now? A move to another
/// folder (synced: reported in either order with the target's delta, trap 14; or not synced)
/// is not a delete.
pub async fn departed(s: &Session, synced: &Synced, ids: Vec<String>) -> Result<Work, SyncError> {
    let mut work = Work::default();
    resolve_departed(s, synced, ids, &mut work).await?;
    Ok(work)
}

async fn resolve_departed(
    s: &Session,
    synced: &Synced,
    ids: Vec<String>,
    work: &mut Work,
) -> Result<(), SyncError> {
    // Sequential batches: each runs up to four lookups at once, Outlook's per-mailbox cap.
    let mut found = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(MAX_BATCH) {
        found.extend(locate_batch(s, chunk.to_vec()).await?);
    }
    let mut places: HashMap<String, Place> = HashMap::new();
    for (id, now) in found {
        let Some(l) = now else {
            work.deleted.push(id);
            continue;
        };
        let Some(folder_id) = l.folder_id.as_deref() else {
            work.deleted.push(id);
            continue;
        };
        let place = folders::place(s, synced, folder_id, &mut places).await?;
        let update = |label: String| StateUpdate {
            id: id.clone(),
            label,
            read: l.read,
            starred: l.flagged,
        };
        match place {
            Place::Synced(label) | Place::Elsewhere(label) => work.updates.push(update(label)),
            Place::Bin(label) => work.binned.push(update(label)),
        }
    }
    Ok(())
}

/// One transaction (taking SQLite's write lock first, as chunks and the worker's heartbeats
/// write beside it): insert the new messages, record skips, update and mark deleted, stamp the
/// named ids when the page belongs to a listing that began at `listing`, and move the folder's
/// cursor past the page (when there is one to move).
pub async fn store(
    s: &Session,
    scope: &str,
    work: Work,
    listing: Option<DateTime<Utc>>,
    cursor: Option<&Cursor>,
) -> Result<RunCounts, SyncError> {
    let owner = s.owner();
    // The write lock first (SQLite): the page reads before it writes.
    let txn = crate::db::begin_write(&s.deps().db).await?;
    let upserted = {
        let mut directory = s.directory().await;
        emails::upsert_page(
            &txn,
            owner,
            &work.fresh,
            &mut directory,
            listing,
            &s.store(),
        )
        .await?
    };
    let skips: Vec<(&str, &str, &str)> = work
        .skips
        .iter()
        .map(|k| (k.id.as_str(), k.reason, k.detail.as_str()))
        .collect();
    emails::record_skipped_many(&txn, owner, &skips).await?;
    let deleted: HashSet<&String> = work.deleted.iter().collect();
    let state = |u: &StateUpdate, binned: bool| emails::ProviderState {
        id: u.id.clone(),
        folders: Folders::from_labels(std::slice::from_ref(&u.label)),
        read: u.read,
        starred: u.starred,
        binned,
    };
    let states: Vec<emails::ProviderState> = work
        .updates
        .iter()
        .map(|u| state(u, false))
        .chain(work.binned.iter().map(|u| state(u, true)))
        .filter(|u| !deleted.contains(&u.id))
        .collect();
    let applied = emails::apply_provider_states(&txn, owner.account_id, &states).await?;
    let updated = applied.live.stored;
    let mut gone = applied.deleted;
    gone += emails::mark_deleted(&txn, owner.account_id, &work.deleted).await?;
    if let Some(at) = listing {
        emails::mark_listed(&txn, owner.account_id, &work.named, at).await?;
    }
    if let Some(cursor) = cursor {
        sync_cursors::save_cursor(&txn, owner, scope, cursor).await?;
    }
    s.hold_lease(&txn).await?;
    txn.commit().await?;
    s.grew(upserted.inserted).await;
    s.ledgered(&work.skips, upserted.excluded);
    Ok(RunCounts {
        listed: work.named.len() as u64,
        fetched: work.fetched,
        stored: upserted.inserted,
        updated: updated + upserted.updated,
        skipped: work.skips.len() as u64 + upserted.excluded,
        deleted: gone,
        ..RunCounts::default()
    })
}
