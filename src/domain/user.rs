//! User roles and the rules about them.
use std::fmt;

/// Stored in `users.role` (`member` or `admin`; an unknown stored text reads as `Member`).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    serde::Serialize,
    serde::Deserialize,
    sea_orm::DeriveValueType,
)]
#[serde(from = "String", into = "String")]
#[sea_orm(value_type = "String", from_str = "Role::from_stored")]
pub enum Role {
    Member,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Member => "member",
            Role::Admin => "admin",
        }
    }

    /// Unknown stored values fall back to the least privilege.
    pub fn from_db(value: &str) -> Self {
        if value == "admin" {
            Role::Admin
        } else {
            Role::Member
        }
    }

    #[allow(clippy::unnecessary_wraps)]
    fn from_stored(value: &str) -> Result<Self, std::convert::Infallible> {
        Ok(Self::from_db(value))
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "admin" => Some(Role::Admin),
            "member" => Some(Role::Member),
            _ => None,
        }
    }
}

impl From<String> for Role {
    fn from(value: String) -> Self {
        Self::from_db(&value)
    }
}

impl From<Role> for String {
    fn from(role: Role) -> Self {
        role.as_str().to_string()
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A display name: trimmed, 1..=100 characters, no control characters.
pub fn parse_name(input: &str) -> Result<String, &'static str> {
    let name = input.trim();
    if name.is_empty() {
        return Err("enter a name");
    }
    if name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err("use at most 100 characters, without control characters");
    }
    Ok(name.to_string())
}
