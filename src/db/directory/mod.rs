//! The CRM directory: businesses with domains, contacts with addresses ([`records`] reads,
//! lists and deletes both alike), internal domains; writes that name the owner of a taken
//! domain or address, and the in-memory [`Directory`] the association engine reads.
pub mod auto_contacts;
pub mod businesses;
pub mod cache;
pub mod contacts;
pub mod correspondents;
pub mod export;
pub mod import;
mod import_plan;
pub mod recent;
pub mod records;
pub mod settings;
pub mod unmatched;

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set,
};

use super::entities::{
    business_domains, businesses as business_rows, contact_addresses, contacts as contact_rows,
    organization_domains, organizations,
};
use crate::domain::address::EmailAddress;
use crate::domain::association::Directory;
use crate::domain::domains::Domain;
use crate::domain::freemail::FreeMail;
use crate::domain::records::RecordKind;

/// Rows per list page.
pub const PAGE_SIZE: u64 = 25;

/// Where a page starts: after this (name, id) in name order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub name: String,
    pub id: i64,
}

/// One page of a list and the cursor of the next one, if there is more.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<Cursor>,
}

/// Why a write was refused.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The domain or address already belongs to another business or contact.
    #[error("{value} already belongs to {owner}")]
    Taken { value: String, owner: String },
    #[error("not found")]
    NotFound,
    /// The chosen business is not one of the organization's.
    #[error("no such business")]
    NoSuchBusiness,
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// A case-insensitive substring pattern for `LIKE`, with `%`, `_` and `\` escaped.
fn contains_pattern(query: &str) -> String {
    let mut out = String::from("%");
    for c in query.trim().to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

/// Split `page_size + 1` rows into a page and the next cursor.
fn paginate<T>(mut rows: Vec<T>, size: u64, key: impl Fn(&T) -> Cursor) -> Page<T> {
    let size = usize::try_from(size).unwrap_or(usize::MAX);
    let next = (rows.len() > size).then(|| {
        rows.truncate(size);
        rows.last().map(&key)
    });
    Page {
        items: rows,
        next: next.flatten(),
    }
}

/// The organization's free-mail list (shipped list plus its overrides).
pub async fn free_mail(db: &impl ConnectionTrait, org_id: i64) -> Result<FreeMail, DbErr> {
    Ok(organizations::Entity::find_by_id(org_id)
        .one(db)
        .await?
        .map(|o| FreeMail::from_setting(&o.free_mail_domains))
        .unwrap_or_default())
}

/// Everything the association engine needs for one organization. Rows that no longer parse
/// (written before a rule changed) are skipped.
pub async fn load(db: &impl ConnectionTrait, org_id: i64) -> Result<Directory, DbErr> {
    let mut dir = Directory::new(free_mail(db, org_id).await?);
    for row in business_rows::Entity::find()
        .filter(business_rows::Column::OrganizationId.eq(org_id))
        .all(db)
        .await?
    {
        dir.add_business(row.id, []);
    }
    for row in business_domains::Entity::find()
        .filter(business_domains::Column::OrganizationId.eq(org_id))
        .all(db)
        .await?
    {
        dir.add_business(row.business_id, Domain::parse(&row.domain).ok());
    }
    let contact_business: std::collections::HashMap<i64, Option<i64>> =
        contact_rows::Entity::find()
            .filter(contact_rows::Column::OrganizationId.eq(org_id))
            .all(db)
            .await?
            .into_iter()
            .map(|c| (c.id, c.business_id))
            .collect();
    for row in contact_addresses::Entity::find()
        .filter(contact_addresses::Column::OrganizationId.eq(org_id))
        .all(db)
        .await?
    {
        if let (Ok(address), Some(business)) = (
            EmailAddress::parse(&row.address),
            contact_business.get(&row.contact_id),
        ) {
            dir.add_contact_address(address, row.contact_id, *business);
        }
    }
    for row in organization_domains::Entity::find()
        .filter(organization_domains::Column::OrganizationId.eq(org_id))
        .all(db)
        .await?
    {
        if let Ok(domain) = Domain::parse(&row.domain) {
            dir.add_internal_domain(&domain);
        }
    }
    Ok(dir)
}

/// Demo seeding: an internal domain, stored as given.
pub async fn add_internal_domain(
    db: &impl ConnectionTrait,
    org_id: i64,
    domain: &str,
) -> Result<(), DbErr> {
    organization_domains::ActiveModel {
        organization_id: Set(org_id),
        domain: Set(domain.to_string()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Demo seeding: a business with domains, stored as given.
pub async fn create_business(
    db: &impl ConnectionTrait,
    org_id: i64,
    name: &str,
    domains: &[String],
) -> Result<business_rows::Model, DbErr> {
    let id = seed(db, org_id, RecordKind::Business, None, name, domains).await?;
    business_rows::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound(name.into()))
}

/// Demo seeding: a contact with addresses, stored as given.
pub async fn create_contact(
    db: &impl ConnectionTrait,
    org_id: i64,
    business_id: Option<i64>,
    name: &str,
    addresses: &[String],
) -> Result<contact_rows::Model, DbErr> {
    let id = seed(
        db,
        org_id,
        RecordKind::Contact,
        business_id,
        name,
        addresses,
    )
    .await?;
    contact_rows::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound(name.into()))
}

async fn seed(
    db: &impl ConnectionTrait,
    org_id: i64,
    kind: RecordKind,
    business_id: Option<i64>,
    name: &str,
    identifiers: &[String],
) -> Result<i64, DbErr> {
    let fields = records::Fields {
        name,
        notes: "",
        business_id,
        identifiers: std::collections::BTreeSet::new(),
    };
    let id = records::insert_row(db, org_id, kind, &fields).await?;
    records::insert_identifiers(db, org_id, kind, id, identifiers).await?;
    Ok(id)
}

/// Audit a directory write; the subject kind is the action's prefix (`business.create` ->
/// `business`).
pub async fn record(
    db: &impl ConnectionTrait,
    org_id: i64,
    actor: i64,
    action: &str,
    id: i64,
    name: &str,
) -> Result<(), DbErr> {
    let kind = action.split('.').next().unwrap_or(action);
    let entry = crate::db::audit::Entry::by_user(org_id, actor, action, kind, id, name.into());
    crate::db::audit::record(db, entry).await
}

#[cfg(test)]
mod tests {
    use super::contains_pattern;

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(contains_pattern(" Acme "), "%acme%");
        assert_eq!(contains_pattern("50%_a\\b"), "%50\\%\\_a\\\\b%");
    }
}
