//! `folder_counts` rows (mirrors the migration of the same table).
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "folder_counts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub organization_id: i64,
    pub account_id: i64,
    #[sea_orm(column_type = "Text")]
    pub folder: String,
    #[sea_orm(column_type = "Text")]
    pub name: String,
    pub provider_count: i64,
    pub stored: i64,
    pub ledgered: i64,
    pub differing_passes: i64,
    pub checked_at: DateTimeUtc,
    pub synced_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
