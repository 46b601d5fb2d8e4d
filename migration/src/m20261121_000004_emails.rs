//! Emails (one row per message per mailbox), their bodies, participants and attachments.
use sea_orm_migration::prelude::*;

use crate::common::{
    cascade, count, flag, id, index, reference, reference_null, text, text_default, text_null,
    time, time_null,
};
use crate::m20261121_000003_mail_accounts::MailAccounts;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
pub enum Emails {
    Table,
    Id,
    OrganizationId,
    AccountId,
    ProviderMessageId,
    ProviderThreadId,
    /// Normalized RFC 5322 Message-ID, when the message has one.
    MessageId,
    /// Identity of the message across mailboxes: the Message-ID, else a per-mailbox stand-in.
    MessageKey,
    InReplyTo,
    /// Space-separated normalized Message-IDs of the References header.
    References,
    /// Conversation this message belongs to across mailboxes (JWZ over the headers).
    ThreadKey,
    Subject,
    Snippet,
    SentAt,
    ReceivedAt,
    /// JSON array of Gmail labels or the Outlook folder id.
    Folders,
    ProviderRead,
    ProviderStarred,
    HasAttachments,
    /// List-Unsubscribe / Precedence: bulk | list.
    IsBulk,
    SizeBytes,
    DeletedInProviderAt,
    SoftDeletedAt,
    SoftDeletedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum EmailBodies {
    Table,
    EmailId,
    OrganizationId,
    BodyText,
    BodyHtml,
    /// A body was cut at the size cap.
    Truncated,
}

#[derive(DeriveIden)]
pub enum EmailParticipants {
    Table,
    Id,
    OrganizationId,
    EmailId,
    /// from | sender | to | cc | bcc | reply_to
    Role,
    Address,
    Name,
    /// Domain part of the address (normalized), for domain matching.
    Domain,
}

#[derive(DeriveIden)]
enum Attachments {
    Table,
    Id,
    OrganizationId,
    EmailId,
    /// Stable part key (Gmail partId, Graph attachment id); never Gmail's ephemeral id.
    PartKey,
    Filename,
    ContentType,
    SizeBytes,
    ContentId,
    IsInline,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Emails::Table)
                .col(id(Emails::Id))
                .col(reference(Emails::OrganizationId))
                .col(reference(Emails::AccountId))
                .col(text(Emails::ProviderMessageId))
                .col(text_default(Emails::ProviderThreadId, ""))
                .col(text_null(Emails::MessageId))
                .col(text(Emails::MessageKey))
                .col(text_null(Emails::InReplyTo))
                .col(text_default(Emails::References, ""))
                .col(text(Emails::ThreadKey))
                .col(text_default(Emails::Subject, ""))
                .col(text_default(Emails::Snippet, ""))
                .col(time_null(Emails::SentAt))
                .col(time(Emails::ReceivedAt))
                .col(text_default(Emails::Folders, "[]"))
                .col(flag(Emails::ProviderRead))
                .col(flag(Emails::ProviderStarred))
                .col(flag(Emails::HasAttachments))
                .col(flag(Emails::IsBulk))
                .col(count(Emails::SizeBytes))
                .col(time_null(Emails::DeletedInProviderAt))
                .col(time_null(Emails::SoftDeletedAt))
                .col(reference_null(Emails::SoftDeletedBy))
                .col(time(Emails::CreatedAt))
                .col(time(Emails::UpdatedAt))
                .foreign_key(&mut cascade(
                    Emails::Table,
                    Emails::AccountId,
                    MailAccounts::Table,
                    MailAccounts::Id,
                ))
                .to_owned(),
        )
        .await?;
        let t = || Emails::Table;
        index(
            m,
            "ux_emails_provider_id",
            t(),
            &["account_id", "provider_message_id"],
            true,
        )
        .await?;
        index(
            m,
            "ix_emails_account_time",
            t(),
            &["account_id", "received_at", "id"],
            false,
        )
        .await?;
        index(
            m,
            "ix_emails_org_time",
            t(),
            &["organization_id", "received_at", "id"],
            false,
        )
        .await?;
        index(
            m,
            "ix_emails_message_key",
            t(),
            &["organization_id", "message_key"],
            false,
        )
        .await?;
        index(
            m,
            "ix_emails_thread",
            t(),
            &["organization_id", "thread_key", "received_at"],
            false,
        )
        .await?;

        m.create_table(
            Table::create()
                .table(EmailBodies::Table)
                .col(
                    ColumnDef::new(EmailBodies::EmailId)
                        .big_integer()
                        .not_null()
                        .primary_key(),
                )
                .col(reference(EmailBodies::OrganizationId))
                .col(text_null(EmailBodies::BodyText))
                .col(text_null(EmailBodies::BodyHtml))
                .col(flag(EmailBodies::Truncated))
                .foreign_key(&mut cascade(
                    EmailBodies::Table,
                    EmailBodies::EmailId,
                    Emails::Table,
                    Emails::Id,
                ))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(EmailParticipants::Table)
                .col(id(EmailParticipants::Id))
                .col(reference(EmailParticipants::OrganizationId))
                .col(reference(EmailParticipants::EmailId))
                .col(text(EmailParticipants::Role))
                .col(text(EmailParticipants::Address))
                .col(text_default(EmailParticipants::Name, ""))
                .col(text(EmailParticipants::Domain))
                .foreign_key(&mut cascade(
                    EmailParticipants::Table,
                    EmailParticipants::EmailId,
                    Emails::Table,
                    Emails::Id,
                ))
                .to_owned(),
        )
        .await?;
        let p = || EmailParticipants::Table;
        index(m, "ix_participants_email", p(), &["email_id"], false).await?;
        index(
            m,
            "ix_participants_address",
            p(),
            &["organization_id", "address"],
            false,
        )
        .await?;
        index(
            m,
            "ix_participants_domain",
            p(),
            &["organization_id", "domain"],
            false,
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Attachments::Table)
                .col(id(Attachments::Id))
                .col(reference(Attachments::OrganizationId))
                .col(reference(Attachments::EmailId))
                .col(text(Attachments::PartKey))
                .col(text_default(Attachments::Filename, ""))
                .col(text_default(
                    Attachments::ContentType,
                    "application/octet-stream",
                ))
                .col(count(Attachments::SizeBytes))
                .col(text_null(Attachments::ContentId))
                .col(flag(Attachments::IsInline))
                .foreign_key(&mut cascade(
                    Attachments::Table,
                    Attachments::EmailId,
                    Emails::Table,
                    Emails::Id,
                ))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ux_attachments_part",
            Attachments::Table,
            &["email_id", "part_key"],
            true,
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(Attachments::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(EmailParticipants::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(EmailBodies::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(Emails::Table).to_owned())
            .await
    }
}
