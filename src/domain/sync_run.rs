//! What a sync pass was and how it ended, stored as text in `sync_runs.kind` and
//! `sync_runs.status`.
use std::fmt;
use std::str::FromStr;

use sea_orm::DeriveValueType;

use super::stored::UnknownValue;

/// Which pass ran: a first listing, changes since the cursor, or a listing again after the
/// provider expired the cursor. Stored as `initial`, `incremental`, `resync`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, DeriveValueType)]
#[sea_orm(value_type = "String")]
pub enum RunKind {
    Initial,
    Incremental,
    Resync,
}

/// Stored as `running`, `succeeded`, `failed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, DeriveValueType)]
#[sea_orm(value_type = "String")]
pub enum RunStatus {
    Running,
    Succeeded,
    Failed,
}

impl RunKind {
    pub const ALL: [Self; 3] = [Self::Initial, Self::Incremental, Self::Resync];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Initial => "initial",
            Self::Incremental => "incremental",
            Self::Resync => "resync",
        }
    }
}

impl RunStatus {
    pub const ALL: [Self; 3] = [Self::Running, Self::Succeeded, Self::Failed];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
        }
    }
}

/// `Display` and `FromStr` through `as_str` and `ALL`.
macro_rules! text_enum {
    ($t:ident) => {
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $t {
            type Err = UnknownValue;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::ALL
                    .into_iter()
                    .find(|v| v.as_str() == s)
                    .ok_or_else(|| UnknownValue(s.to_string()))
            }
        }
    };
}

text_enum!(RunKind);
text_enum!(RunStatus);
