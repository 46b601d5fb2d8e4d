//! Saving a directory edit: the write and its scope in one transaction, then re-association at
//! once when small or queued as a job; a preview does the same and rolls back.
use sea_orm::{ConnectionTrait, TransactionTrait};

use super::run::diffs_of;
use super::{job, Counts, Edit, ReassociateError, Saved, Subject, CHUNK, INLINE_LIMIT};
use crate::db::directory::{self, records, WriteError};
use crate::db::links::{self, Scope};
use crate::db::visibility;
use crate::domain::records::RecordKind;

/// Save an edit and re-associate what it affects: at once when small, else queued.
pub async fn save<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    org_id: i64,
    actor: i64,
    edit: Edit<'_>,
) -> Result<Saved, ReassociateError> {
    let txn = crate::db::begin_write(db).await?;
    let (subject, scope) = save_in(&txn, org_id, actor, edit).await?;
    let affected = links::affected(&txn, org_id, &scope, 0).await?.len();
    let job_id = if affected == 0 {
        None
    } else {
        Some(job::enqueue(&txn, org_id, subject, scope, affected as u64).await?)
    };
    txn.commit().await?;
    let done = match job_id {
        // The edit is saved and its job queued: a failure here leaves the job to a worker.
        Some(id) if affected <= INLINE_LIMIT => job::run_inline(db, id).await.unwrap_or_else(|e| {
            tracing::warn!(error = %e, job = id, "re-association left to the job worker");
            None
        }),
        Some(_) => None,
        None => Some(Counts::default()),
    };
    Ok(Saved {
        subject,
        affected: affected as u64,
        done,
    })
}

/// What saving the edit would do to stored mail, without saving it, as `actor` may know it:
/// only emails they may see now or once linked count (their own, and colleagues' copies above
/// `private` that are linked or would gain a link), never a colleague's private mailbox or
/// private thread, nor unlinked mail that stays unlinked.
pub async fn preview<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    org_id: i64,
    actor: i64,
    edit: Edit<'_>,
) -> Result<Counts, ReassociateError> {
    let txn = crate::db::begin_write(db).await?;
    let (_, scope) = save_in(&txn, org_id, actor, edit).await?;
    let ids = links::affected(&txn, org_id, &scope, 0).await?;
    let dir = directory::load(&txn, org_id).await?;
    let mut counts = Counts::default();
    for ids in ids.chunks(CHUNK) {
        let standings = visibility::standings(&txn, org_id, actor, ids).await?;
        for (id, d) in diffs_of(&txn, org_id, &dir, ids).await? {
            if standings.get(&id).is_some_and(|s| s.seen(d.gains())) {
                counts.count(&d);
            }
        }
    }
    txn.rollback().await?;
    Ok(counts)
}

/// Make the edit inside the caller's transaction (the one way the directory is written);
/// returns whose it is and the scope of mail it can affect (before and after). The caller
/// re-associates the scope: [`save`] through a job, an import or a triage at once
/// ([`super::reassociate_now`]).
pub async fn save_in(
    txn: &impl ConnectionTrait,
    org_id: i64,
    actor: i64,
    edit: Edit<'_>,
) -> Result<(Subject, Scope), ReassociateError> {
    let mut scope = match edit.subject() {
        Some(subject) => scope_of(txn, org_id, subject).await?,
        None => Scope::default(),
    };
    let (kind, existing, fields) = match edit {
        Edit::CreateBusiness(input) => (RecordKind::Business, None, input.fields()),
        Edit::UpdateBusiness(id, input) => (RecordKind::Business, Some(id), input.fields()),
        Edit::CreateContact(input) => (RecordKind::Contact, None, input.fields()),
        Edit::UpdateContact(id, input) => (RecordKind::Contact, Some(id), input.fields()),
        Edit::DeleteBusiness(id) | Edit::DeleteContact(id) => {
            let subject = edit.subject().unwrap_or(Subject::Business(id));
            records::delete_in(txn, org_id, actor, subject.kind(), id).await?;
            return Ok((subject, scope));
        }
    };
    let id = records::write_in(txn, org_id, actor, kind, existing, fields).await?;
    crate::db::webhooks::outbox::record_saved(txn, org_id, kind, existing.is_none(), id).await?;
    let subject = Subject::of(kind, id);
    scope.merge(scope_of(txn, org_id, subject).await?);
    Ok((subject, scope))
}

/// The mail a business or contact reaches: a business by its domains (its contacts' addresses
/// do not change with it), a contact by its addresses.
pub(super) async fn scope_of(
    db: &impl ConnectionTrait,
    org_id: i64,
    subject: Subject,
) -> Result<Scope, ReassociateError> {
    let record = records::get(db, org_id, subject.kind(), subject.id())
        .await?
        .ok_or(WriteError::NotFound)?;
    let mut scope = Scope::default();
    for identifier in &record.identifiers {
        match subject {
            Subject::Business(_) => scope.add_domain(identifier),
            Subject::Contact(_) => scope.add_address(identifier),
        }
    }
    Ok(scope)
}
