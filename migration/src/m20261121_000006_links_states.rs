//! Links between emails and businesses / contacts, and each user's read / starred state.
use sea_orm_migration::prelude::*;

use crate::common::{
    cascade, flag, id, index, reference, reference_null, text, text_default, time, time_null,
};
use crate::m20261121_000001_organizations_users::Users;
use crate::m20261121_000004_emails::Emails;
use crate::m20261121_000005_directory::{Businesses, Contacts};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum EmailLinks {
    Table,
    Id,
    OrganizationId,
    EmailId,
    /// Exactly one of business_id / contact_id is set.
    BusinessId,
    ContactId,
    /// auto | manual
    Source,
    /// address | domain | contact_business | manual
    Reason,
    /// A manual unlink: automatic matching never recreates this link.
    Tombstone,
    /// Copied from the email so timelines page by link without touching emails first.
    ReceivedAt,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum UserEmailStates {
    Table,
    Id,
    OrganizationId,
    UserId,
    /// The email's `message_key`: one state per message however many mailboxes hold it.
    MessageKey,
    ReadAt,
    StarredAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(EmailLinks::Table)
                .col(id(EmailLinks::Id))
                .col(reference(EmailLinks::OrganizationId))
                .col(reference(EmailLinks::EmailId))
                .col(reference_null(EmailLinks::BusinessId))
                .col(reference_null(EmailLinks::ContactId))
                .col(text_default(EmailLinks::Source, "auto"))
                .col(text(EmailLinks::Reason))
                .col(flag(EmailLinks::Tombstone))
                .col(time(EmailLinks::ReceivedAt))
                .col(reference_null(EmailLinks::CreatedBy))
                .col(time(EmailLinks::CreatedAt))
                .foreign_key(&mut cascade(
                    EmailLinks::Table,
                    EmailLinks::EmailId,
                    Emails::Table,
                    Emails::Id,
                ))
                .foreign_key(&mut cascade(
                    EmailLinks::Table,
                    EmailLinks::BusinessId,
                    Businesses::Table,
                    Businesses::Id,
                ))
                .foreign_key(&mut cascade(
                    EmailLinks::Table,
                    EmailLinks::ContactId,
                    Contacts::Table,
                    Contacts::Id,
                ))
                .to_owned(),
        )
        .await?;
        let l = || EmailLinks::Table;
        index(
            m,
            "ux_links_email_business",
            l(),
            &["email_id", "business_id"],
            true,
        )
        .await?;
        index(
            m,
            "ux_links_email_contact",
            l(),
            &["email_id", "contact_id"],
            true,
        )
        .await?;
        index(
            m,
            "ix_links_business_time",
            l(),
            &["business_id", "received_at", "email_id"],
            false,
        )
        .await?;
        index(
            m,
            "ix_links_contact_time",
            l(),
            &["contact_id", "received_at", "email_id"],
            false,
        )
        .await?;

        m.create_table(
            Table::create()
                .table(UserEmailStates::Table)
                .col(id(UserEmailStates::Id))
                .col(reference(UserEmailStates::OrganizationId))
                .col(reference(UserEmailStates::UserId))
                .col(text(UserEmailStates::MessageKey))
                .col(time_null(UserEmailStates::ReadAt))
                .col(time_null(UserEmailStates::StarredAt))
                .foreign_key(&mut cascade(
                    UserEmailStates::Table,
                    UserEmailStates::UserId,
                    Users::Table,
                    Users::Id,
                ))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ux_user_email_states",
            UserEmailStates::Table,
            &["user_id", "message_key"],
            true,
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(UserEmailStates::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(EmailLinks::Table).to_owned())
            .await
    }
}
