//! `connections` rows (mirrors the migration of the same table): organization-wide access to a
//! Microsoft 365 tenant (app-only) or a Google Workspace domain (domain-wide delegation).
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "connections")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub organization_id: i64,
    /// microsoft365 | google_workspace
    #[sea_orm(column_type = "Text")]
    pub kind: String,
    #[sea_orm(column_type = "Text")]
    pub name: String,
    /// Microsoft: tenant id or domain. Google: the Workspace domain.
    #[sea_orm(column_type = "Text")]
    pub tenant: String,
    /// Microsoft: application (client) id. Google: the service account's client_email.
    #[sea_orm(column_type = "Text")]
    pub client_id: String,
    /// secret | certificate | service_account_key
    #[sea_orm(column_type = "Text")]
    pub credential_kind: String,
    /// Sealed; never shown or logged.
    #[sea_orm(column_type = "Text")]
    pub credentials: String,
    #[sea_orm(column_type = "Text")]
    pub credential_hint: String,
    #[sea_orm(column_type = "Text", nullable)]
    pub admin_address: Option<String>,
    /// unknown | granted | missing
    #[sea_orm(column_type = "Text")]
    pub consent_state: String,
    /// active | failing | paused
    #[sea_orm(column_type = "Text")]
    pub status: String,
    pub last_test_at: Option<DateTimeUtc>,
    #[sea_orm(column_type = "Text", nullable)]
    pub last_test_result: Option<String>,
    pub last_directory_sync_at: Option<DateTimeUtc>,
    #[sea_orm(column_type = "Text", nullable)]
    pub last_error: Option<String>,
    pub created_by: Option<i64>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
