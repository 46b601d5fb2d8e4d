//! The background step: a linked mailbox has a due job; the step syncs it and schedules the
//! next pass; "run now" makes it due again; the loop gives its leases back on shutdown.
use threadline::db::jobs;
use threadline::sync::worker;
use tokio_util::sync::CancellationToken;

use super::helpers::{assert_matches_truth, deliver, linked, raw, stored};

#[tokio::test]
async fn linking_schedules_a_sync_that_the_worker_step_runs() {
    let l = linked(10).await;
    let deps = &l.app.deps;
    let report = worker::sync_next_due(deps, "w1")
        .await
        .unwrap()
        .expect("a due mailbox");
    assert_eq!(report.account_id, l.account_id);
    assert_eq!(report.kind.as_str(), "initial");
    assert_matches_truth(&l).await;
    assert!(
        worker::sync_next_due(deps, "w1").await.unwrap().is_none(),
        "not due again yet"
    );
    let job = jobs::find(&l.app.db, jobs::SYNC_ACCOUNT, l.account_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(job.state.as_str(), "queued");
    assert!(job.last_error.is_none());

    let new_one = deliver(&l.app, &raw("worker-1", "Hi", false), "INBOX").await;
    assert!(jobs::run_now(&l.app.db, jobs::SYNC_ACCOUNT, l.account_id)
        .await
        .unwrap());
    let report = worker::sync_next_due(deps, "w2")
        .await
        .unwrap()
        .expect("due now");
    assert_eq!(report.kind.as_str(), "incremental");
    assert!(stored(&l).await.live.contains_key(&new_one));
}

#[tokio::test]
async fn the_worker_loop_stops_on_shutdown_and_releases_its_leases() {
    let l = linked(5).await;
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(worker::run(
        l.app.deps.clone(),
        "loop-1".into(),
        shutdown.clone(),
    ));
    // Wait until the loop has synced the mailbox (the job is queued again for later).
    loop {
        let job = jobs::find(&l.app.db, jobs::SYNC_ACCOUNT, l.account_id)
            .await
            .unwrap()
            .unwrap();
        if job.state.as_str() == "queued" && job.run_at > threadline::db::now() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    shutdown.cancel();
    task.await.unwrap();
    let job = jobs::find(&l.app.db, jobs::SYNC_ACCOUNT, l.account_id)
        .await
        .unwrap()
        .unwrap();
    assert!(job.locked_by.is_none());
    assert_matches_truth(&l).await;
}

#[tokio::test]
async fn the_server_syncs_a_newly_linked_mailbox_in_the_background() {
    use super::helpers::{truth, GMAIL};
    use crate::support::mail::approve;
    use crate::support::TestApp;

    let app = TestApp::spawn_with_emulator_args(&["--sync-workers", "1"]).await;
    app.setup_admin().await;
    app.provider_mailbox("google", GMAIL, "Sam Sync").await;
    let id = super::helpers::deliver(&app, &raw("bg-1", "Background", false), "INBOX").await;
    assert!(app
        .connect("google", approve(GMAIL))
        .await
        .status()
        .is_redirection());
    // The worker picks the job up on its own; wait for its first pass to be recorded.
    let account = loop {
        let accounts = threadline::db::mail_accounts::all(&app.db).await.unwrap();
        if let Some(a) = accounts.into_iter().find(|a| a.last_success_at.is_some()) {
            break a;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    let l = super::helpers::Linked {
        app,
        account_id: account.id,
    };
    assert!(stored(&l).await.live.contains_key(&id));
    assert_eq!(stored(&l).await.live.len(), truth(&l.app).await.len());
}

#[tokio::test]
async fn sync_now_makes_the_mailbox_due_at_once() {
    let l = linked(3).await;
    let deps = &l.app.deps;
    worker::sync_next_due(deps, "w")
        .await
        .unwrap()
        .expect("first pass");
    assert!(worker::sync_next_due(deps, "w").await.unwrap().is_none());

    let page = l.app.get_html("/mailboxes").await;
    assert!(page.contains("Sync now"), "{page}");
    let path = format!("/mailboxes/{}/sync", l.account_id);
    let refused = l.app.post_form_with(&path, None, &[]).await;
    assert!(refused.status().is_client_error(), "no CSRF token, no sync");
    assert!(worker::sync_next_due(deps, "w").await.unwrap().is_none());

    let res = l.app.post_form(&path, &[]).await;
    assert_eq!(res.status(), reqwest::StatusCode::SEE_OTHER);
    assert!(l.app.get_html("/mailboxes").await.contains("Sync of"));
    let report = worker::sync_next_due(deps, "w")
        .await
        .unwrap()
        .expect("due now");
    assert_eq!(report.kind.as_str(), "incremental");
}

/// Two `serve` instances with two sync workers each on one database (PostgreSQL in CI): while
/// every mailbox is made due again and again, no mailbox ever has two passes at once, and
/// every mailbox ends equal to the provider's ground truth.
#[tokio::test]
async fn two_instances_never_sync_one_mailbox_at_once() {
    use super::helpers::fault;
    use crate::support::mail::approve;
    use crate::support::{client, TestApp};
    use std::time::Duration;
    use threadline::db::entities::sync_runs;
    use threadline_emulator::corpus;

    let l = linked(30).await;
    let others = ["ola@gmail-sync.test", "pia@gmail-sync.test"];
    for (i, address) in others.iter().enumerate() {
        l.app.provider_mailbox("google", address, "Colleague").await;
        let emulator = l.app.emulator.as_ref().unwrap();
        let mailbox = emulator.state.store.get(address).unwrap();
        corpus::fill(&mailbox, 11 + i as u64, 0, 30).unwrap();
        assert!(l
            .app
            .connect("google", approve(address))
            .await
            .status()
            .is_redirection());
    }
    // Slow every provider call a little, so overlapping passes would surely show.
    fault(
        &l.app,
        serde_json::json!({"status": 503, "rate": 0.0, "latency_ms": 15}),
    )
    .await;
    let spawn = || {
        TestApp::spawn_full(
            l.app.test_db.clone(),
            client(),
            l.app.emulator.clone(),
            &["--sync-workers", "2"],
        )
    };
    let (mut one, mut two) = (spawn().await, spawn().await);
    let accounts = threadline::db::mail_accounts::all(&l.app.db).await.unwrap();
    assert_eq!(accounts.len(), 3);
    let until = std::time::Instant::now() + Duration::from_secs(11);
    while std::time::Instant::now() < until {
        for a in &accounts {
            jobs::run_now(&l.app.db, jobs::SYNC_ACCOUNT, a.id)
                .await
                .unwrap();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    one.stop().await;
    two.stop().await;

    let runs = <sync_runs::Entity as sea_orm::EntityTrait>::find()
        .all(&l.app.db)
        .await
        .unwrap();
    for a in &accounts {
        let mut mine: Vec<_> = runs.iter().filter(|r| r.account_id == a.id).collect();
        assert!(mine.len() >= 2, "{}: {} passes", a.address, mine.len());
        mine.sort_by_key(|r| r.started_at);
        for pair in mine.windows(2) {
            let end = pair[0].finished_at.expect("finished before the next began");
            assert!(
                pair[1].started_at >= end,
                "{}: pass {} began at {} before pass {} ended at {end}",
                a.address,
                pair[1].id,
                pair[1].started_at,
                pair[0].id
            );
        }
        assert!(mine.iter().all(|r| r.error.is_none()), "{mine:?}");
        let job = jobs::find(&l.app.db, jobs::SYNC_ACCOUNT, a.id)
            .await
            .unwrap()
            .unwrap();
        assert!(job.locked_by.is_none(), "leases released on shutdown");
    }
    assert_matches_truth(&l).await;
}

#[tokio::test]
async fn a_mailbox_needing_reconnect_gets_no_pass_until_it_is_reconnected() {
    use super::helpers::GMAIL;
    use crate::support::mail::approve;
    use threadline::db::sync_runs;
    use threadline::sync::SyncError;

    let l = linked(4).await;
    let deps = &l.app.deps;
    let due_now = || jobs::run_now(&l.app.db, jobs::SYNC_ACCOUNT, l.account_id);
    let run_count = || async {
        sync_runs::runs(&l.app.db, l.account_id)
            .await
            .unwrap()
            .len()
    };
    worker::sync_next_due(deps, "w")
        .await
        .unwrap()
        .expect("first pass");

    l.app
        .emulator_client()
        .revoke_tokens(GMAIL)
        .await
        .expect("revoke-tokens");
    let new_one = deliver(&l.app, &raw("paused-1", "While paused", false), "INBOX").await;
    assert!(due_now().await.unwrap());
    let err = worker::sync_next_due(deps, "w").await.unwrap_err();
    assert!(matches!(err, SyncError::NeedsReconnect), "{err:?}");
    let runs = run_count().await;

    // Due as far as time goes, every step: still no pass, no run, no error recorded.
    for _ in 0..3 {
        due_now().await.unwrap();
        assert!(
            worker::sync_next_due(deps, "w").await.unwrap().is_none(),
            "a paused mailbox is not synced"
        );
    }
    assert_eq!(run_count().await, runs, "no failed run per step");
    let page = l.app.get_html("/mailboxes").await;
    assert!(page.contains("Paused: needs reconnecting"), "{page}");
    assert!(page.contains("Reconnect"), "{page}");

    let res = l.app.reconnect(l.account_id, approve(GMAIL)).await;
    assert!(res.status().is_redirection());
    let report = worker::sync_next_due(deps, "w")
        .await
        .unwrap()
        .expect("the reconnected mailbox is due at once");
    assert_eq!(
        report.kind.as_str(),
        "incremental",
        "resumes from its cursor"
    );
    assert!(stored(&l).await.live.contains_key(&new_one));
    assert_eq!(run_count().await, runs + 1);
}

fn slow() -> serde_json::Value {
    serde_json::json!({"mailbox": super::helpers::GMAIL, "route": "/messages/", "status": 500, "rate": 0.0, "latency_ms": 40})
}

#[tokio::test]
async fn a_restarted_instance_resumes_its_killed_pass_at_once() {
    let l = linked(40).await;
    crate::common::the_same_instance_resumes_at_once(&l, "gmail", slow()).await;
    assert_matches_truth(&l).await;
}

#[tokio::test]
async fn another_instance_takes_a_killed_pass_over_after_the_lease() {
    let l = linked(40).await;
    crate::common::another_instance_takes_over_after_the_lease(&l, "gmail", slow()).await;
    assert_matches_truth(&l).await;
}

#[tokio::test]
async fn a_pass_that_loses_its_lease_stops_writing() {
    let l = linked(40).await;
    crate::common::a_pass_that_loses_its_lease_stops_writing(&l, "gmail", slow()).await;
}
