//! Where a mailbox's sync stands: one row of `sync_cursors` per scope (the provider's change
//! cursor, where a listing stopped, initial or incremental phase, when the last full listing
//! began).
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect, Set};

use super::emails::Owner;
use super::entities::sync_cursors;
use crate::domain::sync_run::CursorPhase;

pub const PHASE_INITIAL: CursorPhase = CursorPhase::Initial;
pub const PHASE_INCREMENTAL: CursorPhase = CursorPhase::Incremental;

/// One scope's position: `cursor` is the provider's change cursor (Gmail historyId),
/// `page_token` where a listing stopped, `phase` initial or incremental.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub cursor: Option<String>,
    pub page_token: Option<String>,
    pub phase: CursorPhase,
}

pub async fn cursor(
    db: &impl ConnectionTrait,
    account_id: i64,
    scope: &str,
) -> Result<Option<Cursor>, DbErr> {
    Ok(sync_cursors::Entity::find()
        .filter(sync_cursors::Column::AccountId.eq(account_id))
        .filter(sync_cursors::Column::Scope.eq(scope))
        .one(db)
        .await?
        .map(|m| Cursor {
            cursor: m.cursor,
            page_token: m.page_token,
            phase: m.phase,
        }))
}

/// Write a scope's position (insert or replace); callers pass the transaction that stored the
/// messages it covers.
pub async fn save_cursor(
    db: &impl ConnectionTrait,
    owner: Owner,
    scope: &str,
    cursor: &Cursor,
) -> Result<(), DbErr> {
    let row = sync_cursors::ActiveModel {
        organization_id: Set(owner.organization_id),
        account_id: Set(owner.account_id),
        scope: Set(scope.to_string()),
        cursor: Set(cursor.cursor.clone()),
        page_token: Set(cursor.page_token.clone()),
        phase: Set(cursor.phase),
        updated_at: Set(super::now()),
        ..Default::default()
    };
    sync_cursors::Entity::insert(row)
        .on_conflict(
            OnConflict::columns([sync_cursors::Column::AccountId, sync_cursors::Column::Scope])
                .update_columns([
                    sync_cursors::Column::Cursor,
                    sync_cursors::Column::PageToken,
                    sync_cursors::Column::Phase,
                    sync_cursors::Column::UpdatedAt,
                ])
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// Note that a full listing of `scope` begins at `at` (kept until the next listing begins, so
/// a listing resumed after a crash still knows its start). Messages the listing names are
/// stamped with [`super::emails::mark_listed`]; when it ends, stored ones not stamped since
/// `at` ([`super::emails::unlisted`]) were deleted or moved away meanwhile.
pub async fn begin_listing(
    db: &impl ConnectionTrait,
    account_id: i64,
    scope: &str,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    sync_cursors::Entity::update_many()
        .col_expr(sync_cursors::Column::ListingStartedAt, Expr::value(at))
        .filter(sync_cursors::Column::AccountId.eq(account_id))
        .filter(sync_cursors::Column::Scope.eq(scope))
        .exec(db)
        .await?;
    Ok(())
}

/// When the current (or last) full listing of `scope` began.
pub async fn listing_started(
    db: &impl ConnectionTrait,
    account_id: i64,
    scope: &str,
) -> Result<Option<DateTime<Utc>>, DbErr> {
    Ok(sync_cursors::Entity::find()
        .filter(sync_cursors::Column::AccountId.eq(account_id))
        .filter(sync_cursors::Column::Scope.eq(scope))
        .one(db)
        .await?
        .and_then(|m| m.listing_started_at))
}

/// What the next pass will be, from the stored cursors: a first listing (or the rest of one)
/// when any scope has no incremental cursor yet or none is stored, else incremental. The pass
/// may still turn into a resync when the provider expired a cursor.
pub async fn planned_kind(
    db: &impl ConnectionTrait,
    account_id: i64,
) -> Result<crate::domain::sync_run::RunKind, DbErr> {
    use crate::domain::sync_run::RunKind;
    let stored = sync_cursors::Entity::find()
        .filter(sync_cursors::Column::AccountId.eq(account_id))
        .all(db)
        .await?;
    let following = !stored.is_empty()
        && stored
            .iter()
            .all(|c| c.phase == PHASE_INCREMENTAL && c.cursor.is_some());
    Ok(if following {
        RunKind::Incremental
    } else {
        RunKind::Initial
    })
}

/// The scopes of a mailbox starting with `prefix` (e.g. every Outlook folder ever synced).
pub async fn scopes(
    db: &impl ConnectionTrait,
    account_id: i64,
    prefix: &str,
) -> Result<Vec<String>, DbErr> {
    sync_cursors::Entity::find()
        .select_only()
        .column(sync_cursors::Column::Scope)
        .filter(sync_cursors::Column::AccountId.eq(account_id))
        .filter(sync_cursors::Column::Scope.starts_with(prefix))
        .into_tuple()
        .all(db)
        .await
}

/// The positions of every scope of a mailbox starting with `prefix`, in one query.
pub async fn cursors(
    db: &impl ConnectionTrait,
    account_id: i64,
    prefix: &str,
) -> Result<Vec<(String, Cursor)>, DbErr> {
    Ok(sync_cursors::Entity::find()
        .filter(sync_cursors::Column::AccountId.eq(account_id))
        .filter(sync_cursors::Column::Scope.starts_with(prefix))
        .all(db)
        .await?
        .into_iter()
        .map(|m| {
            let cursor = Cursor {
                cursor: m.cursor,
                page_token: m.page_token,
                phase: m.phase,
            };
            (m.scope, cursor)
        })
        .collect())
}

/// Forget a scope's position (its folder is gone).
pub async fn drop_cursor(
    db: &impl ConnectionTrait,
    account_id: i64,
    scope: &str,
) -> Result<(), DbErr> {
    sync_cursors::Entity::delete_many()
        .filter(sync_cursors::Column::AccountId.eq(account_id))
        .filter(sync_cursors::Column::Scope.eq(scope))
        .exec(db)
        .await?;
    Ok(())
}

/// Drop every cursor of a mailbox: its next pass is a full listing.
pub async fn forget_all(db: &impl ConnectionTrait, account_id: i64) -> Result<(), DbErr> {
    sync_cursors::Entity::delete_many()
        .filter(sync_cursors::Column::AccountId.eq(account_id))
        .exec(db)
        .await?;
    Ok(())
}

/// Every scope's row of a mailbox (reconciliation reads phases and when each last moved).
pub async fn rows(
    db: &impl ConnectionTrait,
    account_id: i64,
) -> Result<Vec<sync_cursors::Model>, DbErr> {
    sync_cursors::Entity::find()
        .filter(sync_cursors::Column::AccountId.eq(account_id))
        .all(db)
        .await
}
