//! The background step: a linked mailbox has a due job; the step syncs it and schedules the
//! next pass; "run now" makes it due again; the loop gives its leases back on shutdown.
use threadline::db::jobs;
use threadline::sync::worker;
use tokio_util::sync::CancellationToken;

use crate::helpers::{assert_matches_truth, deliver, linked, raw, stored};

#[tokio::test]
async fn linking_schedules_a_sync_that_the_worker_step_runs() {
    let l = linked(10).await;
    let deps = &l.app.deps;
    let report = worker::sync_next_due(deps, "w1")
        .await
        .unwrap()
        .expect("a due mailbox");
    assert_eq!(report.account_id, l.account_id);
    assert_eq!(report.kind, "initial");
    assert_matches_truth(&l).await;
    assert!(
        worker::sync_next_due(deps, "w1").await.unwrap().is_none(),
        "not due again yet"
    );
    let job = jobs::find(&l.app.db, jobs::SYNC_ACCOUNT, l.account_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(job.state, "queued");
    assert!(job.last_error.is_none());

    let new_one = deliver(&l.app, &raw("worker-1", "Hi", false), "INBOX").await;
    assert!(jobs::run_now(&l.app.db, jobs::SYNC_ACCOUNT, l.account_id)
        .await
        .unwrap());
    let report = worker::sync_next_due(deps, "w2")
        .await
        .unwrap()
        .expect("due now");
    assert_eq!(report.kind, "incremental");
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
        if job.state == "queued" && job.run_at > threadline::db::now() {
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
    use std::sync::Arc;
    use threadline::emulator::{self, EmulatorConfig};

    use crate::helpers::{truth, GMAIL};
    use crate::support::mail::approve;
    use crate::support::{client, TestApp, TestDb};

    let emulator = emulator::start("127.0.0.1:0".parse().unwrap(), EmulatorConfig::default())
        .await
        .unwrap();
    let db = Arc::new(TestDb::new().await);
    let app = TestApp::spawn_full(
        db,
        client(),
        Some(Arc::new(emulator)),
        &["--sync-workers", "1"],
    )
    .await;
    app.setup_admin().await;
    app.provider_mailbox("google", GMAIL, "Sam Sync").await;
    let id = crate::helpers::deliver(&app, &raw("bg-1", "Background", false), "INBOX").await;
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
    let l = crate::helpers::Linked {
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
    let refused = l.app.post_form(&path, None, &[]).await;
    assert!(refused.status().is_client_error(), "no CSRF token, no sync");
    assert!(worker::sync_next_due(deps, "w").await.unwrap().is_none());

    let token = l.app.csrf("/mailboxes").await;
    let res = l.app.post_form(&path, Some(&token), &[]).await;
    assert_eq!(res.status(), reqwest::StatusCode::SEE_OTHER);
    assert!(l.app.get_html("/mailboxes").await.contains("Sync of"));
    let report = worker::sync_next_due(deps, "w")
        .await
        .unwrap()
        .expect("due now");
    assert_eq!(report.kind, "incremental");
}
