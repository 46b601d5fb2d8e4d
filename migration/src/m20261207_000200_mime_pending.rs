//! `mime_pending`: Outlook messages stored from their Graph fields (headers, recipients,
//! preview) before their MIME text arrived, so a fresh mailbox shows its newest mail at once.
//! A row here is the crash-safe marker: written in the transaction that stores the email,
//! deleted in the one that fills in its bodies and attachments; whatever is left after a
//! restart is fetched by the next pass. Deleted with its email.
use sea_orm_migration::prelude::*;

use crate::common::{cascade, reference, time};
use crate::m20261121_000004_emails::Emails;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum MimePending {
    Table,
    EmailId,
    AccountId,
    ReceivedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(MimePending::Table)
                .col(reference(MimePending::EmailId).primary_key())
                .col(reference(MimePending::AccountId))
                .col(time(MimePending::ReceivedAt))
                .foreign_key(&mut cascade(
                    MimePending::Table,
                    MimePending::EmailId,
                    Emails::Table,
                    Emails::Id,
                ))
                .to_owned(),
        )
        .await?;
        // The next pass fills a mailbox's pending messages newest first.
        m.create_index(
            Index::create()
                .name("ix_mime_pending_account_received")
                .table(MimePending::Table)
                .col(MimePending::AccountId)
                .col(MimePending::ReceivedAt)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(MimePending::Table).to_owned())
            .await
    }
}
