//! `organizations` rows (mirrors the migration of the same table).
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "organizations")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(column_type = "Text")]
    pub name: String,
    #[sea_orm(column_type = "Text")]
    pub auto_create_contacts: String,
    pub hide_internal_only: bool,
    pub hide_bulk: bool,
    #[sea_orm(column_type = "Text")]
    pub free_mail_domains: String,
    pub created_at: DateTimeUtc,
    /// Marks may be written back to members' mailboxes (each mailbox opts in as well).
    pub write_back: bool,
    /// `off`, `database` or `directory` (`domain::attachments::Storage`).
    #[sea_orm(column_type = "Text")]
    pub attachment_storage: String,
    pub attachment_limit_bytes: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
