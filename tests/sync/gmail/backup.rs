//! `threadline backup`: a SQLite copy made while the app writes, restored into a fresh data
//! directory (with the key file), shows the same `stats --json` and the same timeline;
//! PostgreSQL is refused with the pg_dump commands.
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use threadline::db::audit;

use super::helpers::linked;
use crate::common::Linked;
use crate::support::{client, TestApp, TestDb, ADMIN_EMAIL, ADMIN_PASSWORD};

/// Run `threadline` with `args` (settings from the command line only).
async fn threadline(args: &[&str]) -> std::process::Output {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_threadline"))
        .env_remove("DATABASE_URL")
        .env_remove("THREADLINE_DATA_DIR")
        .env_remove("THREADLINE_SECRET_KEY")
        .args(args)
        .output()
        .await
        .expect("threadline runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A page without what differs from one request to the next: the session's CSRF token and
/// the live stream's starting point (the time of the request).
fn without_tokens(html: &str) -> String {
    let token =
        regex::Regex::new(r#"(name="csrf_token" value=")[^"]*"|X-CSRF-Token&#34;:&#34;[^&]*&#34;"#)
            .unwrap();
    let cursor = regex::Regex::new(r#"data-cursor="[0-9]*""#).unwrap();
    cursor
        .replace_all(&token.replace_all(html, "TOKEN"), "CURSOR")
        .into_owned()
}

/// `threadline stats --json` of the database at `url` with the data directory `data`.
async fn stats(args: &[&str]) -> serde_json::Value {
    let mut all = vec!["stats", "--json"];
    all.extend_from_slice(args);
    let out = threadline(&all).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("stats JSON")
}

/// Audit entries written one after another until stopped (the app's writes meanwhile).
fn writer(l: &Linked, stop: Arc<AtomicBool>, wrote: Arc<AtomicU64>) -> tokio::task::JoinHandle<()> {
    let db = l.app.db.clone();
    tokio::spawn(async move {
        let org = threadline::db::organizations::first(&db)
            .await
            .unwrap()
            .unwrap();
        while !stop.load(Ordering::SeqCst) {
            let entry = audit::Entry {
                organization_id: org.id,
                actor_user_id: None,
                action: "test.write",
                subject_kind: "test",
                subject_id: None,
                detail: "while a backup runs".into(),
            };
            audit::record(&db, entry).await.unwrap();
            wrote.fetch_add(1, Ordering::SeqCst);
            tokio::task::yield_now().await;
        }
    })
}

#[tokio::test]
async fn a_backup_made_while_the_app_writes_restores_to_the_same_stats_and_timeline() {
    let l = linked(30).await;
    l.sync_ok().await;
    let test_db = l.app.test_db.clone();
    let data = test_db.dir.join("data");
    let data_arg = data.display().to_string();
    let copy = test_db.dir.join("backup.db");
    let copy_arg = copy.display().to_string();
    let backup = |force: bool| {
        let mut args = vec![
            "backup",
            "--to",
            &copy_arg,
            "--database-url",
            &test_db.url,
            "--data-dir",
            &data_arg,
        ];
        if force {
            args.push("--force");
        }
        let args: Vec<String> = args.into_iter().map(str::to_string).collect();
        async move {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            threadline(&args).await
        }
    };
    if test_db.is_postgres() {
        let out = backup(false).await;
        assert!(!out.status.success());
        let stderr = text(&out.stderr);
        assert!(stderr.contains("pg_dump --format=custom"), "{stderr}");
        assert!(stderr.contains("pg_restore"), "{stderr}");
        assert!(!copy.exists(), "nothing written");
        return;
    }

    let (stop, wrote) = (
        Arc::new(AtomicBool::new(false)),
        Arc::new(AtomicU64::new(0)),
    );
    let writing = writer(&l, stop.clone(), wrote.clone());
    while wrote.load(Ordering::SeqCst) == 0 {
        tokio::task::yield_now().await;
    }
    let before = wrote.load(Ordering::SeqCst);
    let out = backup(false).await;
    let during = wrote.load(Ordering::SeqCst) - before;
    stop.store(true, Ordering::SeqCst);
    writing.await.unwrap();
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    assert!(during > 0, "the app wrote while the backup ran");
    assert!(stdout.contains(&format!("wrote {copy_arg}")), "{stdout}");
    assert!(stdout.contains("secret.key"), "the key is named: {stdout}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&copy).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    }
    let again = backup(false).await;
    assert!(!again.status.success(), "an existing file is kept");
    assert!(
        text(&again.stderr).contains("give --force"),
        "{}",
        text(&again.stderr)
    );
    assert!(backup(true).await.status.success(), "--force overwrites");

    // Restore into a fresh data directory: the copy as its database, and the key file.
    let restored_dir =
        std::env::temp_dir().join(format!("threadline-restore-{}", uuid::Uuid::new_v4()));
    let restored_data = restored_dir.join("data");
    std::fs::create_dir_all(&restored_data).unwrap();
    std::fs::copy(&copy, restored_data.join("threadline.db")).unwrap();
    copy_private(&data.join("secret.key"), &restored_data.join("secret.key"));
    let restored_arg = restored_data.display().to_string();
    let original = stats(&["--database-url", &test_db.url, "--data-dir", &data_arg]).await;
    let restored = stats(&["--data-dir", &restored_arg]).await;
    assert!(
        original["accounts"][0]["messages"].as_u64() > Some(0),
        "{original}"
    );
    assert_eq!(restored, original);

    let restored_app = TestApp::spawn_full(
        Arc::new(TestDb::sqlite_in(restored_dir)),
        client(),
        l.app.emulator.clone(),
        &[],
    )
    .await;
    assert!(restored_app
        .sign_in(ADMIN_EMAIL, ADMIN_PASSWORD)
        .await
        .status()
        .is_redirection());
    let page = without_tokens(&l.app.get_html("/mail").await);
    assert!(
        page.contains("/mail/threads/"),
        "the synced mail shows: {page}"
    );
    assert_eq!(without_tokens(&restored_app.get_html("/mail").await), page);
}

/// Copy a secret file as an operator would restore it: mode 0600.
fn copy_private(from: &Path, to: &Path) {
    std::fs::copy(from, to).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(to, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
}
