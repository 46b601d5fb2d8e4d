//! Google Workspace domains, service accounts and domain-wide delegation (DWD) grants.
//!
//! A domain holds directory users (suspended or not, archived, org unit, super admin,
//! `isMailboxSetup`: whether Gmail is set up for them) and the DWD grants its administrator
//! made (service account client id → scopes, as in Admin console › Security › API controls).
//! Users with Gmail also get a Google mailbox in the store, so mail is delivered to them with
//! `/_emulator/mailboxes/{address}/messages`. Service accounts belong to a project; the
//! emulator generates their RSA key pairs and hands out the JSON key file as Google does.

use chrono::{DateTime, Utc};
use parking_lot::RwLock;
use serde::{Deserialize, Serialize};

use crate::state::EmulatorState;

/// A directory user of a domain.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WorkspaceUser {
    /// Immutable numeric id (21 digits).
    pub id: String,
    pub primary_email: String,
    pub given_name: String,
    pub family_name: String,
    pub suspended: bool,
    pub archived: bool,
    pub org_unit_path: String,
    pub is_admin: bool,
    /// Whether Gmail is set up (false: Gmail answers 400 `failedPrecondition`).
    pub is_mailbox_setup: bool,
    pub creation_time: DateTime<Utc>,
}

impl WorkspaceUser {
    pub fn full_name(&self) -> String {
        format!("{} {}", self.given_name, self.family_name)
            .trim()
            .to_string()
    }
}

/// A Workspace domain (one customer).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Domain {
    pub domain: String,
    /// The customer id (`C0...`); `my_customer` designates it for its own admins.
    pub customer_id: String,
    pub users: Vec<WorkspaceUser>,
    /// Domain-wide delegation: OAuth client id of a service account → granted scopes.
    pub delegation: std::collections::BTreeMap<String, Vec<String>>,
}

impl Domain {
    pub fn user(&self, key: &str) -> Option<&WorkspaceUser> {
        let key = key.trim();
        self.users
            .iter()
            .find(|u| u.primary_email.eq_ignore_ascii_case(key) || u.id == key)
    }
}

/// One key of a service account (the private half is only in the key file handed out).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ServiceAccountKey {
    pub private_key_id: String,
    /// base64 of the DER SubjectPublicKeyInfo.
    pub public_key_der: String,
}

/// A service account.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ServiceAccount {
    pub project_id: String,
    pub client_email: String,
    /// Numeric OAuth client id (what an admin enters for DWD).
    pub client_id: String,
    pub keys: Vec<ServiceAccountKey>,
}

/// Domains and service accounts, kept in the state's extension slot.
#[derive(Debug, Default)]
pub struct Workspace {
    pub domains: RwLock<Vec<Domain>>,
    pub service_accounts: RwLock<Vec<ServiceAccount>>,
}

pub fn registry(state: &EmulatorState) -> std::sync::Arc<Workspace> {
    state.ext.get::<Workspace>()
}

/// The domain of an address (or a domain name), if managed.
pub fn domain_of(state: &EmulatorState, address_or_domain: &str) -> Option<Domain> {
    let name = address_or_domain
        .rsplit('@')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    registry(state)
        .domains
        .read()
        .iter()
        .find(|d| d.domain == name)
        .cloned()
}

/// A user of a managed domain by address.
pub fn user(state: &EmulatorState, address: &str) -> Option<(Domain, WorkspaceUser)> {
    let domain = domain_of(state, address)?;
    let user = domain.user(address)?.clone();
    Some((domain, user))
}

/// A service account by client email.
pub fn service_account(state: &EmulatorState, email: &str) -> Option<ServiceAccount> {
    registry(state)
        .service_accounts
        .read()
        .iter()
        .find(|s| s.client_email.eq_ignore_ascii_case(email.trim()))
        .cloned()
}

/// Why Gmail refuses a token whose subject has no mailbox in the store: a Workspace user
/// without Gmail, or a service account acting as itself (no `sub`).
pub fn gmail_refusal(state: &EmulatorState, subject: &str) -> Option<&'static str> {
    if user(state, subject).is_some_and(|(_, u)| !u.is_mailbox_setup) {
        return Some("Mail service not enabled");
    }
    service_account(state, subject).map(|_| "Precondition check failed.")
}
