//! Organizations, their internal domains, and users.
use sea_orm_migration::prelude::*;

use crate::common::{cascade, flag, id, index, reference, text, text_default, time, time_null};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
pub enum Organizations {
    Table,
    Id,
    Name,
    /// Auto-create contacts for unknown participants at a known business: off | sent | all.
    AutoCreateContacts,
    HideInternalOnly,
    HideBulk,
    /// JSON array of extra free-mail domains (added to the shipped list).
    FreeMailDomains,
    CreatedAt,
}

#[derive(DeriveIden)]
pub enum OrganizationDomains {
    Table,
    Id,
    OrganizationId,
    Domain,
}

#[derive(DeriveIden)]
pub enum Users {
    Table,
    Id,
    OrganizationId,
    Email,
    Name,
    /// member | admin
    Role,
    PasswordHash,
    Disabled,
    CreatedAt,
    UpdatedAt,
    LastLoginAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Organizations::Table)
                .col(id(Organizations::Id))
                .col(text(Organizations::Name))
                .col(text_default(Organizations::AutoCreateContacts, "off"))
                .col(flag(Organizations::HideInternalOnly))
                .col(flag(Organizations::HideBulk))
                .col(text_default(Organizations::FreeMailDomains, "[]"))
                .col(time(Organizations::CreatedAt))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(OrganizationDomains::Table)
                .col(id(OrganizationDomains::Id))
                .col(reference(OrganizationDomains::OrganizationId))
                .col(text(OrganizationDomains::Domain))
                .foreign_key(&mut cascade(
                    OrganizationDomains::Table,
                    OrganizationDomains::OrganizationId,
                    Organizations::Table,
                    Organizations::Id,
                ))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ux_organization_domains_domain",
            OrganizationDomains::Table,
            &["organization_id", "domain"],
            true,
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Users::Table)
                .col(id(Users::Id))
                .col(reference(Users::OrganizationId))
                .col(text(Users::Email))
                .col(text(Users::Name))
                .col(text_default(Users::Role, "member"))
                .col(text(Users::PasswordHash))
                .col(flag(Users::Disabled))
                .col(time(Users::CreatedAt))
                .col(time(Users::UpdatedAt))
                .col(time_null(Users::LastLoginAt))
                .foreign_key(&mut cascade(
                    Users::Table,
                    Users::OrganizationId,
                    Organizations::Table,
                    Organizations::Id,
                ))
                .to_owned(),
        )
        .await?;
        // Sign-in is by address alone, so an address is unique across the installation.
        index(m, "ux_users_email", Users::Table, &["email"], true).await?;
        index(
            m,
            "ix_users_org",
            Users::Table,
            &["organization_id", "name"],
            false,
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(Users::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(OrganizationDomains::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(Organizations::Table).to_owned())
            .await
    }
}
