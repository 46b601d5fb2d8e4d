//! The audit log: append and list.
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

use super::entities::audit_log::{self, Entity as AuditLog, Model as AuditEntry};

/// One audited action.
#[derive(Debug, Clone)]
pub struct Entry<'a> {
    pub organization_id: i64,
    pub actor_user_id: Option<i64>,
    pub action: &'a str,
    pub subject_kind: &'a str,
    pub subject_id: Option<i64>,
    pub detail: String,
}

impl<'a> Entry<'a> {
    /// An action a user took on one subject.
    pub fn by_user(
        organization_id: i64,
        actor: i64,
        action: &'a str,
        subject_kind: &'a str,
        subject_id: i64,
        detail: String,
    ) -> Self {
        Self {
            organization_id,
            actor_user_id: Some(actor),
            action,
            subject_kind,
            subject_id: Some(subject_id),
            detail,
        }
    }
}

pub async fn record(db: &impl ConnectionTrait, entry: Entry<'_>) -> Result<(), DbErr> {
    audit_log::ActiveModel {
        organization_id: Set(entry.organization_id),
        actor_user_id: Set(entry.actor_user_id),
        action: Set(entry.action.to_string()),
        subject_kind: Set(entry.subject_kind.to_string()),
        subject_id: Set(entry.subject_id),
        detail: Set(entry.detail),
        created_at: Set(super::now()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Newest first, at most `limit`.
pub async fn list(
    db: &impl ConnectionTrait,
    org_id: i64,
    limit: u64,
) -> Result<Vec<AuditEntry>, DbErr> {
    AuditLog::find()
        .filter(audit_log::Column::OrganizationId.eq(org_id))
        .order_by_desc(audit_log::Column::Id)
        .limit(limit)
        .all(db)
        .await
}
