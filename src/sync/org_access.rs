//! Whose authority a pass acts with. A personal mailbox uses its owner's OAuth grant
//! (`mailboxes::credentials`); an organization mailbox uses its connection's: a Microsoft 365
//! app-only token (one per tenant, no subject) or a Google Workspace delegation token acting as
//! the mailbox's address. A 401 forgets the cached token and asks once more. Refusals that are
//! the tenant's policy (delegation not granted, an unknown or suspended user, a connection whose
//! credentials the provider no longer accepts) come back as [`ProviderError::Refused`], which
//! the engine records as the mailbox's `refused` status.
use super::session::Session;
use super::SyncError;
use crate::db::entities::connections::Model as Connection;
use crate::db::entities::mail_accounts::Model as MailAccount;
use crate::db::org_access;
use crate::domain::mailbox::MailboxStatus;
use crate::mailboxes::connections::{self, tokens, ConnectionError};
use crate::mailboxes::credentials::CredentialError;
use crate::mailboxes::MailDeps;
use crate::providers::{Provider, ProviderError, Secret};

/// Graph app-only tokens carry every application permission the tenant consented to.
pub const GRAPH_APP_SCOPE: &str = connections::GRAPH_DEFAULT_SCOPE;

/// The organization mailbox a pass syncs: which connection, and whose mailbox in the tenant.
#[derive(Debug, Clone)]
pub struct OrgMailbox {
    pub account_id: i64,
    pub connection_id: i64,
    pub provider: Provider,
    /// The directory user's immutable id (the Graph path segment).
    pub directory_id: String,
    /// The mailbox's address (the Gmail path segment and the delegation subject).
    pub address: String,
}

/// Whose authority a pass acts with.
#[derive(Debug, Clone)]
pub enum Access {
    /// The owner's own OAuth grant.
    Own,
    /// An organization-wide connection's.
    Org(OrgMailbox),
}

impl Access {
    /// The access a mailbox syncs with. An organization mailbox that is paused or
    /// disconnected gets no pass (a personal one is stopped by its credentials instead).
    pub fn of(account: &MailAccount) -> Result<Self, SyncError> {
        let Some(connection_id) = account.connection_id else {
            return Ok(Self::Own);
        };
        if matches!(
            account.status,
            MailboxStatus::Paused | MailboxStatus::Disconnected | MailboxStatus::NeedsReconnect
        ) {
            return Err(SyncError::Credentials(CredentialError::Disconnected));
        }
        let directory_id = account
            .directory_id
            .clone()
            .filter(|id| !id.is_empty())
            .ok_or_else(|| {
                SyncError::Internal("organization mailbox without its directory id".into())
            })?;
        Ok(Self::Org(OrgMailbox {
            account_id: account.id,
            connection_id,
            provider: account.provider,
            directory_id,
            address: account.address.clone(),
        }))
    }
}

impl OrgMailbox {
    /// The token's subject: Google acts as the mailbox's user; Microsoft app-only has none.
    fn subject(&self) -> Option<&str> {
        match self.provider {
            Provider::Google => Some(&self.address),
            Provider::Microsoft => None,
        }
    }

    fn scopes(&self) -> &'static [&'static str] {
        match self.provider {
            Provider::Google => &[connections::GMAIL_READONLY],
            Provider::Microsoft => &[GRAPH_APP_SCOPE],
        }
    }
}

async fn load(deps: &MailDeps, org: &OrgMailbox) -> Result<Connection, SyncError> {
    org_access::connection(&deps.db, org.connection_id)
        .await?
        .ok_or_else(|| {
            ProviderError::Refused(
                "The organization-wide connection of this mailbox was removed.".into(),
            )
            .into()
        })
}

/// A valid access token for the mailbox (cached per connection and subject by `connections`).
pub async fn access_token(deps: &MailDeps, org: &OrgMailbox) -> Result<Secret, SyncError> {
    let conn = load(deps, org).await?;
    tokens::access_token(deps, &conn, org.subject(), org.scopes())
        .await
        .map_err(|e| classify(&conn, e))
}

/// After a 401: forget the cached token and ask for a new one.
pub async fn refresh_after_401(deps: &MailDeps, org: &OrgMailbox) -> Result<Secret, SyncError> {
    tokens::forget(deps, org.connection_id, org.subject(), org.scopes())
        .await
        .map_err(classify_plain)?;
    access_token(deps, org).await
}

/// One cheap request that says whether the tenant lets the app read this mailbox at all: the
/// Inbox folder on Graph, the profile on Gmail (1 unit).
pub async fn probe(s: &Session) -> Result<(), SyncError> {
    let Access::Org(org) = s.access() else {
        return Ok(());
    };
    match org.provider {
        Provider::Microsoft => {
            let graph = s.graph().clone();
            s.call(|t| {
                let g = graph.clone();
                async move { g.folder(&t, "inbox").await }
            })
            .await
            .map(|_| ())
        }
        Provider::Google => {
            let gmail = s.gmail().clone();
            s.call(|t| {
                let g = gmail.clone();
                async move { g.history_id(&t).await }
            })
            .await
            .map(|_| ())
        }
    }
}

/// A connection's failure as the engine sees it: a throttled or unreachable token endpoint is
/// transient (the pass's retry policy applies); the database is the database; everything else
/// (delegation not granted or a scope missing, an unknown or suspended user, a secret,
/// certificate or key the provider no longer accepts, consent missing, the connection gone)
/// is a refusal of this mailbox that waits for an administrator: not retried hot.
fn classify(conn: &Connection, e: ConnectionError) -> SyncError {
    match classify_plain(e) {
        SyncError::Provider(ProviderError::Refused(detail)) => {
            let kind = connections::ConnectionKind::of(conn).map_or("organization", |k| k.label());
            ProviderError::Refused(format!(
                "The {kind} connection \"{}\" cannot act for this mailbox: {detail}",
                conn.name
            ))
            .into()
        }
        other => other,
    }
}

fn classify_plain(e: ConnectionError) -> SyncError {
    match e {
        ConnectionError::Transient(detail) => ProviderError::Transient(detail).into(),
        ConnectionError::Busy => ProviderError::Transient(e.to_string()).into(),
        ConnectionError::Db(e) => SyncError::Db(e),
        other => ProviderError::Refused(other.to_string()).into(),
    }
}
