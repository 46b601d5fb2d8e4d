//! Gmail API calls the sync engine needs: getProfile, messages.list, messages.get (raw) and
//! history.list, each returning provider-neutral results or a classified [`ProviderError`].
use std::time::Duration;

use base64::Engine as _;
use reqwest::{Response, StatusCode};
use serde::de::DeserializeOwned;

use super::wire;
use crate::providers::{Provider, ProviderError, Providers, Secret};
use crate::telemetry::record;

/// Gmail's maximum page size for messages.list and history.list.
pub const MAX_PAGE: u32 = 500;

/// One page of messages.list.
#[derive(Debug, Clone, Default)]
pub struct ListPage {
    pub ids: Vec<String>,
    /// The thread of each of `ids`, in the same order (empty when Gmail named none).
    pub thread_ids: Vec<String>,
    pub next_page_token: Option<String>,
    pub estimate: Option<u64>,
}

/// messages.get `format=raw`, decoded.
#[derive(Debug, Clone)]
pub struct RawMessage {
    pub id: String,
    pub thread_id: String,
    pub label_ids: Vec<String>,
    pub internal_date_ms: Option<i64>,
    pub raw: Vec<u8>,
}

/// One change named by history.list, in record order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    Added { id: String, labels: Vec<String> },
    Deleted { id: String },
    LabelsAdded { id: String, labels: Vec<String> },
    LabelsRemoved { id: String, labels: Vec<String> },
}

#[derive(Debug, Clone, Default)]
pub struct HistoryPage {
    pub changes: Vec<Change>,
    pub next_page_token: Option<String>,
    /// The mailbox's current history id: the next cursor once the last page is applied.
    pub history_id: String,
}

/// A Gmail client for one base URL (`Providers::gmail_api`: the real host or an emulator) and
/// one mailbox: the signed-in user's (`users/me`) or a Workspace user's (`users/{address}`, the
/// tokens of domain-wide delegation acting as that user).
#[derive(Clone)]
pub struct GmailClient {
    pub(super) http: reqwest::Client,
    pub(super) base: String,
    /// The `userId` path segment: `me` or the user's address (percent-encoded).
    pub(super) user: String,
}

impl GmailClient {
    /// A client for the signed-in user's mailbox (`users/me`).
    pub fn new(providers: &Providers) -> Self {
        Self {
            http: providers.http.clone(),
            base: providers.gmail_api.trim_end_matches('/').to_string(),
            user: "me".into(),
        }
    }

    /// The same client for a Workspace user's mailbox (`users/{address}`): every request and
    /// batch part goes there.
    #[must_use]
    pub fn for_user(mut self, address: &str) -> Self {
        self.user = urlencode(address);
        self
    }

    /// The `userId` path segment: `me` or the user's address.
    pub fn user(&self) -> &str {
        &self.user
    }

    pub(super) fn url(&self, path: &str) -> String {
        format!("{}/gmail/v1/users/{}{path}", self.base, self.user)
    }

    /// The mailbox's current history id (taken before an initial listing).
    pub async fn history_id(&self, token: &Secret) -> Result<String, ProviderError> {
        let p: wire::Profile = self
            .get("users.getProfile", &self.url("/profile"), &[], token)
            .await?;
        Ok(p.history_id)
    }

    /// A label's name and `messagesTotal` (`users.labels.get`, 1 unit); None when the mailbox
    /// has no such label.
    pub async fn label_total(
        &self,
        token: &Secret,
        id: &str,
    ) -> Result<Option<(String, u64)>, ProviderError> {
        let url = self.url(&format!("/labels/{}", urlencode(id)));
        let res = self.send("labels.get", &url, &[], token).await?;
        if res.status() == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        let l: wire::Label = decode(res).await?;
        let name = if l.name.is_empty() {
            id.to_string()
        } else {
            l.name
        };
        Ok(Some((name, l.messages_total.unwrap_or(0))))
    }

    /// One page of message ids carrying `label`, newest first, optionally after a date
    /// (`after:YYYY/MM/DD`).
    pub async fn list(
        &self,
        token: &Secret,
        label: &str,
        after: Option<&str>,
        page_token: Option<&str>,
        page_size: u32,
    ) -> Result<ListPage, ProviderError> {
        let mut query = vec![
            ("labelIds", label.to_string()),
            ("maxResults", page_size.min(MAX_PAGE).to_string()),
        ];
        if let Some(after) = after {
            query.push(("q", format!("after:{after}")));
        }
        if let Some(t) = page_token {
            query.push(("pageToken", t.to_string()));
        }
        let r: wire::ListResponse = self
            .get("messages.list", &self.url("/messages"), &query, token)
            .await?;
        let (ids, thread_ids) = r.messages.into_iter().map(|m| (m.id, m.thread_id)).unzip();
        Ok(ListPage {
            ids,
            thread_ids,
            next_page_token: r.next_page_token.filter(|t| !t.is_empty()),
            estimate: r.result_size_estimate,
        })
    }

    /// The raw message, or None when it no longer exists (deleted since it was listed).
    pub async fn raw(&self, token: &Secret, id: &str) -> Result<Option<RawMessage>, ProviderError> {
        let url = self.url(&format!("/messages/{}", urlencode(id)));
        let res = self
            .send("messages.get", &url, &[("format", "raw".into())], token)
            .await?;
        if res.status() == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        let m: wire::RawMessage = decode(res).await?;
        raw_message(m).map(Some)
    }

    /// One page of changes since `start` (404 = the cursor expired: [`ProviderError::Gone`]).
    pub async fn history(
        &self,
        token: &Secret,
        start: &str,
        page_token: Option<&str>,
    ) -> Result<HistoryPage, ProviderError> {
        let mut query = vec![
            ("startHistoryId", start.to_string()),
            ("maxResults", MAX_PAGE.to_string()),
        ];
        for t in [
            "messageAdded",
            "messageDeleted",
            "labelAdded",
            "labelRemoved",
        ] {
            query.push(("historyTypes", t.to_string()));
        }
        if let Some(t) = page_token {
            query.push(("pageToken", t.to_string()));
        }
        let res = self
            .send("history.list", &self.url("/history"), &query, token)
            .await?;
        if res.status() == StatusCode::NOT_FOUND {
            return Err(ProviderError::Gone);
        }
        let r: wire::HistoryResponse = decode(res).await?;
        let mut changes = Vec::new();
        for rec in r.history {
            for w in rec.messages_added {
                changes.push(Change::Added {
                    id: w.message.id,
                    labels: w.message.label_ids,
                });
            }
            for c in rec.labels_added {
                changes.push(Change::LabelsAdded {
                    id: c.message.id,
                    labels: c.label_ids,
                });
            }
            for c in rec.labels_removed {
                changes.push(Change::LabelsRemoved {
                    id: c.message.id,
                    labels: c.label_ids,
                });
            }
            for w in rec.messages_deleted {
                changes.push(Change::Deleted { id: w.message.id });
            }
        }
        Ok(HistoryPage {
            changes,
            next_page_token: r.next_page_token.filter(|t| !t.is_empty()),
            history_id: r.history_id,
        })
    }

    async fn get<T: DeserializeOwned>(
        &self,
        endpoint: &'static str,
        url: &str,
        query: &[(&str, String)],
        token: &Secret,
    ) -> Result<T, ProviderError> {
        let res = self.send(endpoint, url, query, token).await?;
        if res.status() == StatusCode::NOT_FOUND {
            return Err(ProviderError::Permanent("HTTP 404".into()));
        }
        decode(res).await
    }

    /// Sends a GET (recorded in the metrics as `endpoint`, a fixed name); any failure but 404
    /// is classified here, 404 is left to the caller.
    async fn send(
        &self,
        endpoint: &'static str,
        url: &str,
        query: &[(&str, String)],
        token: &Secret,
    ) -> Result<Response, ProviderError> {
        let req = self.http.get(url).query(query).bearer_auth(token.expose());
        let res = record::provider_request(Provider::Google, endpoint, req)
            .await
            .map_err(|e| ProviderError::Transient(e.without_url().to_string()))?;
        let status = res.status();
        if status.is_success() || status == StatusCode::NOT_FOUND {
            return Ok(res);
        }
        Err(failure(res).await)
    }
}

/// A decoded `format=raw` message.
pub(super) fn raw_message(m: wire::RawMessage) -> Result<RawMessage, ProviderError> {
    // Gmail pads base64url (observed); accept it padded or not.
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(m.raw.trim_end_matches('=').as_bytes())
        .map_err(|e| ProviderError::Permanent(format!("raw message is not base64url: {e}")))?;
    Ok(RawMessage {
        id: m.id,
        thread_id: m.thread_id,
        label_ids: m.label_ids,
        internal_date_ms: m.internal_date.and_then(|d| d.parse().ok()),
        raw,
    })
}

/// The classified error of a failed (non-2xx) response.
pub(super) async fn failure(res: Response) -> ProviderError {
    let status = res.status();
    let retry_after = res
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    let body: wire::ErrorBody = res.json().await.unwrap_or_default();
    classify(status, retry_after, &body)
}

pub(super) fn classify(
    status: StatusCode,
    retry_after: Option<Duration>,
    body: &wire::ErrorBody,
) -> ProviderError {
    let detail = body.error.as_ref();
    let message = detail.map(|d| d.message.clone()).unwrap_or_default();
    let rate_reason = detail.is_some_and(|d| {
        d.errors.iter().any(|e| {
            matches!(
                e.reason.as_str(),
                "rateLimitExceeded" | "userRateLimitExceeded"
            )
        })
    });
    let reason = |r: &str| detail.is_some_and(|d| d.errors.iter().any(|e| e.reason == r));
    match status.as_u16() {
        401 => ProviderError::Unauthorized,
        400 if reason("failedPrecondition") => ProviderError::Refused(format!(
            "Gmail is not enabled for this user ({message}): the Workspace user has no Gmail \
             licence or service, or their mailbox is not set up yet."
        )),
        429 => ProviderError::RateLimited { retry_after },
        403 if rate_reason => ProviderError::RateLimited { retry_after },
        // An overloaded backend that says when to come back is a throttle, not a failure.
        503 if retry_after.is_some() => ProviderError::RateLimited { retry_after },
        s if s >= 500 => ProviderError::Transient(format!("HTTP {s} {message}")),
        s => ProviderError::Permanent(format!("HTTP {s} {message}")),
    }
}

pub(super) async fn decode<T: DeserializeOwned>(res: Response) -> Result<T, ProviderError> {
    let bytes = res
        .bytes()
        .await
        .map_err(|e| ProviderError::Transient(e.without_url().to_string()))?;
    serde_json::from_slice(&bytes)
        .map_err(|e| ProviderError::Permanent(format!("unexpected Gmail answer: {e}")))
}

/// Gmail ids are hex, but a path segment must never carry `/`, `?` or `#` from a provider.
pub(super) fn urlencode(id: &str) -> String {
    url::form_urlencoded::byte_serialize(id.as_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(reason: &str) -> wire::ErrorBody {
        serde_json::from_str(&format!(
            r#"{{"error":{{"code":403,"message":"m","errors":[{{"reason":"{reason}"}}]}}}}"#
        ))
        .unwrap()
    }

    #[test]
    fn classifies_errors_by_kind() {
        let none = wire::ErrorBody::default();
        let s = |n| StatusCode::from_u16(n).unwrap();
        assert!(matches!(
            classify(s(401), None, &none),
            ProviderError::Unauthorized
        ));
        assert!(matches!(
            classify(s(429), Some(Duration::from_secs(3)), &none),
            ProviderError::RateLimited { retry_after: Some(d) } if d.as_secs() == 3
        ));
        assert!(matches!(
            classify(s(403), None, &body("userRateLimitExceeded")),
            ProviderError::RateLimited { .. }
        ));
        assert!(matches!(
            classify(s(403), None, &body("rateLimitExceeded")),
            ProviderError::RateLimited { .. }
        ));
        assert!(matches!(
            classify(s(403), None, &body("insufficientPermissions")),
            ProviderError::Permanent(_)
        ));
        assert!(matches!(
            classify(s(503), None, &none),
            ProviderError::Transient(_)
        ));
        assert!(matches!(
            classify(s(503), Some(Duration::from_secs(4)), &none),
            ProviderError::RateLimited { retry_after: Some(d) } if d.as_secs() == 4
        ));
        assert!(matches!(
            classify(s(400), None, &none),
            ProviderError::Permanent(_)
        ));
        let no_gmail = classify(s(400), None, &body("failedPrecondition"));
        assert!(
            matches!(&no_gmail, ProviderError::Refused(m) if m.contains("Gmail is not enabled")),
            "{no_gmail:?}"
        );
    }

    #[test]
    fn a_workspace_user_s_mailbox_is_addressed_by_address() {
        let me = GmailClient {
            http: reqwest::Client::new(),
            base: "https://gmail.example".into(),
            user: "me".into(),
        };
        assert_eq!(
            me.url("/profile"),
            "https://gmail.example/gmail/v1/users/me/profile"
        );
        let ann = me.for_user("ann+x@northwind.test");
        assert_eq!(
            ann.url("/messages"),
            "https://gmail.example/gmail/v1/users/ann%2Bx%40northwind.test/messages"
        );
    }
}
