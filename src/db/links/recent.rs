//! The newest emails linked to a business or contact, for its page.
use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use crate::db::entities::{email_links, emails};
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

fn of_target(target: Target) -> sea_orm::Condition {
    let cond = sea_orm::Condition::all().add(email_links::Column::Tombstone.eq(false));
    match target {
        Target::Business(id) => cond.add(email_links::Column::BusinessId.eq(id)),
        Target::Contact(id) => cond.add(email_links::Column::ContactId.eq(id)),
    }
}

/// The `limit` newest linked emails (tombstones excluded).
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
    let subjects: HashMap<i64, String> = emails::Entity::find()
        .select_only()
        .column(emails::Column::OrganizationId)
        .column(emails::Column::Id)
        .column(emails::Column::Subject)
        .filter(emails::Column::Id.is_in(links.iter().map(|l| l.email_id)))
        .into_tuple::<(i64, i64, String)>()
        .all(db)
        .await?
        .into_iter()
        .filter(|r| r.0 == org_id)
        .map(|(_, id, subject)| (id, subject))
        .collect();
    Ok(links
        .into_iter()
        .map(|l| LinkedEmail {
            subject: subjects.get(&l.email_id).cloned().unwrap_or_default(),
            link_id: l.id,
            email_id: l.email_id,
            received_at: l.received_at,
            reason: l.reason,
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
