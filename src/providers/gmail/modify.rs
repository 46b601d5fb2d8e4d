//! `users.messages.batchModify`: change labels (UNREAD, STARRED) of up to 1,000 messages at
//! once; needs `gmail.modify`. Answers 204 with no body; unknown ids are skipped by Gmail.
use reqwest::StatusCode;

use super::client::{failure, GmailClient};
use super::wire;
use crate::providers::{Provider, ProviderError, Secret};
use crate::telemetry::record;

/// Most ids one batchModify takes.
pub const BATCH_MODIFY_MAX: usize = 1000;

impl GmailClient {
    /// Add and remove labels on `ids` (at most [`BATCH_MODIFY_MAX`]).
    pub async fn batch_modify(
        &self,
        token: &Secret,
        ids: &[String],
        add: &[&str],
        remove: &[&str],
    ) -> Result<(), ProviderError> {
        let body = wire::BatchModify {
            ids,
            add_label_ids: add,
            remove_label_ids: remove,
        };
        let req = self
            .http
            .post(self.url("/messages/batchModify"))
            .bearer_auth(token.expose())
            .json(&body);
        let res = record::provider_request(Provider::Google, "messages.batchModify", req)
            .await
            .map_err(|e| ProviderError::Transient(e.without_url().to_string()))?;
        if res.status().is_success() || res.status() == StatusCode::NO_CONTENT {
            return Ok(());
        }
        Err(failure(res).await)
    }
}
