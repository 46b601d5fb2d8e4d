//! Under the emulator's realistic latency model (run 10 times faster), a Gmail pass keeps
//! requests in flight without a single concurrency refusal and stores the exact truth: its
//! first screen one `messages.get` per request, eight at once, then batches.
use serde_json::json;
use threadline::sync::{self, SyncOptions};

use super::helpers::{assert_matches_truth, emulator_stats, linked, options, route_count, tune};

const BATCH_ROUTE: &str = "/batch/gmail/v1";

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
        single_fetches: 0,
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

#[tokio::test]
async fn the_first_screen_goes_one_request_per_message_then_batches() {
    let l = linked(400).await;
    tune(
        &l.app,
        json!({"latency": "realistic", "latency_scale": 0.1}),
    )
    .await;
    let opts = SyncOptions {
        page_size: 100,
        ..options()
    };
    assert_eq!(opts.single_fetches, 100, "the default first screen");
    let report = sync::sync_account_with(&l.app.deps, l.account_id, &opts)
        .await
        .expect("the pass succeeds");
    assert_matches_truth(&l).await;
    let stats = emulator_stats(&l.app).await;
    assert_eq!(stats["throttles"], json!({}), "{stats:#}");
    assert_eq!(report.counts.throttled, 0, "{:?}", report.counts);
    let fetched = report.counts.fetched;
    assert!(fetched > 200, "{:?}", report.counts);
    // The first 100 alone, the rest in batches of 4 (a round's last batch may be smaller).
    let in_batches = fetched - 100;
    let batches = route_count(&stats, BATCH_ROUTE, None);
    let rounds = fetched.div_ceil(100) + 1;
    assert!(
        batches >= in_batches.div_ceil(4) && batches <= in_batches.div_ceil(4) + rounds,
        "{batches} batches for {in_batches} messages"
    );
    // Every message is one request or one part: 100 plain gets, the batches, the listing.
    assert!(
        report.counts.requests >= 100 + batches && report.counts.requests < 100 + batches + 20,
        "{:?}, {batches} batches",
        report.counts
    );
}
