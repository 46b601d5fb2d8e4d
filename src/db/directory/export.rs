//! Directory export: the organization's businesses or contacts as CSV, one page of rows at a
//! time (by id), so any size streams in bounded memory.
use std::collections::HashMap;

use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

use crate::db::entities::{
    business_domains, businesses as business_rows, contact_addresses, contacts as contact_rows,
};
use crate::domain::directory_csv::{line, Kind};

/// Rows per page.
pub const EXPORT_PAGE: u64 = 1000;

/// The header line of a file.
pub fn header(kind: Kind) -> Vec<u8> {
    line(kind.header().iter().copied())
}

/// CSV lines of the rows after id `after`, and the last id when there may be more.
pub async fn page(
    db: &impl ConnectionTrait,
    org_id: i64,
    kind: Kind,
    after: i64,
) -> Result<(Vec<u8>, Option<i64>), DbErr> {
    match kind {
        Kind::Businesses => businesses(db, org_id, after).await,
        Kind::Contacts => contacts(db, org_id, after).await,
    }
}

async fn businesses(
    db: &impl ConnectionTrait,
    org_id: i64,
    after: i64,
) -> Result<(Vec<u8>, Option<i64>), DbErr> {
    let rows = business_rows::Entity::find()
        .filter(business_rows::Column::OrganizationId.eq(org_id))
        .filter(business_rows::Column::Id.gt(after))
        .order_by_asc(business_rows::Column::Id)
        .limit(EXPORT_PAGE)
        .all(db)
        .await?;
    let domains = domains_of(db, rows.iter().map(|b| b.id).collect()).await?;
    let mut out = Vec::new();
    for b in &rows {
        let list = domains.get(&b.id).map(|d| d.join(" ")).unwrap_or_default();
        out.extend(line([b.name.as_str(), list.as_str(), b.notes.as_str()]));
    }
    Ok((out, next(&rows, |b| b.id)))
}

async fn contacts(
    db: &impl ConnectionTrait,
    org_id: i64,
    after: i64,
) -> Result<(Vec<u8>, Option<i64>), DbErr> {
    let rows = contact_rows::Entity::find()
        .filter(contact_rows::Column::OrganizationId.eq(org_id))
        .filter(contact_rows::Column::Id.gt(after))
        .order_by_asc(contact_rows::Column::Id)
        .limit(EXPORT_PAGE)
        .all(db)
        .await?;
    let mut addresses: HashMap<i64, Vec<String>> = HashMap::new();
    for a in contact_addresses::Entity::find()
        .filter(contact_addresses::Column::ContactId.is_in(rows.iter().map(|c| c.id)))
        .order_by_asc(contact_addresses::Column::Address)
        .all(db)
        .await?
    {
        addresses.entry(a.contact_id).or_default().push(a.address);
    }
    let business = business_labels(
        db,
        org_id,
        rows.iter().filter_map(|c| c.business_id).collect(),
    )
    .await?;
    let mut out = Vec::new();
    for c in &rows {
        let list = addresses
            .get(&c.id)
            .map(|a| a.join(" "))
            .unwrap_or_default();
        let b = c
            .business_id
            .and_then(|b| business.get(&b))
            .map_or("", String::as_str);
        out.extend(line([c.name.as_str(), list.as_str(), b, c.notes.as_str()]));
    }
    Ok((out, next(&rows, |c| c.id)))
}

fn next<T>(rows: &[T], id: impl Fn(&T) -> i64) -> Option<i64> {
    let full = u64::try_from(rows.len()).is_ok_and(|n| n == EXPORT_PAGE);
    full.then(|| rows.last().map(id)).flatten()
}

async fn domains_of(
    db: &impl ConnectionTrait,
    ids: Vec<i64>,
) -> Result<HashMap<i64, Vec<String>>, DbErr> {
    let mut out: HashMap<i64, Vec<String>> = HashMap::new();
    for d in business_domains::Entity::find()
        .filter(business_domains::Column::BusinessId.is_in(ids))
        .order_by_asc(business_domains::Column::Domain)
        .all(db)
        .await?
    {
        out.entry(d.business_id).or_default().push(d.domain);
    }
    Ok(out)
}

/// How a contact row names its business: the name, or a domain when the name is shared.
async fn business_labels(
    db: &impl ConnectionTrait,
    org_id: i64,
    ids: Vec<i64>,
) -> Result<HashMap<i64, String>, DbErr> {
    let named: Vec<business_rows::Model> = business_rows::Entity::find()
        .filter(business_rows::Column::Id.is_in(ids.clone()))
        .all(db)
        .await?;
    let same_name: Vec<String> = business_rows::Entity::find()
        .select_only()
        .column(business_rows::Column::Name)
        .filter(business_rows::Column::OrganizationId.eq(org_id))
        .filter(business_rows::Column::Name.is_in(named.iter().map(|b| b.name.clone())))
        .into_tuple()
        .all(db)
        .await?;
    let mut count: HashMap<String, usize> = HashMap::new();
    for n in same_name {
        *count.entry(n.to_lowercase()).or_default() += 1;
    }
    let mut domains = domains_of(db, ids).await?;
    Ok(named
        .into_iter()
        .map(|b| {
            let shared = count.get(&b.name.to_lowercase()).is_some_and(|n| *n > 1);
            let first_domain = domains.remove(&b.id).and_then(|d| d.into_iter().next());
            let label = match first_domain {
                Some(d) if shared => d,
                _ => b.name,
            };
            (b.id, label)
        })
        .collect())
}
