//! Gmail batch (`POST {gmail_api}/batch/gmail/v1`, provider-apis.md §B.11): messages.get for up
//! to [`BATCH_MAX`] ids in one HTTP request. Parts fail independently, so each comes back
//! classified on its own: a message, `None` when it is gone (404), or the part's
//! [`ProviderError`] (throttle, 401, 5xx, ...). A part missing from the reply is a transient
//! failure of that part, never a panic or a silent skip.
use std::collections::HashMap;

use rand::distributions::{Alphanumeric, DistString as _};
use reqwest::header::CONTENT_TYPE;
use serde::de::DeserializeOwned;

use super::client::{classify, failure, raw_message, urlencode, GmailClient, RawMessage};
use super::multipart::{self, Reply};
use super::wire;
use crate::providers::{Provider, ProviderError, Secret};
use crate::telemetry::record;

/// Parts per batch: Google takes 100 but advises against more than 50.
pub const BATCH_MAX: usize = 50;

/// One part's outcome: the message, `None` when it no longer exists, or why it failed.
pub type Fetched<T> = Result<Option<T>, ProviderError>;

/// A message's labels (`format=minimal`): enough to tell where it is filed now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageState {
    pub id: String,
    pub label_ids: Vec<String>,
}

impl GmailClient {
    /// `format=raw` for each of `ids` (at most [`BATCH_MAX`]), in the order given.
    pub async fn batch_raw(
        &self,
        token: &Secret,
        ids: &[String],
    ) -> Result<Vec<Fetched<RawMessage>>, ProviderError> {
        let parts = self
            .batch_get::<wire::RawMessage>(token, ids, "raw")
            .await?;
        Ok(parts
            .into_iter()
            .map(|p| p.and_then(|m| m.map(raw_message).transpose()))
            .collect())
    }

    /// `format=minimal` (labels only) for each of `ids`, in the order given.
    pub async fn batch_minimal(
        &self,
        token: &Secret,
        ids: &[String],
    ) -> Result<Vec<Fetched<MessageState>>, ProviderError> {
        let parts = self
            .batch_get::<wire::MinimalMessage>(token, ids, "minimal")
            .await?;
        Ok(parts
            .into_iter()
            .map(|p| {
                p.map(|m| {
                    m.map(|m| MessageState {
                        id: m.id,
                        label_ids: m.label_ids,
                    })
                })
            })
            .collect())
    }

    async fn batch_get<T: DeserializeOwned>(
        &self,
        token: &Secret,
        ids: &[String],
        format: &str,
    ) -> Result<Vec<Fetched<T>>, ProviderError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        if ids.len() > 100 {
            return Err(ProviderError::Permanent(format!(
                "a Gmail batch takes at most 100 requests, not {}",
                ids.len()
            )));
        }
        // Inner URLs are path-only; keep any path prefix of the configured base.
        let prefix = url::Url::parse(&self.base)
            .map(|u| u.path().trim_end_matches('/').to_string())
            .unwrap_or_default();
        let parts: Vec<(String, String)> = ids
            .iter()
            .enumerate()
            .map(|(n, id)| {
                (
                    format!("item{}", n + 1),
                    format!(
                        "{prefix}/gmail/v1/users/{}/messages/{}?format={format}",
                        self.user,
                        urlencode(id)
                    ),
                )
            })
            .collect();
        let boundary = format!(
            "batch_{}",
            Alphanumeric.sample_string(&mut rand::thread_rng(), 24)
        );
        let req = self
            .http
            .post(format!("{}/batch/gmail/v1", self.base))
            .bearer_auth(token.expose())
            .header(
                CONTENT_TYPE,
                format!("multipart/mixed; boundary={boundary}"),
            )
            .body(multipart::request(&boundary, &parts));
        let res = record::provider_request(Provider::Google, "batch", req)
            .await
            .map_err(|e| ProviderError::Transient(e.without_url().to_string()))?;
        if !res.status().is_success() {
            return Err(failure(res).await);
        }
        let reply_boundary = res
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(multipart::boundary)
            .ok_or_else(|| ProviderError::Transient("the batch reply is not multipart".into()))?;
        let body = res
            .bytes()
            .await
            .map_err(|e| ProviderError::Transient(e.without_url().to_string()))?;
        let replies = multipart::replies(&body, &reply_boundary);
        Ok(match_replies(ids.len(), replies)
            .into_iter()
            .map(|r| r.map_or_else(|| Err(missing()), |r| classify_part::<T>(&r)))
            .collect())
    }
}

fn missing() -> ProviderError {
    ProviderError::Transient("part missing from the batch reply".into())
}

/// Replies by request position: by `Content-ID` (`item{n}`) when they carry one we sent, else
/// by their order in the reply (Google answers in request order).
fn match_replies(n: usize, replies: Vec<Reply>) -> Vec<Option<Reply>> {
    let mut slots: Vec<Option<Reply>> = (0..n).map(|_| None).collect();
    let by_id: HashMap<String, usize> = (0..n).map(|i| (format!("item{}", i + 1), i)).collect();
    let mut unnamed = Vec::new();
    for (order, reply) in replies.into_iter().enumerate() {
        let named = reply
            .content_id
            .as_ref()
            .and_then(|c| by_id.get(c))
            .copied();
        match named {
            Some(i) if slots.get(i).is_some_and(Option::is_none) => {
                if let Some(slot) = slots.get_mut(i) {
                    *slot = Some(reply);
                }
            }
            _ => unnamed.push((order, reply)),
        }
    }
    for (order, reply) in unnamed {
        if let Some(slot) = slots.get_mut(order).filter(|s| s.is_none()) {
            *slot = Some(reply);
        }
    }
    slots
}

fn classify_part<T: DeserializeOwned>(reply: &Reply) -> Fetched<T> {
    match reply.status {
        200..=299 => serde_json::from_slice(&reply.body)
            .map(Some)
            .map_err(|e| ProviderError::Permanent(format!("unexpected Gmail answer: {e}"))),
        404 => Ok(None),
        s => {
            let body: wire::ErrorBody = serde_json::from_slice(&reply.body).unwrap_or_default();
            let status = reqwest::StatusCode::from_u16(s)
                .unwrap_or(reqwest::StatusCode::INTERNAL_SERVER_ERROR);
            Err(classify(status, reply.retry_after, &body))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(id: Option<&str>, status: u16, body: &str) -> Reply {
        Reply {
            content_id: id.map(str::to_string),
            status,
            retry_after: None,
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn replies_match_by_content_id_then_by_order() {
        let got = match_replies(
            3,
            vec![
                reply(Some("item3"), 200, "c"),
                reply(None, 200, "x"),
                reply(Some("item1"), 200, "a"),
                reply(Some("item1"), 200, "dup"),
            ],
        );
        let bodies: Vec<Option<&[u8]>> = got
            .iter()
            .map(|r| r.as_ref().map(|r| r.body.as_slice()))
            .collect();
        assert_eq!(
            bodies,
            vec![Some(&b"a"[..]), Some(&b"x"[..]), Some(&b"c"[..])]
        );
        let short = match_replies(2, vec![reply(Some("item2"), 200, "b")]);
        assert!(short[0].is_none() && short[1].is_some());
    }

    #[test]
    fn parts_are_classified_on_their_own() {
        let ok: Fetched<wire::MinimalMessage> =
            classify_part(&reply(None, 200, r#"{"id":"a","labelIds":["INBOX"]}"#));
        assert!(matches!(ok, Ok(Some(m)) if m.id == "a"));
        let gone: Fetched<wire::MinimalMessage> = classify_part(&reply(None, 404, "{}"));
        assert!(matches!(gone, Ok(None)));
        let mut throttled = reply(None, 429, "not json");
        throttled.retry_after = Some(std::time::Duration::from_secs(2));
        let t: Fetched<wire::MinimalMessage> = classify_part(&throttled);
        assert!(
            matches!(t, Err(ProviderError::RateLimited { retry_after: Some(d) }) if d.as_secs() == 2)
        );
        let rate403 =
            r#"{"error":{"code":403,"message":"m","errors":[{"reason":"rateLimitExceeded"}]}}"#;
        let r: Fetched<wire::MinimalMessage> = classify_part(&reply(None, 403, rate403));
        assert!(matches!(r, Err(ProviderError::RateLimited { .. })));
        let u: Fetched<wire::MinimalMessage> = classify_part(&reply(None, 401, ""));
        assert!(matches!(u, Err(ProviderError::Unauthorized)));
        let s: Fetched<wire::MinimalMessage> = classify_part(&reply(None, 503, ""));
        assert!(matches!(s, Err(ProviderError::Transient(_))));
        let odd: Fetched<wire::MinimalMessage> = classify_part(&reply(None, 999, ""));
        assert!(matches!(odd, Err(ProviderError::Transient(_))));
        let bad: Fetched<wire::MinimalMessage> = classify_part(&reply(None, 200, "{"));
        assert!(matches!(bad, Err(ProviderError::Permanent(_))));
    }
}
