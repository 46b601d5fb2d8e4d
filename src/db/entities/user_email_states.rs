//! `user_email_states` rows (mirrors the migration of the same table).
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "user_email_states")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub organization_id: i64,
    pub user_id: i64,
    #[sea_orm(column_type = "Text")]
    pub message_key: String,
    pub read_at: Option<DateTimeUtc>,
    pub starred_at: Option<DateTimeUtc>,
    /// When the read mark last changed (set or cleared), by the reader or, for the mailbox's
    /// owner, by the provider as sync observed it.
    pub read_changed_at: Option<DateTimeUtc>,
    pub starred_changed_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
