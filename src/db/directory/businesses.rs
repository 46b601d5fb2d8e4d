//! Businesses: keyset-paginated search, one business with its contacts, audited writes that
//! replace the domain list and name the owner of a domain already taken.
use std::collections::{BTreeSet, HashMap};

use sea_orm::sea_query::Query;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set, SqlErr, TransactionTrait,
};

use super::{contains_pattern, lower_like, paginate, Cursor, Page, WriteError};
use crate::db::combined::{self, FromPartRow, PartRow};
use crate::db::entities::{business_domains as domains, businesses, contacts, email_links};
use crate::db::timeline::sql::Sql;
use crate::domain::domains::Domain;

/// A business in a list.
#[derive(Debug, Clone)]
pub struct BusinessRow {
    pub id: i64,
    pub name: String,
    pub domains: Vec<String>,
}

/// A business with everything its page shows.
#[derive(Debug, Clone)]
pub struct BusinessDetail {
    pub id: i64,
    pub name: String,
    pub notes: String,
    pub domains: Vec<String>,
    /// `(id, name)` by name.
    pub contacts: Vec<(i64, String)>,
}

/// A parsed create / edit form.
#[derive(Debug, Clone)]
pub struct BusinessInput {
    pub name: String,
    pub notes: String,
    pub domains: Vec<Domain>,
}

/// Businesses whose name or a domain contains `query` (any case), by (name, id), after `after`.
pub async fn list(
    db: &impl ConnectionTrait,
    org_id: i64,
    query: &str,
    after: Option<&Cursor>,
    size: u64,
) -> Result<Page<BusinessRow>, DbErr> {
    let mut select = businesses::Entity::find()
        .filter(businesses::Column::OrganizationId.eq(org_id))
        .order_by_asc(businesses::Column::Name)
        .order_by_asc(businesses::Column::Id)
        .limit(size + 1);
    if !query.trim().is_empty() {
        let pattern = contains_pattern(query);
        let by_domain = Query::select()
            .column(domains::Column::BusinessId)
            .from(domains::Entity)
            .and_where(domains::Column::OrganizationId.eq(org_id))
            .and_where(lower_like(domains::Column::Domain, &pattern))
            .to_owned();
        select = select.filter(
            Condition::any()
                .add(lower_like(
                    (businesses::Entity, businesses::Column::Name),
                    &pattern,
                ))
                .add(businesses::Column::Id.in_subquery(by_domain)),
        );
    }
    if let Some(c) = after {
        select = select.filter(
            Condition::any()
                .add(businesses::Column::Name.gt(c.name.clone()))
                .add(
                    Condition::all()
                        .add(businesses::Column::Name.eq(c.name.clone()))
                        .add(businesses::Column::Id.gt(c.id)),
                ),
        );
    }
    let rows = select.all(db).await?;
    let mut by_business = domains_of(db, rows.iter().map(|b| b.id).collect()).await?;
    let rows = rows
        .into_iter()
        .map(|b| BusinessRow {
            domains: by_business.remove(&b.id).unwrap_or_default(),
            id: b.id,
            name: b.name,
        })
        .collect();
    Ok(paginate(rows, size, |b| Cursor {
        name: b.name.clone(),
        id: b.id,
    }))
}

async fn domains_of(
    db: &impl ConnectionTrait,
    ids: Vec<i64>,
) -> Result<HashMap<i64, Vec<String>>, DbErr> {
    let mut out: HashMap<i64, Vec<String>> = HashMap::new();
    for d in domains::Entity::find()
        .filter(domains::Column::BusinessId.is_in(ids))
        .order_by_asc(domains::Column::Domain)
        .all(db)
        .await?
    {
        out.entry(d.business_id).or_default().push(d.domain);
    }
    Ok(out)
}

/// One business of the organization with its domains and contacts.
pub async fn get(
    db: &impl ConnectionTrait,
    org_id: i64,
    id: i64,
) -> Result<Option<BusinessDetail>, DbErr> {
    Ok(detail_of(
        combined::one(db, |sql| detail_part(sql, org_id, id)).await?,
    ))
}

/// [`get`] as a part of a [`combined`] read (it is read on every visit to the page): the
/// business (kind 0), its domains (1) and its contacts (2), as `(id, text, notes)`.
pub fn detail_part(sql: &mut Sql, org_id: i64, id: i64) {
    sql.push("SELECT 0, b.id, b.name, b.notes FROM businesses b WHERE b.id = ")
        .bind(id)
        .push(" AND b.organization_id = ")
        .bind(org_id)
        .push(" UNION ALL SELECT 1, d.id, d.domain, NULL FROM business_domains d WHERE d.business_id = ")
        .bind(id)
        .push(" AND d.organization_id = ")
        .bind(org_id)
        .push(" UNION ALL SELECT 2, c.id, c.name, NULL FROM contacts c WHERE c.business_id = ")
        .bind(id)
        .push(" AND c.organization_id = ")
        .bind(org_id);
}

/// One row of [`detail_part`], by kind.
enum DetailRow {
    /// Kind 0: the business.
    Business {
        id: i64,
        name: String,
        notes: String,
    },
    /// Kind 1: one of its domains.
    Domain(String),
    /// Kind 2: one of its contacts.
    Contact { id: i64, name: String },
}

impl FromPartRow for DetailRow {
    fn from_part_row(row: PartRow) -> Option<Self> {
        let id = row.number.unwrap_or_default();
        let text = row.text.unwrap_or_default();
        Some(match row.kind {
            0 => Self::Business {
                id,
                name: text,
                notes: row.extra.unwrap_or_default(),
            },
            1 => Self::Domain(text),
            2 => Self::Contact { id, name: text },
            _ => return None,
        })
    }
}

impl DetailRow {
    /// The business first, then domains and contacts by text (case-insensitively) and id.
    fn order(&self) -> (u8, String, String, i64) {
        let by = |kind, text: &String, id| (kind, text.to_lowercase(), text.clone(), id);
        match self {
            Self::Business { id, name, .. } => by(0, name, *id),
            Self::Domain(domain) => by(1, domain, 0),
            Self::Contact { id, name } => by(2, name, *id),
        }
    }
}

/// The business of [`detail_part`]'s rows; None when it is not the organization's.
pub fn detail_of(rows: Vec<PartRow>) -> Option<BusinessDetail> {
    let mut rows: Vec<DetailRow> = combined::decode(rows);
    rows.sort_by_cached_key(DetailRow::order);
    let mut detail: Option<BusinessDetail> = None;
    for row in rows {
        match (row, detail.as_mut()) {
            (DetailRow::Business { id, name, notes }, _) => {
                detail = Some(BusinessDetail {
                    id,
                    name,
                    notes,
                    domains: Vec::new(),
                    contacts: Vec::new(),
                });
            }
            (DetailRow::Domain(domain), Some(d)) => d.domains.push(domain),
            (DetailRow::Contact { id, name }, Some(d)) => d.contacts.push((id, name)),
            _ => {}
        }
    }
    detail
}

/// Every business of the organization as `(id, name)`, by name (for pickers).
pub async fn options(db: &impl ConnectionTrait, org_id: i64) -> Result<Vec<(i64, String)>, DbErr> {
    Ok(businesses::Entity::find()
        .filter(businesses::Column::OrganizationId.eq(org_id))
        .order_by_asc(businesses::Column::Name)
        .order_by_asc(businesses::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|b| (b.id, b.name))
        .collect())
}

async fn find(
    db: &impl ConnectionTrait,
    org_id: i64,
    id: i64,
) -> Result<Option<businesses::Model>, DbErr> {
    businesses::Entity::find_by_id(id)
        .filter(businesses::Column::OrganizationId.eq(org_id))
        .one(db)
        .await
}

/// Create a business; returns its id.
pub async fn create<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    org_id: i64,
    actor: i64,
    input: &BusinessInput,
) -> Result<i64, WriteError> {
    let txn = crate::db::begin_write(db).await?;
    let id = create_in(&txn, org_id, actor, input).await?;
    txn.commit().await?;
    Ok(id)
}

/// [`create`] inside the caller's transaction.
pub async fn create_in(
    txn: &impl ConnectionTrait,
    org_id: i64,
    actor: i64,
    input: &BusinessInput,
) -> Result<i64, WriteError> {
    let now = crate::db::now();
    let row = businesses::ActiveModel {
        organization_id: Set(org_id),
        name: Set(input.name.clone()),
        notes: Set(input.notes.clone()),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    replace_domains(txn, org_id, row.id, &input.domains).await?;
    super::record(txn, org_id, actor, "business.create", row.id, &input.name).await?;
    Ok(row.id)
}

/// Replace a business's name, notes and domains.
pub async fn update<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    org_id: i64,
    actor: i64,
    id: i64,
    input: &BusinessInput,
) -> Result<(), WriteError> {
    let txn = crate::db::begin_write(db).await?;
    update_in(&txn, org_id, actor, id, input).await?;
    txn.commit().await?;
    Ok(())
}

/// [`update`] inside the caller's transaction.
pub async fn update_in(
    txn: &impl ConnectionTrait,
    org_id: i64,
    actor: i64,
    id: i64,
    input: &BusinessInput,
) -> Result<(), WriteError> {
    let row = find(txn, org_id, id).await?.ok_or(WriteError::NotFound)?;
    let mut row: businesses::ActiveModel = row.into();
    row.name = Set(input.name.clone());
    row.notes = Set(input.notes.clone());
    row.updated_at = Set(crate::db::now());
    row.update(txn).await?;
    replace_domains(txn, org_id, id, &input.domains).await?;
    super::record(txn, org_id, actor, "business.update", id, &input.name).await?;
    Ok(())
}

/// Delete a business; its domains and email links go with it, its contacts stay unattached.
pub async fn delete<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    org_id: i64,
    actor: i64,
    id: i64,
) -> Result<(), WriteError> {
    let txn = crate::db::begin_write(db).await?;
    delete_in(&txn, org_id, actor, id).await?;
    txn.commit().await?;
    Ok(())
}

/// [`delete`] inside the caller's transaction.
pub async fn delete_in(
    txn: &impl ConnectionTrait,
    org_id: i64,
    actor: i64,
    id: i64,
) -> Result<(), WriteError> {
    let row = find(txn, org_id, id).await?.ok_or(WriteError::NotFound)?;
    // Explicit, so the result does not depend on SQLite's foreign_keys pragma.
    email_links::Entity::delete_many()
        .filter(email_links::Column::BusinessId.eq(id))
        .exec(txn)
        .await?;
    crate::db::entities::link_tombstones::Entity::delete_many()
        .filter(crate::db::entities::link_tombstones::Column::BusinessId.eq(id))
        .exec(txn)
        .await?;
    domains::Entity::delete_many()
        .filter(domains::Column::BusinessId.eq(id))
        .exec(txn)
        .await?;
    contacts::Entity::update_many()
        .col_expr(
            contacts::Column::BusinessId,
            sea_orm::sea_query::Expr::value(Option::<i64>::None),
        )
        .filter(contacts::Column::BusinessId.eq(id))
        .exec(txn)
        .await?;
    businesses::Entity::delete_by_id(id).exec(txn).await?;
    super::record(txn, org_id, actor, "business.delete", id, &row.name).await?;
    Ok(())
}

async fn replace_domains(
    db: &impl ConnectionTrait,
    org_id: i64,
    id: i64,
    wanted: &[Domain],
) -> Result<(), WriteError> {
    let wanted: BTreeSet<&str> = wanted.iter().map(Domain::as_str).collect();
    let taken = domains::Entity::find()
        .filter(domains::Column::OrganizationId.eq(org_id))
        .filter(domains::Column::Domain.is_in(wanted.iter().copied()))
        .filter(domains::Column::BusinessId.ne(id))
        .order_by_asc(domains::Column::Domain)
        .one(db)
        .await?;
    if let Some(taken) = taken {
        let owner = find(db, org_id, taken.business_id).await?;
        return Err(WriteError::Taken {
            value: taken.domain,
            owner: owner.map_or_else(|| "another business".into(), |b| b.name),
        });
    }
    domains::Entity::delete_many()
        .filter(domains::Column::BusinessId.eq(id))
        .exec(db)
        .await?;
    for domain in wanted {
        let row = domains::ActiveModel {
            organization_id: Set(org_id),
            business_id: Set(id),
            domain: Set(domain.to_string()),
            ..Default::default()
        };
        if let Err(e) = row.insert(db).await {
            // Lost a race with another writer between the check and the insert.
            if let Some(SqlErr::UniqueConstraintViolation(_)) = e.sql_err() {
                return Err(WriteError::Taken {
                    value: domain.to_string(),
                    owner: "another business".into(),
                });
            }
            return Err(e.into());
        }
    }
    Ok(())
}
