//! `connection_tokens` rows (mirrors the migration of the same table): a connection's cached
//! access tokens, sealed, one per subject ('' = app-only) and scope, shared by all instances.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "connection_tokens")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub connection_id: i64,
    #[sea_orm(column_type = "Text")]
    pub subject: String,
    #[sea_orm(column_type = "Text")]
    pub scope: String,
    /// Sealed; never shown or logged.
    #[sea_orm(column_type = "Text", nullable)]
    pub token: Option<String>,
    pub expires_at: Option<DateTimeUtc>,
    pub refresh_lock_until: Option<DateTimeUtc>,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
