//! Background work's kinds and states, stored as text in `jobs.kind` and `jobs.state`.
use sea_orm::DeriveValueType;

use super::stored::text_enum;

/// Stored as `sync_account`, `reassociate_business`, `reassociate_contact`, `directory_sync`,
/// `retention`, `apply_references`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, DeriveValueType)]
#[sea_orm(value_type = "String")]
pub enum JobKind {
    /// Sync a mailbox (recurring; the subject is the mailbox).
    SyncAccount,
    /// Re-associate mail after a business's edit (the subject is the business).
    ReassociateBusiness,
    /// Re-associate mail after a contact's edit (the subject is the contact).
    ReassociateContact,
    /// Re-read an organization-wide connection's directory and apply its selection rules
    /// (recurring; the subject is the connection).
    DirectorySync,
    /// Prune an organization's old sync runs and ledger history (recurring, daily; the
    /// subject is the organization).
    Retention,
    /// Apply a reference rule to stored mail after it was added or edited (the subject is the
    /// rule).
    ApplyReferences,
}

/// Stored as `queued`, `running`, `done`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, DeriveValueType)]
#[sea_orm(value_type = "String")]
pub enum JobState {
    Queued,
    /// Held by a worker until its lease ends.
    Running,
    /// A one-shot job that finished; kept so its outcome can be shown.
    Done,
}

impl JobKind {
    pub const ALL: [Self; 6] = [
        Self::SyncAccount,
        Self::ReassociateBusiness,
        Self::ReassociateContact,
        Self::DirectorySync,
        Self::Retention,
        Self::ApplyReferences,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::SyncAccount => "sync_account",
            Self::ReassociateBusiness => "reassociate_business",
            Self::ReassociateContact => "reassociate_contact",
            Self::DirectorySync => "directory_sync",
            Self::Retention => "retention",
            Self::ApplyReferences => "apply_references",
        }
    }
}

impl JobState {
    pub const ALL: [Self; 3] = [Self::Queued, Self::Running, Self::Done];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Done => "done",
        }
    }
}

text_enum!(JobKind);
text_enum!(JobState);
