//! Triage of unmatched mail: a business or contact created from an unmatched email is saved
//! through re-association ([`super::save_in`]) and its stored mail re-associated at once in the
//! same transaction; returned are the emails now linked to it (the page removes their rows).
//! Manual links and tombstones are left alone.
use sea_orm::{ConnectionTrait, TransactionTrait};

use super::save::scope_of;
use super::{reassociate_now, save_in, Edit, ReassociateError, Subject};
use crate::db::directory::unmatched;
use crate::db::links::Scope;

/// Save a new business or contact and link its stored mail; returns it and the ids of the
/// emails now linked to it.
pub async fn create<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    org_id: i64,
    actor: i64,
    edit: Edit<'_>,
) -> Result<(Subject, Vec<i64>), ReassociateError> {
    let txn = crate::db::begin_write(db).await?;
    let (subject, scope) = save_in(&txn, org_id, actor, edit).await?;
    let linked = link_scope(&txn, org_id, subject, &scope).await?;
    txn.commit().await?;
    Ok((subject, linked))
}

/// Link the organization's stored mail from a saved business's domains (and their
/// subdomains); returns the ids of the emails now linked to it.
pub async fn link_existing_mail_for_new_business(
    db: &impl ConnectionTrait,
    org_id: i64,
    business_id: i64,
) -> Result<Vec<i64>, ReassociateError> {
    let subject = Subject::Business(business_id);
    let scope = scope_of(db, org_id, subject).await?;
    link_scope(db, org_id, subject, &scope).await
}

async fn link_scope(
    db: &impl ConnectionTrait,
    org_id: i64,
    subject: Subject,
    scope: &Scope,
) -> Result<Vec<i64>, ReassociateError> {
    let emails = reassociate_now(db, org_id, scope).await?;
    Ok(unmatched::linked_to(db, org_id, &emails, subject.target()).await?)
}
