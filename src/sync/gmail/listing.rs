//! The Gmail initial listing (also the resync after history expired), newest mail first across
//! labels: each round lists one page of every synced label (the first pages small, so the
//! first transaction holds the mailbox's newest mail within seconds), fetches the messages not
//! stored yet (whole, in batches, committed in chunks as they arrive) and the labels of those
//! stored before this listing, and commits them with the position of every label. Every message
//! named is stamped as listed; once every label is listed, stored messages the listing did not
//! name were deleted or moved meanwhile, and each is checked with the provider.
use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

use super::{chunked, labels, store_page, Page, SCOPE};
use crate::db::sync_cursors::{self, Cursor, PHASE_INCREMENTAL, PHASE_INITIAL};
use crate::db::sync_runs;
use crate::db::{self, emails};
use crate::providers::gmail::units;
use crate::sync::{Session, SyncError};

/// Size of each label's first page: the newest mail, fetched one message per thread first, so
/// the first chunks hold the newest conversations (50 messages of INBOX and SENT are often
/// only some 40 threads).
pub const FIRST_PAGE: u32 = 100;

/// Where a listing stands, kept in `sync_cursors.page_token` as `v2:` + JSON.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Position {
    /// Labels still being listed, with the page to ask for next (`None`: the first page).
    pending: Vec<(String, Option<String>)>,
    /// Labels listed to the end. With nothing pending, unlisted messages are being checked.
    done: Vec<String>,
}

const V2: &str = "v2:";

impl Position {
    fn start(labels: &[String]) -> Self {
        Self {
            pending: labels.iter().map(|l| (l.clone(), None)).collect(),
            done: Vec::new(),
        }
    }

    fn encode(&self) -> String {
        format!("{V2}{}", serde_json::to_string(self).unwrap_or_default())
    }

    /// A stored position against the labels synced now: labels no longer synced are
    /// dropped, new ones start from their first page. Unreadable tokens start over (safe: the
    /// listing is idempotent). The old `LABEL|token` form (one label at a time, in order) is
    /// still read.
    fn resume(labels: &[String], token: Option<&str>) -> Self {
        let Some(token) = token else {
            return Self::start(labels);
        };
        let stored = if let Some(json) = token.strip_prefix(V2) {
            serde_json::from_str::<Position>(json).ok()
        } else {
            legacy(labels, token)
        };
        let Some(mut pos) = stored else {
            return Self::start(labels);
        };
        pos.pending.retain(|(l, _)| labels.contains(l));
        pos.done.retain(|l| labels.contains(l));
        for label in labels {
            if !pos.done.contains(label) && !pos.pending.iter().any(|(l, _)| l == label) {
                pos.pending.push((label.clone(), None));
            }
        }
        pos
    }
}

/// `LABEL|token`: labels before LABEL are done, LABEL continues at `token` (empty: its first
/// page), later labels have not begun.
fn legacy(labels: &[String], token: &str) -> Option<Position> {
    let (label, page) = token.split_once('|')?;
    let at = labels.iter().position(|l| l == label)?;
    let mut pos = Position::default();
    for (i, l) in labels.iter().enumerate() {
        match i.cmp(&at) {
            std::cmp::Ordering::Less => pos.done.push(l.clone()),
            std::cmp::Ordering::Equal => pos
                .pending
                .push((l.clone(), (!page.is_empty()).then(|| page.to_string()))),
            std::cmp::Ordering::Greater => pos.pending.push((l.clone(), None)),
        }
    }
    Some(pos)
}

pub(super) async fn initial(s: &Session, resume: Option<Cursor>) -> Result<(), SyncError> {
    let db = &s.deps().db;
    let owner = s.owner();
    let labels = labels(s);
    // A listing resumed (after a time slice, a restart) counts its progress on.
    let (mut total, mut done) = if resume.is_some() {
        sync_runs::progress(db, owner.account_id).await?
    } else {
        (0, 0)
    };
    let (history_id, mut pos, started) = if let Some(Cursor {
        cursor: Some(h),
        page_token,
        ..
    }) = resume
    {
        let pos = Position::resume(&labels, page_token.as_deref());
        let started =
            if let Some(at) = sync_cursors::listing_started(db, owner.account_id, SCOPE).await? {
                at
            } else {
                // Begun before listings were stamped: stamp from now on (messages listed
                // earlier are merely checked once more at the end).
                let at = db::now();
                sync_cursors::begin_listing(db, owner.account_id, SCOPE, at).await?;
                at
            };
        (h, pos, started)
    } else {
        // Taken BEFORE listing: changes made while we list are replayed by history.
        let gmail = s.gmail().clone();
        let h = s
            .call_cost(units::GET_PROFILE, |t| {
                let g = gmail.clone();
                async move { g.history_id(&t).await }
            })
            .await?;
        let pos = Position::start(&labels);
        let started = db::now();
        // No page token yet: a listing resumed from here starts from the first pages.
        let cursor = Cursor {
            cursor: Some(h.clone()),
            page_token: None,
            phase: PHASE_INITIAL,
        };
        let txn = sea_orm::TransactionTrait::begin(db).await?;
        sync_cursors::save_cursor(&txn, owner, SCOPE, &cursor).await?;
        sync_cursors::begin_listing(&txn, owner.account_id, SCOPE, started).await?;
        s.hold_lease(&txn).await?;
        txn.commit().await?;
        (h, pos, started)
    };
    let after = s.options().since.map(|d| d.format("%Y/%m/%d").to_string());
    // Pipelined: while one round is committed, the next is listed and fetched (its position
    // is known before the commit). Rounds still commit one after another, each with the
    // position that covers it, so a pass stopped anywhere resumes after its last commit.
    let mut ready: Option<Round> = None;
    loop {
        let listing = !pos.pending.is_empty();
        if ready.is_none() && !listing {
            break;
        }
        // A pass whose time slice is over commits the round it fetched and stops there, with
        // more to list.
        let stopping = ready.is_some() && listing && s.slice_spent();
        let (committed, prepared) = tokio::join!(
            async {
                match &ready {
                    Some(r) => Box::pin(commit(s, r, &history_id, started)).await.map(Some),
                    None => Ok(None),
                }
            },
            async {
                if listing && !stopping {
                    let in_flight = ready.as_ref().map_or(&[][..], |r| r.ids.as_slice());
                    // Boxed, as is the commit: two rounds' futures side by side would make
                    // every caller's pass future large.
                    Box::pin(prepare(s, &pos, after.as_deref(), started, in_flight))
                        .await
                        .map(Some)
                } else {
                    Ok(None)
                }
            }
        );
        if let (Some(delta), Some(r)) = (committed?, ready.take()) {
            s.add(&delta);
            done += r.ids.len() as u64;
            sync_runs::set_progress(db, owner.account_id, Some(total.max(done)), done).await?;
        }
        if stopping {
            return Ok(());
        }
        if let Some((round, estimate)) = prepared? {
            total += estimate;
            pos = round.next.clone();
            ready = Some(round);
        }
    }
    check_unlisted(s, &history_id, &pos, started).await
}

/// One round of a listing, fetched and ready to commit: the ids its pages named, the position
/// after it, the new messages (those arriving after its last chunk) and the labels of stored
/// ones.
struct Round {
    ids: Vec<String>,
    next: Position,
    messages: Vec<crate::domain::message::NormalizedMessage>,
    skips: Vec<crate::sync::session::Skip>,
    states: crate::sync::fetch::States,
}

/// List one page of every pending label and fetch what the round needs; with the first pages'
/// size estimates. `in_flight` are the ids of the round being committed meanwhile: named by
/// this listing already (another label), they are neither fetched nor asked about again.
async fn prepare(
    s: &Session,
    pos: &Position,
    after: Option<&str>,
    started: chrono::DateTime<chrono::Utc>,
    in_flight: &[String],
) -> Result<(Round, u64), SyncError> {
    let db = &s.deps().db;
    let owner = s.owner();
    let mut next = Position {
        pending: Vec::new(),
        done: pos.done.clone(),
    };
    let (mut ids, mut estimate) = (Vec::new(), 0);
    // Every label's page at once (each within the limiter's slots).
    let lists = pos.pending.iter().map(|(label, token)| {
        let size = if token.is_none() {
            FIRST_PAGE.min(s.options().page_size)
        } else {
            s.options().page_size
        };
        let gmail = s.gmail().clone();
        let after = after.map(str::to_string);
        async move {
            s.call_cost(units::MESSAGES_LIST, |t| {
                let (g, label, after, token) =
                    (gmail.clone(), label.clone(), after.clone(), token.clone());
                async move {
                    g.list(&t, &label, after.as_deref(), token.as_deref(), size)
                        .await
                }
            })
            .await
        }
    });
    let began = s.elapsed();
    let pages = futures_util::future::try_join_all(lists).await?;
    tracing::debug!(
        labels = pos.pending.len(),
        began_ms = began.as_millis(),
        at_ms = s.elapsed().as_millis(),
        "gmail listing round listed"
    );
    let mut threads: HashMap<String, String> = HashMap::new();
    for ((label, token), page) in pos.pending.iter().zip(pages) {
        if token.is_none() {
            estimate += page.estimate.unwrap_or(0);
        }
        for (id, thread) in page.ids.into_iter().zip(page.thread_ids) {
            if !threads.contains_key(&id) {
                threads.insert(id.clone(), thread);
                ids.push(id);
            }
        }
        match page.next_page_token {
            Some(t) => next.pending.push((label.clone(), Some(t))),
            None => next.done.push(label.clone()),
        }
    }
    // Stored ones (a resync, a resumed listing) only need their labels, unless this
    // listing stored or read them already (a chunk before a restart, another label).
    let in_flight: HashSet<&String> = in_flight.iter().collect();
    let (stored, kept_out) = emails::stored_or_kept_out(db, owner.account_id, &ids).await?;
    // Purged or excluded messages are never fetched again.
    let (known, fresh): (Vec<String>, Vec<String>) = ids
        .iter()
        .filter(|id| !in_flight.contains(id) && !kept_out.contains(*id))
        .cloned()
        .partition(|id| stored.contains_key(id));
    let fresh = heads_first(fresh, &threads);
    let (messages, skips) = chunked::fetch(s, &fresh, Some(started)).await?;
    let current = emails::listed_since(db, owner.account_id, &known, started).await?;
    let known = known
        .into_iter()
        .filter(|id| !current.contains(id))
        .collect();
    let states = s.fetch_states(known).await?;
    let round = Round {
        ids,
        next,
        messages,
        skips,
        states,
    };
    Ok((round, estimate))
}

/// Commit a round with the position after it.
async fn commit(
    s: &Session,
    r: &Round,
    history_id: &str,
    started: chrono::DateTime<chrono::Utc>,
) -> Result<crate::db::sync_runs::RunCounts, SyncError> {
    let cursor = Cursor {
        cursor: Some(history_id.to_string()),
        page_token: Some(r.next.encode()),
        phase: PHASE_INITIAL,
    };
    let page = Page {
        messages: &r.messages,
        skips: &r.skips,
        states: &r.states.found,
        deleted: &r.states.gone,
        listed: Some((&r.ids, started)),
        ..Page::new(&cursor)
    };
    let mut delta = store_page(s, &page).await?;
    delta.listed = r.ids.len() as u64;
    Ok(delta)
}

/// Every label is listed: stored messages not named since `started` were deleted, or moved
/// out of the synced labels (archived, trashed, relabelled). Ask the provider about each, a
/// page at a time; each page is stamped so a resumed check does not ask twice.
async fn check_unlisted(
    s: &Session,
    history_id: &str,
    listed: &Position,
    started: chrono::DateTime<chrono::Utc>,
) -> Result<(), SyncError> {
    let db = &s.deps().db;
    let owner = s.owner();
    let chunk = usize::try_from(s.options().page_size.max(1)).unwrap_or(500);
    loop {
        let mut unlisted = emails::unlisted(db, owner.account_id, started, None).await?;
        unlisted.truncate(chunk);
        let last = unlisted.len() < chunk;
        let states = s.fetch_states(unlisted.clone()).await?;
        let cursor = Cursor {
            cursor: Some(history_id.to_string()),
            page_token: if last { None } else { Some(listed.encode()) },
            phase: if last {
                PHASE_INCREMENTAL
            } else {
                PHASE_INITIAL
            },
        };
        let page = Page {
            states: &states.found,
            deleted: &states.gone,
            listed: Some((&unlisted, started)),
            ..Page::new(&cursor)
        };
        let delta = store_page(s, &page).await?;
        s.add(&delta);
        if last || s.slice_spent() {
            return Ok(());
        }
    }
}

/// One message of each thread first (the first listed, the newest of its label), then the
/// rest in listed order: the first chunks of a listing show as many conversations as they can.
fn heads_first(ids: Vec<String>, threads: &HashMap<String, String>) -> Vec<String> {
    let mut seen = HashSet::new();
    let (heads, rest): (Vec<String>, Vec<String>) = ids.into_iter().partition(|id| {
        let thread = threads.get(id).filter(|t| !t.is_empty()).unwrap_or(id);
        seen.insert(thread.clone())
    });
    heads.into_iter().chain(rest).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels() -> Vec<String> {
        vec!["INBOX".to_string(), "SENT".to_string()]
    }

    #[test]
    fn one_message_per_thread_comes_first() {
        let ids: Vec<String> = ["a", "b", "c", "d", "e"].map(String::from).to_vec();
        let threads: HashMap<String, String> = [("a", "t1"), ("b", "t1"), ("c", "t2"), ("d", "")]
            .into_iter()
            .map(|(i, t)| (i.to_string(), t.to_string()))
            .collect();
        assert_eq!(heads_first(ids, &threads), ["a", "c", "d", "e", "b"]);
    }

    #[test]
    fn positions_round_trip_through_the_token() {
        let pos = Position {
            pending: vec![("SENT".into(), Some("tok|with\"odd:chars".into()))],
            done: vec!["INBOX".into()],
        };
        assert_eq!(Position::resume(&labels(), Some(&pos.encode())), pos);
        assert_eq!(
            Position::resume(&labels(), None),
            Position::start(&labels())
        );
    }

    #[test]
    fn old_tokens_still_resume_where_they_stopped() {
        let pos = Position::resume(&labels(), Some("SENT|abc|d"));
        assert_eq!(pos.done, vec!["INBOX".to_string()]);
        assert_eq!(pos.pending, vec![("SENT".into(), Some("abc|d".into()))]);
        let pos = Position::resume(&labels(), Some("INBOX|"));
        assert_eq!(
            pos.pending,
            vec![("INBOX".into(), None), ("SENT".into(), None)]
        );
    }

    #[test]
    fn unreadable_tokens_start_over_and_label_changes_are_followed() {
        let start = Position::start(&labels());
        assert_eq!(Position::resume(&labels(), Some("Label_9|x")), start);
        assert_eq!(Position::resume(&labels(), Some("v2:{nope")), start);
        assert_eq!(Position::resume(&labels(), Some("garbage")), start);
        let old = Position {
            pending: vec![("Label_1".into(), Some("t".into()))],
            done: vec!["INBOX".into()],
        };
        let now = Position::resume(&labels(), Some(&old.encode()));
        assert_eq!(now.done, vec!["INBOX".to_string()]);
        assert_eq!(now.pending, vec![("SENT".into(), None)]);
    }

    #[test]
    fn a_finished_listing_resumes_at_the_check() {
        let pos = Position {
            pending: Vec::new(),
            done: labels(),
        };
        let again = Position::resume(&labels(), Some(&pos.encode()));
        assert!(again.pending.is_empty());
    }
}
