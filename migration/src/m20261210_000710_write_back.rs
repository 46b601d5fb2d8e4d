//! Write-back to the provider (issue 24, item 2): an organization-wide switch and a per-mailbox
//! switch (both off: least privilege stays the default), and the durable outbox of the reader's
//! marks waiting to be written to the mailbox (one row per mailbox and message: repeated
//! toggles coalesce into the row's wanted state; `version` tells a write that finished from a
//! toggle that came in meanwhile). Rows are leased (`locked_by`, `lease_until`) so several
//! instances drain one outbox without writing a message twice at once.
use sea_orm_migration::prelude::*;

use crate::common::{add_columns, cascade, count, drop_columns, drop_index, flag, id, index};
use crate::common::{reference, text, text_null, time, time_null};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone)]
enum Organizations {
    Table,
    WriteBack,
}

#[derive(DeriveIden, Clone)]
enum MailAccounts {
    Table,
    Id,
    WriteBack,
}

#[derive(DeriveIden)]
enum WriteBackOutbox {
    Table,
    Id,
    OrganizationId,
    AccountId,
    ProviderMessageId,
    /// The wanted read state (NULL: leave it as it is).
    Read,
    /// The wanted starred / flagged state (NULL: leave it as it is).
    Starred,
    /// Bumped by every toggle: a write removes the row only if no toggle came in meanwhile.
    Version,
    Attempts,
    DueAt,
    LockedBy,
    LeaseUntil,
    LastError,
    CreatedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        add_columns(
            m,
            Organizations::Table,
            vec![flag(Organizations::WriteBack)],
        )
        .await?;
        add_columns(m, MailAccounts::Table, vec![flag(MailAccounts::WriteBack)]).await?;
        m.create_table(
            Table::create()
                .table(WriteBackOutbox::Table)
                .col(id(WriteBackOutbox::Id))
                .col(reference(WriteBackOutbox::OrganizationId))
                .col(reference(WriteBackOutbox::AccountId))
                .col(text(WriteBackOutbox::ProviderMessageId))
                .col(ColumnDef::new(WriteBackOutbox::Read).boolean().null())
                .col(ColumnDef::new(WriteBackOutbox::Starred).boolean().null())
                .col(count(WriteBackOutbox::Version))
                .col(count(WriteBackOutbox::Attempts))
                .col(time(WriteBackOutbox::DueAt))
                .col(text_null(WriteBackOutbox::LockedBy))
                .col(time_null(WriteBackOutbox::LeaseUntil))
                .col(text_null(WriteBackOutbox::LastError))
                .col(time(WriteBackOutbox::CreatedAt))
                .col(time(WriteBackOutbox::UpdatedAt))
                .foreign_key(&mut cascade(
                    WriteBackOutbox::Table,
                    WriteBackOutbox::AccountId,
                    MailAccounts::Table,
                    MailAccounts::Id,
                ))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ux_write_back_outbox_message",
            WriteBackOutbox::Table,
            &["account_id", "provider_message_id"],
            true,
        )
        .await?;
        index(
            m,
            "ix_write_back_outbox_due",
            WriteBackOutbox::Table,
            &["due_at"],
            false,
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        drop_index(m, "ix_write_back_outbox_due", WriteBackOutbox::Table).await?;
        drop_index(m, "ux_write_back_outbox_message", WriteBackOutbox::Table).await?;
        m.drop_table(Table::drop().table(WriteBackOutbox::Table).to_owned())
            .await?;
        drop_columns(m, MailAccounts::Table, [MailAccounts::WriteBack]).await?;
        drop_columns(m, Organizations::Table, [Organizations::WriteBack]).await
    }
}
