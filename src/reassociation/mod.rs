//! Retroactive re-association: a directory edit (a business's domains, a contact's addresses
//! or business, a deletion) recomputes the automatic links of exactly the stored emails it can
//! affect, found through participant indexes ([`links::Scope`]). The pure engine runs against
//! the directory as saved and the result is diffed with the stored rows
//! ([`crate::domain::reassociation`]); manual links and tombstones are never touched.
//!
//! Every edit queues a job in the same transaction (so a crash cannot lose the re-association);
//! small ones run at once in the request, large ones in the background ([`job`]). A preview
//! makes the edit in a transaction, counts what re-association would do, and rolls back, so
//! its figures are computed by the same code as the real run.
pub mod import;
pub mod job;
mod run;
mod save;
pub mod triage;

pub use run::{chunk, reassociate_now};
pub use save::{preview, save, save_in};

use sea_orm::DbErr;
use serde::{Deserialize, Serialize};

use crate::db::directory::businesses::BusinessInput;
use crate::db::directory::contacts::ContactInput;
use crate::db::directory::WriteError;
use crate::domain::association::Target;
use crate::domain::records::RecordKind;

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
    /// One email more, with what it gains or loses.
    pub(crate) fn count(&mut self, d: &crate::domain::reassociation::EmailDiff) {
        self.emails += 1;
        self.gained += u64::from(d.gains());
        self.lost += u64::from(d.loses());
    }

    pub(crate) fn add(&mut self, other: Counts) {
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
    pub fn of(kind: RecordKind, id: i64) -> Self {
        match kind {
            RecordKind::Business => Self::Business(id),
            RecordKind::Contact => Self::Contact(id),
        }
    }

    pub fn kind(self) -> RecordKind {
        match self {
            Self::Business(_) => RecordKind::Business,
            Self::Contact(_) => RecordKind::Contact,
        }
    }

    pub fn id(self) -> i64 {
        match self {
            Self::Business(id) | Self::Contact(id) => id,
        }
    }

    /// The business or contact as a link target.
    pub fn target(self) -> Target {
        self.kind().target(self.id())
    }

    /// The page of the business or contact.
    pub fn url(self) -> String {
        self.kind().url(self.id())
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

impl Edit<'_> {
    /// The existing business or contact an update or a deletion is about.
    pub fn subject(self) -> Option<Subject> {
        match self {
            Self::CreateBusiness(_) | Self::CreateContact(_) => None,
            Self::UpdateBusiness(id, _) | Self::DeleteBusiness(id) => Some(Subject::Business(id)),
            Self::UpdateContact(id, _) | Self::DeleteContact(id) => Some(Subject::Contact(id)),
        }
    }
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
