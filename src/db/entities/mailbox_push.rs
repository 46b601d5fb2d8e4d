//! `mailbox_push` rows (mirrors the migration of the same table): a mailbox's push state, a
//! Graph change-notification subscription or a Gmail watch.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "mailbox_push")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub organization_id: i64,
    pub account_id: i64,
    /// google | microsoft
    #[sea_orm(column_type = "Text")]
    pub provider: String,
    /// off | pending | active | failing
    #[sea_orm(column_type = "Text")]
    pub state: String,
    #[sea_orm(column_type = "Text", nullable)]
    pub reason: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub subscription_id: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub client_state_hash: Option<String>,
    pub expires_at: Option<DateTimeUtc>,
    pub renewed_at: Option<DateTimeUtc>,
    #[sea_orm(column_type = "Text", nullable)]
    pub pending_event: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub history_id: Option<String>,
    pub last_notification_at: Option<DateTimeUtc>,
    pub notifications: i64,
    pub rejected: i64,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
