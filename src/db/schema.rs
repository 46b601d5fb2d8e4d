//! The database's schema version against this binary's: the migrations it has applied
//! (`seaql_migrations`) compared with the ones this binary knows (`migration::Migrator`).
//! `/readyz` reports pending ones; [`migrate`] refuses a database a newer Threadline migrated
//! before it changes anything, and refreshes planner statistics after an upgrade.
use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, Statement};

#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    /// The database holds a migration this binary does not know: a newer Threadline applied it.
    #[error(
        "this database was migrated by a newer Threadline (migration {0}); upgrade Threadline \
         or restore a backup"
    )]
    Newer(String),
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// Where a database stands against this binary.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SchemaStatus {
    /// Migrations this binary knows that the database has not applied, in order.
    pub pending: Vec<String>,
    /// Migrations the database applied that this binary does not know (a newer version's).
    pub unknown: Vec<String>,
    /// Migrations the database applied (0: a fresh database).
    pub applied: usize,
}

/// The migrations this binary knows, in the order they apply.
pub fn known() -> Vec<String> {
    Migrator::migrations()
        .iter()
        .map(|m| m.name().to_string())
        .collect()
}

/// Compare the database's applied migrations with [`known`].
pub async fn status(db: &impl ConnectionTrait) -> Result<SchemaStatus, DbErr> {
    let applied = applied(db).await?;
    let known = known();
    Ok(SchemaStatus {
        pending: known
            .iter()
            .filter(|k| !applied.contains(k))
            .cloned()
            .collect(),
        unknown: applied
            .iter()
            .filter(|a| !known.contains(a))
            .cloned()
            .collect(),
        applied: applied.len(),
    })
}

/// Apply every pending migration. A database holding a migration this binary does not know is
/// refused before anything is written (not even the migrations table is created). After an
/// upgrade (a database that had migrations and got more) the planner statistics of every table
/// are refreshed, as an operator's `VACUUM ANALYZE` would ([`super::maintenance::after_upgrade`]).
pub async fn migrate(db: &DatabaseConnection) -> Result<(), MigrateError> {
    let before = status(db).await?;
    if let Some(newest) = before.unknown.last() {
        return Err(MigrateError::Newer(newest.clone()));
    }
    if before.pending.is_empty() {
        return Ok(());
    }
    Migrator::up(db, None).await?;
    if before.applied > 0 {
        tracing::info!(
            applied = before.pending.len(),
            "database upgraded; refreshing planner statistics"
        );
        super::maintenance::after_upgrade(db).await;
    }
    Ok(())
}

/// The names in `seaql_migrations`, in the order applied (none when the table does not exist).
async fn applied(db: &impl ConnectionTrait) -> Result<Vec<String>, DbErr> {
    let backend = db.get_database_backend();
    let exists = match backend {
        DbBackend::Postgres => {
            "SELECT COUNT(*) FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_name = 'seaql_migrations'"
        }
        _ => {
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'seaql_migrations'"
        }
    };
    let found = db
        .query_one(Statement::from_string(backend, exists))
        .await?
        .map(|row| row.try_get_by_index::<i64>(0))
        .transpose()?
        .unwrap_or(0);
    if found == 0 {
        return Ok(Vec::new());
    }
    db.query_all(Statement::from_string(
        backend,
        "SELECT version FROM seaql_migrations ORDER BY applied_at, version",
    ))
    .await?
    .into_iter()
    .map(|row| row.try_get_by_index::<String>(0))
    .collect()
}
