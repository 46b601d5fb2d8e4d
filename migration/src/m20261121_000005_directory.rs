//! The CRM directory: businesses with their domains, contacts with their addresses.
use sea_orm_migration::prelude::*;

use crate::common::{
    cascade, id, index, reference, reference_null, set_null, text, text_default, time,
};
use crate::m20261121_000001_organizations_users::Organizations;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
pub enum Businesses {
    Table,
    Id,
    OrganizationId,
    Name,
    Notes,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum BusinessDomains {
    Table,
    Id,
    OrganizationId,
    BusinessId,
    /// A registrable domain (acme.co.uk) or an explicitly listed subdomain.
    Domain,
}

#[derive(DeriveIden)]
pub enum Contacts {
    Table,
    Id,
    OrganizationId,
    BusinessId,
    Name,
    Notes,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ContactAddresses {
    Table,
    Id,
    OrganizationId,
    ContactId,
    Address,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Businesses::Table)
                .col(id(Businesses::Id))
                .col(reference(Businesses::OrganizationId))
                .col(text(Businesses::Name))
                .col(text_default(Businesses::Notes, ""))
                .col(time(Businesses::CreatedAt))
                .col(time(Businesses::UpdatedAt))
                .foreign_key(&mut cascade(
                    Businesses::Table,
                    Businesses::OrganizationId,
                    Organizations::Table,
                    Organizations::Id,
                ))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ix_businesses_name",
            Businesses::Table,
            &["organization_id", "name"],
            false,
        )
        .await?;
        m.create_table(
            Table::create()
                .table(BusinessDomains::Table)
                .col(id(BusinessDomains::Id))
                .col(reference(BusinessDomains::OrganizationId))
                .col(reference(BusinessDomains::BusinessId))
                .col(text(BusinessDomains::Domain))
                .foreign_key(&mut cascade(
                    BusinessDomains::Table,
                    BusinessDomains::BusinessId,
                    Businesses::Table,
                    Businesses::Id,
                ))
                .to_owned(),
        )
        .await?;
        let bd = || BusinessDomains::Table;
        index(
            m,
            "ux_business_domains",
            bd(),
            &["organization_id", "domain"],
            true,
        )
        .await?;
        index(
            m,
            "ix_business_domains_business",
            bd(),
            &["business_id"],
            false,
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Contacts::Table)
                .col(id(Contacts::Id))
                .col(reference(Contacts::OrganizationId))
                .col(reference_null(Contacts::BusinessId))
                .col(text(Contacts::Name))
                .col(text_default(Contacts::Notes, ""))
                .col(time(Contacts::CreatedAt))
                .col(time(Contacts::UpdatedAt))
                .foreign_key(&mut cascade(
                    Contacts::Table,
                    Contacts::OrganizationId,
                    Organizations::Table,
                    Organizations::Id,
                ))
                .foreign_key(&mut set_null(
                    Contacts::Table,
                    Contacts::BusinessId,
                    Businesses::Table,
                    Businesses::Id,
                ))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ix_contacts_name",
            Contacts::Table,
            &["organization_id", "name"],
            false,
        )
        .await?;
        index(
            m,
            "ix_contacts_business",
            Contacts::Table,
            &["business_id"],
            false,
        )
        .await?;
        m.create_table(
            Table::create()
                .table(ContactAddresses::Table)
                .col(id(ContactAddresses::Id))
                .col(reference(ContactAddresses::OrganizationId))
                .col(reference(ContactAddresses::ContactId))
                .col(text(ContactAddresses::Address))
                .foreign_key(&mut cascade(
                    ContactAddresses::Table,
                    ContactAddresses::ContactId,
                    Contacts::Table,
                    Contacts::Id,
                ))
                .to_owned(),
        )
        .await?;
        let ca = || ContactAddresses::Table;
        index(
            m,
            "ux_contact_addresses",
            ca(),
            &["organization_id", "address"],
            true,
        )
        .await?;
        index(
            m,
            "ix_contact_addresses_contact",
            ca(),
            &["contact_id"],
            false,
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(ContactAddresses::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(Contacts::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(BusinessDomains::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(Businesses::Table).to_owned())
            .await
    }
}
