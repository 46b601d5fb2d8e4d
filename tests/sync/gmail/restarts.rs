//! Progress that survives restarts: under the providers' real latency a page takes longer than
//! the passes live (pages of 500 ids), yet the stopped passes keep storing more, and the pass
//! that finally runs through matches the provider, with a deletion and a label change made
//! between the stops applied once.
use std::time::Duration;

use serde_json::json;
use threadline::sync::SyncOptions;

use super::helpers::{assert_matches_truth, delete, linked, options, patch, truth, tune};
use crate::common::{
    assert_each_stopped_pass_advanced, assert_no_duplicates, stop_passes_repeatedly, stored, Held,
};

#[tokio::test]
async fn passes_stopped_every_two_seconds_still_complete_the_first_sync() {
    let l = linked(320).await;
    // The providers' real service times: each pass fetches its first 100 messages one
    // request each, eight in flight (about 1.3 s), then batches of 4 (about 250 ms each, two
    // in flight), so a pass stores about a round of 100 before it is stopped.
    tune(
        &l.app,
        json!({"latency": "realistic", "latency_scale": 1.0}),
    )
    .await;
    let opts = SyncOptions {
        page_size: 500,
        commit_every: Duration::from_millis(200),
        ..options()
    };
    let total = truth(&l.app).await.len();
    let window = Duration::from_secs(2);
    let mut after = stop_passes_repeatedly(&l, &opts, (window, Held::Live), 2).await;
    // Two stored messages change between stops: one deleted, one starred.
    let held: Vec<String> = stored(&l).await.live.into_keys().collect();
    assert!(held.len() >= 2, "stopped passes kept nothing: {after:?}");
    let (gone, starred) = (held[0].clone(), held[held.len() - 1].clone());
    delete(&l.app, &gone).await;
    patch(&l.app, &starred, json!({"starred": true})).await;
    after.extend(stop_passes_repeatedly(&l, &opts, (window, Held::Live), 60).await);

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
