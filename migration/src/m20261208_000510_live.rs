//! Live pages (issue 22): a change marker per organization, bumped in the transaction that
//! stores or changes its mail, which every instance polls to tell its open pages; and an index
//! on the emails' change time so a page can ask which of its threads changed since it last
//! looked.
use sea_orm_migration::prelude::*;

use crate::common::{drop_index, index, time};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum OrgChanges {
    Table,
    OrganizationId,
    /// Bumped by one per committed change; a row lock orders writers.
    Seq,
    ChangedAt,
}

#[derive(DeriveIden)]
enum Emails {
    Table,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(OrgChanges::Table)
                .col(
                    ColumnDef::new(OrgChanges::OrganizationId)
                        .big_integer()
                        .not_null()
                        .primary_key(),
                )
                .col(ColumnDef::new(OrgChanges::Seq).big_integer().not_null())
                .col(time(OrgChanges::ChangedAt))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ix_org_changes_changed_at",
            OrgChanges::Table,
            &["changed_at"],
            false,
        )
        .await?;
        index(
            m,
            "ix_emails_org_updated",
            Emails::Table,
            &["organization_id", "updated_at"],
            false,
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        drop_index(m, "ix_emails_org_updated", Emails::Table).await?;
        drop_index(m, "ix_org_changes_changed_at", OrgChanges::Table).await?;
        m.drop_table(Table::drop().table(OrgChanges::Table).to_owned())
            .await
    }
}
