//! Unmatched mail: stored, live emails with an external participant and no live link, newest
//! first by keyset; and the one-click triage that links one of them by hand.
use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, OnConflict, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};

use super::WriteError;
use crate::db::entities::{businesses, contacts, email_links, email_participants, emails};
use crate::domain::address::EmailAddress;
use crate::domain::association::{Reason, Target};
use crate::domain::domains::registrable;

/// Where a page starts: before this (received_at, id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Before {
    pub received_at: DateTime<Utc>,
    pub id: i64,
}

/// One unmatched email and the external person triage acts on.
#[derive(Debug, Clone)]
pub struct UnmatchedRow {
    pub email_id: i64,
    pub subject: String,
    pub received_at: DateTime<Utc>,
    pub external: EmailAddress,
    pub external_name: String,
    /// The registrable domain a business could be created from; None for free-mail.
    pub business_domain: Option<String>,
}

/// Unmatched emails of the organization before `before`, newest first: at most `size`, and the
/// cursor of the next page.
pub async fn list(
    db: &impl ConnectionTrait,
    org_id: i64,
    before: Option<&Before>,
    size: u64,
) -> Result<(Vec<UnmatchedRow>, Option<Before>), DbErr> {
    let directory = super::load(db, org_id).await?;
    let internal = super::settings::load(db, org_id)
        .await
        .map(|s| s.internal_domains)
        .unwrap_or_default();
    let mut external = Condition::all().add(email_participants::Column::OrganizationId.eq(org_id));
    for d in &internal {
        external = external
            .add(email_participants::Column::Domain.ne(d.as_str()))
            .add(email_participants::Column::Domain.not_like(format!("%.{d}")));
    }
    let with_external = Query::select()
        .column(email_participants::Column::EmailId)
        .from(email_participants::Entity)
        .cond_where(external)
        .to_owned();
    let live_link = Query::select()
        .expr(Expr::val(1))
        .from(email_links::Entity)
        .and_where(
            Expr::col((email_links::Entity, email_links::Column::EmailId))
                .equals((emails::Entity, emails::Column::Id)),
        )
        .and_where(email_links::Column::Tombstone.eq(false))
        .to_owned();
    let mut select = emails::Entity::find()
        .filter(emails::Column::OrganizationId.eq(org_id))
        .filter(emails::Column::SoftDeletedAt.is_null())
        .filter(emails::Column::DeletedInProviderAt.is_null())
        .filter(Expr::exists(live_link).not())
        .filter(emails::Column::Id.in_subquery(with_external))
        .order_by_desc(emails::Column::ReceivedAt)
        .order_by_desc(emails::Column::Id)
        .limit(size + 1);
    if let Some(b) = before {
        select = select.filter(
            Condition::any()
                .add(emails::Column::ReceivedAt.lt(b.received_at))
                .add(
                    Condition::all()
                        .add(emails::Column::ReceivedAt.eq(b.received_at))
                        .add(emails::Column::Id.lt(b.id)),
                ),
        );
    }
    let mut found = select.all(db).await?;
    let size = usize::try_from(size).unwrap_or(usize::MAX);
    let next = (found.len() > size).then(|| {
        found.truncate(size);
        found.last().map(|e| Before {
            received_at: e.received_at,
            id: e.id,
        })
    });
    let mut people: BTreeMap<i64, Vec<email_participants::Model>> = BTreeMap::new();
    for p in email_participants::Entity::find()
        .filter(email_participants::Column::EmailId.is_in(found.iter().map(|e| e.id)))
        .order_by_asc(email_participants::Column::Id)
        .all(db)
        .await?
    {
        people.entry(p.email_id).or_default().push(p);
    }
    let rows = found
        .into_iter()
        .filter_map(|e| {
            let ps = people.remove(&e.id).unwrap_or_default();
            // The author when external, else the first external recipient.
            let pick = ps
                .iter()
                .filter(|p| !directory.is_internal(&p.domain))
                .min_by_key(|p| u8::from(p.role != "from"))?;
            let address = EmailAddress::parse(&pick.address).ok()?;
            let business_domain = (!directory.is_free_mail(address.domain()))
                .then(|| registrable(address.domain()))
                .flatten();
            Some(UnmatchedRow {
                email_id: e.id,
                subject: e.subject,
                received_at: e.received_at,
                external_name: pick.name.clone(),
                external: address,
                business_domain,
            })
        })
        .collect();
    Ok((rows, next.flatten()))
}

/// The organization's email with this id, if any.
pub async fn email_exists(db: &impl ConnectionTrait, org_id: i64, id: i64) -> Result<bool, DbErr> {
    Ok(emails::Entity::find_by_id(id)
        .filter(emails::Column::OrganizationId.eq(org_id))
        .one(db)
        .await?
        .is_some())
}

/// Link one email to an existing business or contact of the organization by hand (audited).
pub async fn link_email_from_triage(
    db: &impl ConnectionTrait,
    org_id: i64,
    actor: i64,
    email_id: i64,
    target: Target,
) -> Result<(), WriteError> {
    let email = emails::Entity::find_by_id(email_id)
        .filter(emails::Column::OrganizationId.eq(org_id))
        .one(db)
        .await?
        .ok_or(WriteError::NotFound)?;
    let (business, contact, name) = match target {
        Target::Business(id) => {
            let b = businesses::Entity::find_by_id(id)
                .filter(businesses::Column::OrganizationId.eq(org_id))
                .one(db)
                .await?
                .ok_or(WriteError::NotFound)?;
            (Some(id), None, b.name)
        }
        Target::Contact(id) => {
            let c = contacts::Entity::find_by_id(id)
                .filter(contacts::Column::OrganizationId.eq(org_id))
                .one(db)
                .await?
                .ok_or(WriteError::NotFound)?;
            (None, Some(id), c.name)
        }
    };
    let row = email_links::ActiveModel {
        organization_id: Set(org_id),
        email_id: Set(email_id),
        business_id: Set(business),
        contact_id: Set(contact),
        source: Set("manual".into()),
        reason: Set(Reason::Manual.as_str().into()),
        tombstone: Set(false),
        received_at: Set(email.received_at),
        created_by: Set(Some(actor)),
        created_at: Set(crate::db::now()),
        ..Default::default()
    };
    let existing = email_links::Entity::find()
        .filter(email_links::Column::EmailId.eq(email_id))
        .filter(match target {
            Target::Business(id) => email_links::Column::BusinessId.eq(id),
            Target::Contact(id) => email_links::Column::ContactId.eq(id),
        })
        .one(db)
        .await?;
    match existing {
        // A tombstone (someone unlinked it) is revived by this explicit choice.
        Some(old) => {
            let mut old: email_links::ActiveModel = old.into();
            old.tombstone = Set(false);
            old.source = Set("manual".into());
            old.reason = Set(Reason::Manual.as_str().into());
            old.created_by = Set(Some(actor));
            old.update(db).await?;
        }
        None => {
            email_links::Entity::insert(row)
                .on_conflict(OnConflict::new().do_nothing().to_owned())
                .exec_without_returning(db)
                .await?;
        }
    }
    let detail = format!("email {email_id} -> {name}");
    super::record(db, org_id, actor, "email.link", email_id, &detail).await?;
    Ok(())
}
