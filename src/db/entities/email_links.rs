//! `email_links` rows (mirrors the migration of the same table).
use sea_orm::entity::prelude::*;

use crate::domain::association::Reason;
use crate::domain::reassociation::Source;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "email_links")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub organization_id: i64,
    pub email_id: i64,
    pub business_id: Option<i64>,
    pub contact_id: Option<i64>,
    #[sea_orm(column_type = "Text")]
    pub source: Source,
    #[sea_orm(column_type = "Text")]
    pub reason: Reason,
    pub tombstone: bool,
    pub received_at: DateTimeUtc,
    pub created_by: Option<i64>,
    pub created_at: DateTimeUtc,
    /// Copies of the email's thread key, bulk flag and soft deletion, kept by database
    /// triggers (migration `m20261206_000060`) so a timeline walks the link index alone.
    #[sea_orm(column_type = "Text")]
    pub thread_key: String,
    pub is_bulk: bool,
    pub soft_deleted: bool,
    /// A copy of the email's message key, kept by the same triggers (migration
    /// `m20261207_000080`), so the unread and starred filters need no email row either.
    #[sea_orm(column_type = "Text")]
    pub message_key: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
