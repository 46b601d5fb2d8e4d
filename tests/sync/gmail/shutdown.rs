//! Graceful shutdown: a pass asked to stop ends at its next committed page like a spent
//! slice; an instance stopped mid-pass gives its mailbox back, another instance takes it at
//! once (long before the lease would expire), and the mail ends stored exactly once.
use std::time::Duration;

use threadline::db::jobs;
use tokio_util::sync::CancellationToken;

use super::helpers::{assert_matches_truth, fault, linked, options, stored};
use crate::common::{assert_no_duplicates, runs_all_ended};
use crate::support::{client, TestApp};

#[tokio::test]
async fn a_pass_asked_to_stop_ends_at_its_next_page_like_a_spent_slice() {
    let l = linked(40).await;
    let stop = CancellationToken::new();
    stop.cancel();
    let stopping = threadline::sync::SyncOptions {
        stop: Some(stop),
        ..options()
    };
    let report = l.sync_with(&stopping).await.expect("the pass ends cleanly");
    assert!(report.more, "stopped with more to do");
    let kept = stored(&l).await.live.len();
    assert!(kept > 0, "its first page is committed");
    let runs = runs_all_ended(&l).await;
    assert_eq!(runs[0].status.as_str(), "succeeded", "not a failure");

    let report = l.sync_ok().await;
    assert!(!report.more);
    assert!(stored(&l).await.live.len() > kept, "the next pass resumes");
    assert_matches_truth(&l).await;
    assert_no_duplicates(&l).await;
}

/// Instance A syncs a large mailbox slowly (a small Gmail quota and provider latency) under a
/// ten-minute lease; it is stopped mid-pass. Its mailbox is free at once: instance B takes it
/// and finishes it, and every message is stored once.
#[tokio::test]
async fn a_stopped_instance_gives_its_mailbox_back_and_another_takes_it_at_once() {
    let l = linked(300).await;
    fault(
        &l.app,
        serde_json::json!({"status": 503, "rate": 0.0, "latency_ms": 10}),
    )
    .await;
    let (test_db, emulator) = (l.app.test_db.clone(), l.app.emulator.clone());
    let instance = |quota: &'static str| {
        let (test_db, emulator) = (test_db.clone(), emulator.clone());
        async move {
            let flags = [
                "--sync-workers",
                "1",
                "--sync-lease-seconds",
                "600",
                "--sync-slice-seconds",
                "600",
                "--shutdown-seconds",
                "6",
                "--gmail-units-per-minute",
                quota,
            ];
            TestApp::spawn_full(test_db, client(), emulator, &flags).await
        }
    };
    let job = || async {
        jobs::find(&l.app.db, jobs::SYNC_ACCOUNT, l.account_id)
            .await
            .unwrap()
            .expect("the mailbox's job")
    };
    // A: about 57 messages at once, then one a second.
    let mut a = instance("300").await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    loop {
        let held = job().await;
        if held.locked_by.is_some() && !stored(&l).await.live.is_empty() {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "A never got going");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    a.stop().await;
    let at_stop = stored(&l).await.live.len();
    let released = job().await;
    assert!(released.locked_by.is_none(), "A released its lease");
    assert_eq!(released.state.as_str(), "queued");
    assert!(released.run_at <= threadline::db::now(), "due at once");
    runs_all_ended(&l).await;

    // B, with the whole quota: the mailbox is free long before A's lease would have expired.
    let mut b = instance("6000").await;
    let truth = super::helpers::truth(&l.app).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(180);
    loop {
        let held = job().await;
        let synced = held.locked_by.is_none()
            && held.last_error.is_none()
            && held.run_at > threadline::db::now()
            && stored(&l).await.live.len() >= at_stop;
        if synced {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "B never finished: {held:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    b.stop().await;
    let all = stored(&l).await.live.len();
    assert!(
        at_stop < all,
        "A was stopped mid-pass ({at_stop} of {all} stored)"
    );
    assert!(all <= truth.len());
    assert_matches_truth(&l).await;
    assert_no_duplicates(&l).await;
    runs_all_ended(&l).await;
}
