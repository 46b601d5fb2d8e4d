//! `PATCH /messages/{id}` with `isRead` and / or `flag`: needs `Mail.ReadWrite`. A message that
//! no longer exists is reported as `Ok(false)`: there is nothing left to change.
use reqwest::StatusCode;

use super::client::{check, segment, GraphClient, IMMUTABLE_IDS};
use super::wire;
use crate::providers::{Provider, ProviderError, Secret};
use crate::telemetry::record;

impl GraphClient {
    /// Set the message's read state and / or flag (`None` leaves it as it is). False when the
    /// message is gone.
    pub async fn patch_flags(
        &self,
        token: &Secret,
        id: &str,
        read: Option<bool>,
        flagged: Option<bool>,
    ) -> Result<bool, ProviderError> {
        let body = wire::MessagePatch {
            is_read: read,
            flag: flagged.map(|f| wire::FlagPatch {
                flag_status: if f { "flagged" } else { "notFlagged" },
            }),
        };
        let req = self
            .http
            .patch(self.url(&format!("/messages/{}", segment(id))))
            .bearer_auth(token.expose())
            .header("Prefer", IMMUTABLE_IDS)
            .json(&body);
        let res = record::provider_request(Provider::Microsoft, "messages.patch", req)
            .await
            .map_err(|e| ProviderError::Transient(e.without_url().to_string()))?;
        if res.status() == StatusCode::NOT_FOUND {
            return Ok(false);
        }
        check(res).await.map(|_| true)
    }
}
