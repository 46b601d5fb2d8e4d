//! Visibility levels (issue 21): what colleagues see of a mailbox's linked mail. Each mailbox
//! has a level (`full`, `subject`, `metadata`, `private`; existing ones `full`, as before), the
//! organization a default for new mailboxes and a maximum, and a user can mark one of their
//! threads private (`private_threads`, by thread key). The index on `(organization_id,
//! visibility)` answers "is any mailbox below full?", which every timeline page asks.
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        let id = match db.get_database_backend() {
            DbBackend::Postgres => "BIGSERIAL PRIMARY KEY",
            _ => "INTEGER PRIMARY KEY AUTOINCREMENT",
        };
        for sql in [
            "ALTER TABLE mail_accounts ADD COLUMN visibility TEXT NOT NULL DEFAULT 'full'",
            "ALTER TABLE organizations ADD COLUMN visibility_default TEXT NOT NULL DEFAULT 'full'",
            "ALTER TABLE organizations ADD COLUMN visibility_max TEXT NOT NULL DEFAULT 'full'",
            "CREATE INDEX ix_mail_accounts_visibility ON mail_accounts (organization_id, visibility)",
        ] {
            db.execute_unprepared(sql).await?;
        }
        db.execute_unprepared(&format!(
            "CREATE TABLE private_threads (id {id}, \
             organization_id BIGINT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE, \
             user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE, \
             thread_key TEXT NOT NULL)"
        ))
        .await?;
        db.execute_unprepared(
            "CREATE UNIQUE INDEX ux_private_threads ON private_threads (user_id, thread_key)",
        )
        .await?;
        db.execute_unprepared(
            "CREATE INDEX ix_private_threads_org ON private_threads (organization_id)",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        for sql in [
            "DROP TABLE IF EXISTS private_threads",
            "DROP INDEX IF EXISTS ix_mail_accounts_visibility",
            "ALTER TABLE organizations DROP COLUMN visibility_max",
            "ALTER TABLE organizations DROP COLUMN visibility_default",
            "ALTER TABLE mail_accounts DROP COLUMN visibility",
        ] {
            db.execute_unprepared(sql).await?;
        }
        Ok(())
    }
}
