//! `threadline sync` for an Outlook mailbox as an operator runs it, `--folders` included.
use super::helpers::{assert_matches_truth, label_of, linked, stored, CLIENTS, OUTLOOK};

/// Runs the binary with the Microsoft client, against the emulator.
async fn threadline(l: &super::helpers::Linked, args: &[&str]) -> std::process::Output {
    let client = [
        "--microsoft-client-id",
        "6731de76-14a6-49ae-97bc-6eba6914391e",
        "--microsoft-client-secret",
        "microsoft-test-secret",
    ];
    let urls = ["--microsoft-login-url", "--graph-api-url"];
    crate::common::threadline(l, args, client, &urls).await
}

#[tokio::test]
async fn the_sync_command_syncs_outlook_folders() {
    let l = linked(12).await;
    let out = threadline(&l, &["sync", "--account", OUTLOOK, "--folders", "Clients"]).await;
    crate::common::assert_initial_sync_done(&out, OUTLOOK);
    let only = stored(&l).await.live;
    assert_eq!(only.len(), 2);
    assert!(only.values().all(|s| s.labels == vec![label_of(CLIENTS)]));

    let out = threadline(&l, &["sync", "--account", OUTLOOK]).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_matches_truth(&l).await;
}
