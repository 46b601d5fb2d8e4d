//! `EmulatorClient`: the typed client of the `/_emulator` control plane, built on the
//! emulator's own request and answer types so server and client cannot drift.

use reqwest::{Method, RequestBuilder, StatusCode};
use serde::de::DeserializeOwned;

use crate::control::push::MailboxPush;
use crate::control::{
    CreateMailbox, DeliverQuery, Delivered, ExpiredAccess, MailboxSummary, MessagePatch, Revoked,
    TruthItem,
};
use crate::faults::FaultRule;
use crate::google::gmail::watch::{PubsubOverview, Topic};
use crate::latency::Latency;
use crate::microsoft::auth::GraphSettings;
use crate::microsoft::notify::{LifecycleRequest, LifecycleSent};
use crate::stats::StatsReport;
use crate::tokens::TokenRecord;
use crate::Tunables;

/// A failed control-plane call.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The request could not be sent, or its answer not read or decoded.
    /// The cause is in the message, so it is not also a `source` (printed once).
    #[error("emulator request failed: {0}")]
    Http(reqwest::Error),
    /// The emulator answered with a non-2xx status.
    #[error("emulator answered {status}: {body}")]
    Status { status: StatusCode, body: String },
}

impl From<reqwest::Error> for ClientError {
    fn from(e: reqwest::Error) -> Self {
        Self::Http(e)
    }
}

/// The result of a control-plane call.
pub type ClientResult<T> = Result<T, ClientError>;

/// A client of one emulator's control plane (`base_url` like `http://127.0.0.1:4010`).
#[derive(Debug, Clone)]
pub struct EmulatorClient {
    base_url: String,
    http: reqwest::Client,
}

impl EmulatorClient {
    pub fn new(base_url: impl Into<String>) -> Self {
        Self::with_http(base_url, reqwest::Client::new())
    }

    /// Use this HTTP client (timeouts, connection pool) for the calls.
    pub fn with_http(base_url: impl Into<String>, http: reqwest::Client) -> Self {
        let base_url = base_url.into().trim_end_matches('/').to_string();
        Self { base_url, http }
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// `POST /_emulator/mailboxes` (201).
    pub async fn create_mailbox(&self, mailbox: &CreateMailbox) -> ClientResult<MailboxSummary> {
        json(
            self.request(Method::POST, "/_emulator/mailboxes")
                .json(mailbox),
        )
        .await
    }

    /// `GET /_emulator/mailboxes`: every mailbox with its counts.
    pub async fn mailboxes(&self) -> ClientResult<Vec<MailboxSummary>> {
        json(self.request(Method::GET, "/_emulator/mailboxes")).await
    }

    /// Deliver raw RFC 5322 bytes with Gmail labels or an Outlook folder and read state
    /// (`DeliverQuery`); the new message's id.
    pub async fn deliver(
        &self,
        address: &str,
        raw: impl Into<Vec<u8>>,
        query: &DeliverQuery,
    ) -> ClientResult<String> {
        let request = self
            .request(Method::POST, &mailbox_path(address, "/messages"))
            .query(query)
            .header(reqwest::header::CONTENT_TYPE, "message/rfc822")
            .body(raw.into());
        Ok(json::<Delivered>(request).await?.id)
    }

    /// `GET /_emulator/mailboxes/{address}/messages`: the ground truth, newest first.
    pub async fn truth(&self, address: &str) -> ClientResult<Vec<TruthItem>> {
        json(self.request(Method::GET, &mailbox_path(address, "/messages"))).await
    }

    /// Change a message's state as a user would; its state afterwards.
    pub async fn patch_message(
        &self,
        address: &str,
        id: &str,
        change: &MessagePatch,
    ) -> ClientResult<TruthItem> {
        let path = mailbox_path(address, &format!("/messages/{}", segment(id)));
        json(self.request(Method::PATCH, &path).json(change)).await
    }

    /// Delete a message permanently (recorded in history / delta).
    pub async fn delete_message(&self, address: &str, id: &str) -> ClientResult<()> {
        let path = mailbox_path(address, &format!("/messages/{}", segment(id)));
        done(self.request(Method::DELETE, &path)).await
    }

    /// Every history id / delta token issued so far for the mailbox becomes invalid.
    pub async fn expire_cursors(&self, address: &str) -> ClientResult<()> {
        done(self.request(Method::POST, &mailbox_path(address, "/expire-cursors"))).await
    }

    /// Revoke the mailbox's grants as if the user removed the app; grants revoked.
    pub async fn revoke_tokens(&self, address: &str) -> ClientResult<usize> {
        let path = mailbox_path(address, "/revoke-tokens");
        Ok(json::<Revoked>(self.request(Method::POST, &path))
            .await?
            .revoked_grants)
    }

    /// Expire the mailbox's access tokens now (a refresh still works); tokens expired.
    pub async fn expire_access_tokens(&self, address: &str) -> ClientResult<usize> {
        let path = mailbox_path(address, "/expire-access-tokens");
        let answer: ExpiredAccess = json(self.request(Method::POST, &path)).await?;
        Ok(answer.expired_access_tokens)
    }

    /// `POST /_emulator/faults`.
    pub async fn inject_fault(&self, rule: &FaultRule) -> ClientResult<()> {
        done(self.request(Method::POST, "/_emulator/faults").json(rule)).await
    }

    /// `DELETE /_emulator/faults`.
    pub async fn clear_faults(&self) -> ClientResult<()> {
        done(self.request(Method::DELETE, "/_emulator/faults")).await
    }

    /// `GET /_emulator/faults`: the rules in force.
    pub async fn faults(&self) -> ClientResult<Vec<FaultRule>> {
        json(self.request(Method::GET, "/_emulator/faults")).await
    }

    /// `GET /_emulator/stats`.
    pub async fn stats(&self) -> ClientResult<StatsReport> {
        json(self.request(Method::GET, "/_emulator/stats")).await
    }

    /// `GET /_emulator/tokens`: every token issued so far.
    pub async fn tokens(&self) -> ClientResult<Vec<TokenRecord>> {
        json(self.request(Method::GET, "/_emulator/tokens")).await
    }

    /// `GET /_emulator/settings`.
    pub async fn settings(&self) -> ClientResult<Tunables> {
        json(self.request(Method::GET, "/_emulator/settings")).await
    }

    /// `PATCH /_emulator/settings` with the given fields (merged); the settings afterwards.
    pub async fn tune(&self, fields: &serde_json::Value) -> ClientResult<Tunables> {
        json(
            self.request(Method::PATCH, "/_emulator/settings")
                .json(fields),
        )
        .await
    }

    /// Switch the latency model (`PATCH /_emulator/settings` with `latency` and
    /// `latency_scale`): `scale` multiplies every drawn service time (0.05 = 20 times faster).
    pub async fn set_latency(&self, latency: Latency, scale: f64) -> ClientResult<Tunables> {
        self.tune(&serde_json::json!({"latency": latency, "latency_scale": scale}))
            .await
    }

    /// `GET /_emulator/microsoft/settings`.
    pub async fn microsoft_settings(&self) -> ClientResult<GraphSettings> {
        json(self.request(Method::GET, "/_emulator/microsoft/settings")).await
    }

    /// `PATCH /_emulator/microsoft/settings` with the given fields (merged).
    pub async fn tune_microsoft(&self, fields: &serde_json::Value) -> ClientResult<GraphSettings> {
        let request = self.request(Method::PATCH, "/_emulator/microsoft/settings");
        json(request.json(fields)).await
    }

    /// Send Graph lifecycle notifications for the mailbox's subscriptions.
    pub async fn lifecycle(
        &self,
        address: &str,
        request: &LifecycleRequest,
    ) -> ClientResult<LifecycleSent> {
        let path = mailbox_path(address, "/lifecycle");
        json(self.request(Method::POST, &path).json(request)).await
    }

    /// `POST /_emulator/pubsub/topics`: where a Pub/Sub topic's Gmail notifications go.
    pub async fn add_topic(&self, topic: &Topic) -> ClientResult<()> {
        done(
            self.request(Method::POST, "/_emulator/pubsub/topics")
                .json(topic),
        )
        .await
    }

    /// `GET /_emulator/pubsub`: topics, Gmail watches and the notifications sent.
    pub async fn push_state(&self) -> ClientResult<PubsubOverview> {
        json(self.request(Method::GET, "/_emulator/pubsub")).await
    }

    /// `GET /_emulator/mailboxes/{address}/push`: the mailbox's Graph subscriptions and Gmail
    /// watch with every delivery attempt and its answer.
    pub async fn mailbox_push(&self, address: &str) -> ClientResult<MailboxPush> {
        json(self.request(Method::GET, &mailbox_path(address, "/push"))).await
    }

    pub(crate) fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.base_url))
    }
}

pub(crate) fn segment(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

fn mailbox_path(address: &str, rest: &str) -> String {
    format!("/_emulator/mailboxes/{}{rest}", segment(address))
}

async fn send(request: RequestBuilder) -> ClientResult<reqwest::Response> {
    let response = request.send().await?;
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let body = response.text().await.unwrap_or_default();
    Err(ClientError::Status { status, body })
}

pub(crate) async fn json<T: DeserializeOwned>(request: RequestBuilder) -> ClientResult<T> {
    Ok(send(request).await?.json().await?)
}

pub(crate) async fn done(request: RequestBuilder) -> ClientResult<()> {
    send(request).await.map(drop)
}
