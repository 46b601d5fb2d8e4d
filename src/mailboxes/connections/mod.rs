//! Organization-wide connections (issue 20): an organization reaches every mailbox of a
//! Microsoft 365 tenant with app-only tokens (client secret or, preferred, a certificate) or of
//! a Google Workspace domain by domain-wide delegation (a service account key). Admins add
//! them on the Organization › Connections page or with `threadline tenant add`.
//!
//! - [`store`]: create, list, get and remove, always within one organization; the credential is
//!   sealed bound to its row, and only a safe hint of it is ever shown.
//! - [`tokens`]: access tokens on demand, cached sealed in `connection_tokens` per (connection,
//!   subject, scope), shared by every instance and renewed ahead of expiry under a short lease.
//! - [`test`]: Test connection, step by step, saying exactly what is wrong and how to fix it.
//!
//! The provider side (token grants, directory and probe clients) is in
//! `providers::app_auth` and `providers::directory`.
mod advice;
pub mod commands;
pub mod store;
pub mod test;
pub mod tokens;

use std::fmt;

use crate::crypto::CryptoError;
use crate::providers::app_auth::{GrantError, KeyError};
use crate::providers::directory::DirectoryError;

pub use crate::db::entities::connections::Model as Connection;
pub use crate::providers::app_auth::google::{DIRECTORY_USER_READONLY, GMAIL_READONLY};
pub use crate::providers::app_auth::microsoft::GRAPH_DEFAULT_SCOPE;

/// Which provider a connection reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectionKind {
    Microsoft365,
    GoogleWorkspace,
}

impl ConnectionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Microsoft365 => "microsoft365",
            Self::GoogleWorkspace => "google_workspace",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "microsoft365" | "microsoft" | "m365" => Some(Self::Microsoft365),
            "google_workspace" | "google" | "workspace" => Some(Self::GoogleWorkspace),
            _ => None,
        }
    }

    pub fn of(conn: &Connection) -> Option<Self> {
        Self::parse(&conn.kind)
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Microsoft365 => "Microsoft 365",
            Self::GoogleWorkspace => "Google Workspace",
        }
    }
}

impl fmt::Display for ConnectionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What went wrong, by what the caller (or the admin) can do about it.
#[derive(Debug, thiserror::Error)]
pub enum ConnectionError {
    /// Bad input (a form field, a command-line value).
    #[error("{0}")]
    Invalid(String),
    /// The uploaded certificate or key cannot be used.
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error("a connection named {0:?} already exists in this organization")]
    NameTaken(String),
    #[error("no such connection")]
    NotFound,
    #[error("the client secret is wrong: {0}")]
    BadSecret(String),
    #[error("the client secret has expired: {0}")]
    SecretExpired(String),
    #[error("the certificate was rejected: {0}")]
    CertificateRejected(String),
    #[error("the certificate has expired or is not yet valid: {0}")]
    CertificateExpired(String),
    #[error("the assertion's time was refused (check this server's clock): {0}")]
    ClockSkew(String),
    #[error("the application is not registered in this tenant: {0}")]
    AppNotInTenant(String),
    #[error("the tenant was not found: {0}")]
    TenantNotFound(String),
    /// Microsoft: a token is issued without admin consent, but Graph refuses it (403).
    #[error("admin consent is missing: {0}")]
    ConsentMissing(String),
    /// Google `unauthorized_client`: delegation not granted for this client id, or a scope
    /// missing from the grant.
    #[error("domain-wide delegation is not granted for {scopes}: {detail}")]
    DelegationNotGranted { scopes: String, detail: String },
    #[error("unknown user: {0}")]
    UnknownUser(String),
    #[error("the user is suspended: {0}")]
    UserSuspended(String),
    #[error("the service account key was rejected: {0}")]
    KeyRejected(String),
    /// Graph 404 `MailboxNotEnabledForRESTAPI`, Gmail `failedPrecondition`.
    #[error("the user has no mailbox: {0}")]
    MailboxNotEnabled(String),
    /// Graph 403 `ErrorAccessDenied`: outside the app's RBAC scope / access policy.
    #[error("access to this mailbox is denied by the tenant's policy: {0}")]
    MailboxAccessDenied(String),
    #[error("the provider refused: {0}")]
    Refused(String),
    #[error("the provider is temporarily unavailable: {0}")]
    Transient(String),
    #[error(transparent)]
    Directory(DirectoryError),
    #[error("another refresh of this connection's token did not finish in time")]
    Busy,
    /// The cause is in the message, so it is not also a `source` (printed once).
    #[error("stored credentials cannot be opened: {0}")]
    Crypto(CryptoError),
    #[error("stored credentials are unreadable: {0}")]
    Corrupt(String),
    #[error(transparent)]
    Db(#[from] sea_orm::DbErr),
}

impl ConnectionError {
    /// Worth retrying later with nothing changed.
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Transient(_) | Self::Busy)
            || matches!(self, Self::Directory(d) if d.is_transient())
    }
}

impl From<CryptoError> for ConnectionError {
    fn from(e: CryptoError) -> Self {
        Self::Crypto(e)
    }
}

impl From<GrantError> for ConnectionError {
    fn from(e: GrantError) -> Self {
        match e {
            GrantError::BadSecret(d) => Self::BadSecret(d),
            GrantError::SecretExpired(d) => Self::SecretExpired(d),
            GrantError::CertificateRejected(d) => Self::CertificateRejected(d),
            GrantError::CertificateExpired(d) => Self::CertificateExpired(d),
            GrantError::ClockSkew(d) => Self::ClockSkew(d),
            GrantError::AppNotInTenant(d) => Self::AppNotInTenant(d),
            GrantError::TenantNotFound(d) => Self::TenantNotFound(d),
            GrantError::DelegationNotGranted { scopes, detail } => {
                Self::DelegationNotGranted { scopes, detail }
            }
            GrantError::UnknownUser(d) => Self::UnknownUser(d),
            GrantError::KeyRejected(d) => Self::KeyRejected(d),
            GrantError::Refused { code, detail } => Self::Refused(format!("{code}: {detail}")),
            GrantError::RateLimited => Self::Transient("rate limited".into()),
            GrantError::Transient(d) => Self::Transient(d),
            GrantError::Key(k) => Self::Key(k),
        }
    }
}

impl From<DirectoryError> for ConnectionError {
    fn from(e: DirectoryError) -> Self {
        match e {
            DirectoryError::MailboxNotEnabled(d) => Self::MailboxNotEnabled(d),
            DirectoryError::MailboxAccessDenied(d) => Self::MailboxAccessDenied(d),
            other => Self::Directory(other),
        }
    }
}
