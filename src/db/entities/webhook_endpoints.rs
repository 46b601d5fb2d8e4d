//! `webhook_endpoints` rows (mirrors the migration of the same table).
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_endpoints")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub organization_id: i64,
    #[sea_orm(column_type = "Text")]
    pub url: String,
    /// Sealed (`crate::crypto`), never the secret itself.
    #[sea_orm(column_type = "Text")]
    pub secret: String,
    /// `,type,type,`
    #[sea_orm(column_type = "Text")]
    pub events: String,
    pub enabled: bool,
    pub failure_streak: i64,
    pub failing_since: Option<DateTimeUtc>,
    #[sea_orm(column_type = "Text", nullable)]
    pub disabled_reason: Option<String>,
    pub created_by: Option<i64>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
