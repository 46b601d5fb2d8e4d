//! Progress that survives restarts: a page takes longer than the passes live (slow message
//! fetches, pages of 500 ids), yet every stopped pass keeps more than the one before, and the
//! pass that finally runs through matches the provider, with a deletion and a label change made
//! between the stops applied once.
use std::time::Duration;

use serde_json::json;
use threadline::sync::SyncOptions;

use super::helpers::{assert_matches_truth, delete, fault, linked, options, patch, truth, GMAIL};
use crate::common::{
    assert_each_stopped_pass_advanced, assert_no_duplicates, stop_passes_repeatedly, stored,
};

#[tokio::test]
async fn passes_stopped_every_second_still_complete_the_first_sync() {
    let l = linked(150).await;
    // Batch parts run one after another in the emulator: 40 ms each, 10 per batch, two
    // batches in flight: the first round alone (100 ids) takes twice as long as a pass lives.
    fault(&l.app, json!({"mailbox": GMAIL, "route": "/messages/", "status": 500, "rate": 0.0, "latency_ms": 40})).await;
    let opts = SyncOptions {
        page_size: 500,
        batch_size: 10,
        commit_every: Duration::from_millis(100),
        ..options()
    };
    let total = truth(&l.app).await.len();
    let window = Duration::from_secs(1);
    let mut after = stop_passes_repeatedly(&l, &opts, window, 2).await;
    // Two stored messages change between stops: one deleted, one starred.
    let held: Vec<String> = stored(&l).await.live.into_keys().collect();
    assert!(held.len() >= 2, "stopped passes kept nothing: {after:?}");
    let (gone, starred) = (held[0].clone(), held[held.len() - 1].clone());
    delete(&l.app, &gone).await;
    patch(&l.app, &starred, json!({"starred": true})).await;
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
    assert!(held.live[&starred].starred);
}
