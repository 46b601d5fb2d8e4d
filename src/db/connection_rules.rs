//! Selection rules of organization-wide connections (`connection_rules`), and the connection
//! lookups the rules and directory sync need, each scoped to the organization.
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    Set, SqlErr,
};

use super::entities::connection_rules::{self, Entity as Rules, Model as RuleRow};
use super::entities::connections::{self, Entity as Connections, Model as Connection};
use crate::domain::selection::{Rule, RuleKind};

/// The organization's connections, by name; only the one named `name` when given.
pub async fn connections_of(
    db: &impl ConnectionTrait,
    org_id: i64,
    name: Option<&str>,
) -> Result<Vec<Connection>, DbErr> {
    let mut q = Connections::find().filter(connections::Column::OrganizationId.eq(org_id));
    if let Some(name) = name {
        q = q.filter(connections::Column::Name.eq(name));
    }
    q.order_by_asc(connections::Column::Name).all(db).await
}

/// Every connection of every organization (the scheduler), by id.
pub async fn all_connections(db: &impl ConnectionTrait) -> Result<Vec<Connection>, DbErr> {
    Connections::find()
        .order_by_asc(connections::Column::Id)
        .all(db)
        .await
}

/// The rows of a connection's rules, in the order they were added.
pub async fn rows(
    db: &impl ConnectionTrait,
    org_id: i64,
    connection_id: i64,
) -> Result<Vec<RuleRow>, DbErr> {
    Rules::find()
        .filter(connection_rules::Column::OrganizationId.eq(org_id))
        .filter(connection_rules::Column::ConnectionId.eq(connection_id))
        .order_by_asc(connection_rules::Column::Id)
        .all(db)
        .await
}

/// A connection's rules as the selection reads them (rows of an unknown kind are ignored).
pub async fn list(
    db: &impl ConnectionTrait,
    org_id: i64,
    connection_id: i64,
) -> Result<Vec<Rule>, DbErr> {
    Ok(rows(db, org_id, connection_id)
        .await?
        .into_iter()
        .filter_map(|r| {
            Some(Rule {
                id: r.id,
                kind: RuleKind::parse(&r.kind)?,
                value: r.value,
            })
        })
        .collect())
}

/// Add a rule; `Ok(None)` when the connection has that rule already.
pub async fn add(
    db: &impl ConnectionTrait,
    connection: &Connection,
    kind: RuleKind,
    value: &str,
    by: Option<i64>,
) -> Result<Option<RuleRow>, DbErr> {
    let row = connection_rules::ActiveModel {
        organization_id: Set(connection.organization_id),
        connection_id: Set(connection.id),
        kind: Set(kind.as_str().to_string()),
        value: Set(value.to_string()),
        created_by: Set(by),
        created_at: Set(super::now()),
        ..Default::default()
    };
    match row.insert(db).await {
        Ok(row) => Ok(Some(row)),
        Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Remove a rule of the connection; the removed row, `None` when there is no such rule.
pub async fn remove(
    db: &impl ConnectionTrait,
    org_id: i64,
    connection_id: i64,
    id: i64,
) -> Result<Option<RuleRow>, DbErr> {
    let Some(row) = Rules::find_by_id(id)
        .filter(connection_rules::Column::OrganizationId.eq(org_id))
        .filter(connection_rules::Column::ConnectionId.eq(connection_id))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    Rules::delete_by_id(row.id).exec(db).await?;
    Ok(Some(row))
}
