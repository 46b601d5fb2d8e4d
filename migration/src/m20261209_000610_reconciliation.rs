//! Reconciliation and retention (issue 23): one row per mailbox and synced folder (label) with
//! the provider's own count beside what Threadline stores and has ledgered, and on the ledger
//! the folders a kept-out message was in and when the provider deleted it (so reconciliation
//! counts it in the right place, and retention knows which entries are no longer current).
use sea_orm_migration::prelude::*;

use crate::common::{add_columns, cascade, count, drop_columns, drop_index, id, index};
use crate::common::{reference, text, text_null, time, time_null};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum MailAccounts {
    Table,
    Id,
}

#[derive(DeriveIden, Clone)]
enum SyncLedger {
    Table,
    /// JSON array of the folder labels the message was in when it was ledgered (as
    /// `emails.folders`); NULL when unknown.
    Folders,
    /// When the provider reported the message deleted.
    GoneAt,
}

#[derive(DeriveIden)]
enum FolderCounts {
    Table,
    Id,
    OrganizationId,
    AccountId,
    /// The label messages of the folder are filed under in `emails.folders`.
    Folder,
    /// What the provider calls it.
    Name,
    ProviderCount,
    Stored,
    Ledgered,
    /// Finished passes in a row whose check found a difference (0: they agreed).
    DifferingPasses,
    CheckedAt,
    /// When the folder's sync cursor last moved (its last successful sync).
    SyncedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(FolderCounts::Table)
                .col(id(FolderCounts::Id))
                .col(reference(FolderCounts::OrganizationId))
                .col(reference(FolderCounts::AccountId))
                .col(text(FolderCounts::Folder))
                .col(text(FolderCounts::Name))
                .col(count(FolderCounts::ProviderCount))
                .col(count(FolderCounts::Stored))
                .col(count(FolderCounts::Ledgered))
                .col(count(FolderCounts::DifferingPasses))
                .col(time(FolderCounts::CheckedAt))
                .col(time_null(FolderCounts::SyncedAt))
                .foreign_key(&mut cascade(
                    FolderCounts::Table,
                    FolderCounts::AccountId,
                    MailAccounts::Table,
                    MailAccounts::Id,
                ))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ux_folder_counts_folder",
            FolderCounts::Table,
            &["account_id", "folder"],
            true,
        )
        .await?;
        add_columns(
            m,
            SyncLedger::Table,
            vec![
                text_null(SyncLedger::Folders),
                time_null(SyncLedger::GoneAt),
            ],
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        drop_columns(
            m,
            SyncLedger::Table,
            [SyncLedger::GoneAt, SyncLedger::Folders],
        )
        .await?;
        drop_index(m, "ux_folder_counts_folder", FolderCounts::Table).await?;
        m.drop_table(Table::drop().table(FolderCounts::Table).to_owned())
            .await
    }
}
