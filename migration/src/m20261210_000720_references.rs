//! Reference rules: named patterns an admin defines (`WO-\d{5}`), with an optional URL template
//! to the system that owns the numbers; the references found (`reference_values`, one row per
//! rule and normalized value) and which emails mention each, in the subject and / or the body
//! (`email_references`). Removing a rule, a value or an email removes its matches (cascades).
use sea_orm_migration::prelude::*;

use crate::common::{cascade, flag, id, index, reference, text, text_null, time};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ReferenceRules {
    Table,
    Id,
    OrganizationId,
    /// Lower case, unique per organization; the `{name}` of `/references/{name}/{value}`.
    Name,
    Pattern,
    UrlTemplate,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ReferenceValues {
    Table,
    Id,
    OrganizationId,
    RuleId,
    /// Normalized: trimmed, blanks one space, upper case.
    Value,
}

#[derive(DeriveIden)]
enum EmailReferences {
    Table,
    Id,
    OrganizationId,
    ReferenceId,
    EmailId,
    InSubject,
    InBody,
}

#[derive(DeriveIden)]
enum Emails {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(ReferenceRules::Table)
                .col(id(ReferenceRules::Id))
                .col(reference(ReferenceRules::OrganizationId))
                .col(text(ReferenceRules::Name))
                .col(text(ReferenceRules::Pattern))
                .col(text_null(ReferenceRules::UrlTemplate))
                .col(reference(ReferenceRules::CreatedBy))
                .col(time(ReferenceRules::CreatedAt))
                .col(time(ReferenceRules::UpdatedAt))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ux_reference_rules_name",
            ReferenceRules::Table,
            &["organization_id", "name"],
            true,
        )
        .await?;
        m.create_table(
            Table::create()
                .table(ReferenceValues::Table)
                .col(id(ReferenceValues::Id))
                .col(reference(ReferenceValues::OrganizationId))
                .col(reference(ReferenceValues::RuleId))
                .col(text(ReferenceValues::Value))
                .foreign_key(&mut cascade(
                    ReferenceValues::Table,
                    ReferenceValues::RuleId,
                    ReferenceRules::Table,
                    ReferenceRules::Id,
                ))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ux_reference_values_value",
            ReferenceValues::Table,
            &["rule_id", "value"],
            true,
        )
        .await?;
        m.create_table(
            Table::create()
                .table(EmailReferences::Table)
                .col(id(EmailReferences::Id))
                .col(reference(EmailReferences::OrganizationId))
                .col(reference(EmailReferences::ReferenceId))
                .col(reference(EmailReferences::EmailId))
                .col(flag(EmailReferences::InSubject))
                .col(flag(EmailReferences::InBody))
                .foreign_key(&mut cascade(
                    EmailReferences::Table,
                    EmailReferences::ReferenceId,
                    ReferenceValues::Table,
                    ReferenceValues::Id,
                ))
                .foreign_key(&mut cascade(
                    EmailReferences::Table,
                    EmailReferences::EmailId,
                    Emails::Table,
                    Emails::Id,
                ))
                .to_owned(),
        )
        .await?;
        // A reference's timeline walks its emails; an email page reads its references.
        index(
            m,
            "ux_email_references_reference",
            EmailReferences::Table,
            &["reference_id", "email_id"],
            true,
        )
        .await?;
        index(
            m,
            "ix_email_references_email",
            EmailReferences::Table,
            &["email_id"],
            false,
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            EmailReferences::Table.into_iden(),
            ReferenceValues::Table.into_iden(),
            ReferenceRules::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
