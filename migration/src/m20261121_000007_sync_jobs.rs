//! Sync runs, the sync ledger of skipped messages, and the leased work table.
use sea_orm_migration::prelude::*;

use crate::common::{
    cascade, count, id, index, reference, text, text_default, text_null, time, time_null,
};
use crate::m20261121_000003_mail_accounts::MailAccounts;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum SyncRuns {
    Table,
    Id,
    OrganizationId,
    AccountId,
    /// initial | incremental | resync | manual
    Kind,
    /// running | succeeded | failed | cancelled
    Status,
    Listed,
    Fetched,
    Stored,
    Updated,
    Skipped,
    Deleted,
    Throttled,
    Requests,
    StartedAt,
    FinishedAt,
    DurationMs,
    Error,
}

#[derive(DeriveIden)]
enum SyncLedger {
    Table,
    Id,
    OrganizationId,
    AccountId,
    ProviderMessageId,
    /// Why the message is not stored (too_large, unparseable, provider_error, ...).
    Reason,
    Detail,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Jobs {
    Table,
    Id,
    OrganizationId,
    /// sync_account | reassociate | ...
    Kind,
    /// What the job is about (an account id, a business id ...); with kind, unique.
    SubjectId,
    Payload,
    /// queued | running | done | failed
    State,
    RunAt,
    Attempts,
    LockedBy,
    LeaseUntil,
    LastError,
    CreatedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let mut runs = Table::create();
        runs.table(SyncRuns::Table)
            .col(id(SyncRuns::Id))
            .col(reference(SyncRuns::OrganizationId))
            .col(reference(SyncRuns::AccountId))
            .col(text(SyncRuns::Kind))
            .col(text_default(SyncRuns::Status, "running"));
        for c in [
            SyncRuns::Listed,
            SyncRuns::Fetched,
            SyncRuns::Stored,
            SyncRuns::Updated,
            SyncRuns::Skipped,
            SyncRuns::Deleted,
            SyncRuns::Throttled,
            SyncRuns::Requests,
            SyncRuns::DurationMs,
        ] {
            runs.col(count(c));
        }
        runs.col(time(SyncRuns::StartedAt))
            .col(time_null(SyncRuns::FinishedAt))
            .col(text_null(SyncRuns::Error))
            .foreign_key(&mut cascade(
                SyncRuns::Table,
                SyncRuns::AccountId,
                MailAccounts::Table,
                MailAccounts::Id,
            ));
        m.create_table(runs.to_owned()).await?;
        index(
            m,
            "ix_sync_runs_account",
            SyncRuns::Table,
            &["account_id", "started_at"],
            false,
        )
        .await?;
        index(
            m,
            "ix_sync_runs_started",
            SyncRuns::Table,
            &["started_at"],
            false,
        )
        .await?;

        m.create_table(
            Table::create()
                .table(SyncLedger::Table)
                .col(id(SyncLedger::Id))
                .col(reference(SyncLedger::OrganizationId))
                .col(reference(SyncLedger::AccountId))
                .col(text(SyncLedger::ProviderMessageId))
                .col(text(SyncLedger::Reason))
                .col(text_default(SyncLedger::Detail, ""))
                .col(time(SyncLedger::CreatedAt))
                .foreign_key(&mut cascade(
                    SyncLedger::Table,
                    SyncLedger::AccountId,
                    MailAccounts::Table,
                    MailAccounts::Id,
                ))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ux_sync_ledger_message",
            SyncLedger::Table,
            &["account_id", "provider_message_id"],
            true,
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Jobs::Table)
                .col(id(Jobs::Id))
                .col(reference(Jobs::OrganizationId))
                .col(text(Jobs::Kind))
                .col(reference(Jobs::SubjectId))
                .col(text_default(Jobs::Payload, "{}"))
                .col(text_default(Jobs::State, "queued"))
                .col(time(Jobs::RunAt))
                .col(count(Jobs::Attempts))
                .col(text_null(Jobs::LockedBy))
                .col(time_null(Jobs::LeaseUntil))
                .col(text_null(Jobs::LastError))
                .col(time(Jobs::CreatedAt))
                .col(time(Jobs::UpdatedAt))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ux_jobs_subject",
            Jobs::Table,
            &["kind", "subject_id"],
            true,
        )
        .await?;
        index(m, "ix_jobs_due", Jobs::Table, &["state", "run_at"], false).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(Jobs::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(SyncLedger::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(SyncRuns::Table).to_owned())
            .await
    }
}
