//! The newest emails linked to a business or contact, for its page.
use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use crate::db::entities::{email_links, emails, organizations};
use crate::domain::association::Target;

/// One linked email.
#[derive(Debug, Clone)]
pub struct LinkedEmail {
    pub link_id: i64,
    pub email_id: i64,
    pub subject: String,
    pub received_at: DateTime<Utc>,
    /// address | domain | contact_business | manual
    pub reason: String,
}

/// `(organization, id, subject, message key, bulk, soft-deleted at)` of a linked email.
type EmailFacts = (i64, i64, String, String, bool, Option<DateTime<Utc>>);

fn of_target(target: Target) -> sea_orm::Condition {
    let cond = sea_orm::Condition::all().add(email_links::Column::Tombstone.eq(false));
    match target {
        Target::Business(id) => cond.add(email_links::Column::BusinessId.eq(id)),
        Target::Contact(id) => cond.add(email_links::Column::ContactId.eq(id)),
    }
}

/// The newest linked emails (at most `limit` links read; tombstones, soft-deleted mail and, if
/// the organization hides it, bulk mail excluded; one row per message).
pub async fn list(
    db: &impl ConnectionTrait,
    org_id: i64,
    target: Target,
    limit: u64,
) -> Result<Vec<LinkedEmail>, DbErr> {
    let links = email_links::Entity::find()
        .filter(email_links::Column::OrganizationId.eq(org_id))
        .filter(of_target(target))
        .order_by_desc(email_links::Column::ReceivedAt)
        .order_by_desc(email_links::Column::EmailId)
        .limit(limit)
        .all(db)
        .await?;
    // Organization checked on the rows: by primary key, not an (organization_id, ...) index.
    let rows: Vec<EmailFacts> = emails::Entity::find()
        .select_only()
        .column(emails::Column::OrganizationId)
        .column(emails::Column::Id)
        .column(emails::Column::Subject)
        .column(emails::Column::MessageKey)
        .column(emails::Column::IsBulk)
        .column(emails::Column::SoftDeletedAt)
        .filter(emails::Column::Id.is_in(links.iter().map(|l| l.email_id)))
        .into_tuple()
        .all(db)
        .await?;
    let hide_bulk = organizations::Entity::find_by_id(org_id)
        .one(db)
        .await?
        .is_some_and(|o| o.hide_bulk);
    // Soft-deleted mail and (when the organization says so) bulk mail stay out; colleagues'
    // copies of one message show once.
    let shown: HashMap<i64, (String, String)> = rows
        .into_iter()
        .filter(|r| r.0 == org_id && r.5.is_none() && !(hide_bulk && r.4))
        .map(|(_, id, subject, key, _, _)| (id, (subject, key)))
        .collect();
    let mut seen = HashSet::new();
    Ok(links
        .into_iter()
        .filter_map(|l| {
            let (subject, key) = shown.get(&l.email_id)?;
            seen.insert(key.clone()).then(|| LinkedEmail {
                subject: subject.clone(),
                link_id: l.id,
                email_id: l.email_id,
                received_at: l.received_at,
                reason: l.reason,
            })
        })
        .collect())
}

/// How many emails are linked (tombstones excluded).
pub async fn count(db: &impl ConnectionTrait, org_id: i64, target: Target) -> Result<u64, DbErr> {
    email_links::Entity::find()
        .filter(email_links::Column::OrganizationId.eq(org_id))
        .filter(of_target(target))
        .count(db)
        .await
}
