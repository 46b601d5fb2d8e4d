//! `sync_cursors` rows (mirrors the migration of the same table).
use sea_orm::entity::prelude::*;

use crate::domain::sync_run::CursorPhase;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sync_cursors")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub organization_id: i64,
    pub account_id: i64,
    #[sea_orm(column_type = "Text")]
    pub scope: String,
    #[sea_orm(column_type = "Text", nullable)]
    pub cursor: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub page_token: Option<String>,
    #[sea_orm(column_type = "Text")]
    pub phase: CursorPhase,
    pub updated_at: DateTimeUtc,
    pub listing_started_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
