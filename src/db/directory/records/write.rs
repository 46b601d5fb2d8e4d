//! Directory record writes: create or replace a business or contact with its identifiers
//! (audited; a taken domain or address names its owner), and delete one with its links.
use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbErr, SqlErr, Value};

use super::{execute, fetch, name_of, select_identifiers, tables};
use crate::db::directory::WriteError;
use crate::db::timeline::sql::Sql;
use crate::domain::records::RecordKind;

/// What a create or an update writes: the record's fields and its identifiers.
#[derive(Debug, Clone)]
pub struct Fields<'a> {
    pub name: &'a str,
    pub notes: &'a str,
    /// A contact's business (checked to be the organization's).
    pub business_id: Option<i64>,
    pub identifiers: BTreeSet<&'a str>,
}

/// Create (`existing` None) or replace a record with its identifiers inside the caller's transaction
/// (audited); returns its id.
pub async fn write_in(
    txn: &impl ConnectionTrait,
    org_id: i64,
    actor: i64,
    kind: RecordKind,
    existing: Option<i64>,
    fields: Fields<'_>,
) -> Result<i64, WriteError> {
    if let Some(id) = existing {
        name_of(txn, org_id, kind, id)
            .await?
            .ok_or(WriteError::NotFound)?;
    }
    if let Some(business) = fields.business_id {
        name_of(txn, org_id, RecordKind::Business, business)
            .await?
            .ok_or(WriteError::NoSuchBusiness)?;
    }
    let id = match existing {
        Some(id) => update_row(txn, kind, id, &fields).await?,
        None => insert_row(txn, org_id, kind, &fields).await?,
    };
    replace_identifiers(txn, org_id, kind, id, fields.identifiers).await?;
    let verb = if existing.is_some() {
        "update"
    } else {
        "create"
    };
    let action = format!("{}.{verb}", kind.noun());
    super::super::record(txn, org_id, actor, &action, id, fields.name).await?;
    Ok(id)
}

/// The record's own columns as `Fields` sets them.
fn columns(
    kind: RecordKind,
    fields: &Fields<'_>,
    now: DateTime<Utc>,
) -> Vec<(&'static str, Value)> {
    let mut columns: Vec<(&str, Value)> = vec![
        ("name", fields.name.into()),
        ("notes", fields.notes.into()),
        ("updated_at", now.into()),
    ];
    if kind.is_contact() {
        columns.push(("business_id", fields.business_id.into()));
    }
    columns
}

/// Insert a record's row (identifiers apart, not audited); returns its id.
pub(in crate::db::directory) async fn insert_row(
    db: &impl ConnectionTrait,
    org_id: i64,
    kind: RecordKind,
    fields: &Fields<'_>,
) -> Result<i64, DbErr> {
    let now = crate::db::now();
    let mut columns = columns(kind, fields, now);
    columns.extend([
        ("organization_id", org_id.into()),
        ("created_at", now.into()),
    ]);
    let mut sql = Sql::default();
    sql.push("INSERT INTO ")
        .push(tables(kind).records)
        .push(" (");
    for (i, (column, _)) in columns.iter().enumerate() {
        sql.push(if i == 0 { "" } else { ", " }).push(column);
    }
    sql.push(") VALUES (");
    for (i, (_, value)) in columns.into_iter().enumerate() {
        sql.push(if i == 0 { "" } else { ", " }).bind(value);
    }
    sql.push(") RETURNING id");
    returned_id(db, sql).await
}

async fn update_row(
    db: &impl ConnectionTrait,
    kind: RecordKind,
    id: i64,
    fields: &Fields<'_>,
) -> Result<i64, DbErr> {
    let mut sql = Sql::default();
    sql.push("UPDATE ").push(tables(kind).records).push(" SET ");
    for (i, (column, value)) in columns(kind, fields, crate::db::now())
        .into_iter()
        .enumerate()
    {
        sql.push(if i == 0 { "" } else { ", " })
            .push(column)
            .push(" = ")
            .bind(value);
    }
    sql.push(" WHERE id = ").bind(id).push(" RETURNING id");
    returned_id(db, sql).await
}

async fn returned_id(db: &impl ConnectionTrait, sql: Sql) -> Result<i64, DbErr> {
    db.query_one(sql.build(db.get_database_backend()))
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("no row returned".into()))?
        .try_get("", "id")
}

/// Replace a record's identifiers; refused, naming the owner, when one belongs to another.
async fn replace_identifiers(
    db: &impl ConnectionTrait,
    org_id: i64,
    kind: RecordKind,
    id: i64,
    wanted: BTreeSet<&str>,
) -> Result<(), WriteError> {
    let t = tables(kind);
    let another = || format!("another {}", kind.noun());
    let mut sql = select_identifiers(&t);
    sql.push("i.organization_id = ")
        .bind(org_id)
        .push(" AND i.")
        .push(t.value)
        .push(" IN ")
        .bind_list(wanted.iter().map(|v| (*v).to_string()))
        .push(" AND i.")
        .push(t.owner)
        .push(" <> ")
        .bind(id)
        .push(" ORDER BY i.")
        .push(t.value)
        .push(" LIMIT 1");
    if let Some(taken) = fetch(db, sql).await?.first() {
        let owner = name_of(db, org_id, kind, taken.try_get("", "owner")?).await?;
        return Err(WriteError::Taken {
            value: taken.try_get("", "value")?,
            owner: owner.unwrap_or_else(another),
        });
    }
    let mut sql = Sql::default();
    sql.push("DELETE FROM ")
        .push(t.identifiers)
        .push(" WHERE ")
        .push(t.owner)
        .push(" = ")
        .bind(id);
    execute(db, sql).await?;
    for value in wanted {
        if let Err(e) = insert_identifiers(db, org_id, kind, id, [value]).await {
            // Lost a race with another writer between the check and the insert.
            if let Some(SqlErr::UniqueConstraintViolation(_)) = e.sql_err() {
                return Err(WriteError::Taken {
                    value: value.to_string(),
                    owner: another(),
                });
            }
            return Err(e.into());
        }
    }
    Ok(())
}

/// Add identifiers to a record, stored as given.
pub(in crate::db::directory) async fn insert_identifiers<V: AsRef<str>>(
    db: &impl ConnectionTrait,
    org_id: i64,
    kind: RecordKind,
    id: i64,
    values: impl IntoIterator<Item = V>,
) -> Result<(), DbErr> {
    let t = tables(kind);
    for value in values {
        let mut sql = Sql::default();
        sql.push("INSERT INTO ")
            .push(t.identifiers)
            .push(" (organization_id, ")
            .push(t.owner)
            .push(", ")
            .push(t.value)
            .push(") VALUES (")
            .bind(org_id)
            .push(", ")
            .bind(id)
            .push(", ")
            .bind(value.as_ref().to_string())
            .push(")");
        execute(db, sql).await?;
    }
    Ok(())
}

/// Delete a record with its identifiers and email links (audited); a business's contacts stay,
/// without a business. Inside the caller's transaction.
pub async fn delete_in(
    txn: &impl ConnectionTrait,
    org_id: i64,
    actor: i64,
    kind: RecordKind,
    id: i64,
) -> Result<(), WriteError> {
    let t = tables(kind);
    let name = name_of(txn, org_id, kind, id)
        .await?
        .ok_or(WriteError::NotFound)?;
    // Explicit, so the result does not depend on SQLite's foreign_keys pragma.
    for table in ["email_links", "link_tombstones", t.identifiers] {
        let mut sql = Sql::default();
        sql.push("DELETE FROM ")
            .push(table)
            .push(" WHERE ")
            .push(t.owner)
            .push(" = ")
            .bind(id);
        execute(txn, sql).await?;
    }
    if kind == RecordKind::Business {
        let mut sql = Sql::default();
        sql.push("UPDATE contacts SET business_id = NULL WHERE business_id = ")
            .bind(id);
        execute(txn, sql).await?;
    }
    let mut sql = Sql::default();
    sql.push("DELETE FROM ")
        .push(t.records)
        .push(" WHERE id = ")
        .bind(id);
    execute(txn, sql).await?;
    let action = format!("{}.delete", kind.noun());
    super::super::record(txn, org_id, actor, &action, id, &name).await?;
    Ok(())
}
