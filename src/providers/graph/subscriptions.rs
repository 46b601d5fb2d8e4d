//! Graph change-notification subscriptions (§D.10): create one on the client's mailbox's
//! messages, renew it (PATCH), reauthorize it, delete it. Subscriptions live at
//! `/v1.0/subscriptions`, outside the mailbox's path; the mailbox is named by the resource
//! (`/me/messages` or `/users/{id}/messages`). A subscription Graph no longer knows (404)
//! comes back as `None` / `false` so the caller can create a new one.
use chrono::{DateTime, SecondsFormat, Utc};
use reqwest::{Method, Response, StatusCode};
use serde::Deserialize;
use serde_json::json;

use super::client::{check, decode, segment, GraphClient};
use crate::providers::{Provider, ProviderError, Secret};
use crate::telemetry::record;

/// What Threadline asks Graph to notify: new, changed and deleted messages.
pub const CHANGE_TYPES: &str = "created,updated,deleted";

/// A subscription as Graph answered it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    pub id: String,
    pub expires_at: DateTime<Utc>,
}

/// A new subscription's parameters.
#[derive(Debug)]
pub struct NewSubscription<'a> {
    pub notification_url: &'a str,
    pub lifecycle_url: &'a str,
    /// The secret Graph echoes in every notification (never logged).
    pub client_state: &'a Secret,
    pub expires_at: DateTime<Utc>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Wire {
    id: String,
    expiration_date_time: String,
}

impl GraphClient {
    /// The resource a subscription on this client's mailbox watches: every message of it.
    pub fn messages_resource(&self) -> String {
        format!("/{}/messages", self.mailbox)
    }

    fn subscriptions_url(&self, id: Option<&str>) -> String {
        match id {
            Some(id) => format!("{}/v1.0/subscriptions/{}", self.base, segment(id)),
            None => format!("{}/v1.0/subscriptions", self.base),
        }
    }

    /// `POST /subscriptions`: Graph calls the notification and lifecycle URLs with a
    /// validation token before it answers.
    pub async fn subscribe(
        &self,
        token: &Secret,
        new: &NewSubscription<'_>,
    ) -> Result<Subscription, ProviderError> {
        let body = json!({
            "changeType": CHANGE_TYPES,
            "notificationUrl": new.notification_url,
            "lifecycleNotificationUrl": new.lifecycle_url,
            "resource": self.messages_resource(),
            "expirationDateTime": stamp(new.expires_at),
            "clientState": new.client_state.expose(),
        });
        let res = self
            .call(
                "subscriptions.create",
                Method::POST,
                &self.subscriptions_url(None),
                token,
                Some(body),
            )
            .await?;
        parse(check(res).await?).await
    }

    /// `PATCH /subscriptions/{id}` with a new expiry; None when Graph no longer has it.
    pub async fn renew_subscription(
        &self,
        token: &Secret,
        id: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<Option<Subscription>, ProviderError> {
        let body = json!({ "expirationDateTime": stamp(expires_at) });
        let res = self
            .call(
                "subscriptions.renew",
                Method::PATCH,
                &self.subscriptions_url(Some(id)),
                token,
                Some(body),
            )
            .await?;
        if res.status() == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        parse(check(res).await?).await.map(Some)
    }

    /// `POST /subscriptions/{id}/reauthorize` (after `reauthorizationRequired`); false when
    /// Graph no longer has it.
    pub async fn reauthorize_subscription(
        &self,
        token: &Secret,
        id: &str,
    ) -> Result<bool, ProviderError> {
        let url = format!("{}/reauthorize", self.subscriptions_url(Some(id)));
        let res = self
            .call("subscriptions.reauthorize", Method::POST, &url, token, None)
            .await?;
        if res.status() == StatusCode::NOT_FOUND {
            return Ok(false);
        }
        check(res).await.map(|_| true)
    }

    /// `DELETE /subscriptions/{id}`; one Graph no longer has is already gone.
    pub async fn unsubscribe(&self, token: &Secret, id: &str) -> Result<(), ProviderError> {
        let res = self
            .call(
                "subscriptions.delete",
                Method::DELETE,
                &self.subscriptions_url(Some(id)),
                token,
                None,
            )
            .await?;
        if res.status() == StatusCode::NOT_FOUND {
            return Ok(());
        }
        check(res).await.map(|_| ())
    }

    /// One request, recorded in the metrics as `endpoint`.
    async fn call(
        &self,
        endpoint: &'static str,
        method: Method,
        url: &str,
        token: &Secret,
        body: Option<serde_json::Value>,
    ) -> Result<Response, ProviderError> {
        let mut req = self.http.request(method, url).bearer_auth(token.expose());
        req = match body {
            Some(b) => req.json(&b),
            // Graph wants a length on a body-less POST.
            None => req.header(reqwest::header::CONTENT_LENGTH, "0"),
        };
        record::provider_request(Provider::Microsoft, endpoint, req)
            .await
            .map_err(|e| ProviderError::Transient(e.without_url().to_string()))
    }
}

fn stamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

async fn parse(res: Response) -> Result<Subscription, ProviderError> {
    let w: Wire = decode(res).await?;
    let expires_at = DateTime::parse_from_rfc3339(&w.expiration_date_time)
        .map_err(|e| ProviderError::Permanent(format!("unexpected subscription expiry: {e}")))?
        .with_timezone(&Utc);
    if w.id.is_empty() {
        return Err(ProviderError::Permanent(
            "Graph answered a subscription without an id".into(),
        ));
    }
    Ok(Subscription {
        id: w.id,
        expires_at,
    })
}
