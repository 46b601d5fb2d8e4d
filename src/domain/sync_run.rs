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

/// How long a worker's pass runs before it stops at the next committed page and lets the
/// mailbox that has had the least go next (`THREADLINE_SYNC_SLICE_SECONDS`). Long enough for
/// several pages under real provider latency (a Gmail page of 500 is a few seconds of batch
/// calls), short enough that a newly linked mailbox waits at most about one slice per worker
/// before its first page.
pub const DEFAULT_SLICE: std::time::Duration = std::time::Duration::from_secs(20);
/// Sync workers per instance, by default (`THREADLINE_SYNC_WORKERS`): mailboxes synced at
/// once. Under provider latency and per-mailbox quotas a pass mostly waits on the network
/// (Gmail allows one mailbox about 20 messages a second at 6,000 units a minute), so one
/// instance keeps several mailboxes going; their database work shares the sync
/// pool (`db::sync_pool_size` connections), apart from the web's.
pub const DEFAULT_WORKERS: usize = 8;
