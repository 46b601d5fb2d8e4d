//! Outlook (Microsoft Graph) sync: one pass walks every synced folder with its own delta cursor
//! (`sync_cursors.scope = graph:{folderId}`). A folder without a cursor is listed (a delta
//! round from scratch, newest first, small first page; the nextLink kept as `page_token` so a
//! killed pass resumes), then swept: stored messages of the folder the listing did not name
//! are looked up: gone, or under Deleted Items / Junk Email, they are deleted in the provider;
//! in any other folder (synced or not) they stay live, filed under it. Later
//! passes follow the folder's deltaLink; an expired one (410) resyncs that folder the same
//! way. Every page is stored with the cursor that covers it in one transaction.
mod ahead;
mod apply;
mod folders;
mod newest;
mod retire;

use std::collections::HashMap;

use super::session::Session;
use super::SyncError;
use crate::db::emails;
use crate::db::sync_cursors::{self, Cursor, PHASE_INCREMENTAL, PHASE_INITIAL};
use crate::db::sync_runs;
use crate::domain::sync_run::RunKind;
use crate::providers::graph::DeltaPage;
use crate::providers::ProviderError;

use apply::Work;
use folders::{Synced, SyncedFolder};

/// The first page of a listing is small so the newest mail shows up quickly.
const FIRST_PAGE: u32 = 50;

type PassResult = Result<RunKind, (RunKind, SyncError)>;

const SCOPE_PREFIX: &str = "graph:";

/// The `sync_cursors.scope` of one Outlook folder.
pub fn scope(folder_id: &str) -> String {
    format!("{SCOPE_PREFIX}{folder_id}")
}

/// Listing progress across the folders of a pass (`mail_accounts.progress_*`).
#[derive(Default)]
struct Progress {
    total: u64,
    done: u64,
}

/// One pass; the kind (initial | incremental | resync) travels with the outcome.
pub async fn pass(s: &Session) -> PassResult {
    let mut kind = RunKind::Incremental;
    let db = &s.deps().db;
    let stored = sync_cursors::cursors(db, s.owner().account_id, SCOPE_PREFIX)
        .await
        .map_err(|e| (kind, e.into()))?;
    // A mailbox no folder of which was ever listed shows its newest mail first; a mailbox whose
    // folders all follow their deltaLinks asks for their first delta pages at once. Either
    // runs beside the folder look-ups.
    let fresh = s.options().newest_first > 0 && stored.is_empty();
    let following = stored.iter().all(|(_, c)| is_incremental(Some(c)));
    // The delta pages are asked for first: they take the longest, and the folder look-ups
    // share the mailbox's four request slots with them.
    let (mut ahead, synced, newest) = tokio::join!(
        async {
            if following {
                ahead::first_pages(s, &stored).await
            } else {
                ahead::Ahead::new()
            }
        },
        folders::resolve(s),
        async {
            if fresh {
                newest::list(s).await.map(Some)
            } else {
                Ok(None)
            }
        }
    );
    let synced = synced.map_err(|e| (kind, e))?;
    // The counts read with the folders are what reconciliation compares at the pass's end.
    s.set_provider_totals(
        synced
            .folders
            .iter()
            .map(|f| super::reconcile::ProviderTotal {
                folder: f.label.clone(),
                name: f.name.clone(),
                scope: scope(&f.id),
                count: f.total,
            })
            .collect(),
    );
    let mut positions: HashMap<String, Cursor> = stored.into_iter().collect();
    let mut listings = Vec::new();
    let mut deltas = Vec::new();
    let mut progress = Progress::default();
    for folder in &synced.folders {
        let cursor = positions.remove(&scope(&folder.id));
        if is_incremental(cursor.as_ref()) {
            let first = ahead.remove(&folder.id);
            deltas.push((folder, cursor, first));
        } else {
            kind = RunKind::Initial;
            progress.total += folder.total;
            listings.push((folder, cursor));
        }
    }
    if listings.iter().any(|(_, c)| c.is_some()) {
        // A listing resumed (after a time slice, a restart) counts its progress on.
        let (total, done) = sync_runs::progress(db, s.owner().account_id)
            .await
            .map_err(|e| (kind, e.into()))?;
        progress.total = progress.total.max(total);
        progress.done = done;
    }
    if let Some(listed) = newest.map_err(|e| (kind, e))? {
        newest::store(s, &synced, listed)
            .await
            .map_err(|e| (kind, e))?;
    }
    // Messages stored before their MIME text (this pass or a stopped one) are filled first.
    newest::fill(s).await.map_err(|e| (kind, e))?;
    if s.more() {
        return Ok(kind);
    }
    // A folder Graph refuses outright must not starve the others: the pass goes on and fails
    // at the end. Anything else (throttling that outlasted its retries, the database, the
    // grant) stops it at once.
    let mut refused: Option<ProviderError> = None;
    let mut settle = |folder: &SyncedFolder, result: Result<(), SyncError>| match result {
        Ok(()) => Ok(()),
        Err(SyncError::Provider(ProviderError::Permanent(detail))) => {
            tracing::warn!(folder = %folder.label, %detail, "Graph refused a folder");
            refused.get_or_insert(ProviderError::Permanent(detail));
            Ok(())
        }
        Err(e) => Err(e),
    };
    // Unfinished listings first (in folder order): a first sync restarted every few seconds
    // spends its time on what it has not stored yet.
    for (folder, cursor) in listings {
        let result = folder_pass(s, &synced, folder, cursor, None, &mut progress, &mut kind).await;
        settle(folder, result).map_err(|e| (kind, e))?;
        if s.more() {
            // Stopped at its time slice: the folders left are the next pass's, and so is
            // retiring folders no longer synced.
            break;
        }
    }
    // Then the delta rounds of listed folders, one after the other: their first pages are
    // usually here already (requested beside the folder look-ups). Their writes stay in
    // sequence: two folders' transactions may touch the same message (one moved between
    // them) and must not lock it in opposite orders.
    for (folder, cursor, first) in deltas {
        if s.more() {
            break;
        }
        let result = folder_pass(s, &synced, folder, cursor, first, &mut progress, &mut kind).await;
        settle(folder, result).map_err(|e| (kind, e))?;
    }
    if !s.more() {
        retire::stale_folders(s, &synced)
            .await
            .map_err(|e| (kind, e))?;
    }
    match refused {
        Some(e) => Err((kind, e.into())),
        None => Ok(kind),
    }
}

fn is_incremental(c: Option<&Cursor>) -> bool {
    c.is_some_and(|c| c.phase == PHASE_INCREMENTAL && c.cursor.is_some())
}

async fn folder_pass(
    s: &Session,
    synced: &Synced,
    folder: &SyncedFolder,
    cursor: Option<Cursor>,
    first: Option<Result<DeltaPage, SyncError>>,
    progress: &mut Progress,
    kind: &mut RunKind,
) -> Result<(), SyncError> {
    let gone =
        |r: &Result<(), SyncError>| matches!(r, Err(SyncError::Provider(ProviderError::Gone)));
    match cursor {
        Some(c) if is_incremental(Some(&c)) => {
            let result = rounds(s, synced, folder, c, first).await;
            if !gone(&result) {
                return result;
            }
            tracing::info!(
                account = s.owner().account_id,
                folder = %folder.label,
                "delta token expired; resyncing the folder"
            );
            if *kind == RunKind::Incremental {
                *kind = RunKind::Resync;
            }
            progress.total += folder.total;
            listing(s, synced, folder, None, progress).await
        }
        Some(Cursor {
            cursor: Some(delta),
            page_token: None,
            ..
        }) => {
            // The listing's last page is stored; only its sweep is left.
            let since = sync_cursors::listing_started(
                &s.deps().db,
                s.owner().account_id,
                &scope(&folder.id),
            )
            .await?;
            match since {
                Some(since) => sweep(s, synced, folder, delta, since).await,
                None => listing(s, synced, folder, None, progress).await,
            }
        }
        Some(Cursor {
            page_token: Some(next),
            ..
        }) => {
            let result = listing(s, synced, folder, Some(next), progress).await;
            if gone(&result) {
                // An old nextLink dies as generations advance (trap 17): list again.
                return listing(s, synced, folder, None, progress).await;
            }
            result
        }
        _ => listing(s, synced, folder, None, progress).await,
    }
}

async fn follow(s: &Session, link: &str) -> Result<DeltaPage, SyncError> {
    let graph = s.graph().clone();
    let size = s.options().page_size;
    s.call(|t| {
        let (g, link) = (graph.clone(), link.to_string());
        async move { g.delta_follow(&t, &link, size).await }
    })
    .await
}

/// A full listing of the folder, from scratch or from a stored nextLink.
async fn listing(
    s: &Session,
    synced: &Synced,
    folder: &SyncedFolder,
    resume: Option<String>,
    progress: &mut Progress,
) -> Result<(), SyncError> {
    let db = &s.deps().db;
    let owner = s.owner();
    let scope = scope(&folder.id);
    let started = match &resume {
        Some(_) => sync_cursors::listing_started(db, owner.account_id, &scope).await?,
        None => None,
    };
    let (mut link, since) = if let (Some(link), Some(at)) = (resume, started) {
        (Some(link), at)
    } else {
        let at = crate::db::now();
        let fresh = Cursor {
            cursor: None,
            page_token: None,
            phase: PHASE_INITIAL,
        };
        sync_cursors::save_cursor(db, owner, &scope, &fresh).await?;
        sync_cursors::begin_listing(db, owner.account_id, &scope, at).await?;
        (None, at)
    };
    let after = s
        .options()
        .since
        .map(|d| d.format("%Y-%m-%dT00:00:00Z").to_string());
    loop {
        let page = if let Some(l) = &link {
            follow(s, l).await?
        } else {
            let graph = s.graph().clone();
            let size = s.options().page_size.min(FIRST_PAGE);
            let id = folder.id.clone();
            s.call(|t| {
                let (g, id, after) = (graph.clone(), id.clone(), after.clone());
                async move { g.delta_start(&t, &id, after.as_deref(), size).await }
            })
            .await?
        };
        let work = apply::page(s, synced, folder, page.items).await?;
        let named = work.named();
        let cursor = match (&page.next_link, &page.delta_link) {
            (Some(next), _) => Cursor {
                cursor: None,
                page_token: Some(next.clone()),
                phase: PHASE_INITIAL,
            },
            // Listed to the end; the sweep is still due (resumable from this state).
            (None, delta) => Cursor {
                cursor: delta.clone(),
                page_token: None,
                phase: PHASE_INITIAL,
            },
        };
        let counts = apply::store(s, &scope, work, Some(since), Some(&cursor)).await?;
        s.add(&counts);
        progress.done += named;
        sync_runs::set_progress(
            db,
            owner.account_id,
            Some(progress.total.max(progress.done)),
            progress.done,
        )
        .await?;
        match (page.next_link, page.delta_link) {
            (Some(_), _) if s.slice_spent() => return Ok(()),
            (Some(next), _) => link = Some(next),
            (None, Some(delta)) => return sweep(s, synced, folder, delta, since).await,
            (None, None) => {
                return Err(ProviderError::Permanent("delta page without links".into()).into())
            }
        }
    }
}

/// After a full listing: stored messages of the folder it did not name left the folder while
/// we were not looking. Then the folder is incremental from `delta` on.
async fn sweep(
    s: &Session,
    synced: &Synced,
    folder: &SyncedFolder,
    delta: String,
    since: chrono::DateTime<chrono::Utc>,
) -> Result<(), SyncError> {
    let db = &s.deps().db;
    let unlisted = emails::unlisted(db, s.owner().account_id, since, Some(&folder.label)).await?;
    let work: Work = apply::departed(s, synced, unlisted).await?;
    let cursor = Cursor {
        cursor: Some(delta),
        page_token: None,
        phase: PHASE_INCREMENTAL,
    };
    let counts = apply::store(s, &scope(&folder.id), work, None, Some(&cursor)).await?;
    s.add(&counts);
    Ok(())
}

/// Delta rounds from the folder's deltaLink (or a stored nextLink of an unfinished round).
async fn rounds(
    s: &Session,
    synced: &Synced,
    folder: &SyncedFolder,
    at: Cursor,
    mut first: Option<Result<DeltaPage, SyncError>>,
) -> Result<(), SyncError> {
    let scope = scope(&folder.id);
    let base = at.cursor.unwrap_or_default();
    let mut link = at.page_token.unwrap_or_else(|| base.clone());
    loop {
        // The first page may have been requested while the folders were being resolved.
        let page = match first.take() {
            Some(page) => page?,
            None => follow(s, &link).await?,
        };
        let work = apply::page(s, synced, folder, page.items).await?;
        let cursor = match (&page.next_link, &page.delta_link) {
            (Some(next), _) => Cursor {
                cursor: Some(base.clone()),
                page_token: Some(next.clone()),
                phase: PHASE_INCREMENTAL,
            },
            (None, delta) => Cursor {
                cursor: Some(delta.clone().unwrap_or_else(|| base.clone())),
                page_token: None,
                phase: PHASE_INCREMENTAL,
            },
        };
        let counts = apply::store(s, &scope, work, None, Some(&cursor)).await?;
        s.add(&counts);
        match page.next_link {
            Some(_) if s.slice_spent() => return Ok(()),
            Some(next) => link = next,
            None => return Ok(()),
        }
    }
}
