//! Attachment content at rest (issue 24, item 4): the organization's size limit and storage
//! mode, a mailbox's own limit, a content-addressed table of stored attachment content (one
//! row per SHA-256 of the decoded bytes, the bytes in the row or in a file under the data
//! directory) and the join from each attachment to the content it has. Deleting an email
//! deletes its attachments and so their joins (cascade); a blob no join names is removed by
//! the sweep, and the join's foreign key refuses to delete one still named.
use sea_orm_migration::prelude::*;

use crate::common::{add_columns, drop_columns, drop_index, index, text, time};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone)]
enum Organizations {
    Table,
    /// `off`, `database` or `directory`.
    AttachmentStorage,
    /// Messages larger than this keep their text but not their attachments' content.
    AttachmentLimitBytes,
}

#[derive(DeriveIden, Clone)]
enum MailAccounts {
    Table,
    /// The mailbox's own limit; NULL: the organization's.
    AttachmentLimitBytes,
}

#[derive(DeriveIden)]
enum Attachments {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum AttachmentBlobs {
    Table,
    /// Lowercase hex SHA-256 of the decoded content.
    Sha256,
    SizeBytes,
    /// `database` (in `content`) or `directory` (a file named by the hash).
    Location,
    Content,
    CreatedAt,
}

#[derive(DeriveIden)]
enum AttachmentContents {
    Table,
    AttachmentId,
    Sha256,
}

/// 25 MB.
const DEFAULT_LIMIT: i64 = 25 * 1024 * 1024;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        add_columns(
            m,
            Organizations::Table,
            vec![
                ColumnDef::new(Organizations::AttachmentStorage)
                    .text()
                    .not_null()
                    .default("off")
                    .take(),
                ColumnDef::new(Organizations::AttachmentLimitBytes)
                    .big_integer()
                    .not_null()
                    .default(DEFAULT_LIMIT)
                    .take(),
            ],
        )
        .await?;
        add_columns(
            m,
            MailAccounts::Table,
            vec![ColumnDef::new(MailAccounts::AttachmentLimitBytes)
                .big_integer()
                .null()
                .take()],
        )
        .await?;
        m.create_table(
            Table::create()
                .table(AttachmentBlobs::Table)
                .col(text(AttachmentBlobs::Sha256).primary_key())
                .col(
                    ColumnDef::new(AttachmentBlobs::SizeBytes)
                        .big_integer()
                        .not_null(),
                )
                .col(text(AttachmentBlobs::Location))
                .col(ColumnDef::new(AttachmentBlobs::Content).blob().null())
                .col(time(AttachmentBlobs::CreatedAt))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(AttachmentContents::Table)
                .col(
                    ColumnDef::new(AttachmentContents::AttachmentId)
                        .big_integer()
                        .not_null()
                        .primary_key(),
                )
                .col(text(AttachmentContents::Sha256))
                .foreign_key(
                    ForeignKey::create()
                        .from(AttachmentContents::Table, AttachmentContents::AttachmentId)
                        .to(Attachments::Table, Attachments::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(AttachmentContents::Table, AttachmentContents::Sha256)
                        .to(AttachmentBlobs::Table, AttachmentBlobs::Sha256)
                        .on_delete(ForeignKeyAction::NoAction),
                )
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ix_attachment_contents_sha256",
            AttachmentContents::Table,
            &["sha256"],
            false,
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        drop_index(
            m,
            "ix_attachment_contents_sha256",
            AttachmentContents::Table,
        )
        .await?;
        m.drop_table(Table::drop().table(AttachmentContents::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(AttachmentBlobs::Table).to_owned())
            .await?;
        drop_columns(m, MailAccounts::Table, [MailAccounts::AttachmentLimitBytes]).await?;
        drop_columns(
            m,
            Organizations::Table,
            [
                Organizations::AttachmentLimitBytes,
                Organizations::AttachmentStorage,
            ],
        )
        .await
    }
}
