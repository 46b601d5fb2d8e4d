//! A page's new messages, fetched whole and committed in chunks as they arrive
//! (`sync::chunks`): under provider latency a page of 500 takes minutes, and a pass stopped
//! meanwhile keeps what it fetched. Chunks hold new messages only; the page's own transaction
//! (with the rest, its deletions and label changes, and its cursor) follows them.
use chrono::{DateTime, Utc};

use super::{store_page, Page};
use crate::domain::message::NormalizedMessage;
use crate::sync::chunks::Cadence;
use crate::sync::session::Skip;
use crate::sync::{Session, SyncError};

/// Fetch `ids` whole, committing what has arrived whenever a chunk is due (stamped as listed
/// at `listing` when the page belongs to one). Returns what arrived after the last chunk, for
/// the page's transaction.
pub(super) async fn fetch(
    s: &Session,
    ids: &[String],
    listing: Option<DateTime<Utc>>,
) -> Result<(Vec<NormalizedMessage>, Vec<Skip>), SyncError> {
    let mut fetch = s.fetch_messages(ids);
    let mut cadence = Cadence::start();
    let (mut messages, mut skips) = (Vec::new(), Vec::new());
    while let Some((got, skipped)) = fetch.next().await? {
        messages.extend(got);
        skips.extend(skipped);
        if fetch.is_done() || !cadence.due(s) {
            continue;
        }
        let (chunk, chunk_skips) = (std::mem::take(&mut messages), std::mem::take(&mut skips));
        let named: Vec<String> = chunk
            .iter()
            .map(|m| m.provider_message_id.clone())
            .collect();
        let page = Page {
            listed: listing.map(|at| (named.as_slice(), at)),
            ..Page::chunk(&chunk, &chunk_skips)
        };
        // The fetch goes on while the chunk commits: requests keep every slot busy instead of
        // waiting for the database (what arrives meanwhile goes into the next chunk).
        let commit = store_page(s, &page);
        tokio::pin!(commit);
        let mut drained = false;
        let delta = loop {
            tokio::select! {
                biased;
                delta = &mut commit => break delta?,
                // Cancel-safe: a batch settling meanwhile stays in the fetch's task set.
                got = fetch.next(), if !drained => match got? {
                    Some((got, skipped)) => {
                        messages.extend(got);
                        skips.extend(skipped);
                    }
                    None => drained = true,
                },
            }
        };
        s.add(&delta);
        cadence.restart();
    }
    Ok((messages, skips))
}
