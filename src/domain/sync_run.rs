//! What a sync pass was and how it ended, stored as text in `sync_runs.kind` and
//! `sync_runs.status`, and where a scope's sync stands (`sync_cursors.phase`).
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

/// Stored as `running`, `succeeded`, `failed`, `interrupted` (its holder died mid-pass: the
/// run ended when the holder was last seen).
#[derive(Debug, Clone, Copy, PartialEq, Eq, DeriveValueType)]
#[sea_orm(value_type = "String")]
pub enum RunStatus {
    Running,
    Succeeded,
    Failed,
    Interrupted,
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
    pub const ALL: [Self; 4] = [
        Self::Running,
        Self::Succeeded,
        Self::Failed,
        Self::Interrupted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Interrupted => "interrupted",
        }
    }
}

/// Whether a scope is still being listed or follows changes; stored as `initial` or
/// `incremental` in `sync_cursors.phase`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, DeriveValueType)]
#[sea_orm(value_type = "String")]
pub enum CursorPhase {
    Initial,
    Incremental,
}

impl CursorPhase {
    pub const ALL: [Self; 2] = [Self::Initial, Self::Incremental];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Initial => "initial",
            Self::Incremental => "incremental",
        }
    }
}

text_enum!(CursorPhase);
text_enum!(RunKind);
text_enum!(RunStatus);
