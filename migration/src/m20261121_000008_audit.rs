//! The audit log: who did what to which record, and when.
use sea_orm_migration::prelude::*;

use crate::common::{id, index, reference, reference_null, text, text_default, time};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AuditLog {
    Table,
    Id,
    OrganizationId,
    ActorUserId,
    /// e.g. user.create, user.disable, email.hard_delete
    Action,
    SubjectKind,
    SubjectId,
    Detail,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(AuditLog::Table)
                .col(id(AuditLog::Id))
                .col(reference(AuditLog::OrganizationId))
                .col(reference_null(AuditLog::ActorUserId))
                .col(text(AuditLog::Action))
                .col(text(AuditLog::SubjectKind))
                .col(reference_null(AuditLog::SubjectId))
                .col(text_default(AuditLog::Detail, ""))
                .col(time(AuditLog::CreatedAt))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ix_audit_org_time",
            AuditLog::Table,
            &["organization_id", "created_at"],
            false,
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(AuditLog::Table).to_owned())
            .await
    }
}
