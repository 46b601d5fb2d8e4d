//! Stored mail linked to a business or contact just created (by import or triage). A stopgap
//! for the general re-association mechanism: candidates come from an indexed lookup of
//! participants, the pure engine decides, and only links to the new record are written, with
//! source `auto` and the engine's reason; an email + target with a tombstone is never relinked.
use std::collections::{BTreeMap, BTreeSet};

use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect, Set,
};

use crate::db::entities::{
    business_domains, contact_addresses, email_links, email_participants, emails,
};
use crate::domain::address::EmailAddress;
use crate::domain::association::{associate, Target};

const CHUNK: usize = 500;

/// Link the organization's stored mail from the business's domains (and their subdomains) to
/// it. Returns the ids of the emails linked.
pub async fn link_existing_mail_for_new_business(
    db: &impl ConnectionTrait,
    org_id: i64,
    business_id: i64,
) -> Result<Vec<i64>, DbErr> {
    link_existing_mail_for_new_businesses(db, org_id, &[business_id]).await
}

/// [`link_existing_mail_for_new_business`] for several businesses (an import).
pub async fn link_existing_mail_for_new_businesses(
    db: &impl ConnectionTrait,
    org_id: i64,
    business_ids: &[i64],
) -> Result<Vec<i64>, DbErr> {
    let mut linked = BTreeSet::new();
    for ids in business_ids.chunks(50) {
        let domains: Vec<String> = business_domains::Entity::find()
            .filter(business_domains::Column::BusinessId.is_in(ids.iter().copied()))
            .filter(business_domains::Column::OrganizationId.eq(org_id))
            .all(db)
            .await?
            .into_iter()
            .map(|d| d.domain)
            .collect();
        if domains.is_empty() {
            continue;
        }
        let mut by_domain = Condition::any();
        for d in &domains {
            by_domain = by_domain
                .add(email_participants::Column::Domain.eq(d.as_str()))
                .add(email_participants::Column::Domain.like(format!("%.{d}")));
        }
        let candidates = candidate_emails(db, org_id, by_domain).await?;
        let targets: Vec<Target> = ids.iter().map(|id| Target::Business(*id)).collect();
        linked.extend(link(db, org_id, &candidates, &targets).await?);
    }
    Ok(linked.into_iter().collect())
}

/// Link the organization's stored mail from the contact's addresses to it (and to its
/// business). Returns the ids of the emails linked.
pub async fn link_existing_mail_for_new_contact(
    db: &impl ConnectionTrait,
    org_id: i64,
    contact_id: i64,
    business_id: Option<i64>,
) -> Result<Vec<i64>, DbErr> {
    link_existing_mail_for_new_contacts(db, org_id, &[(contact_id, business_id)]).await
}

/// [`link_existing_mail_for_new_contact`] for several `(contact, business)` (an import).
pub async fn link_existing_mail_for_new_contacts(
    db: &impl ConnectionTrait,
    org_id: i64,
    contacts: &[(i64, Option<i64>)],
) -> Result<Vec<i64>, DbErr> {
    let mut linked = BTreeSet::new();
    for chunk in contacts.chunks(200) {
        let addresses: Vec<String> = contact_addresses::Entity::find()
            .filter(contact_addresses::Column::ContactId.is_in(chunk.iter().map(|c| c.0)))
            .filter(contact_addresses::Column::OrganizationId.eq(org_id))
            .all(db)
            .await?
            .into_iter()
            .map(|a| a.address)
            .collect();
        if addresses.is_empty() {
            continue;
        }
        let cond = Condition::all().add(email_participants::Column::Address.is_in(addresses));
        let candidates = candidate_emails(db, org_id, cond).await?;
        let mut targets = Vec::new();
        for (contact, business) in chunk {
            targets.push(Target::Contact(*contact));
            targets.extend(business.map(Target::Business));
        }
        linked.extend(link(db, org_id, &candidates, &targets).await?);
    }
    Ok(linked.into_iter().collect())
}

async fn candidate_emails(
    db: &impl ConnectionTrait,
    org_id: i64,
    cond: Condition,
) -> Result<Vec<i64>, DbErr> {
    let ids: BTreeSet<i64> = email_participants::Entity::find()
        .select_only()
        .column(email_participants::Column::EmailId)
        .filter(email_participants::Column::OrganizationId.eq(org_id))
        .filter(cond)
        .into_tuple::<i64>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    Ok(ids.into_iter().collect())
}

/// Run the engine over each candidate and write its links to `targets` that are missing.
async fn link(
    db: &impl ConnectionTrait,
    org_id: i64,
    candidates: &[i64],
    targets: &[Target],
) -> Result<Vec<i64>, DbErr> {
    let directory = super::load(db, org_id).await?;
    let now = crate::db::now();
    let mut linked = BTreeSet::new();
    for chunk in candidates.chunks(CHUNK) {
        let mut people: BTreeMap<i64, Vec<EmailAddress>> = BTreeMap::new();
        for (email, address) in email_participants::Entity::find()
            .select_only()
            .column(email_participants::Column::EmailId)
            .column(email_participants::Column::Address)
            .filter(email_participants::Column::EmailId.is_in(chunk.iter().copied()))
            .into_tuple::<(i64, String)>()
            .all(db)
            .await?
        {
            if let Ok(a) = EmailAddress::parse(&address) {
                people.entry(email).or_default().push(a);
            }
        }
        // Any existing row, live or tombstone, keeps its pair as it is.
        let existing: BTreeSet<(i64, Target)> = email_links::Entity::find()
            .filter(email_links::Column::EmailId.is_in(chunk.iter().copied()))
            .all(db)
            .await?
            .into_iter()
            .filter_map(|l| {
                let t = match (l.business_id, l.contact_id) {
                    (Some(b), _) => Target::Business(b),
                    (None, Some(c)) => Target::Contact(c),
                    (None, None) => return None,
                };
                Some((l.email_id, t))
            })
            .collect();
        let received: BTreeMap<i64, chrono::DateTime<chrono::Utc>> = emails::Entity::find()
            .select_only()
            .column(emails::Column::Id)
            .column(emails::Column::ReceivedAt)
            .filter(emails::Column::Id.is_in(chunk.iter().copied()))
            .filter(emails::Column::OrganizationId.eq(org_id))
            .into_tuple()
            .all(db)
            .await?
            .into_iter()
            .collect();
        let mut rows = Vec::new();
        for (email, addresses) in &people {
            let Some(received_at) = received.get(email) else {
                continue;
            };
            for l in associate(&directory, addresses) {
                if !targets.contains(&l.target) || existing.contains(&(*email, l.target)) {
                    continue;
                }
                let (business, contact) = match l.target {
                    Target::Business(id) => (Some(id), None),
                    Target::Contact(id) => (None, Some(id)),
                };
                linked.insert(*email);
                rows.push(email_links::ActiveModel {
                    organization_id: Set(org_id),
                    email_id: Set(*email),
                    business_id: Set(business),
                    contact_id: Set(contact),
                    source: Set("auto".into()),
                    reason: Set(l.reason.as_str().to_string()),
                    tombstone: Set(false),
                    received_at: Set(*received_at),
                    created_by: Set(None),
                    created_at: Set(now),
                    ..Default::default()
                });
            }
        }
        for rows in rows.chunks(100) {
            email_links::Entity::insert_many(rows.to_vec())
                .on_conflict(OnConflict::new().do_nothing().to_owned())
                .exec_without_returning(db)
                .await?;
        }
    }
    Ok(linked.into_iter().collect())
}
