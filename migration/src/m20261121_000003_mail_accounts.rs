//! Linked mailboxes and their sync cursors (one per folder / label, or mailbox-wide).
use sea_orm_migration::prelude::*;

use crate::common::{
    cascade, count, id, index, reference, reference_null, set_null, text, text_default, text_null,
    time, time_null,
};
use crate::m20261121_000001_organizations_users::{Organizations, Users};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
pub enum MailAccounts {
    Table,
    Id,
    OrganizationId,
    /// The user who linked it; null for tenant-wide shared mailboxes.
    OwnerUserId,
    /// google | microsoft
    Provider,
    /// delegated | app_only
    AuthKind,
    Address,
    DisplayName,
    /// active | needs_reconnect | paused | disconnected
    Status,
    /// Encrypted credential envelope (`v1:<key id>:...`); never plaintext.
    Credentials,
    GrantedScopes,
    TokenExpiresAt,
    /// JSON: since-date, labels / folders.
    SyncSettings,
    SyncIntervalSecs,
    NextSyncAt,
    LastSyncAt,
    LastSuccessAt,
    LastError,
    /// Estimated messages in scope, and how many are stored, for progress display.
    ProgressTotal,
    ProgressDone,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum SyncCursors {
    Table,
    Id,
    OrganizationId,
    AccountId,
    /// Folder / label id, or "" for a mailbox-wide cursor (Gmail history).
    Scope,
    /// History id or deltaLink, once the scope is fully listed.
    Cursor,
    /// Page token / nextLink of an unfinished listing, to resume after a crash.
    PageToken,
    /// initial | incremental
    Phase,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(MailAccounts::Table)
                .col(id(MailAccounts::Id))
                .col(reference(MailAccounts::OrganizationId))
                .col(reference_null(MailAccounts::OwnerUserId))
                .col(text(MailAccounts::Provider))
                .col(text_default(MailAccounts::AuthKind, "delegated"))
                .col(text(MailAccounts::Address))
                .col(text_default(MailAccounts::DisplayName, ""))
                .col(text_default(MailAccounts::Status, "active"))
                .col(text_null(MailAccounts::Credentials))
                .col(text_default(MailAccounts::GrantedScopes, ""))
                .col(time_null(MailAccounts::TokenExpiresAt))
                .col(text_default(MailAccounts::SyncSettings, "{}"))
                .col(
                    ColumnDef::new(MailAccounts::SyncIntervalSecs)
                        .integer()
                        .not_null()
                        .default(300),
                )
                .col(time_null(MailAccounts::NextSyncAt))
                .col(time_null(MailAccounts::LastSyncAt))
                .col(time_null(MailAccounts::LastSuccessAt))
                .col(text_null(MailAccounts::LastError))
                .col(count(MailAccounts::ProgressTotal))
                .col(count(MailAccounts::ProgressDone))
                .col(time(MailAccounts::CreatedAt))
                .col(time(MailAccounts::UpdatedAt))
                .foreign_key(&mut cascade(
                    MailAccounts::Table,
                    MailAccounts::OrganizationId,
                    Organizations::Table,
                    Organizations::Id,
                ))
                .foreign_key(&mut set_null(
                    MailAccounts::Table,
                    MailAccounts::OwnerUserId,
                    Users::Table,
                    Users::Id,
                ))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ux_mail_accounts_address",
            MailAccounts::Table,
            &["organization_id", "provider", "address"],
            true,
        )
        .await?;
        index(
            m,
            "ix_mail_accounts_owner",
            MailAccounts::Table,
            &["owner_user_id"],
            false,
        )
        .await?;
        index(
            m,
            "ix_mail_accounts_due",
            MailAccounts::Table,
            &["status", "next_sync_at"],
            false,
        )
        .await?;
        m.create_table(
            Table::create()
                .table(SyncCursors::Table)
                .col(id(SyncCursors::Id))
                .col(reference(SyncCursors::OrganizationId))
                .col(reference(SyncCursors::AccountId))
                .col(text_default(SyncCursors::Scope, ""))
                .col(text_null(SyncCursors::Cursor))
                .col(text_null(SyncCursors::PageToken))
                .col(text_default(SyncCursors::Phase, "initial"))
                .col(time(SyncCursors::UpdatedAt))
                .foreign_key(&mut cascade(
                    SyncCursors::Table,
                    SyncCursors::AccountId,
                    MailAccounts::Table,
                    MailAccounts::Id,
                ))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ux_sync_cursors_scope",
            SyncCursors::Table,
            &["account_id", "scope"],
            true,
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(SyncCursors::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(MailAccounts::Table).to_owned())
            .await
    }
}
