//! `link_tombstones`: links people undid, per message (`message_key`) rather than per stored
//! row, so an unlink outlives the rows it was made on (a mailbox purged and linked again, a
//! colleague's copy synced later). The row-level `email_links.tombstone` flag stays what
//! re-association reads; ingest turns these into flagged rows for new copies.
use sea_orm_migration::prelude::*;

use crate::common::{cascade, id, index, reference, reference_null, text, time};
use crate::m20261121_000005_directory::{Businesses, Contacts};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum LinkTombstones {
    Table,
    Id,
    OrganizationId,
    MessageKey,
    /// Exactly one of business_id / contact_id is set.
    BusinessId,
    ContactId,
    CreatedBy,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(LinkTombstones::Table)
                .col(id(LinkTombstones::Id))
                .col(reference(LinkTombstones::OrganizationId))
                .col(text(LinkTombstones::MessageKey))
                .col(reference_null(LinkTombstones::BusinessId))
                .col(reference_null(LinkTombstones::ContactId))
                .col(reference_null(LinkTombstones::CreatedBy))
                .col(time(LinkTombstones::CreatedAt))
                .foreign_key(&mut cascade(
                    LinkTombstones::Table,
                    LinkTombstones::BusinessId,
                    Businesses::Table,
                    Businesses::Id,
                ))
                .foreign_key(&mut cascade(
                    LinkTombstones::Table,
                    LinkTombstones::ContactId,
                    Contacts::Table,
                    Contacts::Id,
                ))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ix_link_tombstones_message",
            LinkTombstones::Table,
            &["organization_id", "message_key"],
            false,
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(LinkTombstones::Table).to_owned())
            .await
    }
}
