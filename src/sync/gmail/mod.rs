//! Gmail sync: the initial listing (`listing`: history id taken before listing, newest mail
//! first across labels, then a check of stored messages the listing did not name) and
//! incremental history (added, deleted, label changes), each provider page stored together
//! with the cursor that covers it in one transaction; a page's new messages are committed
//! in chunks before it as they arrive (`chunked`).
mod chunked;
mod listing;

use std::collections::{BTreeSet, HashMap, HashSet};

use chrono::{DateTime, Utc};

use super::session::{Session, Skip};
use super::SyncError;
use crate::db::emails::{self, Owner};
use crate::db::sync_cursors::{self, Cursor, PHASE_INCREMENTAL};
use crate::db::sync_runs::RunCounts;
use crate::domain::message::NormalizedMessage;
use crate::domain::stored::Folders;
use crate::domain::sync_run::RunKind;
use crate::providers::gmail::{units, Change, MessageState, NEVER_SYNCED};
use crate::providers::ProviderError;

/// The `sync_cursors.scope` of a Gmail mailbox (one history cursor for the whole mailbox).
pub const SCOPE: &str = "gmail";

type PassResult = Result<RunKind, (RunKind, SyncError)>;

/// One pass; the kind (initial | incremental | resync) travels with the outcome.
pub async fn pass(s: &Session) -> PassResult {
    let db = &s.deps().db;
    let cursor = sync_cursors::cursor(db, s.owner().account_id, SCOPE)
        .await
        .map_err(|e| (RunKind::Incremental, e.into()))?;
    match cursor {
        Some(c) if c.phase == PHASE_INCREMENTAL && c.cursor.is_some() => {
            match incremental(s, c).await {
                Err(SyncError::Provider(ProviderError::Gone)) => {
                    tracing::info!(account = s.owner().account_id, "history expired; resyncing");
                    listing::initial(s, None)
                        .await
                        .map(|()| RunKind::Resync)
                        .map_err(|e| (RunKind::Resync, e))
                }
                other => other
                    .map(|()| RunKind::Incremental)
                    .map_err(|e| (RunKind::Incremental, e)),
            }
        }
        resume => listing::initial(s, resume.filter(|c| c.cursor.is_some()))
            .await
            .map(|()| RunKind::Initial)
            .map_err(|e| (RunKind::Initial, e)),
    }
}

pub(super) fn labels(s: &Session) -> Vec<String> {
    s.options()
        .labels
        .clone()
        .unwrap_or_default()
        .into_iter()
        .filter(|l| !NEVER_SYNCED.contains(&l.as_str()))
        .collect()
}

/// Label operations of one history page, per message, in record order.
type LabelOps = HashMap<String, Vec<(bool, Vec<String>)>>;

async fn incremental(s: &Session, at: Cursor) -> Result<(), SyncError> {
    let db = &s.deps().db;
    let synced: HashSet<String> = labels(s).into_iter().collect();
    let start = at.cursor.unwrap_or_default();
    let mut page = at.page_token;
    loop {
        let gmail = s.gmail().clone();
        let history = s
            .call_cost(units::HISTORY_LIST, |t| {
                let (g, start, page) = (gmail.clone(), start.clone(), page.clone());
                async move { g.history(&t, &start, page.as_deref()).await }
            })
            .await?;
        let mut deleted: Vec<String> = Vec::new();
        let mut wanted: BTreeSet<String> = BTreeSet::new();
        let mut maybe: BTreeSet<String> = BTreeSet::new();
        let mut ops: LabelOps = HashMap::new();
        for change in history.changes {
            match change {
                Change::Added { id, labels } => {
                    if labels.iter().any(|l| synced.contains(l)) {
                        wanted.insert(id);
                    }
                }
                Change::Deleted { id } => deleted.push(id),
                Change::LabelsAdded { id, labels } => {
                    if labels.iter().any(|l| synced.contains(l)) {
                        maybe.insert(id.clone());
                    }
                    ops.entry(id).or_default().push((true, labels));
                }
                Change::LabelsRemoved { id, labels } => {
                    ops.entry(id).or_default().push((false, labels));
                }
            }
        }
        // A message that gained a synced label but is not stored (out of SPAM, a new label)
        // is fetched whole; so is every added one, unless a chunk of this page stored it
        // before the pass was stopped. Deleted ones are not fetched at all.
        for id in &deleted {
            wanted.remove(id);
            maybe.remove(id);
        }
        let named: Vec<String> = wanted.union(&maybe).cloned().collect();
        let (stored, kept_out) =
            emails::stored_or_kept_out(db, s.owner().account_id, &named).await?;
        let listed = named
            .iter()
            .filter(|id| wanted.contains(*id) || !stored.contains_key(*id))
            .count() as u64;
        // Purged or excluded messages are never fetched again.
        let wanted: Vec<String> = named
            .into_iter()
            .filter(|id| !stored.contains_key(id) && !kept_out.contains(id))
            .collect();
        let (messages, skips) = chunked::fetch(s, &wanted, None).await?;
        let cursor = match &history.next_page_token {
            Some(t) => Cursor {
                cursor: Some(start.clone()),
                page_token: Some(t.clone()),
                phase: PHASE_INCREMENTAL,
            },
            None => Cursor {
                cursor: Some(history.history_id.clone()),
                page_token: None,
                phase: PHASE_INCREMENTAL,
            },
        };
        let applied = Page {
            messages: &messages,
            skips: &skips,
            ops: &ops,
            deleted: &deleted,
            ..Page::new(&cursor)
        };
        let mut delta = store_page(s, &applied).await?;
        delta.listed = listed;
        s.add(&delta);
        match history.next_page_token {
            Some(_) if s.slice_spent() => return Ok(()),
            Some(t) => page = Some(t),
            None => return Ok(()),
        }
    }
}

/// What one transaction applies.
struct Page<'a> {
    messages: &'a [NormalizedMessage],
    skips: &'a [Skip],
    ops: &'a LabelOps,
    /// Current labels of stored messages (`format=minimal`).
    states: &'a [MessageState],
    deleted: &'a [String],
    /// Ids a listing named, and when that listing began.
    listed: Option<(&'a [String], DateTime<Utc>)>,
    /// None for a chunk of new messages committed ahead of its page.
    cursor: Option<&'a Cursor>,
}

static NO_OPS: std::sync::LazyLock<LabelOps> = std::sync::LazyLock::new(HashMap::new);

impl<'a> Page<'a> {
    fn new(cursor: &'a Cursor) -> Self {
        Self {
            messages: &[],
            skips: &[],
            ops: &NO_OPS,
            states: &[],
            deleted: &[],
            listed: None,
            cursor: Some(cursor),
        }
    }

    /// A chunk of a page's new messages, committed before the page itself.
    fn chunk(messages: &'a [NormalizedMessage], skips: &'a [Skip]) -> Self {
        Self {
            messages,
            skips,
            ops: &NO_OPS,
            states: &[],
            deleted: &[],
            listed: None,
            cursor: None,
        }
    }
}

/// One transaction: upsert the fetched messages, record the skipped ones, apply label
/// changes, current labels and deletions, stamp what a listing named, and move the cursor
/// past everything this page covered (a chunk has no cursor to move).
async fn store_page(s: &Session, page: &Page<'_>) -> Result<RunCounts, SyncError> {
    let owner = s.owner();
    let began = std::time::Instant::now();
    let txn = crate::db::begin_write(&s.deps().db).await?;
    let upserted = {
        let mut directory = s.directory().await;
        let listed_at = page.listed.map(|(_, at)| at);
        let store = s.store();
        emails::upsert_page(
            &txn,
            owner,
            page.messages,
            &mut directory,
            listed_at,
            &store,
        )
        .await?
    };
    let skips: Vec<(&str, &str, &str)> = page
        .skips
        .iter()
        .map(|k| (k.id.as_str(), k.reason, k.detail.as_str()))
        .collect();
    emails::record_skipped_many(&txn, owner, &skips).await?;
    let (mut relabelled, mut gone) = apply_label_ops(&txn, owner, page.ops).await?;
    let states: Vec<emails::ProviderState> = page
        .states
        .iter()
        .map(|state| {
            let (folders, read, starred) = flags(&state.label_ids);
            let folders = Folders::from_labels(&folders);
            emails::ProviderState {
                id: state.id.clone(),
                binned: in_bin(&folders),
                folders,
                read,
                starred,
            }
        })
        .collect();
    let applied = emails::apply_provider_states(&txn, owner.account_id, &states).await?;
    relabelled += applied.live.changed;
    gone += applied.deleted;
    gone += emails::mark_deleted(&txn, owner.account_id, page.deleted).await?;
    if let Some((ids, at)) = page.listed {
        emails::mark_listed(&txn, owner.account_id, ids, at).await?;
    }
    if let Some(cursor) = page.cursor {
        sync_cursors::save_cursor(&txn, owner, SCOPE, cursor).await?;
    }
    s.hold_lease(&txn).await?;
    txn.commit().await?;
    tracing::debug!(
        stored = upserted.inserted,
        took_ms = began.elapsed().as_millis(),
        at_ms = s.elapsed().as_millis(),
        "gmail page or chunk committed"
    );
    s.grew(upserted.inserted).await;
    s.ledgered(page.skips, upserted.excluded);
    Ok(RunCounts {
        stored: upserted.inserted,
        updated: upserted.updated + relabelled,
        skipped: page.skips.len() as u64 + upserted.excluded,
        deleted: gone,
        ..RunCounts::default()
    })
}

/// Whether a message sits in TRASH or SPAM: deleted in the provider, whatever else it has.
/// Any other set of labels (none at all: archived) keeps it live.
fn in_bin(folders: &Folders) -> bool {
    folders
        .as_slice()
        .iter()
        .any(|l| NEVER_SYNCED.contains(&l.as_str()))
}

/// Gmail labels as `(folders, read, starred)`: `UNREAD` and `STARRED` are flags.
fn flags(labels: &[String]) -> (Vec<String>, bool, bool) {
    let read = !labels.iter().any(|l| l == "UNREAD");
    let starred = labels.iter().any(|l| l == "STARRED");
    let mut folders: Vec<String> = labels
        .iter()
        .filter(|l| !matches!(l.as_str(), "UNREAD" | "STARRED"))
        .cloned()
        .collect();
    folders.sort();
    folders.dedup();
    (folders, read, starred)
}

/// Apply each message's label additions and removals in order (`UNREAD` and `STARRED` are the
/// read and starred flags); messages not stored are left alone. A message that ends in TRASH
/// or SPAM is deleted in the provider. `(relabelled, newly deleted)`.
async fn apply_label_ops(
    db: &impl sea_orm::ConnectionTrait,
    owner: Owner,
    ops: &LabelOps,
) -> Result<(u64, u64), SyncError> {
    let mut changed = 0;
    let mut gone = 0;
    for (id, list) in ops {
        let Some((folders, mut read, mut starred)) =
            emails::state(db, owner.account_id, id).await?
        else {
            continue;
        };
        let was = (read, starred);
        let mut set: BTreeSet<String> = folders.into_iter().collect();
        for (added, labels) in list {
            for label in labels {
                match (label.as_str(), *added) {
                    ("UNREAD", added) => read = !added,
                    ("STARRED", added) => starred = added,
                    (_, true) => {
                        set.insert(label.clone());
                    }
                    (_, false) => {
                        set.remove(label);
                    }
                }
            }
        }
        let folders: Vec<String> = set.into_iter().collect();
        let stored = Folders::from_labels(&folders);
        // The owner's own marks follow what changed.
        let (read_now, starred_now) = (read != was.0, starred != was.1);
        crate::db::provider_marks::follow_one(
            db,
            owner.account_id,
            id,
            read_now.then_some(read),
            starred_now.then_some(starred),
        )
        .await?;
        if in_bin(&stored) {
            gone +=
                emails::set_binned_state(db, owner.account_id, id, &stored, read, starred).await?;
        } else if emails::set_state(db, owner.account_id, id, &stored, read, starred).await? {
            changed += 1;
        }
    }
    Ok((changed, gone))
}
