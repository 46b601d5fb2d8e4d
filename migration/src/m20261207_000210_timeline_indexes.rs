//! On PostgreSQL, the unique index of the readers' marks, `(user_id, message_key)`, also
//! carries the marks themselves: `INCLUDE (read_at, starred_at)`. Every message a timeline page
//! shows, and every link an unread-only or starred-only page walks, looks up the reader's mark;
//! the look-up then ends in the index (once vacuum has marked the table's pages all-visible)
//! instead of reading a table row from a page of its own, which for a business whose mail is
//! spread over years is rarely in the buffer cache. Uniqueness stays on the two key columns,
//! so `ON CONFLICT (user_id, message_key)` still finds it.
//!
//! SQLite has no `INCLUDE`; its in-process look-up of the row is cheap, and its index stays.
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

const NAME: &str = "ux_user_email_states";

async fn rebuild(m: &SchemaManager<'_>, include: bool) -> Result<(), DbErr> {
    let db = m.get_connection();
    if db.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    let extra = if include {
        " INCLUDE (read_at, starred_at)"
    } else {
        ""
    };
    // Build the new one beside the old, then swap names: the constraint holds throughout.
    db.execute_unprepared(&format!(
        "CREATE UNIQUE INDEX {NAME}_next ON user_email_states (user_id, message_key){extra}"
    ))
    .await?;
    db.execute_unprepared(&format!("DROP INDEX {NAME}")).await?;
    db.execute_unprepared(&format!("ALTER INDEX {NAME}_next RENAME TO {NAME}"))
        .await?;
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        rebuild(m, true).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        rebuild(m, false).await
    }
}
