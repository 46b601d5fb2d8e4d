//! Webhooks (issue 25, item 4): endpoints an admin registers (URL, sealed secret, chosen
//! events), the outbox of events (written in the transaction of the change that causes them,
//! each with a stable `msg_...` id), and one delivery row per event and endpoint, leased by the
//! delivery workers of every instance. A mailbox's status change is captured by a trigger, so
//! every path that changes `mail_accounts.status` emits `mailbox.status_changed`.
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

use crate::common::{cascade, count, drop_index, flag, id, index, reference, reference_null};
use crate::common::{text, text_default, text_null, time, time_null};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum WebhookEndpoints {
    Table,
    Id,
    OrganizationId,
    Url,
    /// `whsec_...`, sealed with the key ring, bound to the row.
    Secret,
    /// The subscribed event types, comma-separated and comma-enclosed: `,email.linked,`.
    Events,
    Enabled,
    /// Failed attempts in a row (reset by a success).
    FailureStreak,
    /// When the current streak of failures began.
    FailingSince,
    /// Why the endpoint was disabled automatically (shown to admins); NULL otherwise.
    DisabledReason,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum WebhookEvents {
    Table,
    Id,
    OrganizationId,
    /// The stable `webhook-id` (`msg_` + 32 hex digits), the same on every retry.
    MsgId,
    EventType,
    /// The exact JSON body that is signed and sent.
    Payload,
    /// A test event is for this endpoint only; NULL: every endpoint that wants the type.
    EndpointId,
    /// Fanned out into deliveries.
    Dispatched,
    CreatedAt,
}

#[derive(DeriveIden)]
enum WebhookDeliveries {
    Table,
    Id,
    OrganizationId,
    EndpointId,
    EventId,
    /// pending | delivered | failed
    State,
    Attempts,
    NextAttemptAt,
    LeasedUntil,
    LeaseHolder,
    LastStatus,
    /// The start of the last response (or the error), for the delivery log.
    LastResponse,
    DeliveredAt,
    CreatedAt,
    UpdatedAt,
}

/// Endpoints of the organization that want `type`: `{org}` and `{type}` are SQL expressions.
fn wanted(org: &str, kind: &str) -> String {
    format!(
        "EXISTS (SELECT 1 FROM webhook_endpoints p WHERE p.organization_id = {org} \
         AND p.enabled AND p.events LIKE '%,' || {kind} || ',%')"
    )
}

fn pg_trigger() -> [String; 2] {
    [
        format!(
            "CREATE FUNCTION webhook_mailbox_status() RETURNS trigger LANGUAGE plpgsql AS $$ \
             BEGIN IF {wanted} THEN \
             INSERT INTO webhook_events (organization_id, msg_id, event_type, payload, \
             endpoint_id, dispatched, created_at) VALUES (NEW.organization_id, \
             'msg_' || md5(random()::text || clock_timestamp()::text || NEW.id::text), \
             'mailbox.status_changed', json_build_object('type', 'mailbox.status_changed', \
             'timestamp', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), \
             'data', json_build_object('mailbox_id', NEW.id, 'address', NEW.address, \
             'from', OLD.status, 'to', NEW.status))::text, NULL, false, now()); \
             END IF; RETURN NEW; END $$",
            wanted = wanted("NEW.organization_id", "'mailbox.status_changed'")
        ),
        "CREATE TRIGGER webhook_mailbox_status AFTER UPDATE OF status ON mail_accounts \
         FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) \
         EXECUTE FUNCTION webhook_mailbox_status()"
            .to_string(),
    ]
}

fn sqlite_trigger() -> String {
    format!(
        "CREATE TRIGGER webhook_mailbox_status AFTER UPDATE OF status ON mail_accounts \
         WHEN OLD.status IS NOT NEW.status AND {wanted} BEGIN \
         INSERT INTO webhook_events (organization_id, msg_id, event_type, payload, endpoint_id, \
         dispatched, created_at) VALUES (NEW.organization_id, \
         'msg_' || lower(hex(randomblob(16))), 'mailbox.status_changed', \
         json_object('type', 'mailbox.status_changed', \
         'timestamp', strftime('%Y-%m-%dT%H:%M:%SZ', 'now'), \
         'data', json_object('mailbox_id', NEW.id, 'address', NEW.address, \
         'from', OLD.status, 'to', NEW.status)), NULL, 0, \
         strftime('%Y-%m-%dT%H:%M:%fZ', 'now')); END",
        wanted = wanted("NEW.organization_id", "'mailbox.status_changed'")
    )
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(WebhookEndpoints::Table)
                .col(id(WebhookEndpoints::Id))
                .col(reference(WebhookEndpoints::OrganizationId))
                .col(text(WebhookEndpoints::Url))
                .col(text(WebhookEndpoints::Secret))
                .col(text(WebhookEndpoints::Events))
                .col(flag(WebhookEndpoints::Enabled))
                .col(count(WebhookEndpoints::FailureStreak))
                .col(time_null(WebhookEndpoints::FailingSince))
                .col(text_null(WebhookEndpoints::DisabledReason))
                .col(reference_null(WebhookEndpoints::CreatedBy))
                .col(time(WebhookEndpoints::CreatedAt))
                .col(time(WebhookEndpoints::UpdatedAt))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ix_webhook_endpoints_org",
            WebhookEndpoints::Table,
            &["organization_id", "enabled"],
            false,
        )
        .await?;
        m.create_table(
            Table::create()
                .table(WebhookEvents::Table)
                .col(id(WebhookEvents::Id))
                .col(reference(WebhookEvents::OrganizationId))
                .col(text(WebhookEvents::MsgId))
                .col(text(WebhookEvents::EventType))
                .col(text(WebhookEvents::Payload))
                .col(reference_null(WebhookEvents::EndpointId))
                .col(flag(WebhookEvents::Dispatched))
                .col(time(WebhookEvents::CreatedAt))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ux_webhook_events_msg",
            WebhookEvents::Table,
            &["msg_id"],
            true,
        )
        .await?;
        index(
            m,
            "ix_webhook_events_pending",
            WebhookEvents::Table,
            &["dispatched", "id"],
            false,
        )
        .await?;
        m.create_table(
            Table::create()
                .table(WebhookDeliveries::Table)
                .col(id(WebhookDeliveries::Id))
                .col(reference(WebhookDeliveries::OrganizationId))
                .col(reference(WebhookDeliveries::EndpointId))
                .col(reference(WebhookDeliveries::EventId))
                .col(text_default(WebhookDeliveries::State, "pending"))
                .col(count(WebhookDeliveries::Attempts))
                .col(time(WebhookDeliveries::NextAttemptAt))
                .col(time_null(WebhookDeliveries::LeasedUntil))
                .col(text_null(WebhookDeliveries::LeaseHolder))
                .col(
                    ColumnDef::new(WebhookDeliveries::LastStatus)
                        .integer()
                        .null(),
                )
                .col(text_null(WebhookDeliveries::LastResponse))
                .col(time_null(WebhookDeliveries::DeliveredAt))
                .col(time(WebhookDeliveries::CreatedAt))
                .col(time(WebhookDeliveries::UpdatedAt))
                .foreign_key(&mut cascade(
                    WebhookDeliveries::Table,
                    WebhookDeliveries::EndpointId,
                    WebhookEndpoints::Table,
                    WebhookEndpoints::Id,
                ))
                .foreign_key(&mut cascade(
                    WebhookDeliveries::Table,
                    WebhookDeliveries::EventId,
                    WebhookEvents::Table,
                    WebhookEvents::Id,
                ))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ux_webhook_deliveries_once",
            WebhookDeliveries::Table,
            &["event_id", "endpoint_id"],
            true,
        )
        .await?;
        index(
            m,
            "ix_webhook_deliveries_due",
            WebhookDeliveries::Table,
            &["state", "next_attempt_at"],
            false,
        )
        .await?;
        index(
            m,
            "ix_webhook_deliveries_log",
            WebhookDeliveries::Table,
            &["endpoint_id", "id"],
            false,
        )
        .await?;
        let db = m.get_connection();
        match db.get_database_backend() {
            DbBackend::Postgres => {
                for sql in pg_trigger() {
                    db.execute_unprepared(&sql).await?;
                }
            }
            _ => {
                db.execute_unprepared(&sqlite_trigger()).await?;
            }
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        match db.get_database_backend() {
            DbBackend::Postgres => {
                db.execute_unprepared(
                    "DROP TRIGGER IF EXISTS webhook_mailbox_status ON mail_accounts",
                )
                .await?;
                db.execute_unprepared("DROP FUNCTION IF EXISTS webhook_mailbox_status()")
                    .await?;
            }
            _ => {
                db.execute_unprepared("DROP TRIGGER IF EXISTS webhook_mailbox_status")
                    .await?;
            }
        }
        drop_index(m, "ix_webhook_deliveries_log", WebhookDeliveries::Table).await?;
        drop_index(m, "ix_webhook_deliveries_due", WebhookDeliveries::Table).await?;
        drop_index(m, "ux_webhook_deliveries_once", WebhookDeliveries::Table).await?;
        m.drop_table(Table::drop().table(WebhookDeliveries::Table).to_owned())
            .await?;
        drop_index(m, "ix_webhook_events_pending", WebhookEvents::Table).await?;
        drop_index(m, "ux_webhook_events_msg", WebhookEvents::Table).await?;
        m.drop_table(Table::drop().table(WebhookEvents::Table).to_owned())
            .await?;
        drop_index(m, "ix_webhook_endpoints_org", WebhookEndpoints::Table).await?;
        m.drop_table(Table::drop().table(WebhookEndpoints::Table).to_owned())
            .await
    }
}
