//! Subscription bookkeeping and delivery: a background task (started with the first
//! subscription, stopped with the last) turns each subscribed mailbox's change-log entries
//! into change notifications posted to the `notificationUrl`; a cursor lost to `expire-cursors`
//! yields a `missed` lifecycle notification. Expired subscriptions are dropped. The control
//! route `POST /_emulator/mailboxes/{address}/lifecycle` sends lifecycle notifications.

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
                url.clone(),
                json!({"value": [lifecycle_item(sub, "missed")]}),
            );
        }
    }
    if !items.is_empty() {
        post(
            state,
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

/// POST a notification body without waiting for the receiver.
fn post(state: &SharedState, url: String, body: Value) {
    let http = state.http.clone();
    tokio::spawn(async move {
        let sent = http
            .post(&url)
            .timeout(Duration::from_secs(3))
            .json(&body)
            .send()
            .await;
        if let Err(err) = sent {
            tracing::debug!(%url, error = %err, "graph notification not delivered");
        }
    });
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
            let delivered = state
                .http
                .post(url)
                .timeout(Duration::from_secs(3))
                .json(&json!({"value": [lifecycle_item(sub, &req.event)]}))
                .send()
                .await;
            sent += usize::from(delivered.is_ok_and(|r| r.status().is_success()));
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
