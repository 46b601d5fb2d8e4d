//! What the mailboxes pages show about sync: whether a pass is running or a first listing is
//! under way, how far it got, the skipped messages (the answer to "why is
//! this email not here?"), and the owner's sync settings. Reads only, plus the settings write.
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use super::entities::{emails, jobs, mail_accounts, mailbox_push, sync_cursors, sync_ledger};
use super::sync_cursors::PHASE_INITIAL;
use crate::domain::stored::SyncSettings;
use crate::domain::sync_run::CursorPhase;

/// One mailbox's sync situation at `now`.
#[derive(Debug, Clone, Default)]
pub struct SyncStatus {
    /// A worker holds the mailbox's lease.
    pub running: bool,
    /// The first full listing (or a resync) has not finished.
    pub listing: bool,
    pub progress_done: u64,
    pub progress_total: u64,
    /// Stored messages still present in the provider.
    pub messages: u64,
    /// Messages recorded in the ledger as not stored.
    pub skipped: u64,
    pub next_run_at: Option<DateTime<Utc>>,
}

fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

/// The sync situation of `account` at `now`.
pub async fn status(
    db: &impl ConnectionTrait,
    account: &mail_accounts::Model,
    now: DateTime<Utc>,
) -> Result<SyncStatus, DbErr> {
    let job = jobs::Entity::find()
        .filter(jobs::Column::Kind.eq(super::jobs::SYNC_ACCOUNT))
        .filter(jobs::Column::SubjectId.eq(account.id))
        .one(db)
        .await?;
    let running = job
        .as_ref()
        .is_some_and(|j| j.state == super::jobs::RUNNING && j.lease_until.is_some_and(|t| t > now));
    let cursors: Vec<CursorPhase> = sync_cursors::Entity::find()
        .select_only()
        .column(sync_cursors::Column::Phase)
        .filter(sync_cursors::Column::AccountId.eq(account.id))
        .into_tuple()
        .all(db)
        .await?;
    let listing = cursors.is_empty() || cursors.contains(&PHASE_INITIAL);
    let messages = emails::Entity::find()
        .filter(emails::Column::AccountId.eq(account.id))
        .filter(emails::Column::DeletedInProviderAt.is_null())
        .count(db)
        .await?;
    let skipped = sync_ledger::Entity::find()
        .filter(sync_ledger::Column::AccountId.eq(account.id))
        .count(db)
        .await?;
    Ok(SyncStatus {
        running,
        listing,
        progress_done: count(account.progress_done),
        progress_total: count(account.progress_total),
        messages,
        skipped,
        next_run_at: job
            .filter(|j| j.state != super::jobs::RUNNING)
            .map(|j| j.run_at),
    })
}

/// The newest `limit` ledger entries of a mailbox (messages deliberately not stored).
pub async fn recent_skips(
    db: &impl ConnectionTrait,
    account_id: i64,
    limit: u64,
) -> Result<Vec<sync_ledger::Model>, DbErr> {
    sync_ledger::Entity::find()
        .filter(sync_ledger::Column::AccountId.eq(account_id))
        .order_by_desc(sync_ledger::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

/// Save a mailbox's sync settings. When what is synced changes (`restart_listing`), the
/// cursors are dropped so the next pass lists the mailbox afresh: upserts keep that free of
/// duplicates, and messages that fell outside the new settings are left as they are.
pub async fn save_settings(
    db: &impl ConnectionTrait,
    account_id: i64,
    settings: &SyncSettings,
    interval_secs: i32,
    restart_listing: bool,
) -> Result<(), DbErr> {
    mail_accounts::Entity::update_many()
        .col_expr(
            mail_accounts::Column::SyncSettings,
            Expr::value(settings.clone()),
        )
        .col_expr(
            mail_accounts::Column::SyncIntervalSecs,
            Expr::value(interval_secs),
        )
        .filter(mail_accounts::Column::Id.eq(account_id))
        .exec(db)
        .await?;
    if restart_listing {
        super::sync_cursors::forget_all(db, account_id).await?;
        // A Gmail watch covers the synced labels: the next pass watches the new ones.
        mailbox_push::Entity::update_many()
            .col_expr(
                mailbox_push::Column::RenewedAt,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
            .filter(mailbox_push::Column::AccountId.eq(account_id))
            .filter(mailbox_push::Column::Provider.eq("google"))
            .exec(db)
            .await?;
    }
    // The next pass comes due after the new interval at the latest.
    let due = super::now() + chrono::Duration::seconds(i64::from(interval_secs));
    jobs::Entity::update_many()
        .col_expr(jobs::Column::RunAt, Expr::value(due))
        .filter(jobs::Column::Kind.eq(super::jobs::SYNC_ACCOUNT))
        .filter(jobs::Column::SubjectId.eq(account_id))
        .filter(jobs::Column::State.eq(super::jobs::QUEUED))
        .filter(jobs::Column::RunAt.gt(due))
        .exec(db)
        .await?;
    Ok(())
}
