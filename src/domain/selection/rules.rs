//! Selection rules of an organization-wide connection, as an admin types them: each rule's
//! kind, its normalized value, and which kinds a connection's provider supports.
use std::fmt;

/// Which provider a connection reaches, as far as rules care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Directory {
    /// Microsoft 365 (Graph `/users`): filters are Graph `$filter` expressions, groups exist,
    /// shared mailboxes are users chosen by address.
    Microsoft,
    /// Google Workspace (Admin SDK `users.list`): filters are directory `query` strings, users
    /// sit in org units.
    Google,
}

impl Directory {
    /// From `connections.kind`.
    pub fn of_connection_kind(kind: &str) -> Option<Self> {
        match kind {
            "microsoft365" => Some(Self::Microsoft),
            "google_workspace" => Some(Self::Google),
            _ => None,
        }
    }
}

/// Stored in `connection_rules.kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RuleKind {
    /// Every user with a mailbox.
    AllUsers,
    /// Users the directory's own filter selects (Graph `$filter`, Google `query`).
    Filter,
    /// Google: users in an org unit (and the units under it).
    OrgUnit,
    /// Microsoft: direct members of a group (by group id).
    Group,
    /// One address, chosen explicitly.
    Address,
    /// Microsoft: a shared mailbox (a user whose sign-in is disabled), chosen by address.
    Shared,
    /// At most this many mailboxes.
    MaxCount,
    /// Never this address.
    Exclude,
}

impl RuleKind {
    pub const ALL: [Self; 8] = [
        Self::AllUsers,
        Self::Filter,
        Self::OrgUnit,
        Self::Group,
        Self::Address,
        Self::Shared,
        Self::MaxCount,
        Self::Exclude,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::AllUsers => "all_users",
            Self::Filter => "filter",
            Self::OrgUnit => "org_unit",
            Self::Group => "group",
            Self::Address => "address",
            Self::Shared => "shared",
            Self::MaxCount => "max_count",
            Self::Exclude => "exclude",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// What a person reads on the rules page.
    pub fn label(self) -> &'static str {
        match self {
            Self::AllUsers => "All users",
            Self::Filter => "Users matching a filter",
            Self::OrgUnit => "Users in an org unit",
            Self::Group => "Members of a group",
            Self::Address => "This address",
            Self::Shared => "Shared mailbox",
            Self::MaxCount => "At most",
            Self::Exclude => "Never this address",
        }
    }

    /// Whether the kind adds users (as opposed to limiting them).
    pub fn includes(self) -> bool {
        !matches!(self, Self::MaxCount | Self::Exclude)
    }

    /// Whether the directory itself evaluates the rule (a query per rule).
    pub fn queried(self) -> bool {
        matches!(self, Self::Filter | Self::OrgUnit | Self::Group)
    }

    /// The kinds a provider's directory supports, in the order the page offers them.
    pub fn offered(directory: Directory) -> Vec<Self> {
        Self::ALL
            .into_iter()
            .filter(|k| {
                !matches!(
                    (k, directory),
                    (Self::OrgUnit, Directory::Microsoft)
                        | (Self::Group | Self::Shared, Directory::Google)
                )
            })
            .collect()
    }
}

impl fmt::Display for RuleKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One rule of a connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub id: i64,
    pub kind: RuleKind,
    pub value: String,
}

impl Rule {
    /// The count of a `max_count` rule.
    pub fn max(&self) -> Option<usize> {
        (self.kind == RuleKind::MaxCount)
            .then(|| self.value.parse().ok())
            .flatten()
    }
}

/// Why a typed rule cannot be saved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    #[error("unknown kind of rule")]
    UnknownKind,
    #[error("\"{0}\" rules do not exist for this kind of connection")]
    NotForDirectory(&'static str),
    #[error("enter a value")]
    Empty,
    #[error("enter an address such as support@example.com")]
    NotAnAddress,
    #[error("enter a whole number of mailboxes, at least 1")]
    NotACount,
    #[error("an org unit path starts with / (for example /Sales) and has no quote")]
    NotAnOrgUnit,
    #[error("the value is too long (at most 500 characters)")]
    TooLong,
    #[error("a group id is a GUID such as 0b7c...-...; copy it from the Entra admin center")]
    NotAGroupId,
}

const MAX_VALUE: usize = 500;

/// Normalize a typed rule for `directory`: the kind and the value to store.
pub fn parse(
    directory: Directory,
    kind: &str,
    value: &str,
) -> Result<(RuleKind, String), RuleError> {
    let kind = RuleKind::parse(kind.trim()).ok_or(RuleError::UnknownKind)?;
    if !RuleKind::offered(directory).contains(&kind) {
        return Err(RuleError::NotForDirectory(kind.label()));
    }
    let value = value.trim();
    if value.len() > MAX_VALUE {
        return Err(RuleError::TooLong);
    }
    let value = match kind {
        RuleKind::AllUsers => String::new(),
        RuleKind::Filter if value.is_empty() => return Err(RuleError::Empty),
        RuleKind::Filter => value.to_string(),
        RuleKind::OrgUnit if !value.starts_with('/') || value.contains('\'') => {
            return Err(RuleError::NotAnOrgUnit)
        }
        RuleKind::OrgUnit => match value.trim_end_matches('/') {
            "" => "/".to_string(),
            unit => unit.to_string(),
        },
        RuleKind::Group => group_id(value)?,
        RuleKind::Address | RuleKind::Shared | RuleKind::Exclude => address(value)?,
        RuleKind::MaxCount => match value.parse::<u32>() {
            Ok(n) if n >= 1 => n.to_string(),
            _ => return Err(RuleError::NotACount),
        },
    };
    Ok((kind, value))
}

fn address(value: &str) -> Result<String, RuleError> {
    let value = value.to_ascii_lowercase();
    match value.split_once('@') {
        Some((local, domain))
            if !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !value
                    .chars()
                    .any(|c| c.is_whitespace() || c == ',' || c == ';')
                && !domain.contains('@') =>
        {
            Ok(value)
        }
        _ => Err(RuleError::NotAnAddress),
    }
}

fn group_id(value: &str) -> Result<String, RuleError> {
    let ok = value.len() == 36
        && value.chars().enumerate().all(|(i, c)| {
            if matches!(i, 8 | 13 | 18 | 23) {
                c == '-'
            } else {
                c.is_ascii_hexdigit()
            }
        });
    if ok {
        Ok(value.to_ascii_lowercase())
    } else {
        Err(RuleError::NotAGroupId)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_normalized() {
        let d = Directory::Microsoft;
        assert_eq!(
            parse(d, "address", " Sales@Contoso.TEST "),
            Ok((RuleKind::Address, "sales@contoso.test".into()))
        );
        assert_eq!(
            parse(d, "max_count", "20"),
            Ok((RuleKind::MaxCount, "20".into()))
        );
        assert_eq!(
            parse(d, "all_users", "ignored"),
            Ok((RuleKind::AllUsers, String::new()))
        );
        assert_eq!(
            parse(d, "filter", " department eq 'Sales' "),
            Ok((RuleKind::Filter, "department eq 'Sales'".into()))
        );
        assert_eq!(
            parse(Directory::Google, "org_unit", "/Sales/"),
            Ok((RuleKind::OrgUnit, "/Sales".into()))
        );
        assert_eq!(
            parse(Directory::Google, "org_unit", "/"),
            Ok((RuleKind::OrgUnit, "/".into()))
        );
    }

    #[test]
    fn bad_values_say_why() {
        let d = Directory::Microsoft;
        assert_eq!(parse(d, "address", "nobody"), Err(RuleError::NotAnAddress));
        assert_eq!(parse(d, "exclude", "a@b"), Err(RuleError::NotAnAddress));
        assert_eq!(parse(d, "max_count", "0"), Err(RuleError::NotACount));
        assert_eq!(parse(d, "max_count", "-3"), Err(RuleError::NotACount));
        assert_eq!(parse(d, "filter", "  "), Err(RuleError::Empty));
        assert_eq!(parse(d, "group", "sales"), Err(RuleError::NotAGroupId));
        assert_eq!(parse(d, "nope", "x"), Err(RuleError::UnknownKind));
        assert_eq!(
            parse(d, "org_unit", "/Sales"),
            Err(RuleError::NotForDirectory("Users in an org unit"))
        );
        assert_eq!(
            parse(Directory::Google, "shared", "a@b.test"),
            Err(RuleError::NotForDirectory("Shared mailbox"))
        );
        assert_eq!(
            parse(Directory::Google, "org_unit", "Sales"),
            Err(RuleError::NotAnOrgUnit)
        );
        assert_eq!(
            parse(d, "filter", &"x".repeat(501)),
            Err(RuleError::TooLong)
        );
    }
}
