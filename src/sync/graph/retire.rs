//! Folders synced in earlier passes that are gone now (deleted in Outlook: removed, or moved
//! under Deleted Items with their messages): their stored messages are looked up one by one
//! (under Deleted Items or Junk Email, or gone: deleted; in any other folder: refiled there)
//! and their cursor is dropped. A folder merely left out of the configuration keeps what was stored.
use super::super::session::Session;
use super::super::SyncError;
use super::folders::{self, Synced};
use super::{apply, SCOPE_PREFIX};
use crate::db::emails;
use crate::db::sync_cursors;

pub async fn stale_folders(s: &Session, synced: &Synced) -> Result<(), SyncError> {
    let db = &s.deps().db;
    let account = s.owner().account_id;
    for scope in sync_cursors::scopes(db, account, SCOPE_PREFIX).await? {
        let Some(folder_id) = scope.strip_prefix(SCOPE_PREFIX) else {
            continue;
        };
        if synced.label(folder_id).is_some() || !folders::vanished(s, synced, folder_id).await? {
            continue;
        }
        tracing::info!(account, folder = folder_id, "a synced folder is gone");
        // Well-known folders never vanish, so the folder's messages are filed under its id.
        // Every live message filed there, however recently listed:
        let everything = crate::db::now() + chrono::Duration::days(1);
        let ids = emails::unlisted(db, account, everything, Some(folder_id)).await?;
        let work = apply::departed(s, synced, ids).await?;
        let counts = apply::store(s, &scope, work, None, None).await?;
        s.add(&counts);
        sync_cursors::drop_cursor(db, account, &scope).await?;
    }
    Ok(())
}
