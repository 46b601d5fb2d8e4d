//! Organization-wide connections (issue 20): a Microsoft 365 tenant reached with app-only tokens
//! (client secret or certificate) or a Google Workspace domain reached by domain-wide delegation
//! (a service-account key). Their tokens are cached sealed in `connection_tokens`, shared by every
//! instance. A mailbox synced through a connection names it (`mail_accounts.connection_id`) and
//! the directory user it follows (`directory_id`: the immutable Graph user id or Google user id),
//! with the directory's last word on that user (`directory_state`).
use sea_orm_migration::prelude::*;

use crate::common::{
    cascade, drop_index, id, index, reference, reference_null, text, text_default, text_null, time,
    time_null,
};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Connections {
    Table,
    Id,
    OrganizationId,
    /// microsoft365 | google_workspace
    Kind,
    /// The operator's short name for it (`threadline tenant ... NAME`), unique per organization.
    Name,
    /// Microsoft: the tenant id (GUID or verified domain). Google: the Workspace primary domain.
    Tenant,
    /// Microsoft: the application (client) id. Google: the service account's `client_email`.
    ClientId,
    /// secret | certificate | service_account_key
    CredentialKind,
    /// Sealed (crypto::seal, bound to the row): the secret, the certificate + private key PEM,
    /// or the service account JSON key.
    Credentials,
    /// Safe to show: a secret's last characters, a certificate's thumbprint and expiry, a key id.
    CredentialHint,
    /// Google: the administrator impersonated to read the directory.
    AdminAddress,
    /// unknown | granted | missing
    ConsentState,
    /// active | failing | paused
    Status,
    LastTestAt,
    /// JSON: the last Test connection's steps and verdict.
    LastTestResult,
    LastDirectorySyncAt,
    LastError,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ConnectionTokens {
    Table,
    Id,
    ConnectionId,
    /// '' for an app-only token; the impersonated address for a delegated Google token.
    Subject,
    /// The space-separated scopes the token was asked for.
    Scope,
    /// Sealed access token (crypto::seal, bound to connection id, subject and scope).
    Token,
    ExpiresAt,
    /// One instance refreshes at a time; others wait or use the old token while it lives.
    RefreshLockUntil,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum MailAccounts {
    Table,
    ConnectionId,
    DirectoryId,
    DirectoryState,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Connections::Table)
                .col(id(Connections::Id))
                .col(reference(Connections::OrganizationId))
                .col(text(Connections::Kind))
                .col(text(Connections::Name))
                .col(text(Connections::Tenant))
                .col(text(Connections::ClientId))
                .col(text(Connections::CredentialKind))
                .col(text(Connections::Credentials))
                .col(text_default(Connections::CredentialHint, ""))
                .col(text_null(Connections::AdminAddress))
                .col(text_default(Connections::ConsentState, "unknown"))
                .col(text_default(Connections::Status, "active"))
                .col(time_null(Connections::LastTestAt))
                .col(text_null(Connections::LastTestResult))
                .col(time_null(Connections::LastDirectorySyncAt))
                .col(text_null(Connections::LastError))
                .col(reference_null(Connections::CreatedBy))
                .col(time(Connections::CreatedAt))
                .col(time(Connections::UpdatedAt))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ux_connections_name",
            Connections::Table,
            &["organization_id", "name"],
            true,
        )
        .await?;
        m.create_table(
            Table::create()
                .table(ConnectionTokens::Table)
                .col(id(ConnectionTokens::Id))
                .col(reference(ConnectionTokens::ConnectionId))
                .col(text(ConnectionTokens::Subject))
                .col(text(ConnectionTokens::Scope))
                .col(text_null(ConnectionTokens::Token))
                .col(time_null(ConnectionTokens::ExpiresAt))
                .col(time_null(ConnectionTokens::RefreshLockUntil))
                .col(time(ConnectionTokens::UpdatedAt))
                .foreign_key(&mut cascade(
                    ConnectionTokens::Table,
                    ConnectionTokens::ConnectionId,
                    Connections::Table,
                    Connections::Id,
                ))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ux_connection_tokens_subject",
            ConnectionTokens::Table,
            &["connection_id", "subject", "scope"],
            true,
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(MailAccounts::Table)
                .add_column(reference_null(MailAccounts::ConnectionId))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(MailAccounts::Table)
                .add_column(text_null(MailAccounts::DirectoryId))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(MailAccounts::Table)
                .add_column(text_null(MailAccounts::DirectoryState))
                .to_owned(),
        )
        .await?;
        // A directory user has at most one mailbox per connection; renames keep the row.
        index(
            m,
            "ux_mail_accounts_directory",
            MailAccounts::Table,
            &["connection_id", "directory_id"],
            true,
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        drop_index(m, "ux_mail_accounts_directory", MailAccounts::Table).await?;
        for col in [
            MailAccounts::DirectoryState,
            MailAccounts::DirectoryId,
            MailAccounts::ConnectionId,
        ] {
            m.alter_table(
                Table::alter()
                    .table(MailAccounts::Table)
                    .drop_column(col)
                    .to_owned(),
            )
            .await?;
        }
        m.drop_table(Table::drop().table(ConnectionTokens::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(Connections::Table).to_owned())
            .await
    }
}
