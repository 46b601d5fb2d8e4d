//! `email_participants.registrable`: the registrable domain (Public Suffix List) of the
//! participant's host, so re-association finds the mail a business domain covers through an
//! index. Filled at ingest; rows stored before this migration are backfilled by the
//! application at start-up (this crate has no Public Suffix List), NULL meaning "not yet",
//! '' meaning "no registrable domain".
use sea_orm_migration::prelude::*;

use crate::common::index;
use crate::m20261121_000004_emails::EmailParticipants;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Participants {
    Registrable,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(EmailParticipants::Table)
                .add_column(ColumnDef::new(Participants::Registrable).text().null())
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ix_participants_registrable",
            EmailParticipants::Table,
            &["organization_id", "registrable", "email_id"],
            false,
        )
        .await?;
        // Address look-ups return email ids straight from the index.
        index(
            m,
            "ix_participants_address_email",
            EmailParticipants::Table,
            &["organization_id", "address", "email_id"],
            false,
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for name in [
            "ix_participants_address_email",
            "ix_participants_registrable",
        ] {
            m.drop_index(
                Index::drop()
                    .name(name)
                    .table(EmailParticipants::Table)
                    .to_owned(),
            )
            .await?;
        }
        m.alter_table(
            Table::alter()
                .table(EmailParticipants::Table)
                .drop_column(Participants::Registrable)
                .to_owned(),
        )
        .await
    }
}
