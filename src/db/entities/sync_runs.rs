//! `sync_runs` rows (mirrors the migration of the same table).
use sea_orm::entity::prelude::*;

use crate::domain::sync_run::{RunKind, RunStatus};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sync_runs")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub organization_id: i64,
    pub account_id: i64,
    #[sea_orm(column_type = "Text")]
    pub kind: RunKind,
    #[sea_orm(column_type = "Text")]
    pub status: RunStatus,
    pub listed: i64,
    pub fetched: i64,
    pub stored: i64,
    pub updated: i64,
    pub skipped: i64,
    pub deleted: i64,
    pub throttled: i64,
    pub requests: i64,
    pub duration_ms: i64,
    pub started_at: DateTimeUtc,
    pub finished_at: Option<DateTimeUtc>,
    #[sea_orm(column_type = "Text", nullable)]
    pub error: Option<String>,
    /// The worker that runs the pass (None: a `threadline sync` pass, which holds no lease).
    #[sea_orm(column_type = "Text", nullable)]
    pub holder: Option<String>,
    /// When the holder was last seen (its last heartbeat).
    pub heartbeat_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
