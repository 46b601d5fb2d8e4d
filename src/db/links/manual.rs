//! Links made and undone by people. A manual link (`source = 'manual'`, `reason = 'manual'`)
//! is never removed by automatic work; unlinking an automatic link keeps its row as a
//! tombstone so matching, re-sync and re-association never recreate it, on every stored copy
//! of the message; unlinking a manual link deletes it; linking by hand lifts a tombstone.
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect, TransactionTrait,
};

use super::{insert, row, stored_link};
use crate::db::entities::{businesses, contacts, email_links, emails, link_tombstones};
use crate::domain::association::{Link, Reason, Target};
use crate::domain::reassociation::Source;

/// One email, or every email of its thread in the organization.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Email,
    Thread,
}

#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    /// The email, link or target is not the organization's.
    #[error("not found")]
    NotFound,
    #[error(transparent)]
    Db(#[from] DbErr),
}

async fn email(
    db: &impl ConnectionTrait,
    org_id: i64,
    id: i64,
) -> Result<emails::Model, LinkError> {
    emails::Entity::find_by_id(id)
        .filter(emails::Column::OrganizationId.eq(org_id))
        .one(db)
        .await?
        .ok_or(LinkError::NotFound)
}

/// Of `emails`, `first` and those `actor` may see: in their own mailboxes or already linked;
/// for an admin also the organization's own mailboxes' (no owner), which admins triage.
async fn seen_by(
    db: &impl ConnectionTrait,
    org_id: i64,
    actor: i64,
    first: i64,
    emails: Vec<(i64, chrono::DateTime<chrono::Utc>)>,
) -> Result<Vec<(i64, chrono::DateTime<chrono::Utc>)>, DbErr> {
    let mut seen = std::collections::HashSet::from([first]);
    for chunk in emails.chunks(super::BATCH) {
        let list = crate::db::batch::list(chunk.len());
        let mut values: Vec<sea_orm::Value> = chunk.iter().map(|(id, _)| (*id).into()).collect();
        values.push(org_id.into());
        values.extend(crate::db::visibility::own_values(actor));
        values.extend([false.into(), actor.into()]);
        // The actor's mailboxes (an organization mailbox at their address included), linked
        // mail, and for an admin the organization's mailboxes.
        let sql = format!(
            "SELECT e.id FROM emails e WHERE e.id IN {list} AND e.organization_id = ? AND \
             (e.account_id IN (SELECT a.id FROM mail_accounts a WHERE {own}) \
             OR EXISTS (SELECT 1 FROM email_links l WHERE l.email_id = e.id AND l.tombstone = ?) \
             OR (e.account_id IN (SELECT a.id FROM mail_accounts a \
             WHERE a.organization_id = e.organization_id AND a.owner_user_id IS NULL) \
             AND EXISTS (SELECT 1 FROM users u WHERE u.id = ? AND u.role = 'admin')))",
            own = crate::db::visibility::own_sql("a")
        );
        let stmt = crate::db::batch::statement(db.get_database_backend(), &sql, values);
        for row in db.query_all(stmt).await? {
            seen.insert(row.try_get_by_index::<i64>(0)?);
        }
    }
    Ok(emails
        .into_iter()
        .filter(|(id, _)| seen.contains(id))
        .collect())
}

async fn check_target(
    db: &impl ConnectionTrait,
    org_id: i64,
    target: Target,
) -> Result<(), LinkError> {
    let found = match target {
        Target::Business(id) => businesses::Entity::find_by_id(id)
            .filter(businesses::Column::OrganizationId.eq(org_id))
            .one(db)
            .await?
            .is_some(),
        Target::Contact(id) => contacts::Entity::find_by_id(id)
            .filter(contacts::Column::OrganizationId.eq(org_id))
            .one(db)
            .await?
            .is_some(),
    };
    found.then_some(()).ok_or(LinkError::NotFound)
}

fn target_filter(target: Target) -> sea_orm::Condition {
    match target {
        Target::Business(id) => {
            sea_orm::Condition::all().add(email_links::Column::BusinessId.eq(id))
        }
        Target::Contact(id) => sea_orm::Condition::all().add(email_links::Column::ContactId.eq(id)),
    }
}

/// `(business id, contact id)` of a target, as webhooks announce it.
fn ids_of(target: Target) -> (Option<i64>, Option<i64>) {
    match target {
        Target::Business(id) => (Some(id), None),
        Target::Contact(id) => (None, Some(id)),
    }
}

fn describe(target: Target) -> String {
    match target {
        Target::Business(id) => format!("business {id}"),
        Target::Contact(id) => format!("contact {id}"),
    }
}

/// Link an email (or its thread) to a target by hand; returns how many emails it covered.
pub async fn link<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    org_id: i64,
    actor: i64,
    email_id: i64,
    target: Target,
    scope: Scope,
) -> Result<u64, LinkError> {
    let txn = crate::db::begin_write(db).await?;
    let first = email(&txn, org_id, email_id).await?;
    check_target(&txn, org_id, target).await?;
    let covered: Vec<(i64, chrono::DateTime<chrono::Utc>)> = match scope {
        Scope::Email => vec![(first.id, first.received_at)],
        Scope::Thread => {
            emails::Entity::find()
                .select_only()
                .column(emails::Column::Id)
                .column(emails::Column::ReceivedAt)
                .filter(emails::Column::OrganizationId.eq(org_id))
                .filter(emails::Column::ThreadKey.eq(first.thread_key.clone()))
                .into_tuple()
                .all(&txn)
                .await?
        }
    };
    // A thread's emails the actor cannot see (a colleague's unlinked mail) stay out: linking
    // never raises anyone's access.
    let covered = match scope {
        Scope::Email => covered,
        Scope::Thread => seen_by(&txn, org_id, actor, first.id, covered).await?,
    };
    let ids: Vec<i64> = covered.iter().map(|(id, _)| *id).collect();
    lift_tombstones(&txn, org_id, &ids, target).await?;
    let mut have = std::collections::HashSet::new();
    for chunk in ids.chunks(super::BATCH) {
        let rows: Vec<i64> = email_links::Entity::find()
            .select_only()
            .column(email_links::Column::EmailId)
            .filter(email_links::Column::OrganizationId.eq(org_id))
            .filter(email_links::Column::EmailId.is_in(chunk.iter().copied()))
            .filter(target_filter(target))
            .into_tuple()
            .all(&txn)
            .await?;
        have.extend(rows);
        // An existing row (automatic, tombstoned or manual) becomes the manual link.
        email_links::Entity::update_many()
            .col_expr(email_links::Column::Source, Expr::value("manual"))
            .col_expr(email_links::Column::Reason, Expr::value("manual"))
            .col_expr(email_links::Column::Tombstone, Expr::value(false))
            .col_expr(email_links::Column::CreatedBy, Expr::value(actor))
            .filter(email_links::Column::OrganizationId.eq(org_id))
            .filter(email_links::Column::EmailId.is_in(chunk.iter().copied()))
            .filter(target_filter(target))
            .exec(&txn)
            .await?;
    }
    let manual = Link {
        target,
        reason: Reason::Manual,
    };
    let rows = covered
        .iter()
        .filter(|(id, _)| !have.contains(id))
        .map(|(id, at)| row(org_id, *id, manual, Source::Manual, *at, Some(actor)))
        .collect();
    insert(&txn, rows).await?;
    let n = covered.len() as u64;
    let detail = match scope {
        Scope::Email => describe(target),
        Scope::Thread => format!("{} (thread of {n} emails)", describe(target)),
    };
    audit(&txn, org_id, actor, "email.link", email_id, detail).await?;
    crate::db::live::touch_email(&txn, org_id, first.id).await?;
    let kind = crate::domain::webhooks::EventType::EmailLinked;
    crate::db::webhooks::outbox::link_changed(&txn, org_id, kind, &ids, ids_of(target), actor)
        .await?;
    txn.commit().await?;
    Ok(n)
}

/// Undo a link of an email: a manual link is deleted, an automatic one becomes a tombstone on
/// every stored copy of the message. Returns the link's target.
pub async fn unlink<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    org_id: i64,
    actor: i64,
    email_id: i64,
    link_id: i64,
) -> Result<Target, LinkError> {
    let txn = crate::db::begin_write(db).await?;
    let found = email_links::Entity::find_by_id(link_id)
        .filter(email_links::Column::OrganizationId.eq(org_id))
        .filter(email_links::Column::EmailId.eq(email_id))
        .filter(email_links::Column::Tombstone.eq(false))
        .one(&txn)
        .await?
        .ok_or(LinkError::NotFound)?;
    let link = stored_link(&found).ok_or(LinkError::NotFound)?;
    if link.source == Source::Manual {
        email_links::Entity::delete_by_id(link_id)
            .exec(&txn)
            .await?;
    } else {
        tombstone_copies(&txn, org_id, actor, email_id, link.target, link.reason).await?;
    }
    let detail = describe(link.target);
    audit(&txn, org_id, actor, "email.unlink", email_id, detail).await?;
    crate::db::live::touch_email(&txn, org_id, email_id).await?;
    let kind = crate::domain::webhooks::EventType::EmailUnlinked;
    let target = ids_of(link.target);
    crate::db::webhooks::outbox::link_changed(&txn, org_id, kind, &[email_id], target, actor)
        .await?;
    txn.commit().await?;
    Ok(link.target)
}

/// Forget that `target` was unlinked from the messages of `ids` (all their copies).
async fn lift_tombstones(
    db: &impl ConnectionTrait,
    org_id: i64,
    ids: &[i64],
    target: Target,
) -> Result<(), DbErr> {
    for chunk in ids.chunks(super::BATCH) {
        // Organization checked on the rows, so the primary key stays the index.
        let keys: Vec<String> = emails::Entity::find()
            .select_only()
            .column(emails::Column::OrganizationId)
            .column(emails::Column::MessageKey)
            .filter(emails::Column::Id.is_in(chunk.iter().copied()))
            .into_tuple::<(i64, String)>()
            .all(db)
            .await?
            .into_iter()
            .filter(|r| r.0 == org_id)
            .map(|r| r.1)
            .collect();
        link_tombstones::Entity::delete_many()
            .filter(link_tombstones::Column::OrganizationId.eq(org_id))
            .filter(link_tombstones::Column::MessageKey.is_in(keys))
            .filter(tombstone_target(target))
            .exec(db)
            .await?;
    }
    Ok(())
}

fn tombstone_target(target: Target) -> sea_orm::Condition {
    match target {
        Target::Business(id) => {
            sea_orm::Condition::all().add(link_tombstones::Column::BusinessId.eq(id))
        }
        Target::Contact(id) => {
            sea_orm::Condition::all().add(link_tombstones::Column::ContactId.eq(id))
        }
    }
}

/// Tombstone `target` on the email and on every other stored copy of its message (colleagues'
/// mailboxes): existing rows are marked, copies without a row get a tombstone row.
async fn tombstone_copies(
    db: &impl ConnectionTrait,
    org_id: i64,
    actor: i64,
    email_id: i64,
    target: Target,
    reason: Reason,
) -> Result<(), LinkError> {
    let first = email(db, org_id, email_id).await?;
    let known = link_tombstones::Entity::find()
        .filter(link_tombstones::Column::OrganizationId.eq(org_id))
        .filter(link_tombstones::Column::MessageKey.eq(first.message_key.clone()))
        .filter(tombstone_target(target))
        .one(db)
        .await?;
    if known.is_none() {
        let (business, contact) = match target {
            Target::Business(id) => (Some(id), None),
            Target::Contact(id) => (None, Some(id)),
        };
        link_tombstones::Entity::insert(link_tombstones::ActiveModel {
            organization_id: sea_orm::Set(org_id),
            message_key: sea_orm::Set(first.message_key.clone()),
            business_id: sea_orm::Set(business),
            contact_id: sea_orm::Set(contact),
            created_by: sea_orm::Set(Some(actor)),
            created_at: sea_orm::Set(crate::db::now()),
            ..Default::default()
        })
        .exec_without_returning(db)
        .await?;
    }
    let copies: Vec<(i64, chrono::DateTime<chrono::Utc>)> = emails::Entity::find()
        .select_only()
        .column(emails::Column::Id)
        .column(emails::Column::ReceivedAt)
        .filter(emails::Column::OrganizationId.eq(org_id))
        .filter(emails::Column::MessageKey.eq(first.message_key.clone()))
        .into_tuple()
        .all(db)
        .await?;
    let ids: Vec<i64> = copies.iter().map(|(id, _)| *id).collect();
    let have: std::collections::HashSet<i64> = email_links::Entity::find()
        .select_only()
        .column(email_links::Column::EmailId)
        .filter(email_links::Column::OrganizationId.eq(org_id))
        .filter(email_links::Column::EmailId.is_in(ids.iter().copied()))
        .filter(target_filter(target))
        .into_tuple::<i64>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    // Manual links on other copies are someone's decision too: only automatic rows are marked.
    email_links::Entity::update_many()
        .col_expr(email_links::Column::Tombstone, Expr::value(true))
        .col_expr(email_links::Column::CreatedBy, Expr::value(actor))
        .filter(email_links::Column::OrganizationId.eq(org_id))
        .filter(email_links::Column::EmailId.is_in(ids.iter().copied()))
        .filter(email_links::Column::Source.eq(Source::Auto.as_str()))
        .filter(target_filter(target))
        .exec(db)
        .await?;
    let link = Link { target, reason };
    let rows = copies
        .iter()
        .filter(|(id, _)| !have.contains(id))
        .map(|(id, at)| {
            let mut r = row(org_id, *id, link, Source::Auto, *at, Some(actor));
            r.tombstone = sea_orm::Set(true);
            r
        })
        .collect();
    insert(db, rows).await?;
    Ok(())
}

async fn audit(
    db: &impl ConnectionTrait,
    org_id: i64,
    actor: i64,
    action: &str,
    email_id: i64,
    detail: String,
) -> Result<(), DbErr> {
    let entry = crate::db::audit::Entry::by_user(org_id, actor, action, "email", email_id, detail);
    crate::db::audit::record(db, entry).await
}
