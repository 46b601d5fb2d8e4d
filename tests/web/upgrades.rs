//! Upgrades as an operator meets them: a database a newer Threadline migrated is refused
//! before anything changes; an upgrade refreshes planner statistics by itself; `serve`
//! answers `/readyz` and stops on SIGTERM.
use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};

use super::cli::threadline;
use crate::support::TestDb;

const FUTURE: &str = "m20991231_000001_from_a_newer_threadline";

async fn migrated(db: &TestDb) -> DatabaseConnection {
    let conn = threadline::db::connect(&db.url).await.unwrap();
    threadline::db::migrate(&conn).await.unwrap();
    conn
}

async fn exec(conn: &DatabaseConnection, sql: &str) {
    conn.execute(Statement::from_string(conn.get_database_backend(), sql))
        .await
        .unwrap();
}

async fn count(conn: &DatabaseConnection, sql: &str) -> i64 {
    let row = conn
        .query_one(Statement::from_string(conn.get_database_backend(), sql))
        .await
        .unwrap()
        .expect("a row");
    row.try_get_by_index::<i64>(0).unwrap()
}

#[tokio::test]
async fn migrate_and_serve_refuse_a_database_from_a_newer_threadline() {
    let db = TestDb::new().await;
    let conn = migrated(&db).await;
    // One migration of ours pending, and one this binary has never heard of.
    let newest = threadline::db::schema::known().pop().unwrap();
    Migrator::down(&conn, Some(1)).await.unwrap();
    exec(
        &conn,
        &format!(
            "INSERT INTO seaql_migrations (version, applied_at) VALUES ('{FUTURE}', 4102444800)"
        ),
    )
    .await;
    let data = db.dir.join("data").display().to_string();
    for command in [&["migrate"][..], &["serve", "--bind", "127.0.0.1:0"]] {
        let out = threadline(&db.dir)
            .args(command)
            .args(["--database-url", &db.url, "--data-dir", &data])
            .output()
            .unwrap();
        assert!(!out.status.success(), "{command:?} refused");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains(&format!(
                "this database was migrated by a newer Threadline (migration {FUTURE}); \
                 upgrade Threadline or restore a backup"
            )),
            "{command:?}: {stderr}"
        );
    }
    // Nothing was touched: our pending migration is still pending.
    let status = threadline::db::schema::status(&conn).await.unwrap();
    assert_eq!(status.pending, [newest]);
    assert_eq!(status.unknown, [FUTURE]);
}

#[tokio::test]
async fn an_upgrade_refreshes_planner_statistics_and_a_fresh_install_does_not() {
    let db = TestDb::new().await;
    let conn = migrated(&db).await;
    let pg = db.is_postgres();
    let analyzed = |conn: DatabaseConnection| async move {
        if pg {
            count(
                &conn,
                "SELECT COUNT(*) FROM pg_stat_user_tables \
                 WHERE relname = 'users' AND last_analyze IS NOT NULL",
            )
            .await
        } else if count(
            &conn,
            "SELECT COUNT(*) FROM sqlite_master WHERE name = 'sqlite_stat1'",
        )
        .await
            == 0
        {
            0
        } else {
            count(
                &conn,
                "SELECT COUNT(*) FROM sqlite_stat1 WHERE tbl = 'users'",
            )
            .await
        }
    };
    let admin =
        threadline::accounts::NewUser::parse("ops@acme.test", "Ops", "long enough pw").unwrap();
    threadline::accounts::setup(&conn, "Acme", admin)
        .await
        .unwrap();
    assert_eq!(
        analyzed(conn.clone()).await,
        0,
        "a fresh install analyzes nothing"
    );

    // An upgrade: the database had every migration but the newest.
    Migrator::down(&conn, Some(1)).await.unwrap();
    threadline::db::migrate(&conn).await.unwrap();
    assert!(
        threadline::db::schema::status(&conn)
            .await
            .unwrap()
            .pending
            .is_empty(),
        "migrated"
    );
    assert!(
        analyzed(conn.clone()).await > 0,
        "statistics after the upgrade"
    );
}

#[tokio::test]
async fn serve_answers_readyz_and_stops_on_sigterm() {
    let db = TestDb::new().await;
    let dir = db.dir.join("serve");
    std::fs::create_dir_all(&dir).unwrap();
    let (mut child, addr) = super::cli::serve(
        &dir,
        &db,
        &["--sync-workers", "2", "--shutdown-seconds", "20"],
    );
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let res = reqwest::get(format!("http://{addr}/readyz")).await.unwrap();
        if res.status() == 200 {
            assert_eq!(res.text().await.unwrap(), "ready");
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "never ready");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = tokio::task::spawn_blocking(move || child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "a graceful stop exits 0: {status:?}");
}
