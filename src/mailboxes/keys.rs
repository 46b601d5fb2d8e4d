//! Key ring checks at start-up and re-encryption after a rotation.
use sea_orm::DatabaseConnection;

use super::credentials::{self, CredentialError};
use crate::crypto;
use crate::db::mail_accounts;
use crate::secrets::KeyRing;

#[derive(Debug, thiserror::Error)]
pub enum KeyCheckError {
    #[error(
        "stored mailbox credentials were sealed with key `{0}`, which is not in the key ring; \
         restore the key (THREADLINE_SECRET_KEY or the key file) before starting"
    )]
    MissingKey(String),
    #[error("stored mailbox credentials of account {0} cannot be opened with the key ring: {1}")]
    Unreadable(i64, CredentialError),
    #[error(
        "the stored credential of organization connection {0} cannot be opened with the key \
         ring: {1}"
    )]
    ConnectionUnreadable(i64, crate::mailboxes::connections::ConnectionError),
    #[error(transparent)]
    Db(#[from] sea_orm::DbErr),
}

/// Refuse to run when any stored credential cannot be opened.
pub async fn check(db: &DatabaseConnection, keys: &KeyRing) -> Result<usize, KeyCheckError> {
    let sealed = mail_accounts::sealed_credentials(db).await?;
    for (id, org, envelope) in &sealed {
        if let Some(key_id) = crypto::key_id(envelope) {
            if keys.get(key_id).is_none() {
                return Err(KeyCheckError::MissingKey(key_id.to_string()));
            }
        }
        credentials::open_sealed(keys, *id, *org, envelope)
            .map_err(|e| KeyCheckError::Unreadable(*id, e))?;
    }
    let connections = crate::mailboxes::connections::store::check_keys(db, keys)
        .await
        .map_err(|(id, e)| KeyCheckError::ConnectionUnreadable(id, e))?;
    Ok(sealed.len() + connections)
}

/// Re-seal every stored credential with the ring's newest key; returns how many.
pub async fn reencrypt(db: &DatabaseConnection, keys: &KeyRing) -> Result<usize, KeyCheckError> {
    let sealed = mail_accounts::sealed_credentials(db).await?;
    let current = &keys.current().id;
    let mut changed = 0;
    for (id, org, envelope) in sealed {
        if crypto::key_id(&envelope) == Some(current.as_str()) {
            continue;
        }
        let creds = credentials::open_sealed(keys, id, org, &envelope)
            .map_err(|e| KeyCheckError::Unreadable(id, e))?;
        let sealed = credentials::seal(keys, id, org, &creds)
            .map_err(|e| KeyCheckError::Unreadable(id, e))?;
        mail_accounts::replace_sealed(db, id, sealed).await?;
        changed += 1;
    }
    // Organization connections' credentials too (their cached access tokens are dropped).
    changed += crate::mailboxes::connections::store::reseal(db, keys)
        .await
        .map_err(|(id, e)| KeyCheckError::ConnectionUnreadable(id, e))?;
    Ok(changed)
}
