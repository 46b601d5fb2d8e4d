//! Managed Entra tenants (created through `/_emulator/microsoft/tenants`): the directory
//! (users with or without an Exchange Online mailbox, shared mailboxes, groups) and the app
//! registrations (client secrets, certificates, application permissions, admin consent, and
//! the Exchange RBAC scope limiting which mailboxes an app may read).
//!
//! A tenant the control plane never created (mailboxes carrying a bare `tenant` id) keeps the
//! older, permissive behaviour: any client id, app-only tokens reach every mailbox.

use chrono::{DateTime, Utc};
use parking_lot::RwLock;
use serde::{Deserialize, Serialize};

use super::directory::{guid, user_id};
use crate::ids::fnv;
use crate::state::EmulatorState;

/// Application permissions an app registration asks for by default.
pub const DEFAULT_PERMISSIONS: [&str; 3] = ["User.Read.All", "Mail.Read", "GroupMember.Read.All"];

/// What kind of Exchange Online mailbox a directory user has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum MailboxKind {
    /// A licensed user's mailbox.
    #[default]
    User,
    /// A shared mailbox: no licence, sign-in disabled.
    Shared,
    /// No Exchange Online mailbox (unlicensed, or hosted on-premises).
    None,
}

/// A user object of the directory.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DirectoryUser {
    /// Immutable object id (GUID).
    pub id: String,
    pub user_principal_name: String,
    pub mail: Option<String>,
    pub display_name: String,
    pub given_name: Option<String>,
    pub surname: Option<String>,
    pub department: Option<String>,
    pub job_title: Option<String>,
    pub office_location: Option<String>,
    pub account_enabled: bool,
    pub mailbox: MailboxKind,
}

/// A group and its direct members (user ids).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Group {
    pub id: String,
    pub display_name: String,
    pub mail: Option<String>,
    pub members: Vec<String>,
}

/// A client secret (`passwordCredential`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SecretCredential {
    pub key_id: String,
    pub value: String,
    pub end: DateTime<Utc>,
}

/// A certificate (`keyCredential`): its thumbprint and public key.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CertificateCredential {
    pub key_id: String,
    /// Upper-case hex SHA-1 of the certificate.
    pub thumbprint: String,
    /// base64url SHA-1 (`x5t`) and SHA-256 (`x5t#S256`) of the certificate.
    pub x5t: String,
    pub x5t_s256: String,
    pub certificate_pem: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

/// How an app's mailbox scope refuses a mailbox outside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ScopeMechanism {
    /// RBAC for Applications (management scope): 403 `ErrorAccessDenied` "Access is denied.
    /// Check credentials and try again."
    #[default]
    Rbac,
    /// Legacy Application Access Policy: 403 `ErrorAccessDenied` "Access to OData is disabled:
    /// [RAOP] : Blocked by tenant configured AppOnly AccessPolicy settings."
    AccessPolicy,
}

/// The set of mailboxes an app may read (addresses or object ids).
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct MailboxScope {
    pub mailboxes: Vec<String>,
    #[serde(default)]
    pub mechanism: ScopeMechanism,
}

/// An app registration and its service principal in the tenant.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AppRegistration {
    pub client_id: String,
    pub display_name: String,
    /// Application permissions requested (Graph app roles such as `Mail.Read`).
    pub permissions: Vec<String>,
    /// Whether an administrator granted them; without it tokens carry no roles.
    pub admin_consent: bool,
    pub secrets: Vec<SecretCredential>,
    pub certificates: Vec<CertificateCredential>,
    /// `None`: every mailbox of the tenant.
    pub mailbox_scope: Option<MailboxScope>,
}

impl AppRegistration {
    /// The roles a token issued now carries.
    pub fn roles(&self) -> Vec<String> {
        if self.admin_consent {
            self.permissions.clone()
        } else {
            Vec::new()
        }
    }
}

/// A managed tenant.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Tenant {
    pub id: String,
    /// Verified domain (`contoso.test`); user principal names end with it.
    pub domain: String,
    pub display_name: String,
    pub users: Vec<DirectoryUser>,
    pub groups: Vec<Group>,
    pub apps: Vec<AppRegistration>,
}

impl Tenant {
    /// A user by object id, user principal name or mail (case-insensitive).
    pub fn user(&self, key: &str) -> Option<&DirectoryUser> {
        let key = key.trim();
        self.users.iter().find(|u| {
            u.id.eq_ignore_ascii_case(key)
                || u.user_principal_name.eq_ignore_ascii_case(key)
                || u.mail
                    .as_deref()
                    .is_some_and(|m| m.eq_ignore_ascii_case(key))
        })
    }

    pub fn app(&self, client_id: &str) -> Option<&AppRegistration> {
        self.apps
            .iter()
            .find(|a| a.client_id.eq_ignore_ascii_case(client_id))
    }

    pub fn group(&self, id: &str) -> Option<&Group> {
        self.groups.iter().find(|g| g.id.eq_ignore_ascii_case(id))
    }
}

/// Every managed tenant (kept in the state's extension slot).
#[derive(Debug, Default)]
pub struct Tenants(pub RwLock<Vec<Tenant>>);

/// The managed tenants of an emulator.
pub fn registry(state: &EmulatorState) -> std::sync::Arc<Tenants> {
    state.ext.get::<Tenants>()
}

/// A managed tenant by id or verified domain (case-insensitive).
pub fn find(state: &EmulatorState, key: &str) -> Option<Tenant> {
    let key = key.trim();
    registry(state)
        .0
        .read()
        .iter()
        .find(|t| t.id.eq_ignore_ascii_case(key) || t.domain.eq_ignore_ascii_case(key))
        .cloned()
}

/// Run `f` on a managed tenant under the read lock (no copy; for per-request checks).
pub fn read<T>(state: &EmulatorState, key: &str, f: impl FnOnce(&Tenant) -> T) -> Option<T> {
    let registry = registry(state);
    let tenants = registry.0.read();
    tenants
        .iter()
        .find(|t| t.id.eq_ignore_ascii_case(key) || t.domain.eq_ignore_ascii_case(key))
        .map(f)
}

/// Run `f` on a managed tenant, mutably.
pub fn with_tenant<T>(
    state: &EmulatorState,
    key: &str,
    f: impl FnOnce(&mut Tenant) -> T,
) -> Option<T> {
    let registry = registry(state);
    let mut tenants = registry.0.write();
    tenants
        .iter_mut()
        .find(|t| t.id.eq_ignore_ascii_case(key) || t.domain.eq_ignore_ascii_case(key))
        .map(f)
}

/// The object id of a new directory user: the same id the mailbox views use for the address.
pub fn new_user_id(upn: &str) -> String {
    user_id(&upn.to_ascii_lowercase())
}

/// A fresh GUID derived from a label and randomness.
pub fn new_guid(label: &str) -> String {
    guid(
        fnv(label.as_bytes()) ^ rand::random::<u64>(),
        rand::random(),
    )
}

/// Whether the app may read `user`'s mailbox under its scope; the refusal's message if not.
pub fn scope_refusal(app: &AppRegistration, user: &DirectoryUser) -> Option<&'static str> {
    let scope = app.mailbox_scope.as_ref()?;
    let inside = scope.mailboxes.iter().any(|m| {
        m.eq_ignore_ascii_case(&user.id)
            || m.eq_ignore_ascii_case(&user.user_principal_name)
            || user
                .mail
                .as_deref()
                .is_some_and(|a| a.eq_ignore_ascii_case(m))
    });
    if inside {
        return None;
    }
    Some(match scope.mechanism {
        ScopeMechanism::Rbac => "Access is denied. Check credentials and try again.",
        ScopeMechanism::AccessPolicy => {
            "Access to OData is disabled: [RAOP] : Blocked by tenant configured AppOnly AccessPolicy settings."
        }
    })
}
