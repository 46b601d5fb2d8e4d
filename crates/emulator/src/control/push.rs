//! `GET /_emulator/mailboxes/{address}/push`: the push state a client set up for one mailbox,
//! its Graph change-notification subscriptions and its Gmail watch, each with every delivery
//! attempt and its answer (time, URL, status or error, latency). Read-only: it looks at the
//! Microsoft notifier's and the Gmail watcher's own state.

use axum::extract::{Path, State};
use axum::Json;
use chrono::{DateTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};

use super::{not_found, ControlError};
use crate::google::gmail::watch::WatchState;
use crate::microsoft::notify::{Deliveries, Delivery, Sub, Subs};
use crate::SharedState;

/// The answer of `GET /_emulator/mailboxes/{address}/push`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MailboxPush {
    pub address: String,
    /// Live Graph subscriptions on the mailbox, oldest id first.
    pub graph_subscriptions: Vec<GraphSubscription>,
    /// Deliveries for subscriptions that no longer exist (deleted, removed, expired).
    pub graph_earlier_deliveries: Vec<Delivery>,
    /// The mailbox's Gmail watch, if one is live.
    pub gmail_watch: Option<GmailWatch>,
    /// Every Gmail push attempt for the mailbox (also after its watch stopped).
    pub gmail_deliveries: Vec<GmailDelivery>,
}

impl MailboxPush {
    /// Delivery attempts of every kind answered 2xx.
    pub fn delivered(&self) -> usize {
        let graph = self
            .graph_subscriptions
            .iter()
            .flat_map(|s| &s.deliveries)
            .chain(&self.graph_earlier_deliveries)
            .filter(|d| d.status.is_some_and(|s| (200..300).contains(&s)))
            .count();
        let gmail = self
            .gmail_deliveries
            .iter()
            .filter(|d| d.status.is_some_and(|s| (200..300).contains(&s)))
            .count();
        graph + gmail
    }
}

/// One Graph subscription as the client created or last renewed it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GraphSubscription {
    pub id: String,
    pub resource: String,
    pub change_type: String,
    pub notification_url: String,
    pub lifecycle_notification_url: Option<String>,
    pub expiration: DateTime<Utc>,
    /// Its notification and lifecycle delivery attempts, oldest first.
    pub deliveries: Vec<Delivery>,
}

/// A Gmail watch (`users.watch`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GmailWatch {
    pub topic: String,
    pub label_ids: Vec<String>,
    pub expiration: DateTime<Utc>,
}

/// One Gmail push attempt (Pub/Sub push to the topic's endpoint).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GmailDelivery {
    pub at: Option<DateTime<Utc>>,
    pub url: String,
    pub history_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub latency_ms: Option<u64>,
}

fn graph_subscription(sub: &Sub, deliveries: &[Delivery]) -> GraphSubscription {
    GraphSubscription {
        id: sub.id.clone(),
        resource: sub.resource.clone(),
        change_type: sub.change_types.join(","),
        notification_url: sub.notification_url.clone(),
        lifecycle_notification_url: sub.lifecycle_url.clone(),
        expiration: sub.expires,
        deliveries: deliveries
            .iter()
            .filter(|d| d.subscription_id == sub.id)
            .cloned()
            .collect(),
    }
}

/// The push state of mailbox `address` (lowercased), or `None` if there is no such mailbox.
pub fn mailbox_push(state: &SharedState, address: &str) -> Option<MailboxPush> {
    let address = address.to_ascii_lowercase();
    state.store.get(&address)?;
    let deliveries = state.ext.get::<Deliveries>().of(&address);
    let subs: Vec<Sub> = state
        .ext
        .get::<Subs>()
        .all()
        .into_iter()
        .filter(|s| s.mailbox == address)
        .collect();
    let graph_earlier_deliveries = deliveries
        .iter()
        .filter(|d| !subs.iter().any(|s| s.id == d.subscription_id))
        .cloned()
        .collect();
    let watches = state.ext.get::<WatchState>();
    let gmail_watch = watches.watches.lock().get(&address).map(|w| GmailWatch {
        topic: w.topic.clone(),
        label_ids: w.label_ids.clone(),
        expiration: Utc
            .timestamp_millis_opt(w.expiration_ms)
            .single()
            .unwrap_or_default(),
    });
    let gmail_deliveries = watches
        .sent
        .lock()
        .iter()
        .filter(|n| n.mailbox == address)
        .map(|n| GmailDelivery {
            at: n.at,
            url: n.endpoint.clone(),
            history_id: n.history_id.clone(),
            status: n.status,
            error: n.error.clone(),
            latency_ms: n.latency_ms,
        })
        .collect();
    Some(MailboxPush {
        graph_subscriptions: subs
            .iter()
            .map(|s| graph_subscription(s, &deliveries))
            .collect(),
        address,
        graph_earlier_deliveries,
        gmail_watch,
        gmail_deliveries,
    })
}

/// `GET /_emulator/mailboxes/{address}/push`.
pub async fn show(
    State(state): State<SharedState>,
    Path(address): Path<String>,
) -> Result<Json<MailboxPush>, ControlError> {
    mailbox_push(&state, &address)
        .map(Json)
        .ok_or_else(|| not_found("mailbox"))
}
