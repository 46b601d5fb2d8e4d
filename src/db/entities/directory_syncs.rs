//! `directory_syncs` rows (mirrors the migration of the same table): one directory sync run of
//! a connection and its summary.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "directory_syncs")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub organization_id: i64,
    pub connection_id: i64,
    /// schedule | web | cli
    #[sea_orm(column_type = "Text")]
    pub trigger: String,
    pub actor_user_id: Option<i64>,
    pub started_at: DateTimeUtc,
    pub finished_at: Option<DateTimeUtc>,
    pub added: i64,
    pub paused: i64,
    pub resumed: i64,
    pub renamed: i64,
    pub skipped: i64,
    /// JSON list of the changes.
    #[sea_orm(column_type = "Text")]
    pub details: String,
    #[sea_orm(column_type = "Text", nullable)]
    pub error: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
