//! Subscription bookkeeping and delivery: a background task (started with the first
//! subscription, stopped with the last) turns each subscribed mailbox's change-log entries
//! into change notifications posted to the `notificationUrl`; a cursor lost to `expire-cursors`
//! yields a `missed` lifecycle notification. Expired subscriptions are dropped. The control
//! route `POST /_emulator/mailboxes/{address}/lifecycle` sends lifecycle notifications.
//!
//! Every delivery attempt is recorded ([`Deliveries`], shown by
//! `GET /_emulator/mailboxes/{address}/push`). A change notification the receiver does not
//! answer 2xx within 3 s (Graph's limit) is delivered again with exponential backoff, as
//! Graph does for up to 4 hours; scaled down here to [`ATTEMPTS`] attempts 1 s, 2 s, 4 s and
//! 8 s apart, so a test sees the retries and a dead receiver is given up in 15 s.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Utc};
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::folders::key_of;
use super::view::rest_id;
use crate::changes::ChangeKind;
use crate::state::EmulatorState;
use crate::SharedState;

/// How often the notifier looks at the change logs.
const POLL: Duration = Duration::from_millis(200);

/// Attempts per change notification (the first and four retries).
pub const ATTEMPTS: u32 = 5;
/// The first retry's delay; each next one doubles it.
const FIRST_RETRY: Duration = Duration::from_secs(1);
/// How long a receiver may take to answer (Graph: 3 s).
const ANSWER_WITHIN: Duration = Duration::from_secs(3);
/// Most delivery attempts kept per mailbox (oldest dropped first).
const KEPT: usize = 2000;

/// One delivery attempt of a change or lifecycle notification and its answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Delivery {
    pub subscription_id: String,
    /// `notification` or `lifecycle`.
    pub kind: String,
    /// 1 for the first try, 2.. for retries.
    pub attempt: u32,
    pub at: DateTime<Utc>,
    pub url: String,
    /// The receiver's status, when it answered in time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Why there was no answer (timed out after 3 s, connection refused).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub latency_ms: u64,
    /// Notification items in the request.
    pub items: usize,
}

/// Every delivery attempt, per mailbox.
#[derive(Default)]
pub struct Deliveries {
    map: Mutex<HashMap<String, Vec<Delivery>>>,
}

impl Deliveries {
    fn record(&self, mailbox: &str, delivery: Delivery) {
        let mut map = self.map.lock();
        let list = map.entry(mailbox.to_string()).or_default();
        if list.len() >= KEPT {
            list.remove(0);
        }
        list.push(delivery);
    }

    /// The attempts of `mailbox`, oldest first.
    pub fn of(&self, mailbox: &str) -> Vec<Delivery> {
        self.map.lock().get(mailbox).cloned().unwrap_or_default()
    }
}

/// One subscription.
#[derive(Debug, Clone)]
pub struct Sub {
    pub id: String,
    pub mailbox: String,
    pub user_id: String,
    pub tenant: String,
    /// Folder key, `None` for the whole mailbox.
    pub folder: Option<String>,
    pub resource: String,
    pub change_types: Vec<String>,
    pub client_state: Option<String>,
    pub notification_url: String,
    pub lifecycle_url: Option<String>,
    pub expires: DateTime<Utc>,
    pub client_id: String,
    pub creator_id: String,
    /// Change-log position already notified, and its epoch.
    pub cursor: u64,
    pub epoch: u64,
}

/// All subscriptions plus whether the notifier runs.
#[derive(Default)]
pub struct Subs {
    map: Mutex<HashMap<String, Sub>>,
    running: AtomicBool,
}

impl Subs {
    pub fn insert(&self, sub: Sub) {
        self.map.lock().insert(sub.id.clone(), sub);
    }

    pub fn get(&self, id: &str) -> Option<Sub> {
        self.map.lock().get(id).cloned()
    }

    pub fn all(&self) -> Vec<Sub> {
        let mut all: Vec<Sub> = self.map.lock().values().cloned().collect();
        all.sort_by(|a, b| a.id.cmp(&b.id));
        all
    }

    pub fn count_for(&self, mailbox: &str) -> usize {
        self.map
            .lock()
            .values()
            .filter(|s| s.mailbox == mailbox)
            .count()
    }

    pub fn update(&self, id: &str, change: impl FnOnce(&mut Sub)) -> Option<Sub> {
        let mut map = self.map.lock();
        let sub = map.get_mut(id)?;
        change(sub);
        Some(sub.clone())
    }

    pub fn remove(&self, id: &str) -> Option<Sub> {
        self.map.lock().remove(id)
    }
}

/// Start the notifier unless it runs.
pub fn ensure_running(state: &SharedState) {
    let subs = state.ext.get::<Subs>();
    if subs.running.swap(true, Ordering::AcqRel) {
        return;
    }
    let weak: Weak<EmulatorState> = Arc::downgrade(state);
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(POLL).await;
            let Some(state) = weak.upgrade() else { return };
            let subs = state.ext.get::<Subs>();
            {
                let mut map = subs.map.lock();
                let now = Utc::now();
                map.retain(|_, s| s.expires > now);
                if map.is_empty() {
                    subs.running.store(false, Ordering::Release);
                    return;
                }
            }
            for sub in subs.all() {
                tick(&state, &subs, &sub);
            }
        }
    });
}

/// Notify one subscription of the changes since its cursor.
fn tick(state: &SharedState, subs: &Subs, sub: &Sub) {
    let Some(mailbox) = state.store.get(&sub.mailbox) else {
        return;
    };
    let (items, head, epoch, missed) = {
        let data = mailbox.data.read();
        let head = data.log.head();
        let epoch = data.log.epoch();
        let result = match data.log.since(sub.cursor) {
            Ok(changes) if epoch == sub.epoch => {
                let items: Vec<Value> = changes
                    .filter_map(|c| notification(sub, &data, c))
                    .collect();
                (items, head, epoch, false)
            }
            _ => (Vec::new(), head, epoch, true),
        };
        result
    };
    subs.update(&sub.id, |s| {
        s.cursor = head;
        s.epoch = epoch;
    });
    if missed {
        if let Some(url) = &sub.lifecycle_url {
            post(
                state,
                sub,
                "lifecycle",
                url.clone(),
                json!({"value": [lifecycle_item(sub, "missed")]}),
            );
        }
    }
    if !items.is_empty() {
        post(
            state,
            sub,
            "notification",
            sub.notification_url.clone(),
            json!({ "value": items }),
        );
    }
}

fn notification(
    sub: &Sub,
    data: &crate::store::MailboxData,
    c: &crate::changes::Change,
) -> Option<Value> {
    let in_folder = |f: Option<&String>| sub.folder.as_ref().is_none_or(|want| key_of(f) == *want);
    let (change_type, key) = match &c.kind {
        ChangeKind::Added { state: s } => (
            "created",
            in_folder(s.folder.as_ref()).then(|| key_of(s.folder.as_ref()))?,
        ),
        ChangeKind::Deleted { state: s } => (
            "deleted",
            in_folder(s.folder.as_ref()).then(|| key_of(s.folder.as_ref()))?,
        ),
        ChangeKind::StateChanged { before, after } => match (
            in_folder(before.folder.as_ref()),
            in_folder(after.folder.as_ref()),
        ) {
            (true, true) => ("updated", key_of(after.folder.as_ref())),
            (false, true) => ("created", key_of(after.folder.as_ref())),
            (true, false) => ("deleted", key_of(before.folder.as_ref())),
            (false, false) => return None,
        },
    };
    if !sub.change_types.iter().any(|t| t == change_type) {
        return None;
    }
    let id = rest_id(&c.message_id, &key, false);
    let etag = data
        .messages
        .get(&c.message_id)
        .map_or_else(String::new, |m| {
            format!("W/\"{}\"", super::view::change_key(&sub.mailbox, m))
        });
    let resource = format!("Users/{}/Messages/{id}", sub.user_id);
    Some(json!({
        "subscriptionId": sub.id,
        "subscriptionExpirationDateTime": sub.expires.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
        "changeType": change_type,
        "resource": resource,
        "resourceData": {"@odata.type": "#Microsoft.Graph.Message", "@odata.id": resource, "@odata.etag": etag, "id": id},
        "clientState": sub.client_state,
        "tenantId": sub.tenant,
    }))
}

fn lifecycle_item(sub: &Sub, event: &str) -> Value {
    json!({
        "subscriptionId": sub.id,
        "subscriptionExpirationDateTime": sub.expires.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
        "tenantId": sub.tenant,
        "clientState": sub.client_state,
        "lifecycleEvent": event,
    })
}

/// POST a notification body without waiting for the receiver, retrying (see the module
/// doc) until it answers 2xx within 3 s.
fn post(state: &SharedState, sub: &Sub, kind: &'static str, url: String, body: Value) {
    let state = state.clone();
    let (mailbox, subscription) = (sub.mailbox.clone(), sub.id.clone());
    tokio::spawn(async move {
        for attempt in 1..=ATTEMPTS {
            let ok =
                attempt_once(&state, &mailbox, &subscription, kind, attempt, &url, &body).await;
            if ok || attempt == ATTEMPTS {
                if !ok {
                    tracing::debug!(%url, "graph notification given up after {ATTEMPTS} attempts");
                }
                return;
            }
            tokio::time::sleep(FIRST_RETRY * 2u32.pow(attempt - 1)).await;
        }
    });
}

/// One delivery attempt, recorded; true when the receiver answered 2xx in time.
async fn attempt_once(
    state: &SharedState,
    mailbox: &str,
    subscription: &str,
    kind: &str,
    attempt: u32,
    url: &str,
    body: &Value,
) -> bool {
    let at = Utc::now();
    let started = std::time::Instant::now();
    let sent = state
        .http
        .post(url)
        .timeout(ANSWER_WITHIN)
        .json(body)
        .send()
        .await;
    let latency_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    let (status, error) = match sent {
        Ok(r) => (Some(r.status().as_u16()), None),
        Err(e) if e.is_timeout() => (None, Some("timed out after 3 s".to_string())),
        Err(e) => (None, Some(e.to_string())),
    };
    let items = body["value"].as_array().map_or(0, Vec::len);
    state.ext.get::<Deliveries>().record(
        mailbox,
        Delivery {
            subscription_id: subscription.to_string(),
            kind: kind.to_string(),
            attempt,
            at,
            url: url.to_string(),
            status,
            error,
            latency_ms,
            items,
        },
    );
    status.is_some_and(|s| (200..300).contains(&s))
}

/// The body of `POST /_emulator/mailboxes/{address}/lifecycle`.
#[derive(Debug, Serialize, Deserialize)]
pub struct LifecycleRequest {
    /// `reauthorizationRequired`, `subscriptionRemoved` or `missed`.
    pub event: String,
    /// Only this subscription (default: every subscription of the mailbox).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscription_id: Option<String>,
}

/// The answer of a lifecycle request: subscriptions chosen, notifications delivered (2xx).
#[derive(Debug, Serialize, Deserialize)]
pub struct LifecycleSent {
    pub subscriptions: usize,
    pub delivered: usize,
}

/// `POST /_emulator/mailboxes/{address}/lifecycle`.
pub async fn lifecycle(
    State(state): State<SharedState>,
    Path(address): Path<String>,
    Json(req): Json<LifecycleRequest>,
) -> Response {
    if !matches!(
        req.event.as_str(),
        "reauthorizationRequired" | "subscriptionRemoved" | "missed"
    ) {
        return (StatusCode::BAD_REQUEST, Json(json!({"error": "event must be reauthorizationRequired, subscriptionRemoved or missed"}))).into_response();
    }
    let address = address.to_ascii_lowercase();
    let subs = state.ext.get::<Subs>();
    let chosen: Vec<Sub> = subs
        .all()
        .into_iter()
        .filter(|s| {
            s.mailbox == address && req.subscription_id.as_ref().is_none_or(|id| *id == s.id)
        })
        .collect();
    if chosen.is_empty() {
        return (
            StatusCode::NOT_FOUND,
            Json(json!({"error": "no such subscription"})),
        )
            .into_response();
    }
    let mut sent = 0;
    for sub in &chosen {
        if let Some(url) = &sub.lifecycle_url {
            let body = json!({"value": [lifecycle_item(sub, &req.event)]});
            let delivered =
                attempt_once(&state, &address, &sub.id, "lifecycle", 1, url, &body).await;
            sent += usize::from(delivered);
        }
        if req.event == "subscriptionRemoved" {
            subs.remove(&sub.id);
        }
    }
    Json(LifecycleSent {
        subscriptions: chosen.len(),
        delivered: sent,
    })
    .into_response()
}
