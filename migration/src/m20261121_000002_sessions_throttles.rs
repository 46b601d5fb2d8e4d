//! Pre-authentication state shared by every instance: sessions and login throttles.
use sea_orm_migration::prelude::*;

use crate::common::{count, index, reference_null, text, time, time_null};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Sessions {
    Table,
    /// The session id (tower-sessions `Id`, 128 random bits).
    Id,
    /// JSON of the session record.
    Data,
    ExpiresAt,
    /// The signed-in user, so "sign out everywhere" can end all of a user's sessions.
    UserId,
}

#[derive(DeriveIden)]
enum LoginThrottles {
    Table,
    /// `account:<address>` or `client:<ip>`.
    Key,
    Failures,
    WindowStartedAt,
    LockedUntil,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Sessions::Table)
                .col(ColumnDef::new(Sessions::Id).text().not_null().primary_key())
                .col(text(Sessions::Data))
                .col(time(Sessions::ExpiresAt))
                .col(reference_null(Sessions::UserId))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ix_sessions_expires",
            Sessions::Table,
            &["expires_at"],
            false,
        )
        .await?;
        index(m, "ix_sessions_user", Sessions::Table, &["user_id"], false).await?;
        m.create_table(
            Table::create()
                .table(LoginThrottles::Table)
                .col(
                    ColumnDef::new(LoginThrottles::Key)
                        .text()
                        .not_null()
                        .primary_key(),
                )
                .col(count(LoginThrottles::Failures))
                .col(time(LoginThrottles::WindowStartedAt))
                .col(time_null(LoginThrottles::LockedUntil))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(LoginThrottles::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(Sessions::Table).to_owned())
            .await
    }
}
