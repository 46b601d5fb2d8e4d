//! The outbox of marks waiting to be written to the mailbox: one row per mailbox and message
//! holding the wanted state (a later toggle overwrites it and bumps `version`), leased by the
//! instance that writes it (PostgreSQL: `FOR UPDATE SKIP LOCKED`; SQLite, one writer at a
//! time: a single `UPDATE ... RETURNING`), removed once the provider took it, rescheduled when
//! it did not. A lease that runs out (a crashed instance) makes the row due again.
use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, FromQueryResult, PaginatorTrait,
    QueryFilter, QueryOrder, Set, Statement, Value,
};

use crate::db::email_actions::Mark;
use crate::db::entities::emails;
use crate::db::entities::write_back_outbox::{self, ActiveModel, Column, Entity as Outbox};
use crate::db::jobs::placeholders;

pub use write_back_outbox::Model as Pending;

/// Queue (or change) the wanted `mark` of one copy: due now, its failures forgotten.
pub async fn upsert(
    db: &impl ConnectionTrait,
    copy: &emails::Model,
    mark: Mark,
    on: bool,
) -> Result<(), DbErr> {
    let now = crate::db::now();
    let mut row = ActiveModel {
        organization_id: Set(copy.organization_id),
        account_id: Set(copy.account_id),
        provider_message_id: Set(copy.provider_message_id.clone()),
        read: Set(None),
        starred: Set(None),
        version: Set(1),
        attempts: Set(0),
        due_at: Set(now),
        locked_by: Set(None),
        lease_until: Set(None),
        last_error: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    let column = match mark {
        Mark::Read => {
            row.read = Set(Some(on));
            Column::Read
        }
        Mark::Starred => {
            row.starred = Set(Some(on));
            Column::Starred
        }
    };
    Outbox::insert(row)
        .on_conflict(
            OnConflict::columns([Column::AccountId, Column::ProviderMessageId])
                .update_columns([
                    column,
                    Column::Attempts,
                    Column::DueAt,
                    Column::LastError,
                    Column::UpdatedAt,
                ])
                .value(Column::Version, Expr::col((Outbox, Column::Version)).add(1))
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// Lease up to `limit` due rows of mailboxes that can be written to (active ones) to `worker`
/// until `now + lease`, oldest first.
pub async fn lease(
    db: &impl ConnectionTrait,
    worker: &str,
    now: DateTime<Utc>,
    lease: Duration,
    limit: u32,
) -> Result<Vec<Pending>, DbErr> {
    // Nearly always nothing is due: a plain read, so idle workers take no write lock.
    let due = Outbox::find()
        .filter(Column::DueAt.lte(now))
        .one(db)
        .await?
        .is_some();
    if !due {
        return Ok(Vec::new());
    }
    let backend = db.get_database_backend();
    let pick = "SELECT o.id FROM write_back_outbox o WHERE o.due_at <= {3} \
                AND (o.lease_until IS NULL OR o.lease_until < {3}) \
                AND EXISTS (SELECT 1 FROM mail_accounts m WHERE m.id = o.account_id \
                            AND m.status = 'active') \
                ORDER BY o.due_at, o.id LIMIT {4}";
    let pick = match backend {
        DbBackend::Postgres => format!("{pick} FOR UPDATE OF o SKIP LOCKED"),
        _ => pick.to_string(),
    };
    let sql = format!(
        "UPDATE write_back_outbox SET locked_by = {{1}}, lease_until = {{2}} \
         WHERE id IN ({pick}) RETURNING *"
    );
    let values: Vec<Value> = vec![
        worker.into(),
        (now + lease).into(),
        now.into(),
        i64::from(limit).into(),
    ];
    let stmt = Statement::from_sql_and_values(backend, placeholders(&sql, backend), values);
    let mut rows = Pending::find_by_statement(stmt).all(db).await?;
    rows.sort_by_key(|r| (r.account_id, r.id));
    Ok(rows)
}

async fn exec(db: &impl ConnectionTrait, sql: &str, values: Vec<Value>) -> Result<bool, DbErr> {
    let backend = db.get_database_backend();
    let stmt = Statement::from_sql_and_values(backend, placeholders(sql, backend), values);
    Ok(db.execute(stmt).await?.rows_affected() > 0)
}

/// The provider took the write: the row goes, unless a toggle came in meanwhile (then it is
/// released, due with the new state).
pub async fn done(db: &impl ConnectionTrait, row: &Pending, worker: &str) -> Result<(), DbErr> {
    let gone = exec(
        db,
        "DELETE FROM write_back_outbox WHERE id = {1} AND locked_by = {2} AND version = {3}",
        vec![row.id.into(), worker.into(), row.version.into()],
    )
    .await?;
    if !gone {
        release(db, row, worker).await?;
    }
    Ok(())
}

/// Give a leased row back untouched (due as it is).
pub async fn release(db: &impl ConnectionTrait, row: &Pending, worker: &str) -> Result<(), DbErr> {
    exec(
        db,
        "UPDATE write_back_outbox SET locked_by = NULL, lease_until = NULL \
         WHERE id = {1} AND locked_by = {2}",
        vec![row.id.into(), worker.into()],
    )
    .await?;
    Ok(())
}

/// The write failed: try again at `retry_at`, the error kept for the mailbox's page (a toggle
/// that came in meanwhile is due at once instead).
pub async fn failed(
    db: &impl ConnectionTrait,
    row: &Pending,
    worker: &str,
    error: &str,
    retry_at: DateTime<Utc>,
) -> Result<(), DbErr> {
    let rescheduled = exec(
        db,
        "UPDATE write_back_outbox SET attempts = attempts + 1, last_error = {1}, due_at = {2}, \
         updated_at = {3}, locked_by = NULL, lease_until = NULL \
         WHERE id = {4} AND locked_by = {5} AND version = {6}",
        vec![
            error.into(),
            retry_at.into(),
            crate::db::now().into(),
            row.id.into(),
            worker.into(),
            row.version.into(),
        ],
    )
    .await?;
    if !rescheduled {
        release(db, row, worker).await?;
    }
    Ok(())
}

/// Drop a leased row that must not be written (write-back was turned off, the grant lost its
/// write scope).
pub async fn drop_leased(
    db: &impl ConnectionTrait,
    row: &Pending,
    worker: &str,
) -> Result<(), DbErr> {
    exec(
        db,
        "DELETE FROM write_back_outbox WHERE id = {1} AND locked_by = {2}",
        vec![row.id.into(), worker.into()],
    )
    .await?;
    Ok(())
}

/// What waits for a mailbox: how many writes, and the latest failure if any.
pub async fn pending(
    db: &impl ConnectionTrait,
    account_id: i64,
) -> Result<(u64, Option<String>), DbErr> {
    let count = Outbox::find()
        .filter(Column::AccountId.eq(account_id))
        .count(db)
        .await?;
    let failed = Outbox::find()
        .filter(Column::AccountId.eq(account_id))
        .filter(Column::LastError.is_not_null())
        .order_by_desc(Column::UpdatedAt)
        .one(db)
        .await?
        .and_then(|r| r.last_error);
    Ok((count, failed))
}

/// Give back every row `worker` holds (shutdown, or a restarted instance reclaiming its own).
pub async fn release_all(db: &impl ConnectionTrait, worker: &str) -> Result<bool, DbErr> {
    exec(
        db,
        "UPDATE write_back_outbox SET locked_by = NULL, lease_until = NULL WHERE locked_by = {1}",
        vec![worker.into()],
    )
    .await
}
