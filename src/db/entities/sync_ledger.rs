//! `sync_ledger` rows (mirrors the migration of the same table).
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sync_ledger")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub organization_id: i64,
    pub account_id: i64,
    #[sea_orm(column_type = "Text")]
    pub provider_message_id: String,
    #[sea_orm(column_type = "Text")]
    pub reason: String,
    #[sea_orm(column_type = "Text")]
    pub detail: String,
    pub created_at: DateTimeUtc,
    /// The exclusion rule that kept the message out (reason `excluded`).
    pub exclusion_rule_id: Option<i64>,
    /// The folder labels the message was in when ledgered (JSON, as `emails.folders`).
    #[sea_orm(column_type = "Text", nullable)]
    pub folders: Option<String>,
    /// When the provider reported the message deleted.
    pub gone_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
