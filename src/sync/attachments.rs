//! An attachment's content: its stored copy when the organization stores attachment content
//! and the message was synced under the limit (`db::blobs`), else fetched from the provider
//! when someone opens it. The message's MIME is read (Gmail `format=raw`, Graph `$value`) with the mailbox's token, and
//! the part is taken by its stored part path, so ephemeral provider attachment ids never
//! matter. An organization mailbox is read at its directory user's path with its connection's
//! token. A refused token is refreshed once.
use crate::db::entities::attachments;
use crate::db::entities::mail_accounts::Model as MailAccount;
use crate::db::{attachment_settings, blobs};
use crate::providers::gmail::GmailClient;
use crate::providers::graph::GraphClient;
use crate::providers::mime::{extract_part, Limits};
use crate::providers::{Provider, ProviderError, Secret};

use super::org_access::{self, Access};
use super::SyncError;
use crate::mailboxes::credentials::{self, CredentialError};
use crate::mailboxes::MailDeps;

#[derive(Debug, thiserror::Error)]
pub enum AttachmentError {
    #[error("the message is no longer in the mailbox")]
    Gone,
    #[error("the message has no such part")]
    NoSuchPart,
    #[error("the message is over the attachment size limit: open it in the mailbox itself")]
    TooLarge,
    #[error("the mailbox must be reconnected first")]
    NeedsReconnect,
    #[error("the provider is not reachable: {0}")]
    Provider(ProviderError),
    #[error("credentials: {0}")]
    Credentials(CredentialError),
    #[error("database: {0}")]
    Db(#[from] sea_orm::DbErr),
}

impl From<CredentialError> for AttachmentError {
    fn from(e: CredentialError) -> Self {
        match e {
            CredentialError::NeedsReconnect | CredentialError::Disconnected => Self::NeedsReconnect,
            CredentialError::Provider(p) => Self::Provider(p),
            other => Self::Credentials(other),
        }
    }
}

async fn raw(
    deps: &MailDeps,
    access: &Access,
    provider: Provider,
    token: &Secret,
    id: &str,
) -> Result<Option<Vec<u8>>, ProviderError> {
    let org = match access {
        Access::Org(org) => Some(org),
        Access::Own => None,
    };
    match provider {
        Provider::Google => {
            let mut gmail = GmailClient::new(&deps.providers);
            if let Some(org) = org {
                gmail = gmail.for_user(&org.address);
            }
            Ok(gmail.raw(token, id).await?.map(|m| m.raw))
        }
        Provider::Microsoft => {
            let mut graph = GraphClient::new(&deps.providers);
            if let Some(org) = org {
                graph = graph.for_user(&org.directory_id);
            }
            graph.mime(token, id).await
        }
    }
}

/// The mailbox's token: its owner's grant, or its organization connection's; after a 401
/// (`stale`), a fresh one.
async fn token(
    deps: &MailDeps,
    account: &MailAccount,
    access: &Access,
    stale: Option<&Secret>,
) -> Result<Secret, AttachmentError> {
    match (access, stale) {
        (Access::Own, None) => Ok(credentials::access_token(deps, account.id).await?),
        (Access::Own, Some(stale)) => {
            Ok(credentials::refresh_after_401(deps, account.id, stale).await?)
        }
        (Access::Org(org), None) => org_access::access_token(deps, org).await.map_err(org_error),
        (Access::Org(org), Some(_)) => org_access::refresh_after_401(deps, org)
            .await
            .map_err(org_error),
    }
}

fn org_error(e: SyncError) -> AttachmentError {
    match e {
        SyncError::Provider(p) => AttachmentError::Provider(p),
        SyncError::Credentials(c) => c.into(),
        other => AttachmentError::Provider(ProviderError::Transient(other.to_string())),
    }
}

/// The decoded bytes of `attachment` of the provider message `provider_message_id`: the
/// stored copy if there is one, else from the provider.
pub async fn content(
    deps: &MailDeps,
    account: &MailAccount,
    provider_message_id: &str,
    attachment: &attachments::Model,
) -> Result<Vec<u8>, AttachmentError> {
    if let Some(bytes) = blobs::content_of(&deps.db, &deps.blobs, attachment.id).await? {
        return Ok(bytes);
    }
    let policy =
        attachment_settings::for_mailbox(&deps.db, account.organization_id, account.id).await?;
    let limit = usize::try_from(policy.limit_bytes).unwrap_or(usize::MAX);
    fetch(
        deps,
        account,
        provider_message_id,
        &attachment.part_key,
        limit,
    )
    .await
}

/// The decoded bytes of part `part_key` of the provider message `provider_message_id`, if
/// the message is not larger than `limit` bytes.
pub async fn fetch(
    deps: &MailDeps,
    account: &MailAccount,
    provider_message_id: &str,
    part_key: &str,
    limit: usize,
) -> Result<Vec<u8>, AttachmentError> {
    let provider = account.provider;
    let access = Access::of(account).map_err(org_error)?;
    let mut token = token(deps, account, &access, None).await?;
    let mut refreshed = false;
    let message = loop {
        match raw(deps, &access, provider, &token, provider_message_id).await {
            Ok(Some(bytes)) => break bytes,
            Ok(None) => return Err(AttachmentError::Gone),
            Err(ProviderError::Unauthorized) if !refreshed => {
                refreshed = true;
                token = self::token(deps, account, &access, Some(&token)).await?;
            }
            Err(e) => return Err(AttachmentError::Provider(e)),
        }
    };
    if message.len() > limit {
        return Err(AttachmentError::TooLarge);
    }
    extract_part(&message, part_key, &Limits::default()).ok_or(AttachmentError::NoSuchPart)
}
