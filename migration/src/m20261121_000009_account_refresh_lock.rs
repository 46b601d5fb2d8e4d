//! A short lease on a mailbox's token refresh, so one instance refreshes at a time.
use sea_orm_migration::prelude::*;

use crate::m20261121_000003_mail_accounts::MailAccounts;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Refresh {
    RefreshLockUntil,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(MailAccounts::Table)
                .add_column(
                    ColumnDef::new(Refresh::RefreshLockUntil)
                        .timestamp_with_time_zone()
                        .null(),
                )
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(MailAccounts::Table)
                .drop_column(Refresh::RefreshLockUntil)
                .to_owned(),
        )
        .await
    }
}
