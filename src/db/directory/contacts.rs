//! A contact as the directory writes it: its parsed form, as the fields [`super::records`]
//! writes (it reads, lists, writes and deletes businesses and contacts alike).
use super::records::Fields;
use crate::domain::address::EmailAddress;

/// A parsed create / edit form.
#[derive(Debug, Clone)]
pub struct ContactInput {
    pub name: String,
    pub notes: String,
    pub business_id: Option<i64>,
    pub addresses: Vec<EmailAddress>,
}

impl ContactInput {
    /// The record as the directory writes it (its business checked to be the organization's).
    pub fn fields(&self) -> Fields<'_> {
        Fields {
            name: &self.name,
            notes: &self.notes,
            business_id: self.business_id,
            identifiers: self.addresses.iter().map(EmailAddress::as_str).collect(),
        }
    }
}
