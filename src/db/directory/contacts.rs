//! Contact writes: create and update (audited) with a business of the organization only, the
//! address list replaced through [`super::records`], which also reads, lists and deletes
//! businesses and contacts alike.
use sea_orm::Set;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};

use super::records::replace_identifiers;
use super::WriteError;
use crate::db::entities::contacts;
use crate::domain::address::EmailAddress;
use crate::domain::records::RecordKind;

/// A parsed create / edit form.
#[derive(Debug, Clone)]
pub struct ContactInput {
    pub name: String,
    pub notes: String,
    pub business_id: Option<i64>,
    pub addresses: Vec<EmailAddress>,
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
    super::businesses::find(db, org_id, id)
        .await?
        .map(|_| ())
        .ok_or(WriteError::NoSuchBusiness)
}

/// Create a contact inside the caller's transaction; returns its id.
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
    write_addresses(txn, org_id, row.id, input).await?;
    super::record(txn, org_id, actor, "contact.create", row.id, &input.name).await?;
    Ok(row.id)
}

/// Replace a contact's name, notes, business and addresses inside the caller's transaction.
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
    write_addresses(txn, org_id, id, input).await?;
    super::record(txn, org_id, actor, "contact.update", id, &input.name).await?;
    Ok(())
}

async fn write_addresses(
    txn: &impl ConnectionTrait,
    org_id: i64,
    id: i64,
    input: &ContactInput,
) -> Result<(), WriteError> {
    let wanted = input.addresses.iter().map(EmailAddress::as_str).collect();
    replace_identifiers(txn, org_id, RecordKind::Contact, id, wanted).await
}
