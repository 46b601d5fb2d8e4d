//! `sync_runs.holder` and `sync_runs.heartbeat_at`: which worker runs a pass and when it was
//! last seen, so a pass whose holder died (its lease released at its restart, or taken over
//! after expiry) is closed as `interrupted` at the time it was last seen.
use sea_orm_migration::prelude::*;

use crate::common::{add_columns, drop_columns, text_null, time_null};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum SyncRuns {
    Table,
    Holder,
    HeartbeatAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        add_columns(
            m,
            SyncRuns::Table,
            vec![
                text_null(SyncRuns::Holder),
                time_null(SyncRuns::HeartbeatAt),
            ],
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        drop_columns(
            m,
            SyncRuns::Table,
            [SyncRuns::Holder, SyncRuns::HeartbeatAt],
        )
        .await
    }
}
