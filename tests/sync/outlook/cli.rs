//! `threadline sync` for an Outlook mailbox as an operator runs it, `--folders` included.
use tokio::process::Command;

use super::helpers::{assert_matches_truth, label_of, linked, stored, CLIENTS, OUTLOOK};

async fn threadline(l: &super::helpers::Linked, args: &[&str]) -> std::process::Output {
    let e = l.app.emulator.as_ref().expect("emulator").base_url.clone();
    let db = &l.app.test_db;
    let data = db.dir.join("data").display().to_string();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_threadline"));
    cmd.current_dir(&db.dir)
        .env_remove("DATABASE_URL")
        .env_remove("THREADLINE_SECRET_KEY")
        .args(args)
        .args(["--database-url", &db.url, "--data-dir", &data])
        .args([
            "--microsoft-client-id",
            "6731de76-14a6-49ae-97bc-6eba6914391e",
        ])
        .args(["--microsoft-client-secret", "microsoft-test-secret"]);
    for flag in ["--microsoft-login-url", "--graph-api-url"] {
        cmd.args([flag, &e]);
    }
    cmd.output().await.expect("threadline runs")
}

#[tokio::test]
async fn the_sync_command_syncs_outlook_folders() {
    let l = linked(12).await;
    let out = threadline(&l, &["sync", "--account", OUTLOOK, "--folders", "Clients"]).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains(&format!("{OUTLOOK}: initial sync done")),
        "{stdout}"
    );
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
