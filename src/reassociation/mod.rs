//! Retroactive re-association: a directory edit (a business's domains, a contact's addresses
//! or business, a deletion) recomputes the automatic links of exactly the stored emails it can
//! affect, found through participant indexes ([`links::Scope`]). The pure engine runs against
//! the directory as saved and the result is diffed with the stored rows
//! ([`crate::domain::relink`]); manual links and tombstones are never touched.
//!
//! Every edit queues a job in the same transaction (so a crash cannot lose the re-association);
//! small ones run at once in the request, large ones in the background ([`job`]). A preview
//! makes the edit in a transaction, counts what re-association would do, and rolls back, so
//! its figures are computed by the same code as the real run.
pub mod job;

use sea_orm::{ConnectionTrait, DbErr, TransactionTrait};
use serde::{Deserialize, Serialize};

use crate::db::directory::businesses::{self, BusinessInput};
use crate::db::directory::contacts::{self, ContactInput};
use crate::db::directory::{self, WriteError};
use crate::db::links::{self, Scope};
use crate::domain::association::{associate, Directory};
use crate::domain::relink::diff;

/// Emails per transaction.
pub const CHUNK: usize = 1_000;
/// Edits reaching more emails than this re-associate in the background.
pub const INLINE_LIMIT: usize = 5_000;

#[derive(Debug, thiserror::Error)]
pub enum ReassociateError {
    #[error(transparent)]
    Write(#[from] WriteError),
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// What re-association did (or would do): emails examined, emails that gained a link, emails
/// that lost one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub emails: u64,
    pub gained: u64,
    pub lost: u64,
}

impl Counts {
    fn add(&mut self, other: Counts) {
        self.emails += other.emails;
        self.gained += other.gained;
        self.lost += other.lost;
    }
}

/// Whose page shows a re-association's progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    Business(i64),
    Contact(i64),
}

impl Subject {
    /// The page of the business or contact.
    pub fn url(self) -> String {
        match self {
            Self::Business(id) => format!("/businesses/{id}"),
            Self::Contact(id) => format!("/contacts/{id}"),
        }
    }
}

/// A directory write.
#[derive(Debug, Clone, Copy)]
pub enum Edit<'a> {
    CreateBusiness(&'a BusinessInput),
    UpdateBusiness(i64, &'a BusinessInput),
    DeleteBusiness(i64),
    CreateContact(&'a ContactInput),
    UpdateContact(i64, &'a ContactInput),
    DeleteContact(i64),
}

/// A saved edit and how its re-association went.
#[derive(Debug, Clone, Copy)]
pub struct Saved {
    pub subject: Subject,
    /// Stored emails the edit can affect.
    pub affected: u64,
    /// What re-association did when it ran in the request; None when queued.
    pub done: Option<Counts>,
}

/// Recompute the automatic links of `ids` against `dir`; with `write`, store the changes.
pub async fn chunk(
    db: &impl ConnectionTrait,
    org_id: i64,
    dir: &Directory,
    ids: &[i64],
    write: bool,
) -> Result<Counts, DbErr> {
    let people = links::participants(db, org_id, ids).await?;
    let stored = links::stored(db, org_id, ids).await?;
    let mut counts = Counts::default();
    let mut diffs = Vec::new();
    for id in ids {
        let produced = associate(dir, people.get(id).into_iter().flatten());
        let d = diff(stored.get(id).map_or(&[][..], Vec::as_slice), &produced);
        counts.emails += 1;
        counts.gained += u64::from(d.gains());
        counts.lost += u64::from(d.loses());
        if d.gains() || d.loses() || !d.reason.is_empty() {
            diffs.push((*id, d));
        }
    }
    if write && !diffs.is_empty() {
        links::apply(db, org_id, &diffs).await?;
    }
    Ok(counts)
}

/// Re-associate, at once and within `db` (a caller's transaction), every stored email `scope`
/// reaches (directory changes made outside [`save`], e.g. an import); returns their ids.
pub async fn relink(
    db: &impl ConnectionTrait,
    org_id: i64,
    scope: &Scope,
) -> Result<Vec<i64>, DbErr> {
    if scope.is_empty() {
        return Ok(Vec::new());
    }
    let ids = links::affected(db, org_id, scope, 0).await?;
    let dir = directory::load(db, org_id).await?;
    for ids in ids.chunks(CHUNK) {
        chunk(db, org_id, &dir, ids, true).await?;
    }
    Ok(ids)
}

/// Save an edit and re-associate what it affects: at once when small, else queued.
pub async fn save<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    org_id: i64,
    actor: i64,
    edit: Edit<'_>,
) -> Result<Saved, ReassociateError> {
    let txn = crate::db::begin_write(db).await?;
    let (subject, scope) = write(&txn, org_id, actor, edit).await?;
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

/// What saving the edit would do to stored mail, without saving it.
pub async fn preview<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    org_id: i64,
    actor: i64,
    edit: Edit<'_>,
) -> Result<Counts, ReassociateError> {
    let txn = crate::db::begin_write(db).await?;
    let (_, scope) = write(&txn, org_id, actor, edit).await?;
    let ids = links::affected(&txn, org_id, &scope, 0).await?;
    let dir = directory::load(&txn, org_id).await?;
    let mut counts = Counts::default();
    for ids in ids.chunks(CHUNK) {
        counts.add(chunk(&txn, org_id, &dir, ids, false).await?);
    }
    txn.rollback().await?;
    Ok(counts)
}

/// Make the edit; returns whose it is and the scope of mail it can affect (before and after).
async fn write(
    txn: &impl ConnectionTrait,
    org_id: i64,
    actor: i64,
    edit: Edit<'_>,
) -> Result<(Subject, Scope), ReassociateError> {
    let mut scope = Scope::default();
    let subject = match edit {
        Edit::CreateBusiness(input) => {
            input
                .domains
                .iter()
                .for_each(|d| scope.add_domain(d.as_str()));
            Subject::Business(businesses::create_in(txn, org_id, actor, input).await?)
        }
        Edit::UpdateBusiness(id, input) => {
            scope.merge(business_scope(txn, org_id, id).await?);
            input
                .domains
                .iter()
                .for_each(|d| scope.add_domain(d.as_str()));
            businesses::update_in(txn, org_id, actor, id, input).await?;
            Subject::Business(id)
        }
        Edit::DeleteBusiness(id) => {
            scope.merge(business_scope(txn, org_id, id).await?);
            businesses::delete_in(txn, org_id, actor, id).await?;
            Subject::Business(id)
        }
        Edit::CreateContact(input) => {
            input
                .addresses
                .iter()
                .for_each(|a| scope.add_address(a.as_str()));
            Subject::Contact(contacts::create_in(txn, org_id, actor, input).await?)
        }
        Edit::UpdateContact(id, input) => {
            scope.merge(contact_scope(txn, org_id, id).await?);
            input
                .addresses
                .iter()
                .for_each(|a| scope.add_address(a.as_str()));
            contacts::update_in(txn, org_id, actor, id, input).await?;
            Subject::Contact(id)
        }
        Edit::DeleteContact(id) => {
            scope.merge(contact_scope(txn, org_id, id).await?);
            contacts::delete_in(txn, org_id, actor, id).await?;
            Subject::Contact(id)
        }
    };
    Ok((subject, scope))
}

/// A business reaches mail by its domains (its contacts' addresses do not change with it).
async fn business_scope(
    db: &impl ConnectionTrait,
    org_id: i64,
    id: i64,
) -> Result<Scope, ReassociateError> {
    let b = businesses::get(db, org_id, id)
        .await?
        .ok_or(WriteError::NotFound)?;
    let mut scope = Scope::default();
    b.domains.iter().for_each(|d| scope.add_domain(d));
    Ok(scope)
}

async fn contact_scope(
    db: &impl ConnectionTrait,
    org_id: i64,
    id: i64,
) -> Result<Scope, ReassociateError> {
    let c = contacts::get(db, org_id, id)
        .await?
        .ok_or(WriteError::NotFound)?;
    let mut scope = Scope::default();
    c.addresses.iter().for_each(|a| scope.add_address(a));
    Ok(scope)
}
