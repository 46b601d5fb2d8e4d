//! What evaluating the selection rules gives: the plan (selected users; mailboxes to add,
//! pause, resume, rename; users skipped) and why a mailbox is paused or a user skipped.
use super::{RuleKind, UserState};

/// Why a mailbox is paused, stored in `mail_accounts.directory_state`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum PauseReason {
    /// The user is no longer in the directory.
    Removed,
    Disabled,
    Suspended,
    Archived,
    /// The user no longer has a mailbox.
    NoMailbox,
    /// An exclusion rule names the address.
    Excluded,
    /// No rule selects the user any more.
    NotSelected,
    /// Past the maximum count.
    OverMax,
}

impl PauseReason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Removed => "removed",
            Self::Disabled => "disabled",
            Self::Suspended => "suspended",
            Self::Archived => "archived",
            Self::NoMailbox => "no_mailbox",
            Self::Excluded => "excluded",
            Self::NotSelected => "not_selected",
            Self::OverMax => "over_max",
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Self::Removed => "removed from the directory",
            Self::Disabled => "disabled in the directory",
            Self::Suspended => "suspended in the directory",
            Self::Archived => "archived in the directory",
            Self::NoMailbox => "no longer has a mailbox",
            Self::Excluded => "excluded by a rule",
            Self::NotSelected => "no longer selected by the rules",
            Self::OverMax => "over the maximum count",
        }
    }

    pub(super) fn of_state(state: UserState) -> Option<Self> {
        match state {
            UserState::Active => None,
            UserState::Disabled => Some(Self::Disabled),
            UserState::Suspended => Some(Self::Suspended),
            UserState::Archived => Some(Self::Archived),
        }
    }
}

/// Why a selected user gets no mailbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum SkipReason {
    /// The address is a mailbox its owner linked personally.
    LinkedByOwner,
    /// Another connection of the organization syncs the address.
    OtherConnection,
    /// A rename to an address another mailbox has: the mailbox keeps its old address.
    RenameTaken,
    /// Another mailbox of this connection (a former user's) has the address.
    AddressInUse,
    /// Chosen by address, but without a mailbox in the directory.
    NoMailbox,
    /// Chosen by address, but the user is disabled, suspended or archived.
    Inactive,
    /// Chosen by address, but the directory has no such user.
    Unknown,
}

impl SkipReason {
    pub fn describe(self) -> &'static str {
        match self {
            Self::LinkedByOwner => "already linked by its owner",
            Self::OtherConnection => "already synced by another connection",
            Self::RenameTaken => "renamed to an address another mailbox has; kept the old address",
            Self::AddressInUse => "a former user's mailbox of this connection has the address",
            Self::NoMailbox => "has no mailbox",
            Self::Inactive => "disabled or suspended in the directory",
            Self::Unknown => "not in the directory",
        }
    }
}

/// A selected user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selected {
    pub directory_id: String,
    pub address: String,
    pub display_name: String,
    /// The rule kind that selected the user first.
    pub via: RuleKind,
    /// Whether the connection already has a mailbox for the user.
    pub existing: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Addition {
    pub directory_id: String,
    pub address: String,
    pub display_name: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pause {
    pub account_id: i64,
    pub address: String,
    pub reason: PauseReason,
    /// Already paused: only the flag changes (not counted as paused again).
    pub already_paused: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resume {
    pub account_id: i64,
    pub address: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rename {
    pub account_id: i64,
    pub old_address: String,
    pub new_address: String,
    pub display_name: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skip {
    pub address: String,
    pub reason: SkipReason,
}

/// What evaluating the rules against the directory gives.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// Every user the rules select, by address.
    pub selected: Vec<Selected>,
    pub add: Vec<Addition>,
    pub pause: Vec<Pause>,
    pub resume: Vec<Resume>,
    pub rename: Vec<Rename>,
    pub skip: Vec<Skip>,
    /// Users the rules matched past the maximum count.
    pub over_max: usize,
    /// The rules include nobody (no inclusion rule yet): nothing is added or paused.
    pub no_rules: bool,
}

impl Plan {
    /// Mailboxes newly paused (flag-only changes not counted).
    pub fn newly_paused(&self) -> usize {
        self.pause.iter().filter(|p| !p.already_paused).count()
    }

    pub fn is_empty(&self) -> bool {
        self.add.is_empty()
            && self.pause.is_empty()
            && self.resume.is_empty()
            && self.rename.is_empty()
    }
}
