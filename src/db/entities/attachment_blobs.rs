//! `attachment_blobs` rows (mirrors the migration of the same table).
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "attachment_blobs")]
pub struct Model {
    /// Lowercase hex SHA-256 of the decoded content.
    #[sea_orm(primary_key, auto_increment = false, column_type = "Text")]
    pub sha256: String,
    pub size_bytes: i64,
    /// `database` or `directory`.
    #[sea_orm(column_type = "Text")]
    pub location: String,
    #[sea_orm(column_type = "Blob", nullable)]
    pub content: Option<Vec<u8>>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
