//! users.history.list over the mailbox change log: messageAdded / messageDeleted /
//! labelAdded / labelRemoved records in increasing id order, historyTypes and labelId
//! filters, paging, 404 for a start id older than the log keeps (or expired by the control
//! plane), and only `{"historyId"}` when nothing changed.

use axum::extract::{OriginalUri, Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::Json;

use super::view::label_ids;
use super::wire::{History, HistoryLabel, HistoryMessage, ListHistoryResponse, Message};
use super::{begin, Params, HISTORY};
use crate::changes::{Change, ChangeKind};
use crate::google::error::GoogleError;
use crate::store::MessageState;
use crate::SharedState;

const TYPES: [&str; 4] = [
    "messageAdded",
    "messageDeleted",
    "labelAdded",
    "labelRemoved",
];

fn message(change: &Change, state: Option<&MessageState>) -> Message {
    Message {
        id: change.message_id.clone(),
        thread_id: change.thread_id.clone(),
        label_ids: state.map(label_ids).unwrap_or_default(),
        ..Message::default()
    }
}

/// The history record of one change, or `None` when filtered out.
fn record(change: &Change, types: &[String], label: Option<&str>) -> Option<History> {
    let wants = |t: &str| types.is_empty() || types.iter().any(|x| x == t);
    let has_label = |s: &MessageState| label.is_none_or(|l| label_ids(s).iter().any(|x| x == l));
    let mut h = History {
        id: change.seq.to_string(),
        ..History::default()
    };
    match &change.kind {
        ChangeKind::Added { state } => {
            if !wants("messageAdded") || !has_label(state) {
                return None;
            }
            h.messages_added.push(HistoryMessage {
                message: message(change, Some(state)),
            });
        }
        ChangeKind::Deleted { state } => {
            if !wants("messageDeleted") || !has_label(state) {
                return None;
            }
            h.messages_deleted.push(HistoryMessage {
                message: message(change, None),
            });
        }
        ChangeKind::StateChanged { before, after } => {
            let (old, new) = (label_ids(before), label_ids(after));
            let added: Vec<String> = new.iter().filter(|l| !old.contains(l)).cloned().collect();
            let removed: Vec<String> = old.iter().filter(|l| !new.contains(l)).cloned().collect();
            if !(has_label(before) || has_label(after)) {
                return None;
            }
            if !added.is_empty() && wants("labelAdded") {
                h.labels_added.push(HistoryLabel {
                    message: message(change, Some(after)),
                    label_ids: added,
                });
            }
            if !removed.is_empty() && wants("labelRemoved") {
                h.labels_removed.push(HistoryLabel {
                    message: message(change, Some(after)),
                    label_ids: removed,
                });
            }
            if h.labels_added.is_empty() && h.labels_removed.is_empty() {
                return None;
            }
        }
    }
    h.messages.push(Message {
        id: change.message_id.clone(),
        thread_id: change.thread_id.clone(),
        ..Message::default()
    });
    Some(h)
}

fn parse_start(value: Option<&str>) -> Result<u64, GoogleError> {
    let value = value.ok_or_else(|| {
        GoogleError::invalid_argument("Missing required parameter: startHistoryId")
    })?;
    value.parse().map_err(|_| {
        GoogleError::invalid_argument(format!(
            "Invalid value at 'start_history_id' (TYPE_UINT64), \"{value}\""
        ))
    })
}

/// Page tokens name the epoch and the last record returned.
fn parse_page_token(token: &str, epoch: u64) -> Result<u64, GoogleError> {
    let invalid = || GoogleError::invalid_argument("Invalid pageToken");
    let (e, seq) = token.split_once('-').ok_or_else(invalid)?;
    if e.parse::<u64>().map_err(|_| invalid())? != epoch {
        return Err(GoogleError::not_found());
    }
    seq.parse().map_err(|_| invalid())
}

pub async fn list(
    State(state): State<SharedState>,
    Path(user_id): Path<String>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Json<ListHistoryResponse>, GoogleError> {
    let ctx = begin(&state, &headers, uri.path(), &user_id, &HISTORY).await?;
    let params = Params::parse(raw.as_deref());
    let start = parse_start(params.one("startHistoryId"))?;
    let types = params.all("historyTypes");
    if let Some(bad) = types.iter().find(|t| !TYPES.contains(&t.as_str())) {
        return Err(GoogleError::invalid_argument(format!(
            "Invalid value at 'history_types' (type.googleapis.com/google.apps.gmail.v1.ListHistoryRequest.HistoryType), \"{bad}\""
        )));
    }
    let page_size = match params.uint("maxResults", "max_results")? {
        None | Some(0) => 100,
        Some(n) => n.min(500) as usize,
    };
    let label = params.one("labelId").map(|l| {
        ctx.mailbox
            .find_user_label(l)
            .unwrap_or_else(|| l.to_string())
    });
    let data = ctx.mailbox.data.read();
    let log = &data.log;
    let cursor = match params.one("pageToken").filter(|t| !t.is_empty()) {
        Some(token) => parse_page_token(token, log.epoch())?.max(start),
        None => start,
    };
    let changes = log.since(start).map_err(|_| GoogleError::not_found())?;
    let mut history = Vec::new();
    let mut more = false;
    for change in changes.skip_while(|c| c.seq <= cursor) {
        let Some(h) = record(change, &types, label.as_deref()) else {
            continue;
        };
        if history.len() == page_size {
            more = true;
            break;
        }
        history.push(h);
    }
    let next_page_token = more
        .then(|| {
            history
                .last()
                .map(|h: &History| format!("{}-{}", log.epoch(), h.id))
        })
        .flatten();
    Ok(Json(ListHistoryResponse {
        history,
        next_page_token,
        history_id: log.head().to_string(),
    }))
}
