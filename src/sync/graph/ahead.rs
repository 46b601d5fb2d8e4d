//! The first delta page of each folder already following its deltaLink, requested while the
//! pass is still resolving the folders: a pass woken by a change notification then waits for
//! one round trip instead of the folder look-ups followed by each folder's delta in turn.
//! A page fetched for a folder the pass no longer syncs is dropped unapplied (its cursor does
//! not move, so nothing is lost).
use std::collections::HashMap;

use futures_util::future::join_all;

use super::super::session::Session;
use super::super::SyncError;
use super::{follow, is_incremental, SCOPE_PREFIX};
use crate::db::sync_cursors::Cursor;
use crate::providers::graph::DeltaPage;

/// A folder's first page, or the error its request met (handled as if met in the pass).
pub type Ahead = HashMap<String, Result<DeltaPage, SyncError>>;

/// Request the first delta page of every incremental folder in `stored` (scope, cursor).
pub async fn first_pages(s: &Session, stored: &[(String, Cursor)]) -> Ahead {
    let wanted: Vec<(String, String)> = stored
        .iter()
        .filter(|(_, c)| is_incremental(Some(c)))
        .filter_map(|(scope, c)| {
            let id = scope.strip_prefix(SCOPE_PREFIX)?.to_string();
            let link = c.page_token.clone().or_else(|| c.cursor.clone())?;
            Some((id, link))
        })
        .collect();
    let pages = join_all(wanted.iter().map(|(_, link)| follow(s, link))).await;
    wanted.into_iter().map(|(id, _)| id).zip(pages).collect()
}
