//! A business as the directory writes it: its parsed form, as the fields [`super::records`]
//! writes (it reads, lists, writes and deletes businesses and contacts alike).
use sea_orm::{ConnectionTrait, TransactionTrait};

use super::records::{self, Fields};
use super::WriteError;
use crate::domain::domains::Domain;
use crate::domain::records::RecordKind;

/// A parsed create / edit form.
#[derive(Debug, Clone)]
pub struct BusinessInput {
    pub name: String,
    pub notes: String,
    pub domains: Vec<Domain>,
}

impl BusinessInput {
    /// The record as the directory writes it.
    pub fn fields(&self) -> Fields<'_> {
        Fields {
            name: &self.name,
            notes: &self.notes,
            business_id: None,
            identifiers: self.domains.iter().map(Domain::as_str).collect(),
        }
    }
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
    let fields = input.fields();
    let id = records::write_in(&txn, org_id, actor, RecordKind::Business, None, fields).await?;
    txn.commit().await?;
    Ok(id)
}
