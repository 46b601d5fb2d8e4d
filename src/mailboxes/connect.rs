//! Connecting a mailbox by finishing an OAuth consent: exchange the code, check what was
//! granted, find out which mailbox it is, and create or update the user's mail account (a
//! reconnect resumes the same account).

use super::{credentials, MailDeps};
use crate::db::entities::mail_accounts::Model as MailAccount;
use crate::db::{audit, jobs, mail_accounts, users};
use crate::domain::address::EmailAddress;
use crate::providers::{identity, Provider, ProviderError, Secret};

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("{0} linking is not configured on this server")]
    NotConfigured(Provider),
    #[error("permissions missing")]
    MissingScopes(Vec<&'static str>),
    #[error("the provider gave no refresh token, so Threadline could not stay connected")]
    NoRefreshToken,
    #[error("{address} is already linked by {owner} in your organization")]
    ConnectedByOther { address: String, owner: String },
    #[error("you signed in as {got}, but this mailbox is {expected}")]
    WrongMailbox { expected: String, got: String },
    #[error("the provider answered with an address Threadline cannot use: {0}")]
    BadAddress(String),
    #[error(transparent)]
    Provider(#[from] ProviderError),
    #[error(transparent)]
    Credentials(#[from] credentials::CredentialError),
    #[error(transparent)]
    Db(#[from] sea_orm::DbErr),
}

/// Who is connecting a mailbox, and whether this is a reconnect of one of their mailboxes.
pub struct ConnectRequest<'a> {
    pub organization_id: i64,
    pub user_id: i64,
    pub provider: Provider,
    pub code: &'a str,
    pub pkce_verifier: &'a Secret,
    pub reconnect: Option<i64>,
}

pub async fn complete(
    deps: &MailDeps,
    req: ConnectRequest<'_>,
) -> Result<MailAccount, ConnectError> {
    let oauth = deps
        .providers
        .oauth(req.provider)
        .ok_or(ConnectError::NotConfigured(req.provider))?;
    let http = &deps.providers.http;
    let tokens = oauth
        .exchange_code(http, req.code, req.pkce_verifier)
        .await?;
    let missing = oauth.missing_scopes(&tokens.scopes);
    if !missing.is_empty() {
        // Not stored. Not revoked either: Google revokes per account and project, which would
        // also cut a link of the same mailbox that still works.
        return Err(ConnectError::MissingScopes(missing));
    }
    if tokens.refresh_token.is_none() {
        return Err(ConnectError::NoRefreshToken);
    }
    let who = identity::fetch(&deps.providers, req.provider, &tokens.access_token).await?;
    let address = EmailAddress::parse(&who.address)
        .map_err(|_| ConnectError::BadAddress(who.address.clone()))?;

    let txn = crate::db::begin_write(&deps.db).await?;
    let existing =
        mail_accounts::find_by_address(&txn, req.organization_id, req.provider, address.as_str())
            .await?;
    if let Some(reconnect) = req.reconnect {
        if existing.as_ref().map(|a| a.id) != Some(reconnect) {
            let expected = mail_accounts::find_in_org(&txn, req.organization_id, reconnect)
                .await?
                .map(|a| a.address)
                .unwrap_or_default();
            return Err(ConnectError::WrongMailbox {
                expected,
                got: address.to_string(),
            });
        }
    }
    let account = match existing {
        Some(account) if account.owner_user_id != Some(req.user_id) => {
            let owner = match account.owner_user_id {
                Some(id) => users::find_in_org(&txn, req.organization_id, id)
                    .await?
                    .map(|u| u.name),
                None => None,
            };
            return Err(ConnectError::ConnectedByOther {
                address: account.address,
                owner: owner.unwrap_or_else(|| "an administrator".into()),
            });
        }
        Some(account) => account,
        None => {
            mail_accounts::insert(
                &txn,
                mail_accounts::NewAccount {
                    organization_id: req.organization_id,
                    owner_user_id: req.user_id,
                    provider: req.provider,
                    address: address.as_str(),
                    display_name: &who.display_name,
                },
            )
            .await?
        }
    };
    credentials::store(
        &txn,
        &deps.keys,
        account.id,
        account.organization_id,
        &tokens,
        None,
    )
    .await?;
    let action = if req.reconnect.is_some() {
        "mailbox.reconnect"
    } else {
        "mailbox.link"
    };
    audit::record(
        &txn,
        audit::Entry {
            organization_id: req.organization_id,
            actor_user_id: Some(req.user_id),
            action,
            subject_kind: "mail_account",
            subject_id: Some(account.id),
            detail: format!("{} {}", req.provider, account.address),
        },
    )
    .await?;
    // Sync right away, then every `sync_interval_secs`. A reconnected mailbox's job exists and
    // was paused: it becomes due now and resumes from the stored cursors.
    jobs::ensure(
        &txn,
        account.organization_id,
        jobs::SYNC_ACCOUNT,
        account.id,
        crate::db::now(),
    )
    .await?;
    jobs::run_now(&txn, jobs::SYNC_ACCOUNT, account.id).await?;
    txn.commit().await?;
    Ok(mail_accounts::find(&deps.db, account.id)
        .await?
        .unwrap_or(account))
}
