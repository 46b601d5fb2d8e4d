//! `mail_accounts` rows (mirrors the migration of the same table).
use sea_orm::entity::prelude::*;

use crate::domain::mailbox::MailboxStatus;
use crate::domain::provider::Provider;
use crate::domain::stored::SyncSettings;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "mail_accounts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub organization_id: i64,
    pub owner_user_id: Option<i64>,
    #[sea_orm(column_type = "Text")]
    pub provider: Provider,
    #[sea_orm(column_type = "Text")]
    pub auth_kind: String,
    #[sea_orm(column_type = "Text")]
    pub address: String,
    #[sea_orm(column_type = "Text")]
    pub display_name: String,
    #[sea_orm(column_type = "Text")]
    pub status: MailboxStatus,
    #[sea_orm(column_type = "Text", nullable)]
    pub credentials: Option<String>,
    #[sea_orm(column_type = "Text")]
    pub granted_scopes: String,
    pub token_expires_at: Option<DateTimeUtc>,
    #[sea_orm(column_type = "Text")]
    pub sync_settings: SyncSettings,
    pub sync_interval_secs: i32,
    pub next_sync_at: Option<DateTimeUtc>,
    pub last_sync_at: Option<DateTimeUtc>,
    pub last_success_at: Option<DateTimeUtc>,
    #[sea_orm(column_type = "Text", nullable)]
    pub last_error: Option<String>,
    pub progress_total: i64,
    pub progress_done: i64,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub refresh_lock_until: Option<DateTimeUtc>,
    /// The organization-wide connection this mailbox syncs through (None: linked by its owner).
    pub connection_id: Option<i64>,
    /// The directory user's immutable id (Graph user id, Google user id); renames keep it.
    #[sea_orm(column_type = "Text", nullable)]
    pub directory_id: Option<String>,
    /// The directory's last word on that user: active | disabled | suspended | removed | ...
    #[sea_orm(column_type = "Text", nullable)]
    pub directory_state: Option<String>,
    /// The owner's read / starred marks are written to the mailbox (when the organization
    /// allows it and the grant has the modify scope).
    pub write_back: bool,
    /// The mailbox's own attachment size limit; None: the organization's.
    pub attachment_limit_bytes: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
