//! Threads a user marked private: colleagues see the user's copies in such a thread as
//! `private` (not at all), whatever the mailbox's level. Keyed by the thread key; undone by
//! removing the mark. Audited.
use sea_orm::{ConnectionTrait, DbErr};

use super::audit::{self, Entry};
use super::batch::statement;

pub async fn is_private(
    db: &impl ConnectionTrait,
    user_id: i64,
    thread_key: &str,
) -> Result<bool, DbErr> {
    Ok(db
        .query_one(statement(
            db.get_database_backend(),
            "SELECT 1 FROM private_threads WHERE user_id = ? AND thread_key = ?",
            vec![user_id.into(), thread_key.into()],
        ))
        .await?
        .is_some())
}

/// Mark (or, with `private` false, unmark) the thread `thread_key` of `user_id` private.
/// Returns whether anything changed.
pub async fn set(
    db: &impl ConnectionTrait,
    org_id: i64,
    user_id: i64,
    thread_key: &str,
    private: bool,
) -> Result<bool, DbErr> {
    let backend = db.get_database_backend();
    let changed = if private {
        db.execute(statement(
            backend,
            "INSERT INTO private_threads (organization_id, user_id, thread_key) \
             SELECT ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM private_threads \
             WHERE user_id = ? AND thread_key = ?)",
            vec![
                org_id.into(),
                user_id.into(),
                thread_key.into(),
                user_id.into(),
                thread_key.into(),
            ],
        ))
        .await?
        .rows_affected()
    } else {
        db.execute(statement(
            backend,
            "DELETE FROM private_threads WHERE organization_id = ? AND user_id = ? \
             AND thread_key = ?",
            vec![org_id.into(), user_id.into(), thread_key.into()],
        ))
        .await?
        .rows_affected()
    } > 0;
    if changed {
        audit::record(
            db,
            Entry {
                organization_id: org_id,
                actor_user_id: Some(user_id),
                action: if private {
                    "thread.private"
                } else {
                    "thread.shared"
                },
                subject_kind: "thread",
                subject_id: None,
                detail: thread_key.to_string(),
            },
        )
        .await?;
        super::live::touch_thread(db, org_id, thread_key).await?;
    }
    Ok(changed)
}
