//! The database's own bulk-insert rate, measured in the same run as a sync pass so the two can
//! be compared: the emails the pass stored are read back, a page at a time, and written again
//! with plain multi-row INSERTs (emails, bodies, participants; one transaction per page of
//! [`PAGE`] emails, like a sync page) into scratch tables that have the same columns and a
//! unique key each, and nothing else: no look-ups, triggers, links or search documents. Only
//! the writes are timed. The scratch tables are dropped afterwards.
use std::time::{Duration, Instant};

use sea_orm::sea_query::Alias;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    IntoActiveModel, QueryFilter, QueryOrder, QuerySelect, QueryTrait, TransactionTrait,
};
use serde::Serialize;

use threadline::db::entities::{email_bodies, email_participants, emails};

/// Emails per transaction, as a sync page.
const PAGE: u64 = 500;
/// Bound values per statement: below SQLite's limit of 32,766.
const MAX_VALUES: usize = 30_000;

/// `(scratch table, copied table, unique key)`.
const TABLES: [(&str, &str, &str); 3] = [
    ("bench_raw_emails", "emails", "id"),
    ("bench_raw_bodies", "email_bodies", "email_id"),
    ("bench_raw_participants", "email_participants", "id"),
];

/// The raw rate of one mailbox's rows.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Baseline {
    pub messages: u64,
    pub seconds: f64,
    pub messages_per_second: f64,
}

/// Copy the mailbox's emails (with bodies and participants) into scratch tables and time the
/// inserts.
#[allow(
    clippy::cast_precision_loss,
    reason = "counts far below 2^52; these are report figures"
)]
pub async fn raw_insert(db: &DatabaseConnection, account_id: i64) -> Result<Baseline, DbErr> {
    drop_scratch(db).await?;
    for (scratch, table, key) in TABLES {
        db.execute_unprepared(&format!(
            "CREATE TABLE {scratch} AS SELECT * FROM {table} WHERE 1 = 0"
        ))
        .await?;
        db.execute_unprepared(&format!(
            "CREATE UNIQUE INDEX ux_{scratch} ON {scratch} ({key})"
        ))
        .await?;
    }
    let (mut messages, mut spent, mut after) = (0u64, Duration::ZERO, 0i64);
    loop {
        let page = emails::Entity::find()
            .filter(emails::Column::AccountId.eq(account_id))
            .filter(emails::Column::Id.gt(after))
            .order_by_asc(emails::Column::Id)
            .limit(PAGE)
            .all(db)
            .await?;
        let Some(last) = page.last() else { break };
        after = last.id;
        let ids: Vec<i64> = page.iter().map(|e| e.id).collect();
        let bodies = email_bodies::Entity::find()
            .filter(email_bodies::Column::EmailId.is_in(ids.clone()))
            .all(db)
            .await?;
        let people = email_participants::Entity::find()
            .filter(email_participants::Column::EmailId.is_in(ids))
            .all(db)
            .await?;
        messages += page.len() as u64;
        let started = Instant::now();
        let txn = db.begin().await?;
        copy(
            &txn,
            page,
            "bench_raw_emails",
            32,
            emails::Entity::insert_many,
        )
        .await?;
        copy(
            &txn,
            bodies,
            "bench_raw_bodies",
            5,
            email_bodies::Entity::insert_many,
        )
        .await?;
        copy(
            &txn,
            people,
            "bench_raw_participants",
            8,
            email_participants::Entity::insert_many,
        )
        .await?;
        txn.commit().await?;
        spent += started.elapsed();
    }
    drop_scratch(db).await?;
    let seconds = spent.as_secs_f64().max(1e-9);
    Ok(Baseline {
        messages,
        seconds,
        messages_per_second: messages as f64 / seconds,
    })
}

/// Insert `models` into `scratch` (same columns as their own table), `columns` values a row.
async fn copy<M, A>(
    db: &impl ConnectionTrait,
    models: Vec<M>,
    scratch: &str,
    columns: usize,
    insert: impl Fn(Vec<A>) -> sea_orm::Insert<A>,
) -> Result<(), DbErr>
where
    M: IntoActiveModel<A>,
    A: ActiveModelTrait,
{
    let per = (MAX_VALUES / columns).max(1);
    let mut rows = models.into_iter().map(IntoActiveModel::into_active_model);
    loop {
        let chunk: Vec<A> = rows.by_ref().take(per).collect();
        if chunk.is_empty() {
            return Ok(());
        }
        let mut statement = insert(chunk);
        statement.query().into_table(Alias::new(scratch));
        db.execute(statement.build(db.get_database_backend()))
            .await?;
    }
}

async fn drop_scratch(db: &DatabaseConnection) -> Result<(), DbErr> {
    for (scratch, _, _) in TABLES {
        db.execute_unprepared(&format!("DROP TABLE IF EXISTS {scratch}"))
            .await?;
    }
    Ok(())
}
