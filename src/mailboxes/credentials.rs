//! OAuth tokens at rest (sealed per row) and a valid access token on demand: refreshed ahead of
//! expiry or after a 401, by one holder of a short database lease at a time, with a rotated
//! refresh token persisted in the same write as the new access token.
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::MailDeps;
use crate::crypto::{self, CryptoError};
use crate::db::entities::mail_accounts::Model as MailAccount;
use crate::db::{self, mail_accounts};
use crate::domain::mailbox::MailboxStatus;
use crate::providers::oauth::TokenSet;
use crate::providers::{Provider, ProviderError, Secret};
use crate::secrets::KeyRing;

/// Refresh when fewer than this remain on the access token.
const REFRESH_AHEAD: Duration = Duration::minutes(5);
/// How long one holder may take to refresh before another may try.
const LEASE: Duration = Duration::seconds(30);
const WAIT_STEP: StdDuration = StdDuration::from_millis(100);
const WAIT_STEPS: u32 = 300;

/// The sealed JSON.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Credentials {
    pub access_token: Secret,
    pub refresh_token: Option<Secret>,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    #[error("the mailbox must be reconnected")]
    NeedsReconnect,
    #[error("the mailbox is disconnected")]
    Disconnected,
    #[error("{0} linking is not configured on this server")]
    NotConfigured(Provider),
    #[error("another refresh of this mailbox's token did not finish in time")]
    Busy,
    /// The cause is in the message, so it is not also a `source` (printed once).
    #[error("stored credentials cannot be opened: {0}")]
    Crypto(CryptoError),
    #[error("stored credentials are unreadable: {0}")]
    Corrupt(String),
    #[error(transparent)]
    Provider(#[from] ProviderError),
    #[error(transparent)]
    Db(#[from] sea_orm::DbErr),
}

impl From<CryptoError> for CredentialError {
    fn from(e: CryptoError) -> Self {
        Self::Crypto(e)
    }
}

/// Associated data binding a ciphertext to its row.
fn aad(account_id: i64, org_id: i64) -> String {
    format!("mail_accounts|credentials|{account_id}|{org_id}")
}

pub fn seal(
    keys: &KeyRing,
    account_id: i64,
    org_id: i64,
    creds: &Credentials,
) -> Result<String, CredentialError> {
    let json = serde_json::to_vec(creds).map_err(|e| CredentialError::Corrupt(e.to_string()))?;
    Ok(crypto::seal(keys, &json, &aad(account_id, org_id))?)
}

pub fn open_sealed(
    keys: &KeyRing,
    account_id: i64,
    org_id: i64,
    sealed: &str,
) -> Result<Credentials, CredentialError> {
    let json = crypto::open(keys, sealed, &aad(account_id, org_id))?;
    serde_json::from_slice(&json).map_err(|e| CredentialError::Corrupt(e.to_string()))
}

pub fn open(keys: &KeyRing, account: &MailAccount) -> Result<Credentials, CredentialError> {
    let sealed = account
        .credentials
        .as_deref()
        .ok_or(CredentialError::Disconnected)?;
    open_sealed(keys, account.id, account.organization_id, sealed)
}

/// Persist tokens from an exchange (connect, reconnect: the mailbox becomes active); a refresh
/// goes through [`store_refreshed`].
pub async fn store(
    db: &impl sea_orm::ConnectionTrait,
    keys: &KeyRing,
    account_id: i64,
    org_id: i64,
    tokens: &TokenSet,
    previous_refresh: Option<Secret>,
) -> Result<(), CredentialError> {
    persist(
        db,
        keys,
        (account_id, org_id),
        tokens,
        previous_refresh,
        false,
    )
    .await
}

/// Persist refreshed tokens, leaving the status as it is; a refresh without a new refresh token
/// (Google) keeps the previous one.
async fn store_refreshed(
    db: &impl sea_orm::ConnectionTrait,
    keys: &KeyRing,
    (account_id, org_id): (i64, i64),
    tokens: &TokenSet,
    previous_refresh: Option<Secret>,
) -> Result<(), CredentialError> {
    persist(
        db,
        keys,
        (account_id, org_id),
        tokens,
        previous_refresh,
        true,
    )
    .await
}

async fn persist(
    db: &impl sea_orm::ConnectionTrait,
    keys: &KeyRing,
    (account_id, org_id): (i64, i64),
    tokens: &TokenSet,
    previous_refresh: Option<Secret>,
    refreshed: bool,
) -> Result<(), CredentialError> {
    let creds = Credentials {
        access_token: tokens.access_token.clone(),
        refresh_token: tokens.refresh_token.clone().or(previous_refresh),
        expires_at: tokens.expires_at,
    };
    let sealed = seal(keys, account_id, org_id, &creds)?;
    let scopes = tokens.scopes.join(" ");
    if refreshed {
        // A refresh never changes the status: a mailbox paused or disconnected while the
        // refresh was in flight stays so.
        mail_accounts::refresh_credentials(db, account_id, sealed, tokens.expires_at, &scopes)
            .await?;
    } else {
        mail_accounts::set_credentials(db, account_id, sealed, tokens.expires_at, &scopes).await?;
    }
    Ok(())
}

/// A valid access token, refreshed first when it is about to expire.
pub async fn access_token(deps: &MailDeps, account_id: i64) -> Result<Secret, CredentialError> {
    obtain(deps, account_id, None).await
}

/// After the provider refused `stale` with 401: a new access token (unless another holder
/// already refreshed it).
pub async fn refresh_after_401(
    deps: &MailDeps,
    account_id: i64,
    stale: &Secret,
) -> Result<Secret, CredentialError> {
    obtain(deps, account_id, Some(stale)).await
}

async fn obtain(
    deps: &MailDeps,
    account_id: i64,
    stale: Option<&Secret>,
) -> Result<Secret, CredentialError> {
    for _ in 0..WAIT_STEPS {
        let account = mail_accounts::find(&deps.db, account_id)
            .await?
            .ok_or(CredentialError::Disconnected)?;
        match account.status {
            MailboxStatus::NeedsReconnect => return Err(CredentialError::NeedsReconnect),
            // Paused (its owner disabled): no token until it is resumed by a reconnect.
            MailboxStatus::Disconnected | MailboxStatus::Paused => {
                return Err(CredentialError::Disconnected)
            }
            MailboxStatus::Active | MailboxStatus::Refused => {}
        }
        let creds = open(&deps.keys, &account)?;
        let now = db::now();
        let fresh = match stale {
            Some(stale) => creds.access_token != *stale,
            None => creds.expires_at - now > REFRESH_AHEAD,
        };
        if fresh {
            return Ok(creds.access_token);
        }
        if mail_accounts::try_lock_refresh(&deps.db, account_id, now, now + LEASE).await? {
            // Another holder may have stored new tokens between our read and our lease: read
            // again under the lease, and refresh only if the tokens are still the ones we saw.
            let account = mail_accounts::find(&deps.db, account_id)
                .await?
                .ok_or(CredentialError::Disconnected)?;
            let current = open(&deps.keys, &account)?;
            if current.access_token != creds.access_token {
                mail_accounts::unlock_refresh(&deps.db, account_id).await?;
                return Ok(current.access_token);
            }
            return refresh_locked(deps, &account, current).await;
        }
        tokio::time::sleep(WAIT_STEP).await;
    }
    Err(CredentialError::Busy)
}

/// Holding the lease: refresh, then store (which releases the lease) or record the failure.
async fn refresh_locked(
    deps: &MailDeps,
    account: &MailAccount,
    creds: Credentials,
) -> Result<Secret, CredentialError> {
    let provider = account.provider;
    let Some(oauth) = deps.providers.oauth(provider) else {
        mail_accounts::unlock_refresh(&deps.db, account.id).await?;
        return Err(CredentialError::NotConfigured(provider));
    };
    let Some(refresh_token) = creds.refresh_token.clone() else {
        mark_needs_reconnect(deps, account.id, "no refresh token is stored").await?;
        return Err(CredentialError::NeedsReconnect);
    };
    match oauth.refresh(&deps.providers.http, &refresh_token).await {
        Ok(tokens) => {
            store_refreshed(
                &deps.db,
                &deps.keys,
                (account.id, account.organization_id),
                &tokens,
                Some(refresh_token),
            )
            .await?;
            tracing::info!(account = account.id, "access token refreshed");
            Ok(tokens.access_token)
        }
        Err(ProviderError::InvalidGrant(detail)) => {
            mark_needs_reconnect(deps, account.id, &detail).await?;
            Err(CredentialError::NeedsReconnect)
        }
        Err(other) => {
            mail_accounts::unlock_refresh(&deps.db, account.id).await?;
            Err(other.into())
        }
    }
}

async fn mark_needs_reconnect(
    deps: &MailDeps,
    account_id: i64,
    detail: &str,
) -> Result<(), CredentialError> {
    tracing::warn!(
        account = account_id,
        "mailbox authorization revoked or expired; needs reconnect"
    );
    let message = format!(
        "The provider no longer accepts Threadline's access ({detail}). Reconnect the mailbox; \
         sync resumes where it stopped."
    );
    mail_accounts::set_status(
        &deps.db,
        account_id,
        MailboxStatus::NeedsReconnect,
        Some(message),
    )
    .await?;
    Ok(())
}
