//! Values stored as JSON text (a mailbox's sync settings, an email's folders), typed once so
//! every reader gets the same value, and the error of a stored text no enum value names.
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// A stored text that names none of a column's values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown stored value “{0}”")]
pub struct UnknownValue(pub String);

/// `Display` and `FromStr` of a stored enum through its `as_str` and `ALL` (an unknown text is
/// an [`UnknownValue`]), as `DeriveValueType` needs them.
macro_rules! text_enum {
    ($t:ident) => {
        impl std::fmt::Display for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $t {
            type Err = $crate::domain::stored::UnknownValue;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::ALL
                    .into_iter()
                    .find(|v| v.as_str() == s)
                    .ok_or_else(|| $crate::domain::stored::UnknownValue(s.to_string()))
            }
        }
    };
}
pub(crate) use text_enum;

/// A mailbox's own sync settings, `mail_accounts.sync_settings`:
/// `{"since":"YYYY-MM-DD","labels":[..]}` (Gmail label ids or Outlook folder names).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncSettings {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<String>,
}

impl SyncSettings {
    /// What is stored; unreadable JSON counts as the defaults.
    pub fn parse(json: &str) -> Self {
        serde_json::from_str(json).unwrap_or_default()
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{}".into())
    }
}

/// Gmail-style labels as stored in `emails.folders` (a JSON array): the flags `UNREAD` and
/// `STARRED` live in their own columns, the rest sorted and without duplicates so equal states
/// compare equal.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Folders(Vec<String>);

impl Folders {
    pub fn from_labels(labels: &[String]) -> Self {
        let mut set: Vec<String> = labels
            .iter()
            .filter(|l| !matches!(l.as_str(), "UNREAD" | "STARRED"))
            .cloned()
            .collect();
        set.sort_unstable();
        set.dedup();
        Self(set)
    }

    /// What is stored; unreadable JSON counts as no folders.
    pub fn parse(json: &str) -> Self {
        Self(serde_json::from_str(json).unwrap_or_default())
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(&self.0).unwrap_or_else(|_| "[]".into())
    }

    pub fn as_slice(&self) -> &[String] {
        &self.0
    }
}

/// Readable names of provider folders and labels (Outlook well-known names, Gmail system labels).
const SHOWN: [(&str, &str); 15] = [
    ("inbox", "Inbox"),
    ("sentitems", "Sent Items"),
    ("archive", "Archive"),
    ("deleteditems", "Deleted Items"),
    ("junkemail", "Junk Email"),
    ("drafts", "Drafts"),
    ("outbox", "Outbox"),
    ("conversationhistory", "Conversation History"),
    ("scheduled", "Scheduled"),
    ("INBOX", "Inbox"),
    ("SENT", "Sent"),
    ("TRASH", "Trash"),
    ("SPAM", "Spam"),
    ("DRAFT", "Drafts"),
    ("CHAT", "Chat"),
];

impl Folders {
    /// The folders as a reader sees them: well-known and system names made readable, Gmail's
    /// categories and `IMPORTANT` left out, an Outlook folder filed under its opaque id shown
    /// as such. Empty for a Gmail message that is archived (no label at all).
    pub fn shown(&self) -> Vec<String> {
        self.0
            .iter()
            .filter(|l| *l != "IMPORTANT" && !l.starts_with("CATEGORY_"))
            .map(|l| match SHOWN.iter().find(|(k, _)| k == l) {
                Some((_, name)) => (*name).to_string(),
                None if l.starts_with("AAMk") && !l.contains(char::is_whitespace) => {
                    "an Outlook folder".to_string()
                }
                None => l.clone(),
            })
            .collect()
    }
}

impl IntoIterator for Folders {
    type Item = String;
    type IntoIter = std::vec::IntoIter<String>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

/// A sea-orm column of JSON text read leniently: `parse` never fails, `to_json` is stored.
macro_rules! json_text_column {
    ($t:ident) => {
        impl From<$t> for sea_orm::Value {
            fn from(v: $t) -> Self {
                v.to_json().into()
            }
        }

        impl sea_orm::TryGetable for $t {
            fn try_get_by<I: sea_orm::ColIdx>(
                res: &sea_orm::QueryResult,
                idx: I,
            ) -> Result<Self, sea_orm::TryGetError> {
                String::try_get_by(res, idx).map(|s| Self::parse(&s))
            }
        }

        impl sea_orm::sea_query::ValueType for $t {
            fn try_from(v: sea_orm::Value) -> Result<Self, sea_orm::sea_query::ValueTypeErr> {
                <String as sea_orm::sea_query::ValueType>::try_from(v).map(|s| Self::parse(&s))
            }

            fn type_name() -> String {
                stringify!($t).to_owned()
            }

            fn array_type() -> sea_orm::sea_query::ArrayType {
                sea_orm::sea_query::ArrayType::String
            }

            fn column_type() -> sea_orm::sea_query::ColumnType {
                sea_orm::sea_query::ColumnType::Text
            }
        }

        impl sea_orm::sea_query::Nullable for $t {
            fn null() -> sea_orm::Value {
                sea_orm::Value::String(None)
            }
        }
    };
}

json_text_column!(SyncSettings);
json_text_column!(Folders);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_are_shown_readably() {
        let f = Folders::from_labels(&[
            "INBOX".into(),
            "IMPORTANT".into(),
            "CATEGORY_UPDATES".into(),
            "Label_3".into(),
        ]);
        assert_eq!(f.shown(), vec!["Inbox".to_string(), "Label_3".to_string()]);
        let f = Folders::from_labels(&["archive".into()]);
        assert_eq!(f.shown(), vec!["Archive".to_string()]);
        let f = Folders::from_labels(&["AAMkADabc123=".into()]);
        assert_eq!(f.shown(), vec!["an Outlook folder".to_string()]);
    }

    #[test]
    fn folders_drop_flags_and_sort() {
        let f = Folders::from_labels(&[
            "SENT".into(),
            "UNREAD".into(),
            "INBOX".into(),
            "SENT".into(),
        ]);
        assert_eq!(f.to_json(), r#"["INBOX","SENT"]"#);
        assert_eq!(Folders::parse(&f.to_json()), f);
        assert_eq!(Folders::parse("nope"), Folders::default());
    }
}
