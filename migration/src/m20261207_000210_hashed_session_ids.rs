//! Sessions are stored under the SHA-256 of their id from now on (`db::session_store`), so the
//! rows stored under the raw id can never be found again: they are removed, and everyone signs
//! in once more after the upgrade. Going back removes the hashed rows for the same reason.
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

async fn end_every_session(m: &SchemaManager<'_>) -> Result<(), DbErr> {
    m.get_connection()
        .execute_unprepared("DELETE FROM sessions")
        .await?;
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        end_every_session(m).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        end_every_session(m).await
    }
}
