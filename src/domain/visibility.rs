//! Visibility levels: how much of a mailbox's linked mail colleagues see. Ordered from least
//! to most: `private` (nothing), `metadata` (participants and time), `subject` (also the
//! subject), `full` (also the body, snippet and attachments). The owner of a mailbox always
//! sees all of it; a message in several mailboxes is seen at the most permissive level among
//! the copies a reader may see.
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum Level {
    Private,
    Metadata,
    Subject,
    #[default]
    Full,
}

impl Level {
    pub const ALL: [Level; 4] = [Level::Private, Level::Metadata, Level::Subject, Level::Full];

    pub fn as_str(self) -> &'static str {
        match self {
            Level::Private => "private",
            Level::Metadata => "metadata",
            Level::Subject => "subject",
            Level::Full => "full",
        }
    }

    /// The rank SQL computes for a level (`0` private .. `3` full).
    pub fn rank(self) -> i64 {
        self as i64
    }

    pub fn from_rank(rank: i64) -> Level {
        match rank {
            i64::MIN..=0 => Level::Private,
            1 => Level::Metadata,
            2 => Level::Subject,
            _ => Level::Full,
        }
    }

    /// What a colleague sees at this level, in a sentence (settings pages).
    pub fn describe(self) -> &'static str {
        match self {
            Level::Private => "nothing: colleagues never see this mail",
            Level::Metadata => "participants and time only",
            Level::Subject => "subject, participants and time, not the body",
            Level::Full => "everything, body and attachments included",
        }
    }

    pub fn shows_subject(self) -> bool {
        self >= Level::Subject
    }

    pub fn shows_body(self) -> bool {
        self == Level::Full
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown visibility level {0:?}")]
pub struct UnknownLevel(pub String);

impl FromStr for Level {
    type Err = UnknownLevel;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Level::ALL
            .into_iter()
            .find(|l| l.as_str() == s.trim())
            .ok_or_else(|| UnknownLevel(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_are_ordered_and_round_trip() {
        assert!(Level::Private < Level::Metadata);
        assert!(Level::Metadata < Level::Subject);
        assert!(Level::Subject < Level::Full);
        for l in Level::ALL {
            assert_eq!(l.as_str().parse::<Level>().unwrap(), l);
            assert_eq!(Level::from_rank(l.rank()), l);
        }
        assert!("secret".parse::<Level>().is_err());
        assert!(!Level::Metadata.shows_subject());
        assert!(Level::Subject.shows_subject() && !Level::Subject.shows_body());
    }
}
