//! Access tokens for a connection, on demand. Cached sealed in `connection_tokens` per
//! (connection, subject, scope) so every instance shares them; renewed when fewer than five
//! minutes remain, by one holder of a short database lease at a time (others keep using the
//! old token while it lives, or wait for the new one). Neither grant has a refresh token: a new
//! token is simply asked for again. After a 401, [`forget`] drops the cached one.
use std::time::Duration as StdDuration;

use chrono::Duration;

use super::store::{self, Credential};
use super::{Connection, ConnectionError, ConnectionKind, GRAPH_DEFAULT_SCOPE};
use crate::crypto;
use crate::db::{self, connections as q};
use crate::mailboxes::MailDeps;
use crate::providers::app_auth::microsoft::ClientCredential;
use crate::providers::app_auth::{google, microsoft, AppToken};
use crate::providers::Secret;

/// Renew when fewer than this remain.
const REFRESH_AHEAD: Duration = Duration::minutes(5);
/// How long one holder may take to get a token before another may try.
const LEASE: Duration = Duration::seconds(30);
const WAIT_STEP: StdDuration = StdDuration::from_millis(100);
const WAIT_STEPS: u32 = 300;

/// The cache key: `''` for an app-only token; the scopes sorted, space-separated.
fn key(conn: &Connection, subject: Option<&str>, scopes: &[&str]) -> (String, String) {
    let subject = subject.map(str::to_ascii_lowercase).unwrap_or_default();
    let mut scopes: Vec<&str> = scopes.to_vec();
    if scopes.is_empty() && ConnectionKind::of(conn) == Some(ConnectionKind::Microsoft365) {
        scopes.push(GRAPH_DEFAULT_SCOPE);
    }
    scopes.sort_unstable();
    scopes.dedup();
    (subject, scopes.join(" "))
}

fn aad(connection_id: i64, subject: &str, scope: &str) -> String {
    format!("connection_tokens|token|{connection_id}|{subject}|{scope}")
}

/// A valid access token for `conn`: app-only (Microsoft; `subject` must be `None`) or acting
/// as `subject` (Google; `None` = the directory administrator is not implied, the service
/// account itself), for `scopes` (Microsoft: `.default` when empty).
pub async fn access_token(
    deps: &MailDeps,
    conn: &Connection,
    subject: Option<&str>,
    scopes: &[&str],
) -> Result<Secret, ConnectionError> {
    let (subject, scope) = key(conn, subject, scopes);
    for _ in 0..WAIT_STEPS {
        let now = db::now();
        let row = q::token(&deps.db, conn.id, &subject, &scope).await?;
        let cached = match &row {
            Some(row) => open_cached(deps, conn.id, row)?,
            None => None,
        };
        if let Some((token, expires_at)) = &cached {
            if *expires_at - now > REFRESH_AHEAD {
                return Ok(token.clone());
            }
        }
        if q::try_lock_token(&deps.db, (conn.id, &subject, &scope), now, now + LEASE).await? {
            return renew_locked(deps, conn, &subject, &scope).await;
        }
        // Another holder is renewing: the old token serves while it still lives.
        if let Some((token, expires_at)) = cached {
            if expires_at > now + Duration::seconds(30) {
                return Ok(token);
            }
        }
        tokio::time::sleep(WAIT_STEP).await;
    }
    Err(ConnectionError::Busy)
}

/// The token that reads the connection's directory: app-only on Microsoft 365; on Google
/// Workspace, acting as its administrator with the Directory read scope.
pub async fn directory_token(
    deps: &MailDeps,
    conn: &Connection,
) -> Result<Secret, ConnectionError> {
    match ConnectionKind::of(conn) {
        Some(ConnectionKind::GoogleWorkspace) => {
            let admin = conn.admin_address.as_deref().ok_or_else(|| {
                ConnectionError::Invalid("the connection names no directory administrator".into())
            })?;
            access_token(deps, conn, Some(admin), &[super::DIRECTORY_USER_READONLY]).await
        }
        _ => access_token(deps, conn, None, &[]).await,
    }
}

/// The token that reads the mailbox of `address`: app-only on Microsoft 365 (one for every
/// mailbox); on Google Workspace, acting as that user with the Gmail read scope.
pub async fn mailbox_token(
    deps: &MailDeps,
    conn: &Connection,
    address: &str,
) -> Result<Secret, ConnectionError> {
    match ConnectionKind::of(conn) {
        Some(ConnectionKind::GoogleWorkspace) => {
            access_token(deps, conn, Some(address), &[super::GMAIL_READONLY]).await
        }
        _ => access_token(deps, conn, None, &[]).await,
    }
}

/// Drop the cached token for (subject, scopes), after the provider refused it with 401.
pub async fn forget(
    deps: &MailDeps,
    conn_id: i64,
    subject: Option<&str>,
    scopes: &[&str],
) -> Result<(), ConnectionError> {
    let subject = subject.map(str::to_ascii_lowercase).unwrap_or_default();
    let mut scopes: Vec<&str> = scopes.to_vec();
    if scopes.is_empty() {
        scopes.push(GRAPH_DEFAULT_SCOPE);
    }
    scopes.sort_unstable();
    scopes.dedup();
    q::forget_token(&deps.db, conn_id, &subject, &scopes.join(" ")).await?;
    Ok(())
}

fn open_cached(
    deps: &MailDeps,
    connection_id: i64,
    row: &crate::db::entities::connection_tokens::Model,
) -> Result<Option<(Secret, chrono::DateTime<chrono::Utc>)>, ConnectionError> {
    let (Some(sealed), Some(expires_at)) = (&row.token, row.expires_at) else {
        return Ok(None);
    };
    let plain = crypto::open(
        &deps.keys,
        sealed,
        &aad(connection_id, &row.subject, &row.scope),
    )?;
    let token = String::from_utf8(plain).map_err(|_| ConnectionError::Corrupt("token".into()))?;
    Ok(Some((Secret::new(token), expires_at)))
}

/// Holding the lease: read again (another holder may have just stored one), else ask the
/// provider, store sealed (releasing the lease) or release the lease and report.
async fn renew_locked(
    deps: &MailDeps,
    conn: &Connection,
    subject: &str,
    scope: &str,
) -> Result<Secret, ConnectionError> {
    let row = q::token(&deps.db, conn.id, subject, scope)
        .await?
        .ok_or_else(|| ConnectionError::Corrupt("token row vanished".into()))?;
    if let Some((token, expires_at)) = open_cached(deps, conn.id, &row)? {
        if expires_at - db::now() > REFRESH_AHEAD {
            q::unlock_token(&deps.db, row.id).await?;
            return Ok(token);
        }
    }
    match request(deps, conn, subject, scope).await {
        Ok(token) => {
            let sealed = crypto::seal(
                &deps.keys,
                token.access_token.expose().as_bytes(),
                &aad(conn.id, subject, scope),
            )?;
            q::store_token(&deps.db, row.id, sealed, token.expires_at).await?;
            tracing::info!(connection = conn.id, "organization access token obtained");
            Ok(token.access_token)
        }
        Err(e) => {
            q::unlock_token(&deps.db, row.id).await?;
            Err(e)
        }
    }
}

async fn request(
    deps: &MailDeps,
    conn: &Connection,
    subject: &str,
    scope: &str,
) -> Result<AppToken, ConnectionError> {
    let providers = &deps.providers;
    let token = match store::open(&deps.keys, conn)? {
        Credential::Secret(secret) => {
            microsoft::client_credentials(
                &providers.http,
                &providers.microsoft_login,
                &conn.tenant,
                &conn.client_id,
                ClientCredential::Secret(&secret),
            )
            .await?
        }
        Credential::Certificate(cert) => {
            microsoft::client_credentials(
                &providers.http,
                &providers.microsoft_login,
                &conn.tenant,
                &conn.client_id,
                ClientCredential::Certificate(&cert),
            )
            .await?
        }
        Credential::ServiceAccount(key) => {
            let scopes: Vec<&str> = scope.split(' ').filter(|s| !s.is_empty()).collect();
            let subject = (!subject.is_empty()).then_some(subject);
            google::jwt_bearer(
                &providers.http,
                &providers.google_oauth2,
                &key,
                subject,
                &scopes,
            )
            .await?
        }
    };
    Ok(token)
}
