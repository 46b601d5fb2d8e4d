//! Planner statistics kept current without an operator. A database that was never analyzed
//! (SQLite never analyzes by itself; PostgreSQL without autovacuum neither) plans the timeline
//! and sync queries for tables it assumes are small or uniform: right after a first sync of
//! 40,000 messages, My mail answered 20 to 40 times slower than after an `ANALYZE`.
//!
//! [`upkeep`] analyzes the tables that need it and nothing else, so callers may call it often:
//! at the end of a sync pass that stored mail ([`after_pass`]) and every few minutes from
//! `serve`; [`after_upgrade`] analyzes every table once after migrations upgraded a database
//! (the `VACUUM ANALYZE` operators used to run by hand). What [`upkeep`] checks is kept by the
//! database itself, so several instances share it:
//! - SQLite: `PRAGMA optimize` over every table (mask `0x10012`): a table is analyzed when one
//!   of its indexes has no statistics yet or its size changed tenfold since the last analysis,
//!   each `ANALYZE` bounded by SQLite's own analysis limit (a few milliseconds even for a
//!   million rows). SQLite reloads statistics only when the schema changes, and a repeated
//!   `ANALYZE` does not change it: after analyzing, the schema is touched (a view created and
//!   dropped) so that every pooled connection plans with the new figures.
//! - PostgreSQL: the schema's tables that were never analyzed, or whose rows changed by more
//!   than a tenth since (the server's own `n_mod_since_analyze`, the figure autovacuum goes
//!   by), get `VACUUM (ANALYZE, SKIP_LOCKED)`: statistics for the planner and
//!   the visibility map that index-only scans need, as autovacuum would leave them. With
//!   autovacuum on, its own analyses reset the counter and this rarely runs. `SKIP_LOCKED`
//!   leaves a table another instance is already vacuuming to that instance.
use std::time::Duration;

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, Statement};

/// A table is analyzed again on PostgreSQL when more than this fraction of its rows changed
/// since the last analysis (autovacuum's default), plus [`PG_CHANGED_FLOOR`] rows.
const PG_CHANGED_FRACTION: f64 = 0.1;
const PG_CHANGED_FLOOR: f64 = 1000.0;

/// Analyze what needs it; the tables analyzed, by name (empty when nothing changed enough).
/// On SQLite every ordinary table qualifies; on PostgreSQL every table of the current schema.
pub async fn upkeep(db: &DatabaseConnection) -> Result<Vec<String>, DbErr> {
    match db.get_database_backend() {
        DbBackend::Postgres => postgres(db).await,
        _ => sqlite(db).await,
    }
}

/// [`upkeep`] after a sync pass that stored `stored` messages (nothing to do when it stored
/// none); a failure is logged, never the pass's.
pub async fn after_pass(db: &DatabaseConnection, stored: u64) {
    if stored > 0 {
        logged(db, "after a sync pass").await;
    }
}

/// How often `serve` runs [`upkeep`] (the first time one period after it starts, so a fresh
/// installation's first analysis is that of its first synced mail, not of empty tables).
pub const PERIOD: Duration = Duration::from_secs(15 * 60);

/// [`upkeep`] every [`PERIOD`], for ever (`serve` aborts it on shutdown).
pub async fn periodic(db: DatabaseConnection) {
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + PERIOD, PERIOD);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        logged(&db, "periodic").await;
    }
}

/// [`upkeep`], its outcome logged (`when` says what ran it).
pub async fn logged(db: &DatabaseConnection, when: &str) {
    match upkeep(db).await {
        Ok(tables) if tables.is_empty() => {}
        Ok(tables) => tracing::info!(?tables, when, "planner statistics refreshed"),
        Err(e) => tracing::warn!(error = %e, when, "could not refresh planner statistics"),
    }
}

/// After migrations upgraded the database (`db::schema::migrate`): refresh the statistics of
/// every table, whatever changed, as the `VACUUM ANALYZE` an operator used to run after an
/// upgrade. A migration may rewrite every row of a table (PostgreSQL then also needs the
/// visibility map rebuilt for index-only reads) or add indexes with no statistics yet.
/// SQLite: `ANALYZE` of every table under the analysis limit; PostgreSQL:
/// `VACUUM (ANALYZE, SKIP_LOCKED)` of every table of the schema, outside any transaction.
/// A failure is logged, never the migration's.
pub async fn after_upgrade(db: &DatabaseConnection) {
    let done = match db.get_database_backend() {
        DbBackend::Postgres => postgres_all(db).await,
        _ => sqlite_all(db).await,
    };
    if let Err(e) = done {
        tracing::warn!(error = %e, "could not refresh planner statistics after the upgrade");
    }
}

async fn sqlite_all(db: &DatabaseConnection) -> Result<(), DbErr> {
    let txn = super::begin_write(db).await?;
    txn.execute_unprepared(&format!("PRAGMA analysis_limit = {SQLITE_ANALYSIS_LIMIT}"))
        .await?;
    txn.execute_unprepared("ANALYZE").await?;
    txn.execute_unprepared("PRAGMA analysis_limit = 0").await?;
    // As in `upkeep`: a schema touch makes every pooled connection load the new statistics.
    txn.execute_unprepared(
        "CREATE VIEW threadline_statistics_reload AS SELECT 1; \
         DROP VIEW threadline_statistics_reload",
    )
    .await?;
    txn.commit().await
}

async fn postgres_all(db: &DatabaseConnection) -> Result<(), DbErr> {
    let sql = "SELECT quote_ident(c.relname) FROM pg_class c WHERE c.relkind = 'r' \
               AND c.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema()) \
               ORDER BY c.relname";
    let tables: Vec<String> = db
        .query_all(Statement::from_string(DbBackend::Postgres, sql))
        .await?
        .into_iter()
        .map(|row| row.try_get_by_index::<String>(0))
        .collect::<Result<_, _>>()?;
    if tables.is_empty() {
        return Ok(());
    }
    db.execute_unprepared(&format!(
        "VACUUM (ANALYZE, SKIP_LOCKED) {}",
        tables.join(", ")
    ))
    .await?;
    Ok(())
}

async fn sqlite(db: &DatabaseConnection) -> Result<Vec<String>, DbErr> {
    // One write transaction on one connection (the write lock taken at once, waiting under the
    // busy timeout). `PRAGMA optimize` decides from the statistics this connection holds in
    // memory, so the schema is checked first (a read of sqlite_schema reloads it, and the
    // statistics with it, when another connection analyzed since); then mask bit 0x1 lists
    // the `ANALYZE` statements due, which run here under SQLite's own analysis limit.
    let txn = super::begin_write(db).await?;
    txn.query_one(Statement::from_string(
        DbBackend::Sqlite,
        "SELECT count(*) FROM sqlite_schema",
    ))
    .await?;
    let due: Vec<String> = txn
        .query_all(Statement::from_string(
            DbBackend::Sqlite,
            "PRAGMA optimize = 0x10013",
        ))
        .await?
        .into_iter()
        .filter_map(|row| row.try_get_by_index::<String>(0).ok())
        .collect();
    if due.is_empty() {
        txn.commit().await?;
        return Ok(Vec::new());
    }
    txn.execute_unprepared(&format!("PRAGMA analysis_limit = {SQLITE_ANALYSIS_LIMIT}"))
        .await?;
    for analyze in &due {
        txn.execute_unprepared(analyze).await?;
    }
    txn.execute_unprepared("PRAGMA analysis_limit = 0").await?;
    // The schema touch that makes every other connection reload the new statistics.
    txn.execute_unprepared(
        "CREATE VIEW threadline_statistics_reload AS SELECT 1; \
         DROP VIEW threadline_statistics_reload",
    )
    .await?;
    txn.commit().await?;
    // `ANALYZE "main"."emails"` -> emails
    Ok(due
        .iter()
        .filter_map(|s| s.rsplit('.').next())
        .map(|t| t.trim_matches('"').to_string())
        .collect())
}

/// Rows SQLite reads per index when it analyzes (what `PRAGMA optimize` itself uses): an
/// approximate analysis, cheap at any table size.
const SQLITE_ANALYSIS_LIMIT: u32 = 2_000;

async fn postgres(db: &DatabaseConnection) -> Result<Vec<String>, DbErr> {
    // Every table of the schema, as autovacuum would: the hot plans also read small tables (a
    // never-analyzed `mail_accounts` alone turned My mail into a sort of every email).
    // reltuples is -1 until the first VACUUM or ANALYZE; the change counter is the server's.
    let sql = format!(
        "SELECT quote_ident(c.relname) FROM pg_class c \
         LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid \
         WHERE c.relkind = 'r' \
         AND c.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema()) \
         AND (c.reltuples < 0 \
         OR COALESCE(s.n_mod_since_analyze, 0) > {PG_CHANGED_FRACTION} * c.reltuples + {PG_CHANGED_FLOOR}) \
         ORDER BY c.relname"
    );
    let due: Vec<String> = db
        .query_all(Statement::from_string(DbBackend::Postgres, sql))
        .await?
        .into_iter()
        .map(|row| row.try_get_by_index::<String>(0))
        .collect::<Result<_, _>>()?;
    if due.is_empty() {
        return Ok(due);
    }
    // Outside a transaction (VACUUM cannot run in one); the names as quote_ident wrote them.
    db.execute_unprepared(&format!("VACUUM (ANALYZE, SKIP_LOCKED) {}", due.join(", ")))
        .await?;
    Ok(due)
}
