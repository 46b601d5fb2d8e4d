//! What re-association changes on one stored email: the links the engine produces now against
//! the rows the email has. Automatic rows follow the engine; manual rows and tombstones (a
//! person's decision) are never touched, and a target with either gets no automatic row.
use std::collections::BTreeMap;

use super::association::{Link, Reason, Target};

/// Where a stored link row came from; stored in `email_links.source` (`auto` or `manual`; an
/// unknown stored text reads as `Auto`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, sea_orm::DeriveValueType)]
#[sea_orm(value_type = "String", from_str = "Source::from_stored")]
pub enum Source {
    Auto,
    Manual,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Auto => "auto",
            Self::Manual => "manual",
        }
    }

    pub fn parse(s: &str) -> Self {
        if s == "manual" {
            Self::Manual
        } else {
            Self::Auto
        }
    }

    #[allow(clippy::unnecessary_wraps)]
    fn from_stored(s: &str) -> Result<Self, std::convert::Infallible> {
        Ok(Self::parse(s))
    }
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A stored `email_links` row as the diff needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoredLink {
    pub id: i64,
    pub target: Target,
    pub source: Source,
    pub reason: Reason,
    pub tombstone: bool,
}

/// Changes to one email's rows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EmailDiff {
    /// New automatic links.
    pub insert: Vec<Link>,
    /// Ids of automatic rows the engine no longer produces.
    pub delete: Vec<i64>,
    /// Automatic rows kept with another reason (`(row id, new reason)`).
    pub reason: Vec<(i64, Reason)>,
}

impl EmailDiff {
    /// Does the email gain a link?
    pub fn gains(&self) -> bool {
        !self.insert.is_empty()
    }

    /// Does the email lose a link?
    pub fn loses(&self) -> bool {
        !self.delete.is_empty()
    }
}

/// Compare the engine's links with the stored rows of one email.
pub fn diff(stored: &[StoredLink], produced: &[Link]) -> EmailDiff {
    let mut out = EmailDiff::default();
    let wanted: BTreeMap<Target, Reason> = produced.iter().map(|l| (l.target, l.reason)).collect();
    let mut held: BTreeMap<Target, &StoredLink> = BTreeMap::new();
    for row in stored {
        held.insert(row.target, row);
        let automatic = row.source == Source::Auto && !row.tombstone;
        if !automatic {
            continue;
        }
        match wanted.get(&row.target) {
            None => out.delete.push(row.id),
            Some(&reason) if reason != row.reason => out.reason.push((row.id, reason)),
            Some(_) => {}
        }
    }
    for link in produced {
        if !held.contains_key(&link.target) {
            out.insert.push(*link);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{diff, EmailDiff, Source, StoredLink};
    use crate::domain::association::{Link, Reason, Target};

    fn row(id: i64, target: Target, source: Source, reason: Reason, tomb: bool) -> StoredLink {
        StoredLink {
            id,
            target,
            source,
            reason,
            tombstone: tomb,
        }
    }

    fn link(target: Target, reason: Reason) -> Link {
        Link { target, reason }
    }

    const B1: Target = Target::Business(1);
    const B2: Target = Target::Business(2);
    const C1: Target = Target::Contact(1);

    #[test]
    fn table() {
        use Reason::{Address, ContactBusiness, Domain, Manual};
        use Source::{Auto, Manual as M};
        let cases: Vec<(&str, Vec<StoredLink>, Vec<Link>, EmailDiff)> = vec![
            (
                "new match inserted",
                vec![],
                vec![link(B1, Domain)],
                EmailDiff {
                    insert: vec![link(B1, Domain)],
                    ..EmailDiff::default()
                },
            ),
            (
                "lost match deleted",
                vec![row(7, B1, Auto, Domain, false)],
                vec![],
                EmailDiff {
                    delete: vec![7],
                    ..EmailDiff::default()
                },
            ),
            (
                "kept match unchanged",
                vec![row(7, B1, Auto, Domain, false)],
                vec![link(B1, Domain)],
                EmailDiff::default(),
            ),
            (
                "reason follows the engine",
                vec![row(7, B1, Auto, Domain, false)],
                vec![link(B1, ContactBusiness), link(C1, Address)],
                EmailDiff {
                    insert: vec![link(C1, Address)],
                    reason: vec![(7, ContactBusiness)],
                    ..EmailDiff::default()
                },
            ),
            (
                "tombstone blocks and stays",
                vec![row(7, B1, Auto, Domain, true)],
                vec![link(B1, Domain)],
                EmailDiff::default(),
            ),
            (
                "tombstone stays when unmatched",
                vec![row(7, B1, Auto, Domain, true)],
                vec![],
                EmailDiff::default(),
            ),
            (
                "manual link stays and blocks",
                vec![row(7, B1, M, Manual, false), row(8, B2, M, Manual, false)],
                vec![link(B1, Domain)],
                EmailDiff::default(),
            ),
        ];
        for (name, stored, produced, want) in cases {
            assert_eq!(diff(&stored, &produced), want, "{name}");
        }
    }
}
