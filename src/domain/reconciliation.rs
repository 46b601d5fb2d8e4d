//! Reconciliation rules: when a folder's (label's) provider count and what Threadline holds
//! for it (stored plus ledgered) are said to differ. A pass reads the provider's count at one
//! moment and stores changes at others, so one check can disagree while mail is in flight;
//! a difference is only reported once two finished passes in a row found one.
use serde::Serialize;

/// Finished passes in a row that must find a difference before it is reported.
pub const CONFIRMING_PASSES: i64 = 2;

/// What a check concluded, for one folder or a whole mailbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Provider count = stored + ledgered.
    Matches,
    /// They disagreed at the end of two finished passes in a row.
    Differs,
    /// Not checked yet (no finished pass over a fully listed mailbox, or the mailbox syncs
    /// only mail since a date), or one pass found a difference the next must confirm.
    Unknown,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Matches => "matches",
            Self::Differs => "differs",
            Self::Unknown => "unknown",
        }
    }

    /// A folder's status from its passes in a row with a difference.
    pub fn of_folder(differing_passes: i64) -> Self {
        match differing_passes {
            0 => Self::Matches,
            n if n >= CONFIRMING_PASSES => Self::Differs,
            _ => Self::Unknown,
        }
    }

    /// A mailbox's status from its folders': any differing folder makes it differ; with none
    /// checked, or one awaiting confirmation, it is unknown.
    pub fn of_mailbox(folders: impl IntoIterator<Item = Self>) -> Self {
        let mut out = None;
        for s in folders {
            out = Some(match (out, s) {
                (_, Self::Differs) | (Some(Self::Differs), _) => Self::Differs,
                (_, Self::Unknown) | (Some(Self::Unknown), _) => Self::Unknown,
                _ => Self::Matches,
            });
        }
        out.unwrap_or(Self::Unknown)
    }
}

/// The passes in a row with a difference after a check of `provider` against `held` (stored
/// plus ledgered), given the count before it.
pub fn differing_passes(before: i64, provider: u64, held: u64) -> i64 {
    if provider == held {
        0
    } else {
        before.saturating_add(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_difference_is_reported_only_when_the_next_pass_confirms_it() {
        let first = differing_passes(0, 10, 9);
        assert_eq!(Status::of_folder(first), Status::Unknown);
        let second = differing_passes(first, 10, 9);
        assert_eq!(Status::of_folder(second), Status::Differs);
        assert_eq!(
            Status::of_folder(differing_passes(second, 10, 10)),
            Status::Matches
        );
    }

    #[test]
    fn a_mailbox_differs_when_any_folder_does() {
        use Status::{Differs, Matches, Unknown};
        assert_eq!(Status::of_mailbox([Matches, Matches]), Matches);
        assert_eq!(Status::of_mailbox([Matches, Unknown]), Unknown);
        assert_eq!(Status::of_mailbox([Unknown, Differs, Matches]), Differs);
        assert_eq!(Status::of_mailbox([]), Unknown);
    }
}
