//! Exclusion rules: addresses and domains whose mail is never stored, organization-wide
//! (`user_id` NULL, managed by admins) or personal (a user's own mailboxes). The sync ledger
//! notes which rule kept a message out (`sync_ledger.exclusion_rule_id`), so removing the rule
//! forgets those entries and a resync may fetch the messages again.
use sea_orm_migration::prelude::*;

use crate::common::{drop_index, id, index, reference, reference_null, text, time};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ExclusionRules {
    Table,
    Id,
    OrganizationId,
    /// NULL: the organization's rule; else the user whose mailboxes it covers.
    UserId,
    /// address | domain
    Kind,
    /// The normalized address or domain.
    Value,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum SyncLedger {
    Table,
    ExclusionRuleId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(ExclusionRules::Table)
                .col(id(ExclusionRules::Id))
                .col(reference(ExclusionRules::OrganizationId))
                .col(reference_null(ExclusionRules::UserId))
                .col(text(ExclusionRules::Kind))
                .col(text(ExclusionRules::Value))
                .col(reference(ExclusionRules::CreatedBy))
                .col(time(ExclusionRules::CreatedAt))
                .to_owned(),
        )
        .await?;
        // One rule per value and scope (NULL user ids would not collide in a plain index).
        m.get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX ux_exclusion_rules_value ON exclusion_rules \
                 (organization_id, COALESCE(user_id, 0), value)",
            )
            .await?;
        m.alter_table(
            Table::alter()
                .table(SyncLedger::Table)
                .add_column(reference_null(SyncLedger::ExclusionRuleId))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ix_sync_ledger_exclusion_rule",
            SyncLedger::Table,
            &["exclusion_rule_id"],
            false,
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        drop_index(m, "ix_sync_ledger_exclusion_rule", SyncLedger::Table).await?;
        m.alter_table(
            Table::alter()
                .table(SyncLedger::Table)
                .drop_column(SyncLedger::ExclusionRuleId)
                .to_owned(),
        )
        .await?;
        m.drop_table(Table::drop().table(ExclusionRules::Table).to_owned())
            .await
    }
}
