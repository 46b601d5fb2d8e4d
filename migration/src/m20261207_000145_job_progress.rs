//! `jobs.progress`: how many messages the passes in a row that stopped at their slice went
//! through (0 once a pass finishes). Workers claim the due job with the least first, so
//! histories advance in step whatever each provider's speed, and mailboxes of one size finish
//! together instead of one after another.
use sea_orm_migration::prelude::*;

use crate::common::{add_columns, count, drop_columns};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Jobs {
    Table,
    Progress,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        add_columns(m, Jobs::Table, vec![count(Jobs::Progress)]).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        drop_columns(m, Jobs::Table, [Jobs::Progress]).await
    }
}
