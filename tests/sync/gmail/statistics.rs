//! Planner statistics without an operator (`db::maintenance`): a first sync leaves statistics
//! for the tables the timeline reads, a pass that changes little leaves them alone, and (on
//! SQLite, where the threshold is reachable with a small mailbox) a table whose size changed
//! tenfold is analyzed again. On SQLite the statistics are `sqlite_stat1`'s rows; on PostgreSQL
//! the server's `last_analyze`.
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};
use threadline::db::maintenance;

use super::helpers::{deliver, linked, raw};

/// The tables with statistics: on SQLite those with a `sqlite_stat1` row, on PostgreSQL the
/// hot tables with a `last_analyze`.
async fn analyzed(db: &DatabaseConnection) -> Vec<String> {
    let sql = if db.get_database_backend() == DbBackend::Postgres {
        "SELECT relname::text FROM pg_stat_user_tables WHERE last_analyze IS NOT NULL \
         ORDER BY relname"
    } else {
        let exists = db
            .query_one(Statement::from_string(
                DbBackend::Sqlite,
                "SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'",
            ))
            .await
            .unwrap()
            .is_some();
        if !exists {
            return Vec::new();
        }
        "SELECT DISTINCT tbl FROM sqlite_stat1 ORDER BY tbl"
    };
    rows(db, sql).await
}

async fn rows(db: &DatabaseConnection, sql: &str) -> Vec<String> {
    db.query_all(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.try_get_by_index::<String>(0).unwrap())
        .collect()
}

/// What identifies the last analysis of `emails`: its `sqlite_stat1` rows, or its
/// `last_analyze` on PostgreSQL.
async fn emails_analysis(db: &DatabaseConnection) -> Vec<String> {
    rows(
        db,
        match db.get_database_backend() {
            DbBackend::Postgres => {
                "SELECT last_analyze::text FROM pg_stat_user_tables WHERE relname = 'emails'"
            }
            _ => "SELECT idx || ':' || stat FROM sqlite_stat1 WHERE tbl = 'emails' ORDER BY idx",
        },
    )
    .await
}

#[tokio::test]
async fn a_first_sync_leaves_statistics_for_the_tables_pages_read() {
    let l = linked(40).await;
    let db = &l.app.db;
    assert!(
        analyzed(db).await.is_empty(),
        "nothing is analyzed before the first sync"
    );
    l.sync_ok().await;
    let tables = analyzed(db).await;
    for table in ["emails", "email_participants", "email_bodies"] {
        assert!(
            tables.iter().any(|t| t == table),
            "{table} has statistics after the first sync: {tables:?}"
        );
    }
    // Nothing changed since: nothing to do.
    assert_eq!(maintenance::upkeep(db).await.unwrap(), Vec::<String>::new());
}

#[tokio::test]
async fn a_pass_that_changes_little_leaves_statistics_alone() {
    let l = linked(40).await;
    let db = &l.app.db;
    l.sync_ok().await;
    if db.get_database_backend() == DbBackend::Sqlite {
        // Mark the analysis: one row more than analyzed, well within tenfold. A new analysis
        // would write the true count instead.
        db.execute_unprepared(
            "UPDATE sqlite_stat1 SET stat = CAST(CAST(stat AS INTEGER) + 1 AS TEXT) || \
             substr(stat, length(CAST(CAST(stat AS INTEGER) AS TEXT)) + 1) WHERE tbl = 'emails'",
        )
        .await
        .unwrap();
    }
    let before = emails_analysis(db).await;
    assert!(!before.is_empty());
    deliver(&l.app, &raw("little-1", "One more", false), "INBOX").await;
    deliver(&l.app, &raw("little-2", "And another", false), "INBOX").await;
    let report = l.sync_ok().await;
    assert_eq!(report.counts.stored, 2);
    assert_eq!(
        emails_analysis(db).await,
        before,
        "emails was analyzed again"
    );
}

#[tokio::test]
#[ignore = "flaky under parallel load (about 1 run in 4): the faked one-row statistics are sometimes kept; run with --ignored"]
async fn sqlite_analyzes_a_table_again_when_its_size_changed_tenfold() {
    let l = linked(40).await;
    let db = &l.app.db;
    if db.get_database_backend() != DbBackend::Sqlite {
        // PostgreSQL's threshold (a tenth of the rows plus 1,000) needs more mail than a test
        // should sync; its first analysis is covered above.
        return;
    }
    l.sync_ok().await;
    let analyzed_rows = emails_analysis(db).await;
    // Pretend the last analysis saw one row, and make every connection reload that.
    db.execute_unprepared(
        "UPDATE sqlite_stat1 SET stat = '1' || substr(stat, length(CAST(CAST(stat AS INTEGER) \
         AS TEXT)) + 1) WHERE tbl = 'emails'; \
         CREATE VIEW statistics_test AS SELECT 1; DROP VIEW statistics_test",
    )
    .await
    .unwrap();
    assert_ne!(emails_analysis(db).await, analyzed_rows);
    deliver(&l.app, &raw("grown-1", "Grown", false), "INBOX").await;
    l.sync_ok().await;
    // Every row of emails said one row; an analysis writes the real count (partial indexes
    // may hold one row, the full ones hold every email).
    let now = rows(
        db,
        "SELECT CAST(MAX(CAST(stat AS INTEGER)) AS TEXT) FROM sqlite_stat1 WHERE tbl = 'emails'",
    )
    .await;
    assert!(
        now[0].parse::<i64>().unwrap() > 40,
        "emails was analyzed again with its real size: {now:?}"
    );
}
