//! users.watch / users.stop and Pub/Sub-shaped push notifications.
//!
//! Where pushes go: register a topic with `POST /_emulator/pubsub/topics`
//! `{"topic":"projects/p/topics/t","push_endpoint":"http://...","subscription":"projects/p/subscriptions/s"}`
//! and watch that `topicName`, or pass an `http(s)://` URL directly as `topicName`. A watched
//! mailbox whose history moved is notified at most once per `push_interval_ms` (1 s): changes
//! in between are coalesced into one notification carrying the newest historyId (the push
//! is a hint; history.list is the truth). An endpoint that does not answer 2xx gets the
//! notification again with exponential backoff (up to 5 attempts), as Pub/Sub redelivers.
//! `GET /_emulator/pubsub` lists topics, watches and every delivery attempt.
//!
//! Pushes are authenticated as a Pub/Sub push subscription with authentication configured:
//! each POST carries `Authorization: Bearer <ID token>`, RS256-signed with the emulator's
//! Google key (JWKS at `/oauth2/v3/certs`, see `google::signing`), `iss`
//! `https://accounts.google.com`, `aud` the registration's `audience` (default: the push
//! endpoint URL, as Pub/Sub defaults it), `email` its `service_account` (verified), valid for an
//! hour. `"authenticated": false` sends them unsigned. `"gmail_may_publish": false` makes
//! users.watch answer 403 as Gmail does when gmail-api-push@system.gserviceaccount.com may not
//! publish to the topic.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine as _;
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio_util::sync::CancellationToken;

use super::view::label_ids;
use super::wire::{WatchRequest, WatchResponse};
use super::GmailCall;
use super::{parse_json, STOP, WATCH};
use crate::changes::{Change, ChangeKind};
use crate::google::error::GoogleError;
use crate::store::MessageState;
use crate::tokens::random_string;
use crate::SharedState;

const WATCH_DAYS_MS: i64 = 7 * 24 * 3600 * 1000;

/// The service account a push subscription authenticates as when its registration names none.
pub const DEFAULT_PUSH_ACCOUNT: &str = "pubsub-push@emulator-project.iam.gserviceaccount.com";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Topic {
    pub topic: String,
    pub push_endpoint: String,
    #[serde(default)]
    pub subscription: Option<String>,
    /// The `aud` of the pushes' ID tokens (default: `push_endpoint`).
    #[serde(default)]
    pub audience: Option<String>,
    /// The `email` of the pushes' ID tokens (default: [`DEFAULT_PUSH_ACCOUNT`]).
    #[serde(default)]
    pub service_account: Option<String>,
    /// Whether pushes carry a signed ID token (default true).
    #[serde(default = "yes")]
    pub authenticated: bool,
    /// Whether Gmail may publish to the topic (default true); false: users.watch answers 403.
    #[serde(default = "yes")]
    pub gmail_may_publish: bool,
}

fn yes() -> bool {
    true
}

impl Topic {
    /// A topic whose notifications go to `push_endpoint`, authenticated with the defaults.
    pub fn new(topic: impl Into<String>, push_endpoint: impl Into<String>) -> Self {
        Self {
            topic: topic.into(),
            push_endpoint: push_endpoint.into(),
            subscription: None,
            audience: None,
            service_account: None,
            authenticated: true,
            gmail_may_publish: true,
        }
    }
}

/// How one topic's pushes are authenticated: `(audience, service account)`, None unsigned.
type PushAuth = Option<(String, String)>;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Watch {
    pub topic: String,
    pub label_ids: Vec<String>,
    /// `labelFilterBehavior: exclude`: notify for changes to messages without those labels.
    pub exclude: bool,
    pub expiration_ms: i64,
    pub notified_head: u64,
    #[serde(skip)]
    pub last_sent: Option<Instant>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SentNotification {
    pub mailbox: String,
    pub endpoint: String,
    pub history_id: String,
    pub status: Option<u16>,
    /// Whether the push carried a signed ID token.
    #[serde(default)]
    pub authenticated: bool,
    /// When the attempt was made, how long the answer took, and why there was none.
    #[serde(default)]
    pub at: Option<chrono::DateTime<chrono::Utc>>,
    #[serde(default)]
    pub latency_ms: Option<u64>,
    #[serde(default)]
    pub error: Option<String>,
}

#[derive(Default)]
pub struct WatchState {
    pub topics: Mutex<HashMap<String, Topic>>,
    pub watches: Mutex<HashMap<String, Watch>>,
    pub sent: Mutex<Vec<SentNotification>>,
}

pub fn control_router() -> Router<SharedState> {
    Router::new()
        .route("/_emulator/pubsub/topics", post(add_topic))
        .route("/_emulator/pubsub", get(overview))
}

async fn add_topic(State(state): State<SharedState>, Json(topic): Json<Topic>) -> StatusCode {
    state
        .ext
        .get::<WatchState>()
        .topics
        .lock()
        .insert(topic.topic.clone(), topic);
    StatusCode::CREATED
}

/// `GET /_emulator/pubsub`: the Pub/Sub topics, the Gmail watches per mailbox and the
/// notifications sent with their answers.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PubsubOverview {
    pub topics: Vec<Topic>,
    pub watches: HashMap<String, Watch>,
    pub sent: Vec<SentNotification>,
}

async fn overview(State(state): State<SharedState>) -> Json<PubsubOverview> {
    let ws = state.ext.get::<WatchState>();
    let topics = ws.topics.lock().values().cloned().collect();
    let watches = ws.watches.lock().clone();
    let sent = ws.sent.lock().clone();
    Json(PubsubOverview {
        topics,
        watches,
        sent,
    })
}

fn valid_topic(topic: &str) -> bool {
    let parts: Vec<&str> = topic.split('/').collect();
    topic.starts_with("http://")
        || topic.starts_with("https://")
        || (parts.len() == 4
            && parts[0] == "projects"
            && parts[2] == "topics"
            && !parts[1].is_empty()
            && !parts[3].is_empty())
}

pub async fn watch(
    State(state): State<SharedState>,
    Path(user_id): Path<String>,
    call: GmailCall,
    body: String,
) -> Result<Json<WatchResponse>, GoogleError> {
    let ctx = call.begin(&state, &user_id, &WATCH).await?;
    let request: WatchRequest = parse_json(&body)?;
    let topic = request.topic_name.unwrap_or_default();
    if !valid_topic(&topic) {
        return Err(GoogleError::invalid_argument(format!(
            "Invalid topicName does not match projects/SOME_PROJECT/topics/SOME_TOPIC: {topic}"
        )));
    }
    let refused = state
        .ext
        .get::<WatchState>()
        .topics
        .lock()
        .get(&topic)
        .is_some_and(|t| !t.gmail_may_publish);
    if refused {
        return Err(GoogleError::forbidden(format!(
            "Error sending test message to Cloud PubSub {topic} : User not authorized to \
             perform this action."
        )));
    }
    let head = ctx.mailbox.data.read().log.head();
    let expiration_ms = chrono::Utc::now().timestamp_millis() + WATCH_DAYS_MS;
    let behavior = request
        .label_filter_behavior
        .or(request.label_filter_action);
    let watch = Watch {
        topic,
        label_ids: request.label_ids,
        exclude: behavior.is_some_and(|b| b.eq_ignore_ascii_case("exclude")),
        expiration_ms,
        notified_head: head,
        last_sent: None,
    };
    state
        .ext
        .get::<WatchState>()
        .watches
        .lock()
        .insert(ctx.mailbox.info.address.clone(), watch);
    Ok(Json(WatchResponse {
        history_id: head.to_string(),
        expiration: expiration_ms.to_string(),
    }))
}

pub async fn stop(
    State(state): State<SharedState>,
    Path(user_id): Path<String>,
    call: GmailCall,
) -> Result<StatusCode, GoogleError> {
    let ctx = call.begin(&state, &user_id, &STOP).await?;
    state
        .ext
        .get::<WatchState>()
        .watches
        .lock()
        .remove(&ctx.mailbox.info.address);
    Ok(StatusCode::NO_CONTENT)
}

/// Attempts per notification: Pub/Sub redelivers until the endpoint answers 2xx.
const PUSH_ATTEMPTS: u32 = 5;

/// One notification on its way: where, what, and how it is authenticated.
struct Delivery {
    endpoint: String,
    body: serde_json::Value,
    mailbox: String,
    head: u64,
    auth: PushAuth,
}

/// POST one notification, redelivering with exponential backoff (0.5 s, 1 s, 2 s, ...) while
/// the endpoint fails; every attempt is recorded. An authenticated push signs its ID token
/// once (a token is good for an hour, longer than all the attempts).
async fn deliver(state: SharedState, d: Delivery) {
    let ws = state.ext.get::<WatchState>();
    let token = match d.auth {
        Some((audience, email)) => {
            let signer = state.ext.get::<crate::google::signing::Signer>();
            tokio::task::spawn_blocking(move || signer.push_token(&audience, &email))
                .await
                .ok()
        }
        None => None,
    };
    for attempt in 0..PUSH_ATTEMPTS {
        let mut request = state.http.post(&d.endpoint).json(&d.body);
        if let Some(token) = &token {
            request = request.bearer_auth(token);
        }
        let (at, started) = (chrono::Utc::now(), Instant::now());
        let answer = request.send().await;
        let latency_ms = u64::try_from(started.elapsed().as_millis()).ok();
        let (status, error) = match answer {
            Ok(r) => (Some(r.status().as_u16()), None),
            Err(e) => (None, Some(e.to_string())),
        };
        ws.sent.lock().push(SentNotification {
            mailbox: d.mailbox.clone(),
            endpoint: d.endpoint.clone(),
            history_id: d.head.to_string(),
            status,
            authenticated: token.is_some(),
            at: Some(at),
            latency_ms,
            error,
        });
        if status.is_some_and(|s| (200..300).contains(&s)) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(500 << attempt)).await;
    }
}

/// Whether a change concerns a message carrying one of `labels` (before or after it).
fn touches(change: &Change, labels: &[String]) -> bool {
    let has = |s: &MessageState| label_ids(s).iter().any(|l| labels.contains(l));
    match &change.kind {
        ChangeKind::Added { state } | ChangeKind::Deleted { state } => has(state),
        ChangeKind::StateChanged { before, after } => has(before) || has(after),
    }
}

/// Start the background task that pushes notifications for watched mailboxes.
pub fn spawn_notifier(state: SharedState, cancel: CancellationToken) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_millis(100));
        loop {
            tokio::select! {
                () = cancel.cancelled() => break,
                _ = tick.tick() => notify_due(&state),
            }
        }
    });
}

fn notify_due(state: &SharedState) {
    let ws = state.ext.get::<WatchState>();
    let interval = Duration::from_millis(state.tunables().push_interval_ms);
    let now_ms = chrono::Utc::now().timestamp_millis();
    let mut due = Vec::new();
    {
        let mut watches = ws.watches.lock();
        watches.retain(|_, w| w.expiration_ms > now_ms);
        for (address, w) in watches.iter_mut() {
            let Some(mailbox) = state.store.get(address) else {
                continue;
            };
            let data = mailbox.data.read();
            let head = data.log.head();
            let rested = w.last_sent.is_none_or(|t| t.elapsed() >= interval);
            if head <= w.notified_head || !rested {
                continue;
            }
            let relevant = data.log.since(w.notified_head).map_or(true, |mut changes| {
                changes.any(|c| w.label_ids.is_empty() || touches(c, &w.label_ids) != w.exclude)
            });
            drop(data);
            w.notified_head = head;
            if relevant {
                w.last_sent = Some(Instant::now());
                due.push((address.clone(), w.topic.clone(), head));
            }
        }
    }
    for (address, topic, head) in due {
        let registered = ws.topics.lock().get(&topic).cloned();
        let (endpoint, subscription, auth) = match registered {
            Some(t) => {
                let auth = t.authenticated.then(|| {
                    (
                        t.audience.unwrap_or_else(|| t.push_endpoint.clone()),
                        t.service_account
                            .unwrap_or_else(|| DEFAULT_PUSH_ACCOUNT.to_string()),
                    )
                });
                let subscription = t
                    .subscription
                    .unwrap_or_else(|| topic.replace("/topics/", "/subscriptions/"));
                (t.push_endpoint, subscription, auth)
            }
            None if topic.starts_with("http") => (
                topic.clone(),
                "projects/emulator/subscriptions/push".to_string(),
                Some((topic.clone(), DEFAULT_PUSH_ACCOUNT.to_string())),
            ),
            None => continue,
        };
        let data = json!({ "emailAddress": address, "historyId": head }).to_string();
        let message_id = random_string(16)
            .bytes()
            .map(|b| char::from(b'0' + b % 10))
            .collect::<String>();
        let publish = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let body = json!({
            "message": {
                "data": base64::engine::general_purpose::STANDARD.encode(data),
                "messageId": message_id, "message_id": message_id,
                "publishTime": publish, "publish_time": publish,
            },
            "subscription": subscription,
        });
        let delivery = Delivery {
            endpoint,
            body,
            mailbox: address,
            head,
            auth,
        };
        tokio::spawn(deliver(state.clone(), delivery));
    }
}
