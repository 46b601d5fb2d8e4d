//! Gmail sync: the initial listing (history id taken before listing, each label newest first,
//! page by page) and incremental history (added, deleted, label changes), each provider page
//! stored together with the cursor that covers it in one transaction.
use std::collections::{BTreeSet, HashMap, HashSet};

use super::session::{Session, Skip};
use super::SyncError;
use crate::db::emails::{self, Owner};
use crate::db::sync_state::{self, Cursor, RunCounts, PHASE_INCREMENTAL, PHASE_INITIAL};
use crate::providers::gmail::{Change, NEVER_SYNCED};
use crate::providers::message::NormalizedMessage;
use crate::providers::ProviderError;

/// The `sync_cursors.scope` of a Gmail mailbox (one history cursor for the whole mailbox).
pub const SCOPE: &str = "gmail";

type PassResult = Result<&'static str, (&'static str, SyncError)>;

/// One pass; the kind (initial | incremental | resync) travels with the outcome.
pub async fn pass(s: &Session) -> PassResult {
    let db = &s.deps().db;
    let cursor = sync_state::cursor(db, s.owner().account_id, SCOPE)
        .await
        .map_err(|e| ("incremental", e.into()))?;
    match cursor {
        Some(c) if c.phase == PHASE_INCREMENTAL && c.cursor.is_some() => {
            match incremental(s, c).await {
                Err(SyncError::Provider(ProviderError::Gone)) => {
                    tracing::info!(account = s.owner().account_id, "history expired; resyncing");
                    initial(s, None)
                        .await
                        .map(|()| "resync")
                        .map_err(|e| ("resync", e))
                }
                other => other
                    .map(|()| "incremental")
                    .map_err(|e| ("incremental", e)),
            }
        }
        resume => initial(s, resume.filter(|c| c.cursor.is_some()))
            .await
            .map(|()| "initial")
            .map_err(|e| ("initial", e)),
    }
}

fn labels(s: &Session) -> Vec<String> {
    s.options()
        .labels
        .clone()
        .unwrap_or_default()
        .into_iter()
        .filter(|l| !NEVER_SYNCED.contains(&l.as_str()))
        .collect()
}

/// Where an initial listing stands, as kept in `page_token`: `LABEL|token` (empty token: the
/// label's first page).
fn position(labels: &[String], token: Option<&str>) -> (usize, Option<String>) {
    let Some((label, page)) = token.and_then(|t| t.split_once('|')) else {
        return (0, None);
    };
    match labels.iter().position(|l| l == label) {
        Some(i) => (i, (!page.is_empty()).then(|| page.to_string())),
        None => (0, None),
    }
}

async fn initial(s: &Session, resume: Option<Cursor>) -> Result<(), SyncError> {
    let db = &s.deps().db;
    let owner = s.owner();
    let labels = labels(s);
    let (history_id, page_token) = if let Some(Cursor {
        cursor: Some(h),
        page_token,
        ..
    }) = resume
    {
        (h, page_token)
    } else {
        // Taken BEFORE listing: changes made while we list are replayed by history.
        let gmail = s.gmail().clone();
        let h = s
            .call(|t| {
                let g = gmail.clone();
                async move { g.history_id(&t).await }
            })
            .await?;
        let pending = Cursor {
            cursor: Some(h.clone()),
            page_token: None,
            phase: PHASE_INITIAL.into(),
        };
        sync_state::save_cursor(db, owner, SCOPE, &pending).await?;
        (h, None)
    };
    let after = s.options().since.map(|d| d.format("%Y/%m/%d").to_string());
    let (mut index, mut page) = position(&labels, page_token.as_deref());
    let (mut total, mut done) = (0u64, 0u64);
    while index < labels.len() {
        let label = labels[index].clone();
        let gmail = s.gmail().clone();
        let size = s.options().page_size;
        let listing = s
            .call(|t| {
                let (g, label, after, page) =
                    (gmail.clone(), label.clone(), after.clone(), page.clone());
                async move {
                    g.list(&t, &label, after.as_deref(), page.as_deref(), size)
                        .await
                }
            })
            .await?;
        if page.is_none() {
            total += listing.estimate.unwrap_or(0);
        }
        let listed = listing.ids.len() as u64;
        let (messages, skips) = s.fetch_all(listing.ids).await?;
        let next = match listing.next_page_token {
            Some(t) => Some((index, Some(t))),
            None if index + 1 < labels.len() => Some((index + 1, None)),
            None => None,
        };
        let cursor = match &next {
            Some((i, t)) => Cursor {
                cursor: Some(history_id.clone()),
                page_token: Some(format!("{}|{}", labels[*i], t.as_deref().unwrap_or(""))),
                phase: PHASE_INITIAL.into(),
            },
            None => Cursor {
                cursor: Some(history_id.clone()),
                page_token: None,
                phase: PHASE_INCREMENTAL.into(),
            },
        };
        let mut delta = store_page(s, &messages, &skips, &HashMap::new(), &[], &cursor).await?;
        delta.listed = listed;
        s.add(&delta);
        done += listed;
        sync_state::set_progress(db, owner.account_id, Some(total.max(done)), done).await?;
        match next {
            Some((i, t)) => (index, page) = (i, t),
            None => break,
        }
    }
    Ok(())
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
            .call(|t| {
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
        // is fetched whole; so is every added one. Deleted ones are not fetched at all.
        let maybe: Vec<String> = maybe.into_iter().collect();
        let stored = emails::ids_by_provider_id(db, s.owner().account_id, &maybe).await?;
        wanted.extend(maybe.into_iter().filter(|id| !stored.contains_key(id)));
        for id in &deleted {
            wanted.remove(id);
        }
        let listed = wanted.len() as u64;
        let (messages, skips) = s.fetch_all(wanted.into_iter().collect()).await?;
        let cursor = match &history.next_page_token {
            Some(t) => Cursor {
                cursor: Some(start.clone()),
                page_token: Some(t.clone()),
                phase: PHASE_INCREMENTAL.into(),
            },
            None => Cursor {
                cursor: Some(history.history_id.clone()),
                page_token: None,
                phase: PHASE_INCREMENTAL.into(),
            },
        };
        let mut delta = store_page(s, &messages, &skips, &ops, &deleted, &cursor).await?;
        delta.listed = listed;
        s.add(&delta);
        match history.next_page_token {
            Some(t) => page = Some(t),
            None => return Ok(()),
        }
    }
}

/// One transaction: upsert the fetched messages, record the skipped ones, apply label
/// changes and deletions, and move the cursor past everything this page covered.
async fn store_page(
    s: &Session,
    messages: &[NormalizedMessage],
    skips: &[Skip],
    ops: &LabelOps,
    deleted: &[String],
    cursor: &Cursor,
) -> Result<RunCounts, SyncError> {
    let owner = s.owner();
    let txn = crate::db::begin_write(&s.deps().db).await?;
    let upserted = emails::upsert_page(&txn, owner, messages).await?;
    for skip in skips {
        emails::record_skipped(&txn, owner, &skip.id, skip.reason, &skip.detail).await?;
    }
    let relabelled = apply_label_ops(&txn, owner, ops).await?;
    let gone = emails::mark_deleted(&txn, owner.account_id, deleted).await?;
    sync_state::save_cursor(&txn, owner, SCOPE, cursor).await?;
    txn.commit().await?;
    Ok(RunCounts {
        stored: upserted.inserted,
        updated: upserted.updated + relabelled,
        skipped: skips.len() as u64,
        deleted: gone,
        ..RunCounts::default()
    })
}

/// Apply each message's label additions and removals in order (`UNREAD` and `STARRED` are the
/// read and starred flags); messages not stored are left alone.
async fn apply_label_ops(
    db: &impl sea_orm::ConnectionTrait,
    owner: Owner,
    ops: &LabelOps,
) -> Result<u64, SyncError> {
    let mut changed = 0;
    for (id, list) in ops {
        let Some((folders, mut read, mut starred)) =
            emails::state(db, owner.account_id, id).await?
        else {
            continue;
        };
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
        let json = emails::folders_json(&folders);
        if emails::set_state(db, owner.account_id, id, &json, read, starred).await? {
            changed += 1;
        }
    }
    Ok(changed)
}

#[cfg(test)]
mod tests {
    use super::position;

    #[test]
    fn listing_positions_round_trip() {
        let labels = vec!["INBOX".to_string(), "SENT".to_string()];
        assert_eq!(position(&labels, None), (0, None));
        assert_eq!(position(&labels, Some("SENT|")), (1, None));
        assert_eq!(
            position(&labels, Some("INBOX|abc|d")),
            (0, Some("abc|d".into()))
        );
        assert_eq!(position(&labels, Some("Label_9|x")), (0, None));
    }
}
