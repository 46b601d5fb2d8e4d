//! Database access: connecting and migrating, generated entities, and query modules that take
//! `&impl ConnectionTrait` so callers pass a pool or a transaction.
pub mod attachment_settings;
pub mod audit;
pub mod batch;
pub mod blob_files;
pub mod blobs;
pub mod combined;
pub mod connection_rules;
pub mod connections;
pub mod directory;
pub mod directory_syncs;
pub mod email_actions;
pub mod email_states;
pub mod email_view;
pub mod emails;
pub mod entities;
pub mod exclusions;
pub mod files;
pub mod gauges;
pub mod ingest;
pub mod jobs;
pub mod links;
pub mod live;
pub mod mail_accounts;
pub mod mailbox_console;
pub mod maintenance;
pub mod mime_pending;
pub mod org_access;
pub mod org_mailboxes;
pub mod organizations;
pub mod private_threads;
pub mod provider_marks;
pub mod purge;
pub mod push;
pub mod read;
pub mod reconciliation;
pub mod references;
pub mod retention;
pub mod schema;
pub mod search;
pub mod session_store;
pub mod sync_cursors;
pub mod sync_runs;
pub mod sync_status;
pub mod threads;
pub mod throttle;
pub mod timeline;
pub mod users;
pub mod visibility;
pub mod webhooks;
pub mod write_back;

use std::path::Path;
use std::time::Duration;

pub use read::{begin_read, Read};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend,
    DbErr, TransactionTrait,
};

/// Prepared statements each SQLite connection keeps (sqlx's default is 100).
const SQLITE_STATEMENT_CACHE: usize = 24;

/// Bytes of the SQLite file each connection memory-maps for reading.
const SQLITE_MMAP_SIZE: &str = "0";

/// Page cache per SQLite connection: negative means KiB (4 MiB).
const SQLITE_CACHE_SIZE: &str = "-4096";

/// Open the pool. For SQLite: create the data directory and the file privately (see `files`),
/// WAL, a busy timeout, foreign keys and a bounded page cache.
pub async fn connect(url: &str) -> Result<DatabaseConnection, DbErr> {
    connect_sized(url, None).await
}

/// [`connect`] with at most `max` connections (None: the default for the database).
pub async fn connect_sized(url: &str, max: Option<u32>) -> Result<DatabaseConnection, DbErr> {
    if let Some(path) = sqlite_path(url) {
        files::prepare_sqlite(Path::new(&path), url.contains("mode=rwc"))
            .map_err(|e| DbErr::Custom(format!("cannot create {path}: {e}")))?;
    }
    if url.starts_with("postgres") {
        probe_postgres(url, CONNECT_TIMEOUT).await?;
    }
    let mut opts = ConnectOptions::new(url.to_string());
    opts.sqlx_logging(false)
        .acquire_timeout(CONNECT_TIMEOUT)
        .max_connections(max.unwrap_or(if url.starts_with("sqlite:") {
            8
        } else {
            postgres_pool_size()
        }))
        // No ping before every query (a round trip each); a broken connection fails its query
        // and the pool replaces it.
        .test_before_acquire(false)
        .map_sqlx_sqlite_opts(|o| {
            o.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true)
                // No memory map, and 4 MiB of pages per connection. Both count in the
                // process's resident memory, per pooled connection (the pool hands out each in
                // turn, and each maps the file's hot pages again): with a 1 GiB map and
                // 16 MiB per connection a first sync of 100,000 messages peaked at 319 MiB
                // (163 MiB heap, 157 MiB mapped file). Reads beyond the cache come from the
                // OS page cache, a system call per page.
                .pragma("mmap_size", SQLITE_MMAP_SIZE)
                .pragma("cache_size", SQLITE_CACHE_SIZE)
                // A page's multi-row statements differ in row count from page to page, and a
                // prepared statement of thousands of values is large: a short cache keeps
                // memory flat as a mailbox grows (re-preparing costs SQLite microseconds).
                .statement_cache_capacity(SQLITE_STATEMENT_CACHE)
        });
    Database::connect(opts).await
}

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// One connection before the pool: the pool retries a refused or failing connection until its
/// timeout and then reports only "pool timed out"; this says why, at once ("Connection
/// refused", "password authentication failed", ...).
async fn probe_postgres(url: &str, timeout: Duration) -> Result<(), DbErr> {
    use sea_orm::sqlx::{postgres::PgConnection, Connection};
    let conn_err = |e| DbErr::Conn(sea_orm::RuntimeErr::SqlxError(e));
    match tokio::time::timeout(timeout, PgConnection::connect(url)).await {
        Ok(Ok(conn)) => {
            let _ = conn.close().await;
            Ok(())
        }
        Ok(Err(e)) => Err(conn_err(e)),
        Err(_) => Err(DbErr::Conn(sea_orm::RuntimeErr::Internal(format!(
            "no answer from the database server within {} s",
            timeout.as_secs()
        )))),
    }
}

/// Connections per instance to PostgreSQL: three per core (at least four). A backend works
/// while its request's code runs and waits for the network, so a few per core keep the cores
/// busy; more only make the server switch between backends (under 32 clients on 2 cores, 16
/// connections gave the same throughput as 6 with a p99 half again as long).
fn postgres_pool_size() -> u32 {
    let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
    u32::try_from(cores * 3).unwrap_or(u32::MAX).max(4)
}

/// Connections of an instance's sync workers, a pool apart from the web's so that workers
/// waiting to write (on SQLite, for the one write lock) can never leave a page request without
/// a connection: one per worker plus two for the lease heartbeats, so a worker never waits for
/// another's connection (with two per core for eight workers, page writes held them all under
/// load, heartbeats timed out and leases were lost). A worker holds one only while it reads or
/// writes, a small part of a pass under provider latency.
pub fn sync_pool_size(workers: usize) -> u32 {
    u32::try_from(workers.saturating_add(2)).unwrap_or(u32::MAX)
}

/// Apply every pending migration; refused for a database a newer Threadline migrated
/// ([`schema::migrate`]).
pub async fn migrate(db: &DatabaseConnection) -> Result<(), schema::MigrateError> {
    schema::migrate(db).await
}

/// Begin a transaction that will write. On SQLite the write lock is taken at once (a no-op
/// UPDATE, like `BEGIN IMMEDIATE`), so it waits for other writers under the busy timeout
/// instead of failing with "database is locked" when a read snapshot would later have to be
/// upgraded while another connection (another worker or instance) committed meanwhile.
pub async fn begin_write(db: &impl TransactionTrait) -> Result<DatabaseTransaction, DbErr> {
    let txn = db.begin().await?;
    if txn.get_database_backend() == DbBackend::Sqlite {
        txn.execute_unprepared("UPDATE seaql_migrations SET version = version WHERE 1 = 0")
            .await?;
    }
    Ok(txn)
}

/// Is the database answering?
pub async fn ping(db: &DatabaseConnection) -> bool {
    db.execute_unprepared("SELECT 1").await.is_ok()
}

pub fn is_postgres(db: &impl ConnectionTrait) -> bool {
    db.get_database_backend() == DbBackend::Postgres
}

/// The file path of a `sqlite://path?...` URL (None for memory databases and other backends).
pub fn sqlite_path(url: &str) -> Option<String> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    (!path.is_empty() && path != ":memory:").then(|| path.to_string())
}

/// Current time truncated to microseconds, as both databases store it.
pub fn now() -> chrono::DateTime<chrono::Utc> {
    use chrono::{SubsecRound, Utc};
    Utc::now().trunc_subsecs(6)
}

#[cfg(test)]
mod tests {
    use super::sqlite_path;

    #[test]
    fn sqlite_paths() {
        assert_eq!(
            sqlite_path("sqlite://data/t.db?mode=rwc").as_deref(),
            Some("data/t.db")
        );
        assert_eq!(sqlite_path("sqlite::memory:"), None);
        assert_eq!(sqlite_path("postgres://x/y"), None);
    }
}
