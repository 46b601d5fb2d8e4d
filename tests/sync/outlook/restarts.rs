//! Progress that survives restarts: MIME fetches slower than the passes live, one 500-message
//! delta page, yet every stopped pass keeps more than the one before, and the pass that finally
//! runs through matches the provider, with a deletion and a move made between the stops applied
//! once.
use std::time::Duration;

use serde_json::json;
use threadline::sync::SyncOptions;

use super::helpers::{
    assert_matches_truth, delete, expected, fault, linked, options, patch, OUTLOOK,
};
use crate::common::{
    assert_each_stopped_pass_advanced, assert_no_duplicates, stop_passes_repeatedly, stored,
};

#[tokio::test]
async fn passes_stopped_every_second_still_complete_the_first_sync() {
    let l = linked(100).await;
    // 60 ms per `$value`, two in flight: even the Inbox's first page (50) takes longer than a
    // pass lives.
    fault(&l.app, json!({"mailbox": OUTLOOK, "route": "/$value", "status": 500, "rate": 0.0, "latency_ms": 60})).await;
    let opts = SyncOptions {
        page_size: 500,
        commit_every: Duration::from_millis(100),
        ..options()
    };
    let total = expected(&l.app).await.len();
    let window = Duration::from_secs(1);
    let mut after = stop_passes_repeatedly(&l, &opts, window, 2).await;
    // Two stored messages change between stops: one deleted, one moved to Archive (not synced).
    let held: Vec<String> = stored(&l).await.live.into_keys().collect();
    assert!(held.len() >= 2, "stopped passes kept nothing: {after:?}");
    let (gone, moved) = (held[0].clone(), held[held.len() - 1].clone());
    delete(&l.app, &gone).await;
    patch(&l.app, &moved, json!({"folder": "archive"})).await;
    after.extend(stop_passes_repeatedly(&l, &opts, window, 60).await);

    assert_each_stopped_pass_advanced(&after, 3, total);
    l.sync_with(&opts).await.expect("the last pass succeeds");
    // What changed during the listing is replayed from the cursor taken before it.
    let next = l.sync_with(&opts).await.expect("the next pass succeeds");
    assert_eq!(next.kind.as_str(), "incremental");
    assert_matches_truth(&l).await;
    assert_no_duplicates(&l).await;
    let held = stored(&l).await;
    assert!(held.deleted.contains(&gone) && !held.live.contains_key(&gone));
    assert_eq!(held.live[&moved].labels, vec!["archive".to_string()]);
}
