//! Push (issue 22): one row per mailbox with its push state (a Graph change-notification
//! subscription or a Gmail watch on a Pub/Sub topic), and a wake stamp on jobs so a
//! notification that arrives while a pass runs makes the mailbox due again at its end.
use sea_orm_migration::prelude::*;

use crate::common::{cascade, count, drop_index, id, index, reference, text, text_null};
use crate::common::{time, time_null};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum MailAccounts {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Jobs {
    Table,
    WokenAt,
}

#[derive(DeriveIden)]
enum MailboxPush {
    Table,
    Id,
    OrganizationId,
    AccountId,
    /// google | microsoft
    Provider,
    /// off | pending | active | failing
    State,
    /// Why push is off or failing, in words for the mailbox page.
    Reason,
    /// Graph: the subscription id. Gmail: the Pub/Sub topic watched.
    SubscriptionId,
    /// Graph: SHA-256 (hex) of the subscription's clientState; the secret itself is not kept.
    ClientStateHash,
    /// When the subscription or watch expires at the provider.
    ExpiresAt,
    /// When it was last created or renewed.
    RenewedAt,
    /// A lifecycle event to act on at the next pass: reauthorizationRequired |
    /// subscriptionRemoved | missed.
    PendingEvent,
    /// Gmail: the historyId the last watch answered with, or the newest one pushed.
    HistoryId,
    LastNotificationAt,
    Notifications,
    /// Notifications refused (wrong clientState, bad token) for this mailbox.
    Rejected,
    CreatedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(MailboxPush::Table)
                .col(id(MailboxPush::Id))
                .col(reference(MailboxPush::OrganizationId))
                .col(reference(MailboxPush::AccountId))
                .col(text(MailboxPush::Provider))
                .col(text(MailboxPush::State))
                .col(text_null(MailboxPush::Reason))
                .col(text_null(MailboxPush::SubscriptionId))
                .col(text_null(MailboxPush::ClientStateHash))
                .col(time_null(MailboxPush::ExpiresAt))
                .col(time_null(MailboxPush::RenewedAt))
                .col(text_null(MailboxPush::PendingEvent))
                .col(text_null(MailboxPush::HistoryId))
                .col(time_null(MailboxPush::LastNotificationAt))
                .col(count(MailboxPush::Notifications))
                .col(count(MailboxPush::Rejected))
                .col(time(MailboxPush::CreatedAt))
                .col(time(MailboxPush::UpdatedAt))
                .foreign_key(&mut cascade(
                    MailboxPush::Table,
                    MailboxPush::AccountId,
                    MailAccounts::Table,
                    MailAccounts::Id,
                ))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ux_mailbox_push_account",
            MailboxPush::Table,
            &["account_id"],
            true,
        )
        .await?;
        index(
            m,
            "ix_mailbox_push_subscription",
            MailboxPush::Table,
            &["subscription_id"],
            false,
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Jobs::Table)
                .add_column(time_null(Jobs::WokenAt))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Jobs::Table)
                .drop_column(Jobs::WokenAt)
                .to_owned(),
        )
        .await?;
        drop_index(m, "ix_mailbox_push_subscription", MailboxPush::Table).await?;
        drop_index(m, "ux_mailbox_push_account", MailboxPush::Table).await?;
        m.drop_table(Table::drop().table(MailboxPush::Table).to_owned())
            .await
    }
}
