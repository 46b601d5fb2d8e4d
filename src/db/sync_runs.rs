//! What each sync pass did (`sync_runs`: started, finished, counts, error; pruned by
//! [`super::retention`]), plus the progress and outcome fields of `mail_accounts`.
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Select,
    Set,
};

use super::emails::Owner;
use super::entities::{mail_accounts, sync_runs};
use crate::domain::sync_run::{RunKind, RunStatus};

/// What a finished pass did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RunCounts {
    pub listed: u64,
    pub fetched: u64,
    pub stored: u64,
    pub updated: u64,
    pub skipped: u64,
    pub deleted: u64,
    pub throttled: u64,
    pub requests: u64,
}

fn int(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// A run of `kind`, `running`, held by `holder` (a worker id; None for a pass that holds no
/// lease).
pub async fn start_run(
    db: &impl ConnectionTrait,
    owner: Owner,
    kind: RunKind,
    holder: Option<&str>,
) -> Result<i64, DbErr> {
    let now = super::now();
    let row = sync_runs::ActiveModel {
        organization_id: Set(owner.organization_id),
        account_id: Set(owner.account_id),
        kind: Set(kind),
        status: Set(RunStatus::Running),
        listed: Set(0),
        fetched: Set(0),
        stored: Set(0),
        updated: Set(0),
        skipped: Set(0),
        deleted: Set(0),
        throttled: Set(0),
        requests: Set(0),
        duration_ms: Set(0),
        started_at: Set(now),
        finished_at: Set(None),
        error: Set(None),
        holder: Set(holder.map(str::to_string)),
        heartbeat_at: Set(Some(now)),
        ..Default::default()
    };
    Ok(sync_runs::Entity::insert(row)
        .exec(db)
        .await?
        .last_insert_id)
}

pub struct Finished<'a> {
    pub kind: RunKind,
    pub counts: &'a RunCounts,
    pub duration_ms: u64,
    pub error: Option<&'a str>,
}

pub async fn finish_run(
    db: &impl ConnectionTrait,
    id: i64,
    run: Finished<'_>,
) -> Result<(), DbErr> {
    let c = run.counts;
    let status = if run.error.is_some() {
        RunStatus::Failed
    } else {
        RunStatus::Succeeded
    };
    sync_runs::Entity::update_many()
        .col_expr(sync_runs::Column::Kind, Expr::value(run.kind))
        .col_expr(sync_runs::Column::Status, Expr::value(status))
        .col_expr(sync_runs::Column::Listed, Expr::value(int(c.listed)))
        .col_expr(sync_runs::Column::Fetched, Expr::value(int(c.fetched)))
        .col_expr(sync_runs::Column::Stored, Expr::value(int(c.stored)))
        .col_expr(sync_runs::Column::Updated, Expr::value(int(c.updated)))
        .col_expr(sync_runs::Column::Skipped, Expr::value(int(c.skipped)))
        .col_expr(sync_runs::Column::Deleted, Expr::value(int(c.deleted)))
        .col_expr(sync_runs::Column::Throttled, Expr::value(int(c.throttled)))
        .col_expr(sync_runs::Column::Requests, Expr::value(int(c.requests)))
        .col_expr(
            sync_runs::Column::DurationMs,
            Expr::value(int(run.duration_ms)),
        )
        .col_expr(sync_runs::Column::FinishedAt, Expr::value(super::now()))
        .col_expr(
            sync_runs::Column::Error,
            Expr::value(run.error.map(str::to_string)),
        )
        .filter(sync_runs::Column::Id.eq(id))
        // A run closed as interrupted (its holder lost the lease) stays so.
        .filter(sync_runs::Column::Status.eq(RunStatus::Running))
        .exec(db)
        .await?;
    Ok(())
}

/// The mailbox's latest run (None before its first).
pub async fn latest(
    db: &impl ConnectionTrait,
    account_id: i64,
) -> Result<Option<sync_runs::Model>, DbErr> {
    newest_first(account_id).one(db).await
}

/// The holder is alive: its running runs were seen now.
pub async fn heartbeat(db: &impl ConnectionTrait, holder: &str) -> Result<(), DbErr> {
    sync_runs::Entity::update_many()
        .col_expr(sync_runs::Column::HeartbeatAt, Expr::value(super::now()))
        .filter(sync_runs::Column::Holder.eq(holder))
        .filter(sync_runs::Column::Status.eq(RunStatus::Running))
        .exec(db)
        .await?;
    Ok(())
}

/// Close as `interrupted`, at the time their holder was last seen, the running runs whose
/// holder holds no live lease any more (it died: its lease expired and was taken over, or it
/// was released when its instance restarted). Runs without a holder (`threadline sync`) are
/// left alone. How many were closed.
pub async fn interrupt_orphans(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    use sea_orm::sea_query::Query;

    use super::entities::jobs;
    let live = Query::select()
        .column(jobs::Column::LockedBy)
        .from(jobs::Entity)
        .and_where(jobs::Column::State.eq("running"))
        .and_where(jobs::Column::LockedBy.is_not_null())
        .and_where(jobs::Column::LeaseUntil.gte(now))
        .to_owned();
    let res = sync_runs::Entity::update_many()
        .col_expr(
            sync_runs::Column::Status,
            Expr::value(RunStatus::Interrupted),
        )
        .col_expr(
            sync_runs::Column::FinishedAt,
            Expr::col(sync_runs::Column::HeartbeatAt)
                .if_null(Expr::col(sync_runs::Column::StartedAt)),
        )
        .filter(sync_runs::Column::Status.eq(RunStatus::Running))
        .filter(sync_runs::Column::Holder.is_not_null())
        .filter(sync_runs::Column::Holder.not_in_subquery(live))
        .exec(db)
        .await?;
    Ok(res.rows_affected)
}

fn newest_first(account_id: i64) -> Select<sync_runs::Entity> {
    sync_runs::Entity::find()
        .filter(sync_runs::Column::AccountId.eq(account_id))
        .order_by_desc(sync_runs::Column::Id)
}

/// Runs of a mailbox, newest first.
pub async fn runs(
    db: &impl ConnectionTrait,
    account_id: i64,
) -> Result<Vec<sync_runs::Model>, DbErr> {
    newest_first(account_id).all(db).await
}

/// The newest `limit` runs of a mailbox.
pub async fn recent_runs(
    db: &impl ConnectionTrait,
    account_id: i64,
    limit: u64,
) -> Result<Vec<sync_runs::Model>, DbErr> {
    newest_first(account_id).limit(limit).all(db).await
}

/// Progress of the initial listing: `total` from the provider's estimate.
pub async fn set_progress(
    db: &impl ConnectionTrait,
    account_id: i64,
    total: Option<u64>,
    done: u64,
) -> Result<(), DbErr> {
    let mut update = mail_accounts::Entity::update_many()
        .col_expr(mail_accounts::Column::ProgressDone, Expr::value(int(done)));
    if let Some(total) = total {
        update = update.col_expr(
            mail_accounts::Column::ProgressTotal,
            Expr::value(int(total)),
        );
    }
    update
        .filter(mail_accounts::Column::Id.eq(account_id))
        .exec(db)
        .await?;
    Ok(())
}

/// The listing progress stored on the mailbox, `(total, done)`: a listing resumed (after a
/// worker's time slice, a restart) counts on from it.
pub async fn progress(db: &impl ConnectionTrait, account_id: i64) -> Result<(u64, u64), DbErr> {
    let account = mail_accounts::Entity::find_by_id(account_id)
        .one(db)
        .await?;
    let count = |n: i64| u64::try_from(n).unwrap_or(0);
    Ok(account.map_or((0, 0), |a| {
        (count(a.progress_total), count(a.progress_done))
    }))
}

/// Record the end of a pass on the mailbox: `error` None means success.
pub async fn record_outcome(
    db: &impl ConnectionTrait,
    account_id: i64,
    error: Option<&str>,
) -> Result<(), DbErr> {
    let now = super::now();
    let mut update = mail_accounts::Entity::update_many()
        .col_expr(mail_accounts::Column::LastSyncAt, Expr::value(now))
        .col_expr(
            mail_accounts::Column::LastError,
            Expr::value(error.map(str::to_string)),
        );
    if error.is_none() {
        update = update.col_expr(mail_accounts::Column::LastSuccessAt, Expr::value(now));
    }
    update
        .filter(mail_accounts::Column::Id.eq(account_id))
        .exec(db)
        .await?;
    Ok(())
}
