//! What a sync pass was and how it ended, stored as text in `sync_runs.kind` and
//! `sync_runs.status`.
use sea_orm::DeriveValueType;

use super::stored::text_enum;

/// Which pass ran: a first listing, changes since the cursor, or a listing again after the
/// provider expired the cursor. Stored as `initial`, `incremental`, `resync`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, DeriveValueType)]
#[sea_orm(value_type = "String")]
pub enum RunKind {
    Initial,
    Incremental,
    Resync,
}

/// Stored as `running`, `succeeded`, `failed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, DeriveValueType)]
#[sea_orm(value_type = "String")]
pub enum RunStatus {
    Running,
    Succeeded,
    Failed,
}

impl RunKind {
    pub const ALL: [Self; 3] = [Self::Initial, Self::Incremental, Self::Resync];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Initial => "initial",
            Self::Incremental => "incremental",
            Self::Resync => "resync",
        }
    }
}

impl RunStatus {
    pub const ALL: [Self; 3] = [Self::Running, Self::Succeeded, Self::Failed];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
        }
    }
}

text_enum!(RunKind);
text_enum!(RunStatus);
