//! Business writes: create and update (audited), the domain list replaced through
//! [`super::records`], which also reads, lists and deletes businesses and contacts alike.
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use sea_orm::{DbErr, TransactionTrait};

use super::records::replace_identifiers;
use super::WriteError;
use crate::db::entities::businesses;
use crate::domain::domains::Domain;
use crate::domain::records::RecordKind;

/// A parsed create / edit form.
#[derive(Debug, Clone)]
pub struct BusinessInput {
    pub name: String,
    pub notes: String,
    pub domains: Vec<Domain>,
}

/// Create a business in its own transaction (seeding and benchmarks; the product saves through
/// re-association); returns its id.
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

/// Create a business inside the caller's transaction; returns its id.
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
    write_domains(txn, org_id, row.id, input).await?;
    super::record(txn, org_id, actor, "business.create", row.id, &input.name).await?;
    Ok(row.id)
}

/// Replace a business's name, notes and domains inside the caller's transaction.
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
    write_domains(txn, org_id, id, input).await?;
    super::record(txn, org_id, actor, "business.update", id, &input.name).await?;
    Ok(())
}

async fn write_domains(
    txn: &impl ConnectionTrait,
    org_id: i64,
    id: i64,
    input: &BusinessInput,
) -> Result<(), WriteError> {
    let wanted = input.domains.iter().map(Domain::as_str).collect();
    replace_identifiers(txn, org_id, RecordKind::Business, id, wanted).await
}

pub(super) async fn find(
    db: &impl ConnectionTrait,
    org_id: i64,
    id: i64,
) -> Result<Option<businesses::Model>, DbErr> {
    businesses::Entity::find_by_id(id)
        .filter(businesses::Column::OrganizationId.eq(org_id))
        .one(db)
        .await
}
