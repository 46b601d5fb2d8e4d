//! `email_participants` rows (mirrors the migration of the same table).
use sea_orm::entity::prelude::*;

use crate::domain::message::ParticipantRole;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "email_participants")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub organization_id: i64,
    pub email_id: i64,
    #[sea_orm(column_type = "Text")]
    pub role: ParticipantRole,
    #[sea_orm(column_type = "Text")]
    pub address: String,
    #[sea_orm(column_type = "Text")]
    pub name: String,
    #[sea_orm(column_type = "Text")]
    pub domain: String,
    /// Registrable domain of `domain`; '' when it has none, NULL until backfilled.
    #[sea_orm(column_type = "Text", nullable)]
    pub registrable: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
