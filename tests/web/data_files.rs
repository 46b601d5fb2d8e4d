//! The SQLite database is the service user's alone: the data directory Threadline creates is
//! 0700, the database and its `-wal` / `-shm` files 0600; an existing world-readable database
//! is tightened at start, and a directory the operator made is left as it is. (SQLite only,
//! whichever database the other tests use: this is about files.)
#![cfg(unix)]
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use clap::Parser;
use sea_orm::ConnectionTrait;
use threadline::app::App;
use threadline::cli::Cli;
use threadline::config::Settings;

use crate::support::TestDb;

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

fn companion(db: &Path, suffix: &str) -> std::path::PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push(suffix);
    name.into()
}

#[tokio::test]
async fn sqlite_files_are_created_private_and_tightened() {
    let test_db = TestDb::new().await;
    let data = test_db.dir.join("fresh").join("data");
    let file = data.join("threadline.db");
    let url = format!("sqlite://{}?mode=rwc", file.display());
    let data_arg = data.display().to_string();
    let cli = Cli::try_parse_from([
        "threadline",
        "--database-url",
        &url,
        "--bind",
        "127.0.0.1:0",
        "--data-dir",
        &data_arg,
        "--sync-workers",
        "0",
        "--job-workers",
        "0",
    ])
    .unwrap();
    let app = App::build(Settings::from_args(&cli.settings))
        .await
        .unwrap();
    app.db
        .execute_unprepared("UPDATE organizations SET name = name")
        .await
        .unwrap();
    assert_eq!(mode(&data), 0o700, "the data directory");
    assert_eq!(
        mode(&test_db.dir.join("fresh")),
        0o700,
        "a parent it created"
    );
    assert_eq!(mode(&file), 0o600, "the database");
    for suffix in ["-wal", "-shm"] {
        assert_eq!(mode(&companion(&file, suffix)), 0o600, "{suffix}");
    }
    assert_eq!(mode(&data.join("secret.key")), 0o600);
    app.db.clone().close().await.unwrap();
    drop(app);

    // An upgrade from a world-readable database in an operator's own directory: the files are
    // tightened, the directory is not touched.
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o750)).unwrap();
    for f in [
        file.clone(),
        companion(&file, "-wal"),
        companion(&file, "-shm"),
    ] {
        let _ = std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o644));
    }
    let db = threadline::db::connect(&url).await.unwrap();
    threadline::db::migrate(&db).await.unwrap();
    assert_eq!(mode(&file), 0o600);
    for suffix in ["-wal", "-shm"] {
        assert_eq!(mode(&companion(&file, suffix)), 0o600, "{suffix}");
    }
    assert_eq!(mode(&data), 0o750, "an existing directory is left alone");
    db.close().await.unwrap();
}
