//! The mail provider a mailbox belongs to, stored as text in `mail_accounts.provider`.
use sea_orm::DeriveValueType;
use serde::{Deserialize, Serialize};

use super::stored::text_enum;

/// Stored as `google` or `microsoft`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, DeriveValueType)]
#[serde(rename_all = "lowercase")]
#[sea_orm(value_type = "String")]
pub enum Provider {
    Google,
    Microsoft,
}

impl Provider {
    pub const ALL: [Provider; 2] = [Provider::Google, Provider::Microsoft];

    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Google => "google",
            Provider::Microsoft => "microsoft",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == s)
    }

    /// What users call the mailbox.
    pub fn label(self) -> &'static str {
        match self {
            Provider::Google => "Gmail",
            Provider::Microsoft => "Outlook",
        }
    }
}

text_enum!(Provider);
