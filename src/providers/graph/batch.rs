//! JSON batching (§D.8): up to 20 light message lookups in one `POST /$batch`. Sub-requests
//! succeed, fail and are throttled on their own (a 429 with its own `Retry-After` inside a
//! 200), and answers come in any order, so each is matched back by its request id.
use std::collections::HashMap;
use std::time::Duration;

use serde::Deserialize;
use serde_json::{json, Value};

use super::client::{check, decode, light, segment, GraphClient, Light, IMMUTABLE_IDS};
use super::errors::classify;
use super::wire;
use crate::providers::Secret;
use crate::providers::{Provider, ProviderError};
use crate::telemetry::record;

/// Graph's limit of requests per batch.
pub const MAX_BATCH: usize = 20;

/// Where one looked-up message is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Located {
    /// It exists; `folder_id` says where.
    Here(Light),
    /// It no longer exists (404).
    Missing,
    /// Throttled or failed transiently: ask again (after the wait, when given).
    Again(Option<Duration>),
    /// Refused for good; the caller leaves the message as it is.
    Refused(String),
}

#[derive(Deserialize)]
struct BatchResponse {
    #[serde(default)]
    responses: Vec<Value>,
}

#[derive(Deserialize)]
struct SubResponse {
    id: String,
    status: u16,
    #[serde(default)]
    headers: HashMap<String, Value>,
    #[serde(default)]
    body: Value,
}

impl GraphClient {
    /// Where each of `ids` (at most [`MAX_BATCH`]) is now. An id Graph did not answer for
    /// comes back as [`Located::Again`]; a 401 of any part fails the whole call (refresh and
    /// repeat).
    pub async fn locate_many(
        &self,
        token: &Secret,
        ids: &[String],
    ) -> Result<Vec<(String, Located)>, ProviderError> {
        let ids = &ids[..ids.len().min(MAX_BATCH)];
        let requests: Vec<Value> = ids
            .iter()
            .enumerate()
            .map(|(i, id)| {
                json!({
                    "id": i.to_string(),
                    "method": "GET",
                    "url": format!("/{}/messages/{}?$select=id,isRead,flag,parentFolderId", self.mailbox, segment(id)),
                    "headers": {"Prefer": IMMUTABLE_IDS},
                })
            })
            .collect();
        let req = self
            .http
            .post(format!("{}/v1.0/$batch", self.base))
            .bearer_auth(token.expose())
            .header("Prefer", IMMUTABLE_IDS)
            .json(&json!({ "requests": requests }));
        let res = record::provider_request(Provider::Microsoft, "$batch", req)
            .await
            .map_err(|e| ProviderError::Transient(e.without_url().to_string()))?;
        let batch: BatchResponse = decode(check(res).await?).await?;
        let mut answers: HashMap<usize, Located> = HashMap::new();
        for raw in batch.responses {
            let Ok(sub) = serde_json::from_value::<SubResponse>(raw) else {
                continue;
            };
            let Some(index) = sub.id.parse::<usize>().ok().filter(|i| *i < ids.len()) else {
                continue;
            };
            answers.insert(index, located(sub)?);
        }
        Ok(ids
            .iter()
            .enumerate()
            .map(|(i, id)| {
                (
                    id.clone(),
                    answers.remove(&i).unwrap_or(Located::Again(None)),
                )
            })
            .collect())
    }
}

fn located(sub: SubResponse) -> Result<Located, ProviderError> {
    match sub.status {
        200 => Ok(
            serde_json::from_value::<wire::Message>(sub.body).map_or_else(
                |e| Located::Refused(format!("unexpected Graph answer: {e}")),
                |m| Located::Here(light(m)),
            ),
        ),
        404 => Ok(Located::Missing),
        status => {
            let wait = sub
                .headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("retry-after"))
                .and_then(|(_, v)| match v {
                    Value::String(s) => s.trim().parse::<u64>().ok(),
                    other => other.as_u64(),
                })
                .map(Duration::from_secs);
            let body: wire::ErrorBody = serde_json::from_value(sub.body).unwrap_or_default();
            let code = reqwest::StatusCode::from_u16(status)
                .unwrap_or(reqwest::StatusCode::INTERNAL_SERVER_ERROR);
            match classify(code, wait, &body) {
                ProviderError::Unauthorized => Err(ProviderError::Unauthorized),
                ProviderError::RateLimited { retry_after } => Ok(Located::Again(retry_after)),
                ProviderError::Transient(_) => Ok(Located::Again(None)),
                other => Ok(Located::Refused(other.to_string())),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sub(v: Value) -> SubResponse {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn sub_responses_are_classified_one_by_one() {
        let here = located(sub(json!({"id": "0", "status": 200,
            "body": {"id": "m", "isRead": true, "parentFolderId": "f"}})))
        .unwrap();
        assert!(matches!(here, Located::Here(l) if l.read && l.folder_id.as_deref() == Some("f")));
        assert_eq!(
            located(sub(json!({"id": "1", "status": 404}))).unwrap(),
            Located::Missing
        );
        assert_eq!(
            located(sub(
                json!({"id": "2", "status": 429, "headers": {"Retry-After": "7"}})
            ))
            .unwrap(),
            Located::Again(Some(Duration::from_secs(7)))
        );
        assert_eq!(
            located(sub(json!({"id": "3", "status": 503}))).unwrap(),
            Located::Again(None)
        );
        assert!(matches!(
            located(sub(
                json!({"id": "4", "status": 403, "body": {"error": {"code": "ErrorAccessDenied"}}})
            )),
            Ok(Located::Refused(_))
        ));
        assert!(matches!(
            located(sub(json!({"id": "5", "status": 401}))),
            Err(ProviderError::Unauthorized)
        ));
        assert!(matches!(
            located(sub(json!({"id": "6", "status": 200, "body": "not json"}))),
            Ok(Located::Refused(_))
        ));
    }
}
