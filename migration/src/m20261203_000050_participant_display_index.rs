//! The participants index by email carries what a timeline shows of each participant:
//! `(email_id, organization_id, role, name, address)` instead of `(email_id)`. A page's
//! senders and recipients are then read from the index alone (on PostgreSQL, once vacuum has
//! marked the pages all-visible), not from a row on a page of its own for each participant.
//! Names are at most 500 bytes and addresses 254 (ingest caps them), well within an index row.
use sea_orm_migration::prelude::*;

use crate::common::{drop_index, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum EmailParticipants {
    Table,
}

const NEW: &str = "ix_participants_email_display";
const OLD: &str = "ix_participants_email";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let cols = ["email_id", "organization_id", "role", "name", "address"];
        index(m, NEW, EmailParticipants::Table, &cols, false).await?;
        drop_index(m, OLD, EmailParticipants::Table).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        index(m, OLD, EmailParticipants::Table, &["email_id"], false).await?;
        drop_index(m, NEW, EmailParticipants::Table).await
    }
}
