//! Webhook endpoints of an organization (admins manage them), the outbox events are written to
//! in the transaction of the change that causes them ([`outbox`]), and the delivery queue the
//! workers of every instance lease from ([`queue`]).
pub mod outbox;
pub mod queue;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    Set,
};

use super::audit::{self, Entry};
use super::entities::webhook_endpoints::{self, Entity as Endpoints, Model as Endpoint};

/// Every endpoint of the organization, oldest first.
pub async fn list(db: &impl ConnectionTrait, org_id: i64) -> Result<Vec<Endpoint>, DbErr> {
    Endpoints::find()
        .filter(webhook_endpoints::Column::OrganizationId.eq(org_id))
        .order_by_asc(webhook_endpoints::Column::Id)
        .all(db)
        .await
}

pub async fn get(
    db: &impl ConnectionTrait,
    org_id: i64,
    id: i64,
) -> Result<Option<Endpoint>, DbErr> {
    Endpoints::find_by_id(id)
        .filter(webhook_endpoints::Column::OrganizationId.eq(org_id))
        .one(db)
        .await
}

/// A new endpoint (enabled) with a placeholder secret: the caller seals the real one for the
/// row's id and stores it with [`set_secret`] in the same transaction.
pub async fn insert(
    db: &impl ConnectionTrait,
    org_id: i64,
    actor: i64,
    url: &str,
    events: &str,
) -> Result<Endpoint, DbErr> {
    let now = super::now();
    let row = webhook_endpoints::ActiveModel {
        organization_id: Set(org_id),
        url: Set(url.to_string()),
        secret: Set(String::new()),
        events: Set(events.to_string()),
        enabled: Set(true),
        failure_streak: Set(0),
        failing_since: Set(None),
        disabled_reason: Set(None),
        created_by: Set(Some(actor)),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    audit::record(
        db,
        Entry::by_user(
            org_id,
            actor,
            "webhook.create",
            "webhook_endpoint",
            row.id,
            url.to_string(),
        ),
    )
    .await?;
    Ok(row)
}

/// Store a sealed secret (creation, rotation).
pub async fn set_secret(
    db: &impl ConnectionTrait,
    org_id: i64,
    id: i64,
    sealed: String,
) -> Result<bool, DbErr> {
    let res = Endpoints::update_many()
        .col_expr(webhook_endpoints::Column::Secret, Expr::value(sealed))
        .col_expr(
            webhook_endpoints::Column::UpdatedAt,
            Expr::value(super::now()),
        )
        .filter(webhook_endpoints::Column::Id.eq(id))
        .filter(webhook_endpoints::Column::OrganizationId.eq(org_id))
        .exec(db)
        .await?;
    Ok(res.rows_affected > 0)
}

/// Enable (a fresh start: no failure streak, no reason) or disable by an admin; audited.
pub async fn set_enabled(
    db: &impl ConnectionTrait,
    org_id: i64,
    actor: i64,
    id: i64,
    enabled: bool,
) -> Result<bool, DbErr> {
    let res = Endpoints::update_many()
        .col_expr(webhook_endpoints::Column::Enabled, Expr::value(enabled))
        .col_expr(webhook_endpoints::Column::FailureStreak, Expr::value(0i64))
        .col_expr(
            webhook_endpoints::Column::FailingSince,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(
            webhook_endpoints::Column::DisabledReason,
            Expr::value(Option::<String>::None),
        )
        .col_expr(
            webhook_endpoints::Column::UpdatedAt,
            Expr::value(super::now()),
        )
        .filter(webhook_endpoints::Column::Id.eq(id))
        .filter(webhook_endpoints::Column::OrganizationId.eq(org_id))
        .exec(db)
        .await?;
    if res.rows_affected == 0 {
        return Ok(false);
    }
    let action = if enabled {
        "webhook.enable"
    } else {
        "webhook.disable"
    };
    audit::record(
        db,
        Entry::by_user(org_id, actor, action, "webhook_endpoint", id, String::new()),
    )
    .await?;
    Ok(true)
}

/// Delete an endpoint with its deliveries; audited.
pub async fn delete(
    db: &impl ConnectionTrait,
    org_id: i64,
    actor: i64,
    id: i64,
) -> Result<bool, DbErr> {
    let Some(found) = get(db, org_id, id).await? else {
        return Ok(false);
    };
    // Deliveries go with it (foreign key, and explicitly for SQLite without the pragma).
    super::entities::webhook_deliveries::Entity::delete_many()
        .filter(super::entities::webhook_deliveries::Column::EndpointId.eq(id))
        .exec(db)
        .await?;
    Endpoints::delete_by_id(id).exec(db).await?;
    audit::record(
        db,
        Entry::by_user(
            org_id,
            actor,
            "webhook.delete",
            "webhook_endpoint",
            id,
            found.url,
        ),
    )
    .await?;
    Ok(true)
}
