//! Live pages: one change marker per organization (`org_changes`), bumped in the transaction
//! that stores or changes the organization's mail, so every instance sharing the database can
//! tell its open pages. A changed message also gets a fresh `emails.updated_at`, which is how a
//! page finds the threads that changed since it last looked (`db::timeline::changed`).
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbErr, Value};

use super::batch::statement;

const UPSERT: &str = " ON CONFLICT (organization_id) DO UPDATE SET seq = org_changes.seq + 1, \
                      changed_at = excluded.changed_at";

/// Bump the organization's marker (one statement). The row lock orders concurrent writers,
/// so markers rise in commit order.
pub async fn bump(db: &impl ConnectionTrait, organization_id: i64) -> Result<(), DbErr> {
    let sql = format!(
        "INSERT INTO org_changes (organization_id, seq, changed_at) VALUES (?, 1, ?){UPSERT}"
    );
    let values = vec![organization_id.into(), super::now().into()];
    db.execute(statement(db.get_database_backend(), &sql, values))
        .await?;
    Ok(())
}

/// Bump the marker of the organization that holds the email `email_id` (one statement).
pub async fn bump_for_email(db: &impl ConnectionTrait, email_id: i64) -> Result<(), DbErr> {
    let sql = format!(
        "INSERT INTO org_changes (organization_id, seq, changed_at) \
         SELECT organization_id, 1, ? FROM emails WHERE id = ?{UPSERT}"
    );
    let values = vec![super::now().into(), email_id.into()];
    db.execute(statement(db.get_database_backend(), &sql, values))
        .await?;
    Ok(())
}

/// A reader changed something about a message (marks, deleted, links): stamp every copy of it
/// as changed and bump the organization's marker.
pub async fn touch_message(
    db: &impl ConnectionTrait,
    organization_id: i64,
    message_key: &str,
) -> Result<(), DbErr> {
    let values: Vec<Value> = vec![
        super::now().into(),
        organization_id.into(),
        message_key.into(),
    ];
    db.execute(statement(
        db.get_database_backend(),
        "UPDATE emails SET updated_at = ? WHERE organization_id = ? AND message_key = ?",
        values,
    ))
    .await?;
    bump(db, organization_id).await
}

/// An organization's marker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Marker {
    pub organization_id: i64,
    pub seq: i64,
    pub changed_at: DateTime<Utc>,
}

/// The markers changed after `after` (all of them without it), by the `changed_at` index.
pub async fn markers(
    db: &impl ConnectionTrait,
    after: Option<DateTime<Utc>>,
) -> Result<Vec<Marker>, DbErr> {
    let backend = db.get_database_backend();
    let select = "SELECT organization_id, seq, changed_at FROM org_changes";
    let stmt = match after {
        Some(at) => statement(
            backend,
            &format!("{select} WHERE changed_at > ?"),
            vec![at.into()],
        ),
        None => statement(backend, select, Vec::new()),
    };
    let mut out = Vec::new();
    for row in db.query_all(stmt).await? {
        out.push(Marker {
            organization_id: row.try_get_by_index(0)?,
            seq: row.try_get_by_index(1)?,
            changed_at: row.try_get_by_index(2)?,
        });
    }
    Ok(out)
}

/// [`touch_message`] for one stored email (its thread is what a page re-reads).
pub async fn touch_email(
    db: &impl ConnectionTrait,
    organization_id: i64,
    email_id: i64,
) -> Result<(), DbErr> {
    let values: Vec<Value> = vec![super::now().into(), email_id.into(), organization_id.into()];
    db.execute(statement(
        db.get_database_backend(),
        "UPDATE emails SET updated_at = ? WHERE id = ? AND organization_id = ?",
        values,
    ))
    .await?;
    bump(db, organization_id).await
}

/// [`touch_message`] for every message of a thread (marked private or shared again).
pub async fn touch_thread(
    db: &impl ConnectionTrait,
    organization_id: i64,
    thread_key: &str,
) -> Result<(), DbErr> {
    let values: Vec<Value> = vec![
        super::now().into(),
        organization_id.into(),
        thread_key.into(),
    ];
    db.execute(statement(
        db.get_database_backend(),
        "UPDATE emails SET updated_at = ? WHERE organization_id = ? AND thread_key = ?",
        values,
    ))
    .await?;
    bump(db, organization_id).await
}
