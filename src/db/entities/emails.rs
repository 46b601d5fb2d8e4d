//! `emails` rows (mirrors the migration of the same table).
use sea_orm::entity::prelude::*;

use crate::domain::stored::Folders;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "emails")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub organization_id: i64,
    pub account_id: i64,
    #[sea_orm(column_type = "Text")]
    pub provider_message_id: String,
    #[sea_orm(column_type = "Text")]
    pub provider_thread_id: String,
    #[sea_orm(column_type = "Text", nullable)]
    pub message_id: Option<String>,
    #[sea_orm(column_type = "Text")]
    pub message_key: String,
    #[sea_orm(column_type = "Text", nullable)]
    pub in_reply_to: Option<String>,
    #[sea_orm(column_type = "Text")]
    pub references: String,
    #[sea_orm(column_type = "Text")]
    pub thread_key: String,
    #[sea_orm(column_type = "Text")]
    pub subject: String,
    #[sea_orm(column_type = "Text")]
    pub snippet: String,
    pub sent_at: Option<DateTimeUtc>,
    pub received_at: DateTimeUtc,
    #[sea_orm(column_type = "Text")]
    pub folders: Folders,
    pub provider_read: bool,
    pub provider_starred: bool,
    pub has_attachments: bool,
    pub is_bulk: bool,
    pub size_bytes: i64,
    pub deleted_in_provider_at: Option<DateTimeUtc>,
    pub soft_deleted_at: Option<DateTimeUtc>,
    pub soft_deleted_by: Option<i64>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// When a full listing last named this message (deletion detection after a listing).
    pub listed_at: Option<DateTimeUtc>,
    /// The first `From` participant, as timelines show the sender.
    #[sea_orm(column_type = "Text")]
    pub sender_name: String,
    #[sea_orm(column_type = "Text")]
    pub sender_address: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
