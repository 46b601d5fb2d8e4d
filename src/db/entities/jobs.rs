//! `jobs` rows (mirrors the migration of the same table).
use sea_orm::entity::prelude::*;

use crate::domain::job::{JobKind, JobState};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "jobs")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub organization_id: i64,
    #[sea_orm(column_type = "Text")]
    pub kind: JobKind,
    pub subject_id: i64,
    #[sea_orm(column_type = "Text")]
    pub payload: String,
    #[sea_orm(column_type = "Text")]
    pub state: JobState,
    pub run_at: DateTimeUtc,
    pub attempts: i64,
    #[sea_orm(column_type = "Text", nullable)]
    pub locked_by: Option<String>,
    pub lease_until: Option<DateTimeUtc>,
    #[sea_orm(column_type = "Text", nullable)]
    pub last_error: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// Passes in a row that stopped at their time slice with more to do (0 once one finishes).
    pub slices: i64,
    /// Messages those passes went through (0 once one finishes).
    pub progress: i64,
    /// When a push notification last asked for a pass ([`crate::sync::wake`]).
    pub woken_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
