//! Provider state in the owner's view (issue 24): when a reader's read and starred marks last
//! changed, including un-marking, so that a change the provider reports later (observed by sync)
//! replaces the owner's mark and an older one does not ("last change wins, by time"). Marks set
//! before this migration count as changed when they were set.
use sea_orm_migration::prelude::*;

use crate::common::{add_columns, drop_columns, time_null};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone)]
enum UserEmailStates {
    Table,
    /// When the read mark last changed (set or cleared), by the reader in Threadline or by the
    /// provider for the mailbox's owner; NULL when it never did.
    ReadChangedAt,
    /// Likewise for the star.
    StarredChangedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        add_columns(
            m,
            UserEmailStates::Table,
            vec![
                time_null(UserEmailStates::ReadChangedAt),
                time_null(UserEmailStates::StarredChangedAt),
            ],
        )
        .await?;
        m.get_connection()
            .execute_unprepared(
                "UPDATE user_email_states SET read_changed_at = read_at, \
                 starred_changed_at = starred_at",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        drop_columns(
            m,
            UserEmailStates::Table,
            [
                UserEmailStates::StarredChangedAt,
                UserEmailStates::ReadChangedAt,
            ],
        )
        .await
    }
}
