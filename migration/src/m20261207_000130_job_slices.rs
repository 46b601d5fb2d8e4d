//! `jobs.slices`: how many passes in a row stopped at their time slice with more to do (0 once
//! a pass finishes). Workers claim the due job with the fewest first, so every mailbox's first
//! pages come before anyone's long history, and histories then share the workers evenly.
use sea_orm_migration::prelude::*;

use crate::common::{add_columns, count, drop_columns};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Jobs {
    Table,
    Slices,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        add_columns(m, Jobs::Table, vec![count(Jobs::Slices)]).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        drop_columns(m, Jobs::Table, [Jobs::Slices]).await
    }
}
