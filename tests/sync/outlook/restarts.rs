//! Progress that survives restarts: under the providers' real latency a delta page's MIME
//! fetches take longer than the passes live, yet the stopped passes keep storing more, and the
//! pass that finally runs through matches the provider, with a deletion and a move made between
//! the stops applied once.
use std::time::Duration;

use serde_json::json;
use threadline::sync::SyncOptions;

use super::helpers::{assert_matches_truth, delete, expected, linked, options, patch};
use crate::common::{
    assert_each_stopped_pass_advanced, assert_no_duplicates, stop_passes_repeatedly, stored, tune,
    Held,
};

#[tokio::test]
async fn passes_stopped_every_two_seconds_still_complete_the_first_sync() {
    let l = linked(300).await;
    // The providers' service times at half their real length: about 90 ms per `$value`, four
    // in flight, so the Inbox's second page takes longer than a pass lives (and a pass lives as
    // long, in real time, as one killed every 4 s).
    tune(
        &l.app,
        json!({"latency": "realistic", "latency_scale": 0.5}),
    )
    .await;
    let opts = SyncOptions {
        page_size: 500,
        commit_every: Duration::from_millis(200),
        ..options()
    };
    let total = expected(&l.app).await.len();
    let window = Duration::from_secs(2);
    let mut after = stop_passes_repeatedly(&l, &opts, (window, Held::Complete), 2).await;
    // Two stored messages change between stops: one deleted, one moved to Archive (not synced).
    let held: Vec<String> = stored(&l).await.live.into_keys().collect();
    assert!(held.len() >= 2, "stopped passes kept nothing: {after:?}");
    let (gone, moved) = (held[0].clone(), held[held.len() - 1].clone());
    delete(&l.app, &gone).await;
    patch(&l.app, &moved, json!({"folder": "archive"})).await;
    after.extend(stop_passes_repeatedly(&l, &opts, (window, Held::Complete), 60).await);

    // One of them is deleted: the others are what the passes can complete.
    assert_each_stopped_pass_advanced(&after, 3, total - 1);
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
