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
