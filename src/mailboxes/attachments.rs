//! Attachments are not stored: they are fetched from the provider when someone opens one. The
//! message's MIME is read (Gmail `format=raw`, Graph `$value`) with the mailbox's token, and
//! the part is taken by its stored part path, so ephemeral provider attachment ids never
//! matter. A refused token is refreshed once.
use crate::db::entities::mail_accounts::Model as MailAccount;
use crate::providers::gmail::GmailClient;
use crate::providers::graph::GraphClient;
use crate::providers::mime::{extract_part, Limits};
use crate::providers::{Provider, ProviderError, Secret};

use super::credentials::{self, CredentialError};
use super::MailDeps;

/// Largest message an attachment is taken from (Gmail caps messages at 25 MB, base64 included).
pub const MAX_MESSAGE_BYTES: usize = 50 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum AttachmentError {
    #[error("the message is no longer in the mailbox")]
    Gone,
    #[error("the message has no such part")]
    NoSuchPart,
    #[error("the message is too large to take an attachment from")]
    TooLarge,
    #[error("the mailbox must be reconnected first")]
    NeedsReconnect,
    #[error("the provider is not reachable: {0}")]
    Provider(ProviderError),
    #[error("credentials: {0}")]
    Credentials(CredentialError),
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
    provider: Provider,
    token: &Secret,
    id: &str,
) -> Result<Option<Vec<u8>>, ProviderError> {
    match provider {
        Provider::Google => Ok(GmailClient::new(&deps.providers)
            .raw(token, id)
            .await?
            .map(|m| m.raw)),
        Provider::Microsoft => GraphClient::new(&deps.providers).mime(token, id).await,
    }
}

/// The decoded bytes of part `part_key` of the provider message `provider_message_id`.
pub async fn fetch(
    deps: &MailDeps,
    account: &MailAccount,
    provider_message_id: &str,
    part_key: &str,
) -> Result<Vec<u8>, AttachmentError> {
    let provider = account.provider;
    let mut token = credentials::access_token(deps, account.id).await?;
    let mut refreshed = false;
    let message = loop {
        match raw(deps, provider, &token, provider_message_id).await {
            Ok(Some(bytes)) => break bytes,
            Ok(None) => return Err(AttachmentError::Gone),
            Err(ProviderError::Unauthorized) if !refreshed => {
                refreshed = true;
                token = credentials::refresh_after_401(deps, account.id, &token).await?;
            }
            Err(e) => return Err(AttachmentError::Provider(e)),
        }
    };
    if message.len() > MAX_MESSAGE_BYTES {
        return Err(AttachmentError::TooLarge);
    }
    extract_part(&message, part_key, &Limits::default()).ok_or(AttachmentError::NoSuchPart)
}
