//! Login throttling in the database, so every instance sees the same counts: a key (an account
//! or a client address) that fails too often within a window is locked for a while.
use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ConnectionTrait, DbErr, EntityTrait, Set};

use super::entities::login_throttles::{self, Entity as Throttles};

#[derive(Debug, Clone, Copy)]
pub struct Limit {
    pub failures: i64,
    pub window: Duration,
    pub lockout: Duration,
}

/// Is `key` locked out at `now`?
pub async fn is_locked(
    db: &impl ConnectionTrait,
    key: &str,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let row = Throttles::find_by_id(key.to_string()).one(db).await?;
    Ok(row
        .and_then(|r| r.locked_until)
        .is_some_and(|until| until > now))
}

/// Count a failure for `key`; lock it once the limit is reached within the window.
pub async fn record_failure(
    db: &impl ConnectionTrait,
    key: &str,
    limit: Limit,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let row = Throttles::find_by_id(key.to_string()).one(db).await?;
    let (failures, started) = match row {
        Some(r) if now - r.window_started_at < limit.window => {
            (r.failures + 1, r.window_started_at)
        }
        _ => (1, now),
    };
    let locked_until = (failures >= limit.failures).then(|| now + limit.lockout);
    let model = login_throttles::ActiveModel {
        key: Set(key.to_string()),
        failures: Set(failures),
        window_started_at: Set(started),
        locked_until: Set(locked_until),
    };
    Throttles::insert(model)
        .on_conflict(
            OnConflict::column(login_throttles::Column::Key)
                .update_columns([
                    login_throttles::Column::Failures,
                    login_throttles::Column::WindowStartedAt,
                    login_throttles::Column::LockedUntil,
                ])
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// Forget the failures of `key` (after a successful sign-in).
pub async fn clear(db: &impl ConnectionTrait, key: &str) -> Result<(), DbErr> {
    Throttles::delete_by_id(key.to_string()).exec(db).await?;
    Ok(())
}
