//! Deletion detection for full listings: each listed message is stamped (`emails.listed_at`),
//! and a cursor remembers when its listing began (`sync_cursors.listing_started_at`), so once
//! the listing ends, stored messages it did not list are known to be gone or moved away.
use sea_orm_migration::prelude::*;

use crate::m20261121_000004_emails::Emails;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Listing {
    ListedAt,
}

#[derive(DeriveIden)]
enum SyncCursors {
    Table,
    ListingStartedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One column per ALTER: SQLite adds a single column per statement.
        m.alter_table(
            Table::alter()
                .table(Emails::Table)
                .add_column(
                    ColumnDef::new(Listing::ListedAt)
                        .timestamp_with_time_zone()
                        .null(),
                )
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(SyncCursors::Table)
                .add_column(
                    ColumnDef::new(SyncCursors::ListingStartedAt)
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
                .table(SyncCursors::Table)
                .drop_column(SyncCursors::ListingStartedAt)
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Emails::Table)
                .drop_column(Listing::ListedAt)
                .to_owned(),
        )
        .await
    }
}
