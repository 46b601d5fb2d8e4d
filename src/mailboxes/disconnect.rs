//! Disconnecting a mailbox: revoke at the provider where possible, forget the tokens, and keep
//! or purge the mail already synced.

use super::{credentials, MailDeps};
use crate::db::{audit, mail_accounts};

#[derive(Debug, thiserror::Error)]
pub enum DisconnectError {
    #[error("not found")]
    NotFound,
    #[error(transparent)]
    Db(#[from] sea_orm::DbErr),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Revocation {
    /// The provider confirmed (Google).
    Revoked,
    /// The provider has no revocation endpoint for delegated grants (Microsoft): the user can
    /// remove the app under their account's app permissions.
    NotSupported,
    /// Revocation failed; the tokens are deleted here anyway.
    Failed(String),
    /// Nothing was stored (already disconnected or needing reconnect with unusable tokens).
    NothingStored,
}

/// Disconnect `account_id`, owned by `user_id` in `org_id`.
pub async fn disconnect(
    deps: &MailDeps,
    org_id: i64,
    user_id: i64,
    account_id: i64,
    purge: bool,
) -> Result<Revocation, DisconnectError> {
    let account = mail_accounts::find_in_org(&deps.db, org_id, account_id)
        .await?
        .filter(|a| a.owner_user_id == Some(user_id))
        .ok_or(DisconnectError::NotFound)?;
    disconnect_found(deps, org_id, user_id, account, purge).await
}

/// An admin (`admin_id`) disconnects any mailbox of `org_id`, audited as theirs.
pub async fn disconnect_as_admin(
    deps: &MailDeps,
    org_id: i64,
    admin_id: i64,
    account_id: i64,
    purge: bool,
) -> Result<Revocation, DisconnectError> {
    let account = mail_accounts::find_in_org(&deps.db, org_id, account_id)
        .await?
        .ok_or(DisconnectError::NotFound)?;
    disconnect_found(deps, org_id, admin_id, account, purge).await
}

async fn disconnect_found(
    deps: &MailDeps,
    org_id: i64,
    user_id: i64,
    account: crate::db::entities::mail_accounts::Model,
    purge: bool,
) -> Result<Revocation, DisconnectError> {
    let revocation = match credentials::open(&deps.keys, &account) {
        Ok(creds) => match deps.providers.oauth(account.provider) {
            Some(oauth) => {
                let token = creds.refresh_token.unwrap_or(creds.access_token);
                match oauth.revoke(&deps.providers.http, &token).await {
                    Ok(true) => Revocation::Revoked,
                    Ok(false) => Revocation::NotSupported,
                    Err(e) => Revocation::Failed(e.to_string()),
                }
            }
            None => Revocation::Failed("the provider is not configured on this server".into()),
        },
        Err(_) => Revocation::NothingStored,
    };
    // While its tokens still work: push to a disconnected mailbox stops now.
    super::push_cleanup::unsubscribe(deps, &account, "The mailbox is disconnected.").await;
    let txn = crate::db::begin_write(&deps.db).await?;
    if purge {
        mail_accounts::delete(&txn, account.id).await?;
    } else {
        mail_accounts::clear_credentials(&txn, account.id).await?;
    }
    let action = if purge {
        "mailbox.disconnect_purge"
    } else {
        "mailbox.disconnect"
    };
    let detail = format!("{} {}", account.provider, account.address);
    let entry = audit::Entry::by_user(org_id, user_id, action, "mail_account", account.id, detail);
    audit::record(&txn, entry).await?;
    txn.commit().await?;
    if purge {
        crate::db::blobs::sweep_quietly(&deps.db, &deps.blobs).await;
    }
    Ok(revocation)
}
