//! A page's reads (`db::begin_read`) share one pooled connection: on SQLite in one transaction
//! (one snapshot); on PostgreSQL without `BEGIN` and `COMMIT`, two round trips fewer per page,
//! each statement its own transaction as under read committed inside one.
use std::time::Duration;

use sea_orm::{ConnectionTrait, Statement};

use crate::support::TestApp;

async fn scalar<T: sea_orm::TryGetable>(db: &impl ConnectionTrait, sql: &str) -> T {
    db.query_one(Statement::from_string(db.get_database_backend(), sql))
        .await
        .expect("the query runs")
        .expect("one row")
        .try_get_by_index(0)
        .expect("one column")
}

#[tokio::test]
async fn a_page_reads_on_one_connection_without_a_transaction_on_postgres() {
    let app = TestApp::spawn().await;
    app.db
        .execute_unprepared("CREATE TABLE read_probe (x INTEGER)")
        .await
        .unwrap();
    app.db
        .execute_unprepared("INSERT INTO read_probe (x) VALUES (1)")
        .await
        .unwrap();
    let read = threadline::db::begin_read(&app.db).await.unwrap();
    let before: i64 = scalar(&read, "SELECT COUNT(*) FROM read_probe").await;
    assert_eq!(before, 1);
    // Another connection writes between two reads of the page.
    app.db
        .execute_unprepared("INSERT INTO read_probe (x) VALUES (2)")
        .await
        .unwrap();
    let after: i64 = scalar(&read, "SELECT COUNT(*) FROM read_probe").await;
    if app.test_db.is_postgres() {
        assert!(read.is_bare(), "no transaction on PostgreSQL");
        // Read committed, as inside a transaction: each statement sees what was committed.
        assert_eq!(after, 2);
        // One backend for every statement of the page, and each statement its own
        // transaction: inside a transaction block `now()` would stay the time of `BEGIN`.
        let first: (i32, String) = (
            scalar(&read, "SELECT pg_backend_pid()").await,
            scalar(&read, "SELECT now()::text").await,
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
        let second: (i32, String) = (
            scalar(&read, "SELECT pg_backend_pid()").await,
            scalar(&read, "SELECT now()::text").await,
        );
        assert_eq!(
            first.0, second.0,
            "the page's statements share one connection"
        );
        assert_ne!(
            first.1, second.1,
            "no BEGIN was sent before the page's statements"
        );
    } else {
        assert!(!read.is_bare(), "a transaction on SQLite");
        assert_eq!(after, 1, "the page's reads share one snapshot on SQLite");
    }
    read.commit().await.unwrap();
}
