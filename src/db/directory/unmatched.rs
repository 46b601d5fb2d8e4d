//! Unmatched mail: stored, live emails with an external participant and no live link, newest
//! first by keyset; and the one-click triage that links one of them by hand. Unlinked mail is
//! private to its mailbox's owner, so a member lists and triages only their own mailboxes'
//! ([`Triager::Member`]); an admin also the organization's own mailboxes (those without an
//! owner), never a colleague's: triage never raises anyone's access.
use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, Func, OnConflict, Query, SimpleExpr};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set, TransactionTrait,
};

use super::WriteError;
use crate::db::entities::{
    businesses, contacts, email_links, email_participants, emails, mail_accounts, users,
};
use crate::domain::address::EmailAddress;
use crate::domain::association::{Reason, Target};
use crate::domain::reassociation::Source;

/// Whose unlinked mail is listed and may be triaged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Triager {
    /// An admin (by user id): their own mailboxes and the organization's mailboxes (no owner).
    Admin(i64),
    /// A member (by user id): only the mailboxes they own, and the organization mailbox at
    /// their address (which they see as its owner).
    Member(i64),
}

impl Triager {
    /// Emails (the outer `emails` row) in this triager's sight.
    fn condition(self) -> SimpleExpr {
        let mut mailboxes = Query::select()
            .column(mail_accounts::Column::Id)
            .from(mail_accounts::Entity)
            .to_owned();
        match self {
            Triager::Admin(user_id) => mailboxes.cond_where(
                Condition::any()
                    .add(mail_accounts::Column::OwnerUserId.eq(user_id))
                    .add(mail_accounts::Column::OwnerUserId.is_null()),
            ),
            Triager::Member(user_id) => {
                // `visibility::own_sql` as a query: owned, or an organization mailbox at the
                // member's address.
                let address = Query::select()
                    .expr(Func::lower(Expr::col((
                        users::Entity,
                        users::Column::Email,
                    ))))
                    .from(users::Entity)
                    .and_where(Expr::col((users::Entity, users::Column::Id)).eq(user_id))
                    .to_owned();
                mailboxes.cond_where(
                    Condition::any()
                        .add(mail_accounts::Column::OwnerUserId.eq(user_id))
                        .add(
                            Condition::all()
                                .add(mail_accounts::Column::OwnerUserId.is_null())
                                .add(mail_accounts::Column::ConnectionId.is_not_null())
                                .add(
                                    Expr::expr(Func::lower(Expr::col((
                                        mail_accounts::Entity,
                                        mail_accounts::Column::Address,
                                    ))))
                                    .in_subquery(address),
                                ),
                        ),
                )
            }
        };
        emails::Column::AccountId.in_subquery(mailboxes)
    }
}

/// Where a page starts: before this (received_at, id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Before {
    pub received_at: DateTime<Utc>,
    pub id: i64,
}

/// Unmatched emails of the organization in `who`'s sight before `before`, newest first, at
/// most `limit` (by keyset: walking emails newest first by index stops once `limit` are found).
/// `internal` are the organization's internal domains.
pub(super) async fn emails_before(
    db: &impl ConnectionTrait,
    org_id: i64,
    who: Triager,
    internal: &[String],
    before: Option<&Before>,
    limit: u64,
) -> Result<Vec<emails::Model>, DbErr> {
    let mut external = Condition::all().add(
        Expr::col((
            email_participants::Entity,
            email_participants::Column::EmailId,
        ))
        .equals((emails::Entity, emails::Column::Id)),
    );
    for d in internal {
        external = external
            .add(email_participants::Column::Domain.ne(d.as_str()))
            .add(email_participants::Column::Domain.not_like(format!("%.{d}")));
    }
    let with_external = Query::select()
        .expr(Expr::val(1))
        .from(email_participants::Entity)
        .cond_where(external)
        .to_owned();
    let mut select = emails::Entity::find()
        .filter(emails::Column::OrganizationId.eq(org_id))
        .filter(who.condition())
        .filter(emails::Column::SoftDeletedAt.is_null())
        .filter(emails::Column::DeletedInProviderAt.is_null())
        .filter(no_live_link())
        .filter(Expr::exists(with_external))
        .order_by_desc(emails::Column::ReceivedAt)
        .order_by_desc(emails::Column::Id)
        .limit(limit);
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
    select.all(db).await
}

/// Unmatched (live, no live link) emails of the organization in `who`'s sight: the
/// conditions on the outer `emails` row.
pub(super) fn unmatched_in_sight(org_id: i64, who: Triager) -> Condition {
    Condition::all()
        .add(Expr::col((emails::Entity, emails::Column::OrganizationId)).eq(org_id))
        .add(who.condition())
        .add(Expr::col((emails::Entity, emails::Column::SoftDeletedAt)).is_null())
        .add(Expr::col((emails::Entity, emails::Column::DeletedInProviderAt)).is_null())
        .add(no_live_link())
}

/// `NOT EXISTS` a live link of the outer `emails` row.
fn no_live_link() -> SimpleExpr {
    let live_link = Query::select()
        .expr(Expr::val(1))
        .from(email_links::Entity)
        .and_where(
            Expr::col((email_links::Entity, email_links::Column::EmailId))
                .equals((emails::Entity, emails::Column::Id)),
        )
        .and_where(email_links::Column::Tombstone.eq(false))
        .to_owned();
    Expr::exists(live_link).not()
}

/// How many unmatched emails involve each of `domains` (subdomains too), so a row can say how
/// much mail creating that business would link.
pub(super) async fn counts_by_domain(
    db: &impl ConnectionTrait,
    org_id: i64,
    who: Triager,
    domains: &HashSet<&str>,
) -> Result<HashMap<String, u64>, DbErr> {
    if domains.is_empty() {
        return Ok(HashMap::new());
    }
    let mut hosts = Condition::any();
    for d in domains {
        hosts = hosts
            .add(email_participants::Column::Domain.eq(*d))
            .add(email_participants::Column::Domain.like(format!("%.{d}")));
    }
    let unmatched = Query::select()
        .column(emails::Column::Id)
        .from(emails::Entity)
        .and_where(emails::Column::OrganizationId.eq(org_id))
        .and_where(who.condition())
        .and_where(emails::Column::SoftDeletedAt.is_null())
        .and_where(emails::Column::DeletedInProviderAt.is_null())
        .and_where(no_live_link())
        .to_owned();
    let pairs: Vec<(i64, String)> = email_participants::Entity::find()
        .select_only()
        .column(email_participants::Column::EmailId)
        .column(email_participants::Column::Domain)
        .filter(email_participants::Column::OrganizationId.eq(org_id))
        .filter(hosts)
        .filter(email_participants::Column::EmailId.in_subquery(unmatched))
        .distinct()
        .into_tuple()
        .all(db)
        .await?;
    let mut emails_of: HashMap<String, HashSet<i64>> = HashMap::new();
    for (email, host) in pairs {
        if let Some(d) = domains
            .iter()
            .find(|d| host == **d || host.ends_with(&format!(".{d}")))
        {
            emails_of.entry((*d).to_string()).or_default().insert(email);
        }
    }
    Ok(emails_of
        .into_iter()
        .map(|(d, ids)| (d, ids.len() as u64))
        .collect())
}

/// Whether the organization's email `id` exists and is in `who`'s sight for triage.
pub async fn email_exists(
    db: &impl ConnectionTrait,
    org_id: i64,
    who: Triager,
    id: i64,
) -> Result<bool, DbErr> {
    Ok(emails::Entity::find_by_id(id)
        .filter(emails::Column::OrganizationId.eq(org_id))
        .filter(who.condition())
        .one(db)
        .await?
        .is_some())
}

/// Link one email in `who`'s sight (and the organization's other copies of it, from
/// colleagues' mailboxes) to an existing business or contact of the organization by hand
/// (audited). Returns the ids of the emails linked; NotFound for an email out of sight.
pub async fn link_email_from_triage<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    org_id: i64,
    (actor, who): (i64, Triager),
    email_id: i64,
    target: Target,
) -> Result<Vec<i64>, WriteError> {
    let txn = crate::db::begin_write(db).await?;
    if !email_exists(&txn, org_id, who, email_id).await? {
        return Err(WriteError::NotFound);
    }
    let (name, linked) = link_copies(&txn, org_id, actor, email_id, target).await?;
    let detail = format!("email {email_id} -> {name}");
    super::record(&txn, org_id, actor, "email.link", email_id, &detail).await?;
    txn.commit().await?;
    Ok(linked)
}

/// Link every unmatched email in `who`'s sight that `address` takes part in (and the
/// organization's other copies of each) to an existing business or contact by hand, in one
/// transaction, audited once. `email_id` is the row's email: NotFound unless it is in sight
/// and `address` takes part in it. Returns the ids of the emails linked.
pub async fn link_person_from_triage<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    org_id: i64,
    (actor, who): (i64, Triager),
    (email_id, address): (i64, &EmailAddress),
    target: Target,
) -> Result<Vec<i64>, WriteError> {
    let txn = crate::db::begin_write(db).await?;
    if !email_exists(&txn, org_id, who, email_id).await? {
        return Err(WriteError::NotFound);
    }
    let theirs = super::correspondents::unmatched_of(&txn, org_id, who, address).await?;
    if !theirs.contains(&email_id) {
        return Err(WriteError::NotFound);
    }
    let mut linked: Vec<i64> = Vec::new();
    let mut name = String::new();
    for id in &theirs {
        if linked.contains(id) {
            continue; // a copy of a message linked already
        }
        let (to, copies) = link_copies(&txn, org_id, actor, *id, target).await?;
        name = to;
        linked.extend(copies);
    }
    let detail = format!("{} emails of {address} -> {name}", theirs.len());
    super::record(&txn, org_id, actor, "email.link", email_id, &detail).await?;
    txn.commit().await?;
    linked.sort_unstable();
    linked.dedup();
    Ok(linked)
}

async fn link_copies(
    db: &impl ConnectionTrait,
    org_id: i64,
    actor: i64,
    email_id: i64,
    target: Target,
) -> Result<(String, Vec<i64>), WriteError> {
    let email = emails::Entity::find_by_id(email_id)
        .filter(emails::Column::OrganizationId.eq(org_id))
        .one(db)
        .await?
        .ok_or(WriteError::NotFound)?;
    let copies = emails::Entity::find()
        .filter(emails::Column::OrganizationId.eq(org_id))
        .filter(emails::Column::MessageKey.eq(email.message_key.as_str()))
        .all(db)
        .await?;
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
    for copy in &copies {
        link_one(db, org_id, actor, copy, business, contact).await?;
    }
    Ok((name, copies.into_iter().map(|e| e.id).collect()))
}

async fn link_one(
    db: &impl ConnectionTrait,
    org_id: i64,
    actor: i64,
    email: &emails::Model,
    business: Option<i64>,
    contact: Option<i64>,
) -> Result<(), DbErr> {
    let existing = email_links::Entity::find()
        .filter(email_links::Column::EmailId.eq(email.id))
        .filter(match (business, contact) {
            (Some(id), _) => email_links::Column::BusinessId.eq(id),
            (None, id) => email_links::Column::ContactId.eq(id),
        })
        .one(db)
        .await?;
    // A tombstone (someone unlinked it) is revived by this explicit choice.
    if let Some(old) = existing {
        let mut old: email_links::ActiveModel = old.into();
        old.tombstone = Set(false);
        old.source = Set(Source::Manual);
        old.reason = Set(Reason::Manual);
        old.created_by = Set(Some(actor));
        old.update(db).await?;
    } else {
        let row = email_links::ActiveModel {
            organization_id: Set(org_id),
            email_id: Set(email.id),
            business_id: Set(business),
            contact_id: Set(contact),
            source: Set(Source::Manual),
            reason: Set(Reason::Manual),
            tombstone: Set(false),
            received_at: Set(email.received_at),
            created_by: Set(Some(actor)),
            created_at: Set(crate::db::now()),
            ..Default::default()
        };
        email_links::Entity::insert(row)
            .on_conflict(OnConflict::new().do_nothing().to_owned())
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

/// Those of `emails` with a live link to `target` (a record a triage just created).
pub async fn linked_to(
    db: &impl ConnectionTrait,
    org_id: i64,
    emails: &[i64],
    target: Target,
) -> Result<Vec<i64>, DbErr> {
    let column = match target {
        Target::Business(id) => email_links::Column::BusinessId.eq(id),
        Target::Contact(id) => email_links::Column::ContactId.eq(id),
    };
    let mut out = Vec::new();
    for chunk in emails.chunks(500) {
        let rows: Vec<i64> = email_links::Entity::find()
            .select_only()
            .column(email_links::Column::EmailId)
            .distinct()
            .filter(email_links::Column::OrganizationId.eq(org_id))
            .filter(email_links::Column::EmailId.is_in(chunk.iter().copied()))
            .filter(email_links::Column::Tombstone.eq(false))
            .filter(column.clone())
            .into_tuple()
            .all(db)
            .await?;
        out.extend(rows);
    }
    out.sort_unstable();
    Ok(out)
}
