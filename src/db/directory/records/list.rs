//! The list of one kind of record: keyset-paginated by name, searchable by name and
//! identifier, each row with its identifiers and a contact's business.
use std::collections::{BTreeSet, HashMap};

use sea_orm::{ConnectionTrait, DbErr, QueryResult};

use super::{activity, business_of, fetch, select_identifiers, select_records, tables, RecordRow};
use crate::db::directory::{contains_pattern, paginate, Cursor, Page};
use crate::db::timeline::sql::Sql;
use crate::domain::records::RecordKind;

/// Records whose name or an identifier contains `query` (any case), by (name, id), after
/// `after`.
pub async fn list(
    db: &impl ConnectionTrait,
    org_id: i64,
    kind: RecordKind,
    query: &str,
    after: Option<&Cursor>,
    size: u64,
) -> Result<Page<RecordRow>, DbErr> {
    let mut sql = select_records(kind, org_id);
    matching_sql(&mut sql, kind, org_id, query);
    if let Some(c) = after {
        sql.push(" AND (r.name > ")
            .bind(c.name.clone())
            .push(" OR (r.name = ")
            .bind(c.name.clone())
            .push(" AND r.id > ")
            .bind(c.id)
            .push("))");
    }
    sql.push(" ORDER BY r.name, r.id LIMIT ")
        .bind(i64::try_from(size + 1).unwrap_or(i64::MAX));
    let rows = rows_of(db, kind, fetch(db, sql).await?).await?;
    Ok(paginate(rows, size, |r| Cursor {
        name: r.name.clone(),
        id: r.id,
    }))
}

/// ` AND ` the record `r` has a name or an identifier containing `query` (any case); nothing
/// for a blank query.
pub(super) fn matching_sql(sql: &mut Sql, kind: RecordKind, org_id: i64, query: &str) {
    if query.trim().is_empty() {
        return;
    }
    let t = tables(kind);
    let pattern = contains_pattern(query);
    sql.push(" AND (LOWER(r.name) LIKE ")
        .bind(pattern.clone())
        .push(" ESCAPE '\\' OR r.id IN (SELECT i.")
        .push(t.owner)
        .push(" FROM ")
        .push(t.identifiers)
        .push(" i WHERE i.organization_id = ")
        .bind(org_id)
        .push(" AND LOWER(i.")
        .push(t.value)
        .push(") LIKE ")
        .bind(pattern)
        .push(" ESCAPE '\\'))");
}

/// List rows of [`select_records`]' results, in their order, with identifiers and a
/// contact's business name.
pub(super) async fn rows_of(
    db: &impl ConnectionTrait,
    kind: RecordKind,
    found: Vec<QueryResult>,
) -> Result<Vec<RecordRow>, DbErr> {
    let mut rows = Vec::new();
    for row in found {
        let business = business_of(kind, &row)?;
        rows.push((
            row.try_get::<i64>("", "id")?,
            row.try_get::<String>("", "name")?,
            business,
        ));
    }
    let mut identifiers = identifiers_of(db, kind, rows.iter().map(|r| r.0).collect()).await?;
    let names = business_names(db, rows.iter().filter_map(|r| r.2).collect()).await?;
    Ok(rows
        .into_iter()
        .map(|(id, name, business)| RecordRow {
            identifiers: identifiers.remove(&id).unwrap_or_default(),
            business: business.and_then(|b| names.get(&b).map(|n| (b, n.clone()))),
            activity: activity::Activity::default(),
            id,
            name,
        })
        .collect())
}

/// The identifiers of `ids`, each record's in order.
async fn identifiers_of(
    db: &impl ConnectionTrait,
    kind: RecordKind,
    ids: Vec<i64>,
) -> Result<HashMap<i64, Vec<String>>, DbErr> {
    let mut out: HashMap<i64, Vec<String>> = HashMap::new();
    if ids.is_empty() {
        return Ok(out);
    }
    let t = tables(kind);
    let mut sql = select_identifiers(&t);
    sql.push("i.")
        .push(t.owner)
        .push(" IN ")
        .bind_list(ids)
        .push(" ORDER BY i.")
        .push(t.value);
    for row in fetch(db, sql).await? {
        out.entry(row.try_get("", "owner")?)
            .or_default()
            .push(row.try_get("", "value")?);
    }
    Ok(out)
}

async fn business_names(
    db: &impl ConnectionTrait,
    ids: BTreeSet<i64>,
) -> Result<HashMap<i64, String>, DbErr> {
    let mut out = HashMap::new();
    if ids.is_empty() {
        return Ok(out);
    }
    let mut sql = Sql::default();
    sql.push("SELECT b.id, b.name FROM businesses b WHERE b.id IN ")
        .bind_list(ids);
    for row in fetch(db, sql).await? {
        out.insert(row.try_get("", "id")?, row.try_get("", "name")?);
    }
    Ok(out)
}
