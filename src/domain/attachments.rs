//! The attachment policy: where attachment content is kept (nowhere, in the database, or in
//! files under the data directory) and the size limit a message's attachments are kept and
//! served under. Parsed from the settings forms here; no I/O.
use std::fmt;

/// Where attachment content is stored when a message is synced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Storage {
    /// Content is fetched from the provider when someone opens an attachment.
    #[default]
    Off,
    /// In the database (`attachment_blobs.content`).
    Database,
    /// In files under `<data dir>/attachments/`.
    Directory,
}

impl Storage {
    pub const ALL: [Storage; 3] = [Storage::Off, Storage::Database, Storage::Directory];

    pub fn as_str(self) -> &'static str {
        match self {
            Storage::Off => "off",
            Storage::Database => "database",
            Storage::Directory => "directory",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.as_str() == s.trim())
    }

    pub fn describe(self) -> &'static str {
        match self {
            Storage::Off => "off: fetched from the provider when opened",
            Storage::Database => "in the database",
            Storage::Directory => "in files under the data directory",
        }
    }
}

impl fmt::Display for Storage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

const MB: u64 = 1024 * 1024;
/// The organization's limit until an admin changes it.
pub const DEFAULT_LIMIT_BYTES: u64 = 25 * MB;
/// The largest limit a form accepts (Graph's own largest message).
pub const MAX_LIMIT_MB: u64 = 150;

/// The organization's policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    pub storage: Storage,
    pub limit_bytes: u64,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            storage: Storage::Off,
            limit_bytes: DEFAULT_LIMIT_BYTES,
        }
    }
}

/// What applies to one mailbox: the organization's storage, and its own limit if it has one.
pub fn effective(org: Policy, mailbox_limit: Option<u64>) -> Policy {
    Policy {
        storage: org.storage,
        limit_bytes: mailbox_limit.unwrap_or(org.limit_bytes),
    }
}

/// A limit typed in megabytes: a whole number from 1 to [`MAX_LIMIT_MB`].
pub fn parse_limit_mb(input: &str) -> Result<u64, String> {
    match input.trim().parse::<u64>() {
        Ok(mb) if (1..=MAX_LIMIT_MB).contains(&mb) => Ok(mb * MB),
        _ => Err(format!(
            "Enter a whole number of megabytes from 1 to {MAX_LIMIT_MB}."
        )),
    }
}

/// A mailbox's limit as typed: empty means the organization's.
pub fn parse_mailbox_limit(input: &str) -> Result<Option<u64>, String> {
    if input.trim().is_empty() {
        return Ok(None);
    }
    parse_limit_mb(input).map(Some)
}

/// `bytes` in whole megabytes, for the forms (limits are always whole megabytes).
pub fn as_mb(bytes: u64) -> u64 {
    bytes / MB
}

/// The ledger's detail for a message over the limit.
pub fn too_large_detail(size_bytes: u64, limit_bytes: u64) -> String {
    format!(
        "{size_bytes} bytes, over the {} MB limit: stored without its attachments' content",
        as_mb(limit_bytes)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_are_whole_megabytes_within_bounds() {
        assert_eq!(parse_limit_mb(" 25 "), Ok(25 * MB));
        assert!(parse_limit_mb("0").is_err());
        assert!(parse_limit_mb("151").is_err());
        assert!(parse_limit_mb("2.5").is_err());
        assert!(parse_limit_mb("").is_err());
        assert_eq!(parse_mailbox_limit(""), Ok(None));
        assert_eq!(parse_mailbox_limit("3"), Ok(Some(3 * MB)));
        assert!(parse_mailbox_limit("-1").is_err());
    }

    #[test]
    fn a_mailbox_limit_overrides_the_organization() {
        let org = Policy {
            storage: Storage::Database,
            limit_bytes: 25 * MB,
        };
        assert_eq!(effective(org, None), org);
        assert_eq!(effective(org, Some(MB)).limit_bytes, MB);
        assert_eq!(effective(org, Some(MB)).storage, Storage::Database);
        assert_eq!(Storage::parse("directory"), Some(Storage::Directory));
        assert_eq!(Storage::parse("disk"), None);
    }
}
