//! Mailbox push state (`mailbox_push`, issue 22): one row per mailbox that push was set up or
//! refused for, found by mailbox or by the provider's subscription id.
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set};

use super::entities::mailbox_push::{self, Entity as Push, Model as PushRow};

pub const OFF: &str = "off";
pub const PENDING: &str = "pending";
pub const ACTIVE: &str = "active";
pub const FAILING: &str = "failing";

/// Lifecycle events a notification may leave for the next pass.
pub const REAUTHORIZE: &str = "reauthorizationRequired";
pub const REMOVED: &str = "subscriptionRemoved";
pub const MISSED: &str = "missed";

pub async fn find(db: &impl ConnectionTrait, account_id: i64) -> Result<Option<PushRow>, DbErr> {
    Push::find()
        .filter(mailbox_push::Column::AccountId.eq(account_id))
        .one(db)
        .await
}

/// The rows carrying provider subscription `id` (Graph: unique; Gmail: the topic).
pub async fn by_subscription(db: &impl ConnectionTrait, id: &str) -> Result<Vec<PushRow>, DbErr> {
    Push::find()
        .filter(mailbox_push::Column::SubscriptionId.eq(id))
        .all(db)
        .await
}

/// The row of mailbox `account_id`, created in state `pending` if it has none.
pub async fn ensure(
    db: &impl ConnectionTrait,
    organization_id: i64,
    account_id: i64,
    provider: &str,
) -> Result<PushRow, DbErr> {
    let now = super::now();
    let row = mailbox_push::ActiveModel {
        organization_id: Set(organization_id),
        account_id: Set(account_id),
        provider: Set(provider.to_string()),
        state: Set(PENDING.to_string()),
        notifications: Set(0),
        rejected: Set(0),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    Push::insert(row)
        .on_conflict(
            OnConflict::column(mailbox_push::Column::AccountId)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    find(db, account_id)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound(format!("mailbox_push of {account_id}")))
}

/// Save `row` as it now is (the caller changed its fields).
pub async fn save(db: &impl ConnectionTrait, row: PushRow) -> Result<PushRow, DbErr> {
    let mut active: mailbox_push::ActiveModel = row.into();
    active = sea_orm::ActiveModelTrait::reset_all(active);
    active.updated_at = Set(super::now());
    sea_orm::ActiveModelTrait::update(active, db).await
}

/// Count a notification that was accepted for `row_id` (and when it came).
pub async fn record_notification(db: &impl ConnectionTrait, row_id: i64) -> Result<(), DbErr> {
    Push::update_many()
        .col_expr(
            mailbox_push::Column::LastNotificationAt,
            Expr::value(super::now()),
        )
        .col_expr(
            mailbox_push::Column::Notifications,
            Expr::col(mailbox_push::Column::Notifications).add(1),
        )
        .filter(mailbox_push::Column::Id.eq(row_id))
        .exec(db)
        .await?;
    Ok(())
}

/// Count a notification refused for `row_id` (wrong clientState, bad token).
pub async fn record_rejected(db: &impl ConnectionTrait, row_id: i64) -> Result<(), DbErr> {
    Push::update_many()
        .col_expr(
            mailbox_push::Column::Rejected,
            Expr::col(mailbox_push::Column::Rejected).add(1),
        )
        .filter(mailbox_push::Column::Id.eq(row_id))
        .exec(db)
        .await?;
    Ok(())
}

/// Leave lifecycle `event` for the mailbox's next pass to act on.
pub async fn set_pending_event(
    db: &impl ConnectionTrait,
    row_id: i64,
    event: &str,
) -> Result<(), DbErr> {
    Push::update_many()
        .col_expr(mailbox_push::Column::PendingEvent, Expr::value(event))
        .col_expr(mailbox_push::Column::UpdatedAt, Expr::value(super::now()))
        .filter(mailbox_push::Column::Id.eq(row_id))
        .exec(db)
        .await?;
    Ok(())
}

/// Whether push carries a mailbox in `state` expiring at `expires_at`: active and not past
/// its expiry. Such a mailbox polls only at the safety-net interval.
pub fn healthy(
    state: &str,
    expires_at: Option<chrono::DateTime<chrono::Utc>>,
    now: chrono::DateTime<chrono::Utc>,
) -> bool {
    state == ACTIVE && expires_at.is_some_and(|e| e > now)
}

/// The rows carrying any of the provider subscription `ids` (one query for a notification
/// batch).
pub async fn by_subscriptions(
    db: &impl ConnectionTrait,
    ids: &[String],
) -> Result<Vec<PushRow>, DbErr> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Push::find()
        .filter(mailbox_push::Column::SubscriptionId.is_in(ids.iter().cloned()))
        .all(db)
        .await
}

/// Count `accepted` notifications and `rejected` ones for `row_id` in one statement (a
/// notification batch).
pub async fn record_batch(
    db: &impl ConnectionTrait,
    row_id: i64,
    accepted: i64,
    rejected: i64,
) -> Result<(), DbErr> {
    let mut update = Push::update_many()
        .col_expr(
            mailbox_push::Column::Notifications,
            Expr::col(mailbox_push::Column::Notifications).add(accepted),
        )
        .col_expr(
            mailbox_push::Column::Rejected,
            Expr::col(mailbox_push::Column::Rejected).add(rejected),
        );
    if accepted > 0 {
        update = update.col_expr(
            mailbox_push::Column::LastNotificationAt,
            Expr::value(super::now()),
        );
    }
    update
        .filter(mailbox_push::Column::Id.eq(row_id))
        .exec(db)
        .await?;
    Ok(())
}

/// Leave lifecycle `event` for the next pass unless a stronger one waits already
/// (subscriptionRemoved over reauthorizationRequired over missed: recreating covers the rest).
pub async fn raise_event(db: &impl ConnectionTrait, row_id: i64, event: &str) -> Result<(), DbErr> {
    let stronger: &[&str] = match event {
        REMOVED => &[],
        REAUTHORIZE => &[REMOVED],
        _ => &[REMOVED, REAUTHORIZE],
    };
    let mut update = Push::update_many()
        .col_expr(mailbox_push::Column::PendingEvent, Expr::value(event))
        .col_expr(mailbox_push::Column::UpdatedAt, Expr::value(super::now()))
        .filter(mailbox_push::Column::Id.eq(row_id));
    if !stronger.is_empty() {
        update = update.filter(
            sea_orm::Condition::any()
                .add(mailbox_push::Column::PendingEvent.is_null())
                .add(mailbox_push::Column::PendingEvent.is_not_in(stronger.iter().copied())),
        );
    }
    update.exec(db).await?;
    Ok(())
}

/// What a push upkeep found: the subscription (or none), its state and why.
#[derive(Debug, Clone, Default)]
pub struct Upkeep {
    pub state: &'static str,
    pub reason: Option<String>,
    pub subscription_id: Option<String>,
    pub client_state_hash: Option<String>,
    pub expires_at: Option<chrono::DateTime<chrono::Utc>>,
    pub renewed_at: Option<chrono::DateTime<chrono::Utc>>,
    /// The lifecycle event the upkeep acted on: cleared unless another arrived meanwhile.
    pub handled: Option<String>,
}

/// Record an upkeep's outcome on `row_id` without touching the notification counters (the
/// endpoints update them concurrently); the pending event is cleared only when it is still
/// the one that was handled.
pub async fn record_upkeep(
    db: &impl ConnectionTrait,
    row_id: i64,
    upkeep: Upkeep,
) -> Result<(), DbErr> {
    Push::update_many()
        .col_expr(mailbox_push::Column::State, Expr::value(upkeep.state))
        .col_expr(mailbox_push::Column::Reason, Expr::value(upkeep.reason))
        .col_expr(
            mailbox_push::Column::SubscriptionId,
            Expr::value(upkeep.subscription_id),
        )
        .col_expr(
            mailbox_push::Column::ClientStateHash,
            Expr::value(upkeep.client_state_hash),
        )
        .col_expr(
            mailbox_push::Column::ExpiresAt,
            Expr::value(upkeep.expires_at),
        )
        .col_expr(
            mailbox_push::Column::RenewedAt,
            Expr::value(upkeep.renewed_at),
        )
        .col_expr(mailbox_push::Column::UpdatedAt, Expr::value(super::now()))
        .filter(mailbox_push::Column::Id.eq(row_id))
        .exec(db)
        .await?;
    if let Some(event) = upkeep.handled {
        Push::update_many()
            .col_expr(
                mailbox_push::Column::PendingEvent,
                Expr::value(Option::<String>::None),
            )
            .filter(mailbox_push::Column::Id.eq(row_id))
            .filter(mailbox_push::Column::PendingEvent.eq(event))
            .exec(db)
            .await?;
    }
    Ok(())
}
