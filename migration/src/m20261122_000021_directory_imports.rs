//! Directory imports between preview and apply: the parsed rows of an uploaded CSV file, kept
//! server-side under a random token so apply never trusts re-posted data.
use sea_orm_migration::prelude::*;

use crate::common::{id, index, reference, text, time};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum DirectoryImports {
    Table,
    Id,
    OrganizationId,
    UserId,
    Token,
    /// businesses | contacts
    Kind,
    Filename,
    /// JSON array of parsed rows.
    Rows,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(DirectoryImports::Table)
                .col(id(DirectoryImports::Id))
                .col(reference(DirectoryImports::OrganizationId))
                .col(reference(DirectoryImports::UserId))
                .col(text(DirectoryImports::Token))
                .col(text(DirectoryImports::Kind))
                .col(text(DirectoryImports::Filename))
                .col(text(DirectoryImports::Rows))
                .col(time(DirectoryImports::CreatedAt))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ux_directory_imports_token",
            DirectoryImports::Table,
            &["token"],
            true,
        )
        .await?;
        index(
            m,
            "ix_directory_imports_user",
            DirectoryImports::Table,
            &["user_id"],
            false,
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(DirectoryImports::Table).to_owned())
            .await
    }
}
