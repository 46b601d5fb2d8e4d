//! Connections at rest: create (the credential checked, then sealed bound to its row), list,
//! get and remove, each within one organization. Only [`Connection::credential_hint`] — a
//! secret's last characters, a certificate's thumbprint and expiry, a key's id — is ever shown.
use sea_orm::{DbErr, SqlErr, TransactionTrait};

use super::{Connection, ConnectionError, ConnectionKind};
use crate::crypto;
use crate::db::connections::{self as q, NewRow};
use crate::mailboxes::MailDeps;
use crate::providers::app_auth::{CertificateCredential, ServiceAccountKey};
use crate::providers::Secret;
use crate::secrets::KeyRing;

/// What the admin gives to prove the app's identity.
pub enum NewCredential {
    /// Microsoft: a client secret's value.
    Secret(Secret),
    /// Microsoft: a PEM text with the certificate and its private key.
    Certificate(Secret),
    /// Google: the service account's JSON key file.
    ServiceAccountKey(Secret),
}

impl NewCredential {
    fn kind(&self) -> &'static str {
        match self {
            Self::Secret(_) => "secret",
            Self::Certificate(_) => "certificate",
            Self::ServiceAccountKey(_) => "service_account_key",
        }
    }

    fn text(&self) -> &Secret {
        match self {
            Self::Secret(s) | Self::Certificate(s) | Self::ServiceAccountKey(s) => s,
        }
    }
}

/// A new connection.
pub struct NewConnection {
    pub name: String,
    pub kind: ConnectionKind,
    /// Microsoft: tenant id or verified domain. Google: the Workspace primary domain.
    pub tenant: String,
    /// Microsoft: application (client) id. Google: taken from the key file.
    pub client_id: String,
    pub credential: NewCredential,
    /// Google: an administrator to impersonate for the directory.
    pub admin_address: Option<String>,
}

/// A stored credential, opened.
pub enum Credential {
    Secret(Secret),
    Certificate(CertificateCredential),
    ServiceAccount(ServiceAccountKey),
}

/// Associated data binding a sealed credential to its row.
fn aad(id: i64, org_id: i64) -> String {
    format!("connections|credentials|{id}|{org_id}")
}

/// The credential checked for its kind, with what it is safe to show about it and the client
/// id it implies (Google: the key's `client_email`).
fn check(new: &NewConnection) -> Result<(String, String), ConnectionError> {
    let name = new.name.trim();
    if name.is_empty() || name.len() > 100 || name.chars().any(char::is_control) {
        return Err(ConnectionError::Invalid(
            "give the connection a short name (at most 100 characters)".into(),
        ));
    }
    let tenant = new.tenant.trim();
    match (new.kind, &new.credential) {
        (ConnectionKind::Microsoft365, NewCredential::Secret(s)) => {
            check_microsoft(tenant, &new.client_id)?;
            let value = s.expose().trim();
            if value.is_empty() {
                return Err(ConnectionError::Invalid(
                    "the client secret is empty".into(),
                ));
            }
            let tail: String = value
                .chars()
                .rev()
                .take(3)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            Ok((
                format!("client secret ending in …{tail}"),
                new.client_id.trim().into(),
            ))
        }
        (ConnectionKind::Microsoft365, NewCredential::Certificate(pem)) => {
            check_microsoft(tenant, &new.client_id)?;
            let cert = CertificateCredential::from_pem(pem.expose())?;
            Ok((
                format!(
                    "certificate {} valid until {}",
                    cert.thumbprint,
                    cert.not_after.format("%Y-%m-%d")
                ),
                new.client_id.trim().into(),
            ))
        }
        (ConnectionKind::GoogleWorkspace, NewCredential::ServiceAccountKey(json)) => {
            if tenant.is_empty() || !tenant.contains('.') || tenant.contains('@') {
                return Err(ConnectionError::Invalid(
                    "give the Workspace primary domain, e.g. example.com".into(),
                ));
            }
            let admin = new.admin_address.as_deref().unwrap_or_default().trim();
            if !admin.contains('@') {
                return Err(ConnectionError::Invalid(
                    "give the address of a Workspace administrator to read the directory as".into(),
                ));
            }
            let key = ServiceAccountKey::from_json(json.expose())?;
            let id: String = key.private_key_id.chars().take(8).collect();
            Ok((
                format!("key {id}… of {}", key.client_email),
                key.client_email,
            ))
        }
        (ConnectionKind::Microsoft365, _) => Err(ConnectionError::Invalid(
            "a Microsoft 365 connection takes a client secret or a certificate".into(),
        )),
        (ConnectionKind::GoogleWorkspace, _) => Err(ConnectionError::Invalid(
            "a Google Workspace connection takes a service account JSON key".into(),
        )),
    }
}

fn check_microsoft(tenant: &str, client_id: &str) -> Result<(), ConnectionError> {
    if tenant.is_empty() || ["common", "organizations", "consumers"].contains(&tenant) {
        return Err(ConnectionError::Invalid(
            "give the tenant id (a GUID) or a verified domain of the tenant; app-only access \
             never works with common, organizations or consumers"
                .into(),
        ));
    }
    if client_id.trim().is_empty() {
        return Err(ConnectionError::Invalid(
            "give the application (client) id of the app registration".into(),
        ));
    }
    Ok(())
}

/// Create a connection in `org_id`; the credential is checked first, then sealed.
pub async fn create(
    deps: &MailDeps,
    org_id: i64,
    created_by: Option<i64>,
    new: &NewConnection,
) -> Result<Connection, ConnectionError> {
    let (hint, client_id) = check(new)?;
    let name = new.name.trim();
    let admin = new
        .admin_address
        .as_deref()
        .map(|a| a.trim().to_ascii_lowercase())
        .filter(|a| !a.is_empty() && new.kind == ConnectionKind::GoogleWorkspace);
    let txn = deps.db.begin().await?;
    let row = q::insert(
        &txn,
        NewRow {
            organization_id: org_id,
            kind: new.kind.as_str(),
            name,
            tenant: &new.tenant.trim().to_ascii_lowercase(),
            client_id: &client_id,
            credential_kind: new.credential.kind(),
            credential_hint: &hint,
            admin_address: admin.as_deref(),
            created_by,
        },
    )
    .await
    .map_err(|e| taken(e, name))?;
    let sealed = crypto::seal(
        &deps.keys,
        new.credential.text().expose().trim().as_bytes(),
        &aad(row.id, org_id),
    )?;
    q::set_credentials(&txn, org_id, row.id, sealed.clone()).await?;
    txn.commit().await?;
    Ok(Connection {
        credentials: sealed,
        ..row
    })
}

fn taken(e: DbErr, name: &str) -> ConnectionError {
    match e.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => ConnectionError::NameTaken(name.into()),
        _ => ConnectionError::Db(e),
    }
}

pub async fn list(deps: &MailDeps, org_id: i64) -> Result<Vec<Connection>, ConnectionError> {
    Ok(q::list(&deps.db, org_id).await?)
}

pub async fn get(deps: &MailDeps, org_id: i64, id: i64) -> Result<Connection, ConnectionError> {
    q::find(&deps.db, org_id, id)
        .await?
        .ok_or(ConnectionError::NotFound)
}

pub async fn get_by_name(
    deps: &MailDeps,
    org_id: i64,
    name: &str,
) -> Result<Connection, ConnectionError> {
    q::find_by_name(&deps.db, org_id, name.trim())
        .await?
        .ok_or(ConnectionError::NotFound)
}

/// Remove a connection: its cached tokens go; its mailboxes are paused and flagged and keep
/// their stored mail. Returns how many mailboxes were paused.
pub async fn remove(deps: &MailDeps, org_id: i64, id: i64) -> Result<u64, ConnectionError> {
    q::find(&deps.db, org_id, id)
        .await?
        .ok_or(ConnectionError::NotFound)?;
    // Their Graph subscriptions go while the connection's credential can still delete them.
    crate::mailboxes::push_cleanup::unsubscribe_connection(
        deps,
        org_id,
        id,
        "The organization connection this mailbox synced through was removed.",
    )
    .await;
    let txn = deps.db.begin().await?;
    q::find(&txn, org_id, id)
        .await?
        .ok_or(ConnectionError::NotFound)?;
    let paused = q::remove(&txn, org_id, id).await?;
    txn.commit().await?;
    Ok(paused)
}

/// The stored credential, opened and parsed.
pub fn open(keys: &KeyRing, conn: &Connection) -> Result<Credential, ConnectionError> {
    let plain = crypto::open(keys, &conn.credentials, &aad(conn.id, conn.organization_id))?;
    let text =
        String::from_utf8(plain).map_err(|_| ConnectionError::Corrupt("not UTF-8".into()))?;
    match conn.credential_kind.as_str() {
        "secret" => Ok(Credential::Secret(Secret::new(text))),
        "certificate" => Ok(Credential::Certificate(CertificateCredential::from_pem(
            &text,
        )?)),
        "service_account_key" => Ok(Credential::ServiceAccount(ServiceAccountKey::from_json(
            &text,
        )?)),
        other => Err(ConnectionError::Corrupt(format!(
            "unknown credential kind {other:?}"
        ))),
    }
}

/// Every stored credential must open with the key ring (checked at start-up). Returns how many.
pub async fn check_keys(
    db: &impl sea_orm::ConnectionTrait,
    keys: &KeyRing,
) -> Result<usize, (i64, ConnectionError)> {
    let all = q::all(db).await.map_err(|e| (0, e.into()))?;
    for conn in &all {
        crypto::open(keys, &conn.credentials, &aad(conn.id, conn.organization_id))
            .map_err(|e| (conn.id, e.into()))?;
    }
    Ok(all.len())
}

/// Re-seal every connection's credential with the ring's newest key, and drop cached tokens
/// sealed with an older one (they are only a cache). Returns how many credentials changed.
pub async fn reseal(
    db: &impl sea_orm::ConnectionTrait,
    keys: &KeyRing,
) -> Result<usize, (i64, ConnectionError)> {
    let current = keys.current().id.clone();
    let mut changed = 0;
    for conn in q::all(db).await.map_err(|e| (0, e.into()))? {
        let bound = aad(conn.id, conn.organization_id);
        if crypto::key_id(&conn.credentials) != Some(current.as_str()) {
            let plain =
                crypto::open(keys, &conn.credentials, &bound).map_err(|e| (conn.id, e.into()))?;
            let sealed = crypto::seal(keys, &plain, &bound).map_err(|e| (conn.id, e.into()))?;
            q::set_credentials(db, conn.organization_id, conn.id, sealed)
                .await
                .map_err(|e| (conn.id, e.into()))?;
            changed += 1;
        }
        q::forget_all_tokens(db, conn.id)
            .await
            .map_err(|e| (conn.id, e.into()))?;
    }
    Ok(changed)
}
