//! Gmail push: users.watch (Gmail publishes a notification to a Pub/Sub topic when the synced
//! labels change) and users.stop.
use reqwest::StatusCode;
use serde_json::json;

use super::client::{classify, decode, failure};
use super::{wire, GmailClient};
use crate::providers::{Provider, ProviderError, Secret};
use crate::telemetry::record;

/// A watch Gmail accepted.
#[derive(Debug, Clone)]
pub struct Watch {
    /// The mailbox's history id when the watch began.
    pub history_id: String,
    /// When it lapses unless renewed (epoch milliseconds).
    pub expiration_ms: i64,
}

/// Why Gmail would not watch the mailbox (the operator's Pub/Sub setup, not the call).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WatchRefusal {
    /// 404: no such topic.
    TopicNotFound(String),
    /// 403: gmail-api-push@system.gserviceaccount.com may not publish to the topic.
    NotAllowed(String),
    /// 400: the topic name or the labels were refused.
    Invalid(String),
}

impl GmailClient {
    /// users.watch `topic` for changes to messages carrying any of `labels`. Throttles, 401s
    /// and outages are [`ProviderError`]s (the session retries them); a refusal of the setup is
    /// `Ok(Err(_))`.
    pub async fn watch(
        &self,
        token: &Secret,
        topic: &str,
        labels: &[String],
    ) -> Result<Result<Watch, WatchRefusal>, ProviderError> {
        let body = json!({
            "topicName": topic,
            "labelIds": labels,
            "labelFilterBehavior": "include",
        });
        let req = self
            .http
            .post(self.url("/watch"))
            .bearer_auth(token.expose())
            .json(&body);
        let res = record::provider_request(Provider::Google, "users.watch", req)
            .await
            .map_err(|e| ProviderError::Transient(e.without_url().to_string()))?;
        let status = res.status();
        if status.is_success() {
            let w: wire::WatchResponse = decode(res).await?;
            let expiration_ms = w.expiration.parse().map_err(|_| {
                ProviderError::Permanent(format!("watch expiration {:?}", w.expiration))
            })?;
            return Ok(Ok(Watch {
                history_id: w.history_id,
                expiration_ms,
            }));
        }
        let body: wire::ErrorBody = res.json().await.unwrap_or_default();
        let message = body
            .error
            .as_ref()
            .map(|d| d.message.clone())
            .unwrap_or_default();
        match (status, classify(status, None, &body)) {
            (StatusCode::NOT_FOUND, _) => Ok(Err(WatchRefusal::TopicNotFound(message))),
            (StatusCode::FORBIDDEN, ProviderError::Permanent(_)) => {
                Ok(Err(WatchRefusal::NotAllowed(message)))
            }
            (StatusCode::BAD_REQUEST, ProviderError::Permanent(_)) => {
                Ok(Err(WatchRefusal::Invalid(message)))
            }
            (_, other) => Err(other),
        }
    }

    /// users.stop: Gmail stops publishing this mailbox's changes.
    pub async fn stop(&self, token: &Secret) -> Result<(), ProviderError> {
        let req = self
            .http
            .post(self.url("/stop"))
            .bearer_auth(token.expose());
        let res = record::provider_request(Provider::Google, "users.stop", req)
            .await
            .map_err(|e| ProviderError::Transient(e.without_url().to_string()))?;
        if res.status().is_success() || res.status() == StatusCode::NOT_FOUND {
            return Ok(());
        }
        Err(failure(res).await)
    }
}
