//! Businesses and contacts as one kind of directory record: keyset-paginated search, one record
//! with everything its page shows, pickers; writes ([`write`]) create or replace a record with
//! its identifiers (domains or addresses), naming the owner of a taken one, and delete it with
//! its links.
pub mod activity;
mod list;
mod write;

use std::collections::HashMap;

use sea_orm::{ConnectionTrait, DbErr, QueryResult};

pub use list::list;
use list::{matching_sql, rows_of};
pub use write::{delete_in, write_in, Fields};
pub(super) use write::{insert_identifiers, insert_row};

use crate::db::combined::{self, FromPartRow, PartRow};
use crate::db::timeline::sql::Sql;
use crate::domain::records::RecordKind;

/// A business or contact in a list; a contact with its business as `(id, name)`.
#[derive(Debug, Clone)]
pub struct RecordRow {
    pub id: i64,
    pub name: String,
    /// Domains or addresses.
    pub identifiers: Vec<String>,
    pub business: Option<(i64, String)>,
    /// Last activity and counts as the reader's timeline shows them ([`activity::fill`]).
    pub activity: activity::Activity,
}

/// A business or contact with everything its page shows.
#[derive(Debug, Clone)]
pub struct RecordDetail {
    pub id: i64,
    pub name: String,
    pub notes: String,
    /// Domains or addresses, in order.
    pub identifiers: Vec<String>,
    /// A contact's business as `(id, name)`.
    pub business: Option<(i64, String)>,
    /// A business's contacts as `(id, name)`, by name.
    pub contacts: Vec<(i64, String)>,
}

/// Where a kind's rows live.
struct Tables {
    records: &'static str,
    identifiers: &'static str,
    /// The column naming the record, in its identifiers, `email_links` and `link_tombstones`.
    owner: &'static str,
    value: &'static str,
}

fn tables(kind: RecordKind) -> Tables {
    match kind {
        RecordKind::Business => Tables {
            records: "businesses",
            identifiers: "business_domains",
            owner: "business_id",
            value: "domain",
        },
        RecordKind::Contact => Tables {
            records: "contacts",
            identifiers: "contact_addresses",
            owner: "contact_id",
            value: "address",
        },
    }
}

async fn fetch(db: &impl ConnectionTrait, sql: Sql) -> Result<Vec<QueryResult>, DbErr> {
    db.query_all(sql.build(db.get_database_backend())).await
}

async fn execute(db: &impl ConnectionTrait, sql: Sql) -> Result<(), DbErr> {
    db.execute(sql.build(db.get_database_backend())).await?;
    Ok(())
}

/// `SELECT` the organization's records of `kind` (id, name, notes and a contact's business)
/// `FROM` its table `r`, for the caller's further conditions.
fn select_records(kind: RecordKind, org_id: i64) -> Sql {
    let mut sql = Sql::default();
    sql.push("SELECT r.id, r.name, r.notes")
        .push(if kind.is_contact() {
            ", r.business_id"
        } else {
            ""
        })
        .push(" FROM ")
        .push(tables(kind).records)
        .push(" r WHERE r.organization_id = ")
        .bind(org_id);
    sql
}

/// A contact row's business; None for a business.
fn business_of(kind: RecordKind, row: &QueryResult) -> Result<Option<i64>, DbErr> {
    if kind.is_contact() {
        row.try_get("", "business_id")
    } else {
        Ok(None)
    }
}

/// `SELECT owner, value FROM` the kind's identifiers `i WHERE `, for the caller's condition.
fn select_identifiers(t: &Tables) -> Sql {
    let mut sql = Sql::default();
    sql.push("SELECT i.")
        .push(t.owner)
        .push(" AS owner, i.")
        .push(t.value)
        .push(" AS value FROM ")
        .push(t.identifiers)
        .push(" i WHERE ");
    sql
}

/// One record of the organization with everything its page shows.
pub async fn get(
    db: &impl ConnectionTrait,
    org_id: i64,
    kind: RecordKind,
    id: i64,
) -> Result<Option<RecordDetail>, DbErr> {
    Ok(detail_of(
        kind,
        combined::one(db, |sql| detail_part(sql, org_id, kind, id)).await?,
    ))
}

/// [`get`] as a part of a [`combined`] read (it is read on every visit to the page): the
/// record (kind 0), its identifiers (1), and a business's contacts or a contact's business
/// (2), as `(id, text, notes)`.
pub fn detail_part(sql: &mut Sql, org_id: i64, kind: RecordKind, id: i64) {
    let t = tables(kind);
    sql.push("SELECT 0, r.id, r.name, r.notes FROM ")
        .push(t.records)
        .push(" r WHERE r.id = ")
        .bind(id)
        .push(" AND r.organization_id = ")
        .bind(org_id)
        .push(" UNION ALL SELECT 1, i.id, i.")
        .push(t.value)
        .push(", NULL FROM ")
        .push(t.identifiers)
        .push(" i WHERE i.")
        .push(t.owner)
        .push(" = ")
        .bind(id)
        .push(" AND i.organization_id = ")
        .bind(org_id);
    match kind {
        RecordKind::Business => sql
            .push(" UNION ALL SELECT 2, c.id, c.name, NULL FROM contacts c WHERE c.business_id = "),
        RecordKind::Contact => sql.push(
            " UNION ALL SELECT 2, b.id, b.name, NULL FROM businesses b \
             JOIN contacts c ON c.business_id = b.id WHERE c.id = ",
        ),
    }
    .bind(id)
    .push(" AND c.organization_id = ")
    .bind(org_id);
}

/// One row of [`detail_part`], by kind.
enum DetailRow {
    /// Kind 0: the record.
    Record {
        id: i64,
        name: String,
        notes: String,
    },
    /// Kind 1: one of its identifiers (domain or address).
    Identifier(String),
    /// Kind 2: a business's contact, or a contact's business.
    Related { id: i64, name: String },
}

impl FromPartRow for DetailRow {
    fn from_part_row(row: PartRow) -> Option<Self> {
        let id = row.number.unwrap_or_default();
        let text = row.text.unwrap_or_default();
        Some(match row.kind {
            0 => Self::Record {
                id,
                name: text,
                notes: row.extra.unwrap_or_default(),
            },
            1 => Self::Identifier(text),
            2 => Self::Related { id, name: text },
            _ => return None,
        })
    }
}

impl DetailRow {
    /// The record first, then identifiers and related records by text (case-insensitively)
    /// and id.
    fn order(&self) -> (u8, String, String, i64) {
        let by = |kind, text: &String, id| (kind, text.to_lowercase(), text.clone(), id);
        match self {
            Self::Record { id, name, .. } => by(0, name, *id),
            Self::Identifier(value) => by(1, value, 0),
            Self::Related { id, name } => by(2, name, *id),
        }
    }
}

/// The record of [`detail_part`]'s rows; None when it is not the organization's.
pub fn detail_of(kind: RecordKind, rows: Vec<PartRow>) -> Option<RecordDetail> {
    let mut rows: Vec<DetailRow> = combined::decode(rows);
    rows.sort_by_cached_key(DetailRow::order);
    let mut detail: Option<RecordDetail> = None;
    for row in rows {
        match (row, detail.as_mut()) {
            (DetailRow::Record { id, name, notes }, _) => {
                detail = Some(RecordDetail {
                    id,
                    name,
                    notes,
                    identifiers: Vec::new(),
                    business: None,
                    contacts: Vec::new(),
                });
            }
            (DetailRow::Identifier(value), Some(d)) => d.identifiers.push(value),
            (DetailRow::Related { id, name }, Some(d)) if kind.is_contact() => {
                d.business = Some((id, name));
            }
            (DetailRow::Related { id, name }, Some(d)) => d.contacts.push((id, name)),
            _ => {}
        }
    }
    detail
}

/// The name of the organization's record, if it is one.
async fn name_of(
    db: &impl ConnectionTrait,
    org_id: i64,
    kind: RecordKind,
    id: i64,
) -> Result<Option<String>, DbErr> {
    let mut sql = Sql::default();
    sql.push("SELECT r.name FROM ")
        .push(tables(kind).records)
        .push(" r WHERE r.id = ")
        .bind(id)
        .push(" AND r.organization_id = ")
        .bind(org_id);
    fetch(db, sql)
        .await?
        .first()
        .map(|row| row.try_get("", "name"))
        .transpose()
}

/// Every record of the organization as `(id, name)`, by name (for pickers).
pub async fn options(
    db: &impl ConnectionTrait,
    org_id: i64,
    kind: RecordKind,
) -> Result<Vec<(i64, String)>, DbErr> {
    let mut sql = Sql::default();
    sql.push("SELECT r.id, r.name FROM ")
        .push(tables(kind).records)
        .push(" r WHERE r.organization_id = ")
        .bind(org_id)
        .push(" ORDER BY r.name, r.id");
    fetch(db, sql)
        .await?
        .iter()
        .map(|row| Ok((row.try_get("", "id")?, row.try_get("", "name")?)))
        .collect()
}

/// A saved record's own columns, as an import compares them.
#[derive(Debug, Clone)]
pub struct Stored {
    pub id: i64,
    pub name: String,
    pub notes: String,
    pub business_id: Option<i64>,
}

/// Every record of `kind` in the organization, and every identifier as `(record, value)`.
pub async fn all(
    db: &impl ConnectionTrait,
    org_id: i64,
    kind: RecordKind,
) -> Result<(HashMap<i64, Stored>, Vec<(i64, String)>), DbErr> {
    let t = tables(kind);
    let mut records = HashMap::new();
    for row in fetch(db, select_records(kind, org_id)).await? {
        let (id, business_id) = (row.try_get("", "id")?, business_of(kind, &row)?);
        let (name, notes) = (row.try_get("", "name")?, row.try_get("", "notes")?);
        records.insert(
            id,
            Stored {
                id,
                name,
                notes,
                business_id,
            },
        );
    }
    let mut sql = select_identifiers(&t);
    sql.push("i.organization_id = ").bind(org_id);
    let identifiers = fetch(db, sql)
        .await?
        .iter()
        .map(|row| Ok((row.try_get("", "owner")?, row.try_get("", "value")?)))
        .collect::<Result<_, DbErr>>()?;
    Ok((records, identifiers))
}
