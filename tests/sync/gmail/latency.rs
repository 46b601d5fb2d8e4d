//! Under the emulator's realistic latency model (run 10 times faster), a Gmail pass keeps
//! batches in flight without a single concurrency refusal and stores the exact truth.
use serde_json::json;
use threadline::sync::{self, SyncOptions};

use super::helpers::{assert_matches_truth, linked, options, tune};

#[tokio::test]
async fn a_pass_under_realistic_latency_is_never_refused_for_concurrency() {
    let l = linked(120).await;
    tune(
        &l.app,
        json!({"latency": "realistic", "latency_scale": 0.1}),
    )
    .await;
    let opts = SyncOptions {
        page_size: 60,
        ..options()
    };
    let report = sync::sync_account_with(&l.app.deps, l.account_id, &opts)
        .await
        .expect("the pass succeeds");
    assert_matches_truth(&l).await;
    let stats = l.app.emulator_client().stats().await.expect("stats");
    assert!(stats.throttles.is_empty(), "{:?}", stats.throttles);
    assert_eq!(report.counts.throttled, 0, "{:?}", report.counts);
    // Batches, not one request per message.
    assert!(
        report.counts.requests < report.counts.fetched,
        "{:?}",
        report.counts
    );
}
