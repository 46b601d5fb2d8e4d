//! Which directory users an organization-wide connection syncs (issue 20 §2): selection rules
//! per connection (all users, a filter, a group, explicit addresses, shared mailboxes chosen
//! one by one, a maximum count, exclusions), and a record of each directory sync run (§3) with
//! its summary, so the rules page can show the last one.
use sea_orm_migration::prelude::*;

use crate::common::{cascade, count, drop_index, id, index, reference, reference_null, text};
use crate::common::{text_default, text_null, time, time_null};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Connections {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum ConnectionRules {
    Table,
    Id,
    OrganizationId,
    ConnectionId,
    /// all_users | filter | org_unit | group | address | shared | max_count | exclude
    Kind,
    /// The filter, org unit path, group id, address or count ('' for all_users).
    Value,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum DirectorySyncs {
    Table,
    Id,
    OrganizationId,
    ConnectionId,
    /// schedule | web | cli
    Trigger,
    /// The admin who asked for it (web).
    ActorUserId,
    StartedAt,
    FinishedAt,
    Added,
    Paused,
    Resumed,
    Renamed,
    Skipped,
    /// JSON: one line per change (`{"action","address","reason"}`).
    Details,
    Error,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(ConnectionRules::Table)
                .col(id(ConnectionRules::Id))
                .col(reference(ConnectionRules::OrganizationId))
                .col(reference(ConnectionRules::ConnectionId))
                .col(text(ConnectionRules::Kind))
                .col(text_default(ConnectionRules::Value, ""))
                .col(reference_null(ConnectionRules::CreatedBy))
                .col(time(ConnectionRules::CreatedAt))
                .foreign_key(&mut cascade(
                    ConnectionRules::Table,
                    ConnectionRules::ConnectionId,
                    Connections::Table,
                    Connections::Id,
                ))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ux_connection_rules_value",
            ConnectionRules::Table,
            &["connection_id", "kind", "value"],
            true,
        )
        .await?;
        m.create_table(
            Table::create()
                .table(DirectorySyncs::Table)
                .col(id(DirectorySyncs::Id))
                .col(reference(DirectorySyncs::OrganizationId))
                .col(reference(DirectorySyncs::ConnectionId))
                .col(text(DirectorySyncs::Trigger))
                .col(reference_null(DirectorySyncs::ActorUserId))
                .col(time(DirectorySyncs::StartedAt))
                .col(time_null(DirectorySyncs::FinishedAt))
                .col(count(DirectorySyncs::Added))
                .col(count(DirectorySyncs::Paused))
                .col(count(DirectorySyncs::Resumed))
                .col(count(DirectorySyncs::Renamed))
                .col(count(DirectorySyncs::Skipped))
                .col(text_default(DirectorySyncs::Details, "[]"))
                .col(text_null(DirectorySyncs::Error))
                .foreign_key(&mut cascade(
                    DirectorySyncs::Table,
                    DirectorySyncs::ConnectionId,
                    Connections::Table,
                    Connections::Id,
                ))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ix_directory_syncs_connection",
            DirectorySyncs::Table,
            &["connection_id", "id"],
            false,
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        drop_index(m, "ix_directory_syncs_connection", DirectorySyncs::Table).await?;
        m.drop_table(Table::drop().table(DirectorySyncs::Table).to_owned())
            .await?;
        drop_index(m, "ux_connection_rules_value", ConnectionRules::Table).await?;
        m.drop_table(Table::drop().table(ConnectionRules::Table).to_owned())
            .await
    }
}
