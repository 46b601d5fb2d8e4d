//! A contact as the directory writes it: its parsed form, created or replaced through
//! [`super::records`] (which reads, lists and deletes businesses and contacts alike) with a
//! business of the organization only.
use sea_orm::ConnectionTrait;

use super::records::{self, Fields};
use super::WriteError;
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

impl ContactInput {
    fn fields(&self) -> Fields<'_> {
        Fields {
            name: &self.name,
            notes: &self.notes,
            business_id: self.business_id,
            identifiers: self.addresses.iter().map(EmailAddress::as_str).collect(),
        }
    }
}

/// Create a contact inside the caller's transaction (audited); returns its id.
pub async fn create_in(
    txn: &impl ConnectionTrait,
    org_id: i64,
    actor: i64,
    input: &ContactInput,
) -> Result<i64, WriteError> {
    records::write_in(
        txn,
        org_id,
        actor,
        RecordKind::Contact,
        None,
        input.fields(),
    )
    .await
}

/// Replace a contact's name, notes, business and addresses inside the caller's transaction
/// (audited).
pub async fn update_in(
    txn: &impl ConnectionTrait,
    org_id: i64,
    actor: i64,
    id: i64,
    input: &ContactInput,
) -> Result<(), WriteError> {
    let fields = input.fields();
    records::write_in(txn, org_id, actor, RecordKind::Contact, Some(id), fields).await?;
    Ok(())
}
