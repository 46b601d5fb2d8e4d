//! Contacts: keyset-paginated search, one contact with its business, audited writes that
//! replace the address list and name the owner of an address already taken.
use std::collections::{BTreeSet, HashMap};

use sea_orm::sea_query::Query;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set, SqlErr, TransactionTrait,
};

use super::{contains_pattern, lower_like, paginate, Cursor, Page, WriteError};
use crate::db::entities::{businesses, contact_addresses as addresses, contacts, email_links};
use crate::domain::address::EmailAddress;

/// A contact in a list, with its business as `(id, name)`.
#[derive(Debug, Clone)]
pub struct ContactRow {
    pub id: i64,
    pub name: String,
    pub addresses: Vec<String>,
    pub business: Option<(i64, String)>,
}

/// A contact with everything its page shows.
#[derive(Debug, Clone)]
pub struct ContactDetail {
    pub id: i64,
    pub name: String,
    pub notes: String,
    pub addresses: Vec<String>,
    pub business: Option<(i64, String)>,
}

/// A parsed create / edit form.
#[derive(Debug, Clone)]
pub struct ContactInput {
    pub name: String,
    pub notes: String,
    pub business_id: Option<i64>,
    pub addresses: Vec<EmailAddress>,
}

/// Contacts whose name or an address contains `query` (any case), by (name, id), after `after`.
pub async fn list(
    db: &impl ConnectionTrait,
    org_id: i64,
    query: &str,
    after: Option<&Cursor>,
    size: u64,
) -> Result<Page<ContactRow>, DbErr> {
    let mut select = contacts::Entity::find()
        .filter(contacts::Column::OrganizationId.eq(org_id))
        .order_by_asc(contacts::Column::Name)
        .order_by_asc(contacts::Column::Id)
        .limit(size + 1);
    if !query.trim().is_empty() {
        let pattern = contains_pattern(query);
        let by_address = Query::select()
            .column(addresses::Column::ContactId)
            .from(addresses::Entity)
            .and_where(addresses::Column::OrganizationId.eq(org_id))
            .and_where(lower_like(addresses::Column::Address, &pattern))
            .to_owned();
        select = select.filter(
            Condition::any()
                .add(lower_like(
                    (contacts::Entity, contacts::Column::Name),
                    &pattern,
                ))
                .add(contacts::Column::Id.in_subquery(by_address)),
        );
    }
    if let Some(c) = after {
        select = select.filter(
            Condition::any()
                .add(contacts::Column::Name.gt(c.name.clone()))
                .add(
                    Condition::all()
                        .add(contacts::Column::Name.eq(c.name.clone()))
                        .add(contacts::Column::Id.gt(c.id)),
                ),
        );
    }
    let rows = select.all(db).await?;
    let mut by_contact = addresses_of(db, rows.iter().map(|c| c.id).collect()).await?;
    let names = business_names(db, rows.iter().filter_map(|c| c.business_id).collect()).await?;
    let rows = rows
        .into_iter()
        .map(|c| ContactRow {
            addresses: by_contact.remove(&c.id).unwrap_or_default(),
            business: c
                .business_id
                .and_then(|b| names.get(&b).map(|n| (b, n.clone()))),
            id: c.id,
            name: c.name,
        })
        .collect();
    Ok(paginate(rows, size, |c| Cursor {
        name: c.name.clone(),
        id: c.id,
    }))
}

async fn addresses_of(
    db: &impl ConnectionTrait,
    ids: Vec<i64>,
) -> Result<HashMap<i64, Vec<String>>, DbErr> {
    let mut out: HashMap<i64, Vec<String>> = HashMap::new();
    for a in addresses::Entity::find()
        .filter(addresses::Column::ContactId.is_in(ids))
        .order_by_asc(addresses::Column::Address)
        .all(db)
        .await?
    {
        out.entry(a.contact_id).or_default().push(a.address);
    }
    Ok(out)
}

async fn business_names(
    db: &impl ConnectionTrait,
    ids: Vec<i64>,
) -> Result<HashMap<i64, String>, DbErr> {
    Ok(businesses::Entity::find()
        .filter(businesses::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|b| (b.id, b.name))
        .collect())
}

/// One contact of the organization with its addresses and business.
pub async fn get(
    db: &impl ConnectionTrait,
    org_id: i64,
    id: i64,
) -> Result<Option<ContactDetail>, DbErr> {
    let Some(c) = find(db, org_id, id).await? else {
        return Ok(None);
    };
    let names = business_names(db, c.business_id.into_iter().collect()).await?;
    Ok(Some(ContactDetail {
        addresses: addresses_of(db, vec![id])
            .await?
            .remove(&id)
            .unwrap_or_default(),
        business: c
            .business_id
            .and_then(|b| names.get(&b).map(|n| (b, n.clone()))),
        id: c.id,
        name: c.name,
        notes: c.notes,
    }))
}

async fn find(
    db: &impl ConnectionTrait,
    org_id: i64,
    id: i64,
) -> Result<Option<contacts::Model>, DbErr> {
    contacts::Entity::find_by_id(id)
        .filter(contacts::Column::OrganizationId.eq(org_id))
        .one(db)
        .await
}

/// Refuse a business that is not the organization's.
async fn check_business(
    db: &impl ConnectionTrait,
    org_id: i64,
    business_id: Option<i64>,
) -> Result<(), WriteError> {
    let Some(id) = business_id else {
        return Ok(());
    };
    businesses::Entity::find_by_id(id)
        .filter(businesses::Column::OrganizationId.eq(org_id))
        .one(db)
        .await?
        .map(|_| ())
        .ok_or(WriteError::NoSuchBusiness)
}

/// Create a contact; returns its id.
pub async fn create<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    org_id: i64,
    actor: i64,
    input: &ContactInput,
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
    input: &ContactInput,
) -> Result<i64, WriteError> {
    check_business(txn, org_id, input.business_id).await?;
    let now = crate::db::now();
    let row = contacts::ActiveModel {
        organization_id: Set(org_id),
        business_id: Set(input.business_id),
        name: Set(input.name.clone()),
        notes: Set(input.notes.clone()),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    replace_addresses(txn, org_id, row.id, &input.addresses).await?;
    super::record(txn, org_id, actor, "contact.create", row.id, &input.name).await?;
    Ok(row.id)
}

/// Replace a contact's name, notes, business and addresses.
pub async fn update<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    org_id: i64,
    actor: i64,
    id: i64,
    input: &ContactInput,
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
    input: &ContactInput,
) -> Result<(), WriteError> {
    let row = find(txn, org_id, id).await?.ok_or(WriteError::NotFound)?;
    check_business(txn, org_id, input.business_id).await?;
    let mut row: contacts::ActiveModel = row.into();
    row.name = Set(input.name.clone());
    row.notes = Set(input.notes.clone());
    row.business_id = Set(input.business_id);
    row.updated_at = Set(crate::db::now());
    row.update(txn).await?;
    replace_addresses(txn, org_id, id, &input.addresses).await?;
    super::record(txn, org_id, actor, "contact.update", id, &input.name).await?;
    Ok(())
}

/// Delete a contact with its addresses and email links.
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
        .filter(email_links::Column::ContactId.eq(id))
        .exec(txn)
        .await?;
    crate::db::entities::link_tombstones::Entity::delete_many()
        .filter(crate::db::entities::link_tombstones::Column::ContactId.eq(id))
        .exec(txn)
        .await?;
    addresses::Entity::delete_many()
        .filter(addresses::Column::ContactId.eq(id))
        .exec(txn)
        .await?;
    contacts::Entity::delete_by_id(id).exec(txn).await?;
    super::record(txn, org_id, actor, "contact.delete", id, &row.name).await?;
    Ok(())
}

async fn replace_addresses(
    db: &impl ConnectionTrait,
    org_id: i64,
    id: i64,
    wanted: &[EmailAddress],
) -> Result<(), WriteError> {
    let wanted: BTreeSet<&str> = wanted.iter().map(EmailAddress::as_str).collect();
    let taken = addresses::Entity::find()
        .filter(addresses::Column::OrganizationId.eq(org_id))
        .filter(addresses::Column::Address.is_in(wanted.iter().copied()))
        .filter(addresses::Column::ContactId.ne(id))
        .order_by_asc(addresses::Column::Address)
        .one(db)
        .await?;
    if let Some(taken) = taken {
        let owner = find(db, org_id, taken.contact_id).await?;
        return Err(WriteError::Taken {
            value: taken.address,
            owner: owner.map_or_else(|| "another contact".into(), |c| c.name),
        });
    }
    addresses::Entity::delete_many()
        .filter(addresses::Column::ContactId.eq(id))
        .exec(db)
        .await?;
    for address in wanted {
        let row = addresses::ActiveModel {
            organization_id: Set(org_id),
            contact_id: Set(id),
            address: Set(address.to_string()),
            ..Default::default()
        };
        if let Err(e) = row.insert(db).await {
            // Lost a race with another writer between the check and the insert.
            if let Some(SqlErr::UniqueConstraintViolation(_)) = e.sql_err() {
                return Err(WriteError::Taken {
                    value: address.to_string(),
                    owner: "another contact".into(),
                });
            }
            return Err(e.into());
        }
    }
    Ok(())
}

/// Every contact of the organization as `(id, name)`, by name (for pickers).
pub async fn options(db: &impl ConnectionTrait, org_id: i64) -> Result<Vec<(i64, String)>, DbErr> {
    Ok(contacts::Entity::find()
        .filter(contacts::Column::OrganizationId.eq(org_id))
        .order_by_asc(contacts::Column::Name)
        .order_by_asc(contacts::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.id, c.name))
        .collect())
}
