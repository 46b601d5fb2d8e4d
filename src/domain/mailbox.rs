//! Whether a mailbox can sync, stored as text in `mail_accounts.status`.
use sea_orm::DeriveValueType;
use serde::Serialize;

use super::stored::text_enum;

/// Stored as `active`, `needs_reconnect`, `paused` or `disconnected`.
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
}

impl MailboxStatus {
    pub const ALL: [Self; 4] = [
        Self::Active,
        Self::NeedsReconnect,
        Self::Paused,
        Self::Disconnected,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::NeedsReconnect => "needs_reconnect",
            Self::Paused => "paused",
            Self::Disconnected => "disconnected",
        }
    }
}

text_enum!(MailboxStatus);
