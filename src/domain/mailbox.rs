//! Whether a mailbox can sync, stored as text in `mail_accounts.status`.
use sea_orm::DeriveValueType;
use serde::Serialize;

use super::stored::text_enum;

/// Stored as `active`, `needs_reconnect`, `paused`, `disconnected` or `refused`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, DeriveValueType)]
#[serde(rename_all = "snake_case")]
#[sea_orm(value_type = "String")]
pub enum MailboxStatus {
    /// Connected and syncing.
    Active,
    /// The provider refused the grant: the owner must reconnect.
    NeedsReconnect,
    /// Stopped by the organization (its owner was disabled): no pass runs until the owner
    /// reconnects it (which resumes it).
    Paused,
    /// The owner disconnected it; its mail stays.
    Disconnected,
    /// An organization mailbox the tenant's or domain's policy keeps from the app (outside the
    /// app's RBAC scope, no mailbox or no Gmail, delegation not granted, a suspended or
    /// unknown user): the reason is its last error; it is tried again hours later (or at once
    /// when the directory is synced), one request per attempt, and is active again as soon as
    /// a pass gets through.
    Refused,
}

impl MailboxStatus {
    pub const ALL: [Self; 5] = [
        Self::Active,
        Self::NeedsReconnect,
        Self::Paused,
        Self::Disconnected,
        Self::Refused,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::NeedsReconnect => "needs_reconnect",
            Self::Paused => "paused",
            Self::Disconnected => "disconnected",
            Self::Refused => "refused",
        }
    }
}

text_enum!(MailboxStatus);
