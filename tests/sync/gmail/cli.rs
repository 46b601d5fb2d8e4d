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
