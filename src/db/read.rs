//! The reads of one page ([`begin_read`]): its statements share one pooled connection, so the
//! page checks a connection out once and the pool pings it once when it comes back (sqlx tests
//! every connection it takes back with a round trip), not once per statement.
//!
//! - **SQLite**: a transaction, so the page's statements also share one snapshot.
//! - **PostgreSQL**: the connection alone, without `BEGIN` and `COMMIT`. At the default isolation
//!   level (read committed) every statement takes its own snapshot inside a transaction as well,
//!   so the transaction bought nothing but two round trips per page (of eight for a business
//!   timeline: the session, its release ping, `BEGIN`, three reads, `COMMIT`, the release ping).
//!
//! Nothing is written through a [`Read`]: a page that writes uses `db::begin_write`.
use async_trait::async_trait;
use sea_orm::sqlx::pool::PoolConnection;
use sea_orm::sqlx::{Executor, Postgres};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, ExecResult,
    QueryResult, RuntimeErr, Statement, TransactionTrait,
};
use sea_query_binder::SqlxValues;
use tokio::sync::Mutex;

/// The reads of one page, on one pooled connection (see the module documentation).
pub struct Read {
    inner: Inner,
}

enum Inner {
    Transaction(DatabaseTransaction),
    Postgres(Mutex<PoolConnection<Postgres>>),
}

/// Begin the reads of one page.
pub async fn begin_read(db: &DatabaseConnection) -> Result<Read, DbErr> {
    let inner = match db {
        DatabaseConnection::SqlxPostgresPoolConnection(_) => {
            let conn = db
                .get_postgres_connection_pool()
                .acquire()
                .await
                .map_err(|e| DbErr::ConnectionAcquire(acquire_error(&e)))?;
            Inner::Postgres(Mutex::new(conn))
        }
        _ => Inner::Transaction(db.begin().await?),
    };
    Ok(Read { inner })
}

fn acquire_error(e: &sea_orm::sqlx::Error) -> sea_orm::ConnAcquireErr {
    match e {
        sea_orm::sqlx::Error::PoolTimedOut => sea_orm::ConnAcquireErr::Timeout,
        _ => sea_orm::ConnAcquireErr::ConnectionClosed,
    }
}

impl Read {
    /// End the reads: commit the snapshot (SQLite), give the connection back (PostgreSQL).
    pub async fn commit(self) -> Result<(), DbErr> {
        match self.inner {
            Inner::Transaction(txn) => txn.commit().await,
            Inner::Postgres(_) => Ok(()),
        }
    }

    /// Is this read on one PostgreSQL connection without a transaction?
    pub fn is_bare(&self) -> bool {
        matches!(self.inner, Inner::Postgres(_))
    }
}

fn query_error(e: sea_orm::sqlx::Error) -> DbErr {
    DbErr::Query(RuntimeErr::SqlxError(e))
}

fn exec_error(e: sea_orm::sqlx::Error) -> DbErr {
    DbErr::Exec(RuntimeErr::SqlxError(e))
}

/// The statement as sqlx runs it, with its values bound as sea-orm binds them.
fn query(stmt: &Statement) -> sea_orm::sqlx::query::Query<'_, Postgres, SqlxValues> {
    let values = stmt.values.clone().unwrap_or(sea_orm::Values(Vec::new()));
    sea_orm::sqlx::query_with(&stmt.sql, SqlxValues(values))
}

#[async_trait]
impl ConnectionTrait for Read {
    fn get_database_backend(&self) -> DbBackend {
        match &self.inner {
            Inner::Transaction(txn) => txn.get_database_backend(),
            Inner::Postgres(_) => DbBackend::Postgres,
        }
    }

    async fn execute(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        match &self.inner {
            Inner::Transaction(txn) => txn.execute(stmt).await,
            Inner::Postgres(conn) => {
                let mut conn = conn.lock().await;
                let done = query(&stmt)
                    .execute(&mut **conn)
                    .await
                    .map_err(exec_error)?;
                Ok(done.into())
            }
        }
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        match &self.inner {
            Inner::Transaction(txn) => txn.execute_unprepared(sql).await,
            Inner::Postgres(conn) => {
                let mut conn = conn.lock().await;
                let done = conn.execute(sql).await.map_err(exec_error)?;
                Ok(done.into())
            }
        }
    }

    async fn query_one(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        match &self.inner {
            Inner::Transaction(txn) => txn.query_one(stmt).await,
            Inner::Postgres(conn) => {
                let mut conn = conn.lock().await;
                let row = query(&stmt)
                    .fetch_optional(&mut **conn)
                    .await
                    .map_err(query_error)?;
                Ok(row.map(Into::into))
            }
        }
    }

    async fn query_all(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        match &self.inner {
            Inner::Transaction(txn) => txn.query_all(stmt).await,
            Inner::Postgres(conn) => {
                let mut conn = conn.lock().await;
                let rows = query(&stmt)
                    .fetch_all(&mut **conn)
                    .await
                    .map_err(query_error)?;
                Ok(rows.into_iter().map(Into::into).collect())
            }
        }
    }
}
