//! Waking a mailbox's next pass when its provider says something changed (issue 22): the
//! database is the truth ([`jobs::wake`]: due now, and due again after a pass that is running),
//! so any instance may receive the notification and exactly one worker runs the pass. Idle
//! workers are told at once: in this process through [`Notify`], in other instances on one
//! PostgreSQL through `NOTIFY threadline_wake` ([`listen`]); without either they would still
//! find the job at their next idle check.
use std::time::Duration;

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::db::jobs;

/// The PostgreSQL channel wakes are announced on.
pub const CHANNEL: &str = "threadline_wake";

static LOCAL: Notify = Notify::const_new();

/// Ask for a pass of mailbox `account_id` now. False when the mailbox has no sync job.
pub async fn wake(db: &impl ConnectionTrait, account_id: i64) -> Result<bool, DbErr> {
    let woke = jobs::wake(db, jobs::SYNC_ACCOUNT, account_id).await?;
    if woke {
        announce(db).await;
    }
    Ok(woke)
}

/// Tell idle workers, here and (PostgreSQL) in every instance, that work is due.
pub async fn announce(db: &impl ConnectionTrait) {
    LOCAL.notify_waiters();
    if db.get_database_backend() == DbBackend::Postgres {
        if let Err(e) = db.execute_unprepared(&format!("NOTIFY {CHANNEL}")).await {
            tracing::warn!(error = %e, "could not announce a wake to other instances");
        }
    }
}

/// A future that completes at the next announcement; create it (and `enable` it) before
/// looking for work, so an announcement between the look and the wait is not missed.
pub fn announced() -> tokio::sync::futures::Notified<'static> {
    LOCAL.notified()
}

/// Relay other instances' announcements to this process's idle workers until `cancel`
/// (PostgreSQL only; reconnects with backoff when the connection drops).
pub fn listen(
    db: &DatabaseConnection,
    cancel: CancellationToken,
) -> Option<tokio::task::JoinHandle<()>> {
    if db.get_database_backend() != DbBackend::Postgres {
        return None;
    }
    let pool = db.get_postgres_connection_pool().clone();
    Some(tokio::spawn(async move {
        let mut backoff = Duration::from_secs(1);
        loop {
            let relay = async {
                let mut listener = sea_orm::sqlx::postgres::PgListener::connect_with(&pool).await?;
                listener.listen(CHANNEL).await?;
                loop {
                    listener.recv().await?;
                    LOCAL.notify_waiters();
                }
                #[allow(unreachable_code)]
                Ok::<(), sea_orm::sqlx::Error>(())
            };
            tokio::select! {
                () = cancel.cancelled() => return,
                result = relay => {
                    if let Err(e) = result {
                        tracing::warn!(error = %e, "wake listener lost its connection; reconnecting");
                    }
                }
            }
            tokio::select! {
                () = cancel.cancelled() => return,
                () = tokio::time::sleep(backoff) => {}
            }
            backoff = (backoff * 2).min(Duration::from_secs(60));
        }
    }))
}
