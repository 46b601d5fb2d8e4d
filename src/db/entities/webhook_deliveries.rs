//! `webhook_deliveries` rows (mirrors the migration of the same table).
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_deliveries")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub organization_id: i64,
    pub endpoint_id: i64,
    pub event_id: i64,
    /// pending | delivered | failed
    #[sea_orm(column_type = "Text")]
    pub state: String,
    pub attempts: i64,
    pub next_attempt_at: DateTimeUtc,
    pub leased_until: Option<DateTimeUtc>,
    #[sea_orm(column_type = "Text", nullable)]
    pub lease_holder: Option<String>,
    pub last_status: Option<i32>,
    #[sea_orm(column_type = "Text", nullable)]
    pub last_response: Option<String>,
    pub delivered_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
