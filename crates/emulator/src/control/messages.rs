//! Control-plane message operations: deliver raw RFC 5322, ground truth, state patch, delete.

use std::collections::BTreeSet;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};

use super::{not_found, ControlError};
use crate::store::{Mailbox, MessageState, Provider, StoredMessage};
use crate::SharedState;

/// Query of a delivery: Gmail `labels=INBOX,UNREAD` or Outlook `folder=inbox&read=false`;
/// `starred=true` and `internal_date` (epoch ms, default now) for both.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct DeliverQuery {
    /// Comma-separated label names or ids (Gmail); default `INBOX,UNREAD`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub labels: Option<String>,
    /// Folder (Outlook); default `inbox`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub folder: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub starred: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub internal_date: Option<i64>,
}

/// The answer of a delivery: the new message's provider id.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Delivered {
    pub id: String,
}

/// Gmail labels that are state flags, not labels.
const FLAG_LABELS: [&str; 2] = ["UNREAD", "STARRED"];

/// System label ids Gmail knows (user labels are created by name).
pub const SYSTEM_LABELS: [&str; 14] = [
    "INBOX",
    "SENT",
    "DRAFT",
    "SPAM",
    "TRASH",
    "UNREAD",
    "STARRED",
    "IMPORTANT",
    "CHAT",
    "CATEGORY_PERSONAL",
    "CATEGORY_SOCIAL",
    "CATEGORY_PROMOTIONS",
    "CATEGORY_UPDATES",
    "CATEGORY_FORUMS",
];

/// The initial state of a delivered message, per the mailbox's provider.
pub fn state_from_query(mailbox: &Mailbox, query: &DeliverQuery) -> MessageState {
    match mailbox.info.provider {
        Provider::Google => {
            let labels: Vec<String> = query
                .labels
                .as_deref()
                .unwrap_or("INBOX,UNREAD")
                .split(',')
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_string)
                .collect();
            let read = query.read.unwrap_or(!labels.iter().any(|l| l == "UNREAD"));
            let starred = query
                .starred
                .unwrap_or(labels.iter().any(|l| l == "STARRED"));
            MessageState {
                read,
                starred,
                labels: label_ids(mailbox, &labels),
                folder: None,
            }
        }
        Provider::Microsoft => MessageState {
            read: query.read.unwrap_or(false),
            starred: query.starred.unwrap_or(false),
            labels: BTreeSet::new(),
            folder: Some(query.folder.clone().unwrap_or_else(|| "inbox".into())),
        },
    }
}

/// Map label names or ids to ids (creating user labels), dropping the flag labels.
fn label_ids(mailbox: &Mailbox, labels: &[String]) -> BTreeSet<String> {
    labels
        .iter()
        .filter(|l| !FLAG_LABELS.contains(&l.as_str()))
        .filter_map(|l| {
            let upper = l.to_ascii_uppercase();
            if SYSTEM_LABELS.contains(&upper.as_str()) {
                Some(upper)
            } else {
                mailbox.user_label(l, true)
            }
        })
        .collect()
}

pub(super) async fn deliver(
    State(state): State<SharedState>,
    Path(address): Path<String>,
    Query(query): Query<DeliverQuery>,
    body: Bytes,
) -> Result<Response, ControlError> {
    let mailbox = state
        .store
        .get(&address)
        .ok_or_else(|| not_found("mailbox"))?;
    let initial = state_from_query(&mailbox, &query);
    let date = query
        .internal_date
        .unwrap_or_else(|| chrono::Utc::now().timestamp_millis());
    let id = mailbox
        .deliver(body, initial, date)
        .map_err(|e| ControlError(StatusCode::BAD_REQUEST, e.to_string()))?;
    Ok((StatusCode::CREATED, Json(Delivered { id })).into_response())
}

/// One message of the ground truth. Gmail mailboxes give `labels` (ids, without the
/// `UNREAD`/`STARRED` flags, which are `read`/`starred`), Outlook ones give `folder`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TruthItem {
    pub id: String,
    pub internet_message_id: Option<String>,
    pub thread_id: String,
    pub read: bool,
    pub starred: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub folder: Option<String>,
    pub subject: String,
    pub internal_date: i64,
}

fn truth(provider: Provider, m: &StoredMessage) -> TruthItem {
    TruthItem {
        id: m.id.clone(),
        internet_message_id: m.parsed.message_id.as_ref().map(|id| format!("<{id}>")),
        thread_id: m.thread_id.clone(),
        read: m.state.read,
        starred: m.state.starred,
        labels: (provider == Provider::Google).then(|| m.state.labels.iter().cloned().collect()),
        folder: (provider == Provider::Microsoft)
            .then(|| m.state.folder.clone())
            .flatten(),
        subject: m.parsed.subject.clone(),
        internal_date: m.internal_date_ms,
    }
}

/// Ground truth of a mailbox, newest first.
pub fn ground_truth(mailbox: &Mailbox) -> Vec<TruthItem> {
    let data = mailbox.data.read();
    data.by_date
        .iter()
        .rev()
        .filter_map(|(_, id)| data.messages.get(id))
        .map(|m| truth(mailbox.info.provider, m))
        .collect()
}

pub(super) async fn list(
    State(state): State<SharedState>,
    Path(address): Path<String>,
) -> Result<Json<Vec<TruthItem>>, ControlError> {
    let mailbox = state
        .store
        .get(&address)
        .ok_or_else(|| not_found("mailbox"))?;
    Ok(Json(ground_truth(&mailbox)))
}

/// The body of `PATCH /_emulator/mailboxes/{address}/messages/{id}`: only the given fields
/// change; `labels` replaces the label set (and `UNREAD` / `STARRED` in it set the flags).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct MessagePatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub starred: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub folder: Option<String>,
}

pub(super) async fn patch(
    State(state): State<SharedState>,
    Path((address, id)): Path<(String, String)>,
    Json(patch): Json<MessagePatch>,
) -> Result<Json<TruthItem>, ControlError> {
    let mailbox = state
        .store
        .get(&address)
        .ok_or_else(|| not_found("mailbox"))?;
    let labels = patch.labels.as_ref().map(|l| label_ids(&mailbox, l));
    let flag = |name: &str| patch.labels.as_ref().map(|l| l.iter().any(|x| x == name));
    let read = patch.read.or_else(|| flag("UNREAD").map(|unread| !unread));
    let starred = patch.starred.or_else(|| flag("STARRED"));
    let updated = mailbox
        .update_state(&id, |s| {
            if let Some(read) = read {
                s.read = read;
            }
            if let Some(starred) = starred {
                s.starred = starred;
            }
            if let Some(labels) = labels {
                s.labels = labels;
            }
            if let Some(folder) = patch.folder {
                s.folder = Some(folder);
            }
        })
        .ok_or_else(|| not_found("message"))?;
    Ok(Json(truth(mailbox.info.provider, &updated)))
}

pub(super) async fn delete(
    State(state): State<SharedState>,
    Path((address, id)): Path<(String, String)>,
) -> Result<StatusCode, ControlError> {
    let mailbox = state
        .store
        .get(&address)
        .ok_or_else(|| not_found("mailbox"))?;
    if mailbox.delete(&id) {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(not_found("message"))
    }
}
