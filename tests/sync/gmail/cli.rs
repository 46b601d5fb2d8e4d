//! `threadline sync` and `threadline stats --json` as an operator runs them, against the
//! emulator and the test app's database.
use serde_json::Value;

use super::helpers::{assert_matches_truth, linked, stored, GMAIL};

/// Runs the binary with the Google client, against the emulator.
async fn threadline(l: &super::helpers::Linked, args: &[&str]) -> std::process::Output {
    let client = [
        "--google-client-id",
        "threadline-test.apps.googleusercontent.com",
        "--google-client-secret",
        "google-test-secret",
    ];
    let urls = [
        "--google-accounts-url",
        "--google-oauth2-url",
        "--google-openid-url",
        "--gmail-api-url",
    ];
    crate::common::threadline(l, args, client, &urls).await
}

#[tokio::test]
async fn the_sync_command_syncs_and_stats_reports_it() {
    let l = linked(12).await;
    let out = threadline(&l, &["sync", "--account", GMAIL]).await;
    crate::common::assert_initial_sync_done(&out, GMAIL);
    assert_matches_truth(&l).await;
    let messages = stored(&l).await.live.len() as u64;

    let out = threadline(&l, &["stats", "--json"]).await;
    assert!(out.status.success());
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    let account = &json["accounts"][0];
    assert_eq!(account["address"], GMAIL);
    assert_eq!(account["provider"], "google");
    assert_eq!(account["status"], "active");
    assert_eq!(account["messages"].as_u64(), Some(messages));
    assert!(account["threads"].as_u64().unwrap() > 0);
    assert!(account["last_sync_at"].is_string());
    assert!(account["last_error"].is_null());
}

#[tokio::test]
async fn the_sync_command_says_a_mailbox_needs_reconnecting_instead_of_failing_a_pass() {
    use threadline::db::sync_runs;
    let l = linked(3).await;
    crate::common::assert_revoked_grant_needs_reconnect(&l, GMAIL).await;
    let runs = sync_runs::runs(&l.app.db, l.account_id)
        .await
        .unwrap()
        .len();

    let out = threadline(&l, &["sync", "--account", GMAIL]).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!("{GMAIL}: paused: needs reconnecting")),
        "{stderr}"
    );
    let out = threadline(&l, &["sync"]).await;
    assert!(out.status.success(), "nothing failed: {out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("needs reconnecting"));
    assert_eq!(
        sync_runs::runs(&l.app.db, l.account_id)
            .await
            .unwrap()
            .len(),
        runs,
        "no pass was tried"
    );
}

#[tokio::test]
async fn the_sync_command_holds_the_mailbox_lease_like_a_worker() {
    use threadline::db::{jobs, sync_runs};
    let l = linked(5).await;
    // A worker of another instance is syncing the mailbox right now (a live lease).
    let held = jobs::claim(
        &l.app.db,
        jobs::SYNC_ACCOUNT,
        "other-sync-0",
        chrono::Duration::hours(1),
        threadline::db::now(),
    )
    .await
    .unwrap()
    .expect("the mailbox's job is due after linking");
    let out = threadline(&l, &["sync", "--account", GMAIL]).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains("another worker is syncing it right now"),
        "{stderr}"
    );
    let runs = || async { sync_runs::runs(&l.app.db, l.account_id).await.unwrap() };
    assert!(runs().await.is_empty(), "no second pass at the same time");

    // Once the worker lets go, the command's pass runs under the lease and ends its run.
    jobs::release_all(&l.app.db, "other-sync-0").await.unwrap();
    let out = threadline(&l, &["sync", "--account", GMAIL]).await;
    crate::common::assert_initial_sync_done(&out, GMAIL);
    let runs = crate::common::runs_all_ended(&l).await;
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].status.as_str(), "succeeded");
    let job = jobs::find(&l.app.db, jobs::SYNC_ACCOUNT, held.subject_id)
        .await
        .unwrap()
        .unwrap();
    assert!(job.locked_by.is_none(), "the command gave its lease back");
    assert_matches_truth(&l).await;
}
