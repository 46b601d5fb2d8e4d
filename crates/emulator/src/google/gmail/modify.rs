//! users.messages.modify / batchModify / trash / untrash / delete: label changes as Gmail
//! applies them (UNREAD and STARRED are the read/starred flags), recorded in history.

use axum::extract::{OriginalUri, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;

use super::view::with_labels;
use super::wire::{BatchModifyRequest, Message, ModifyRequest};
use super::{begin, check_id, parse_json, BATCH_MODIFY, DELETE, MODIFY, TRASH};
use crate::control::SYSTEM_LABELS;
use crate::google::error::GoogleError;
use crate::store::{Mailbox, MessageState};
use crate::SharedState;

const MAX_LABELS: usize = 100;
const MAX_BATCH_IDS: usize = 1000;

/// A validated label change.
enum Op {
    Unread,
    Starred,
    Label(String),
}

fn resolve(mailbox: &Mailbox, id: &str) -> Result<Op, GoogleError> {
    match id {
        "UNREAD" => Ok(Op::Unread),
        "STARRED" => Ok(Op::Starred),
        "SENT" | "DRAFT" => Err(GoogleError::invalid_argument(format!(
            "Invalid label: {id}"
        ))),
        system if SYSTEM_LABELS.contains(&system) => Ok(Op::Label(system.to_string())),
        other => mailbox
            .data
            .read()
            .user_labels
            .iter()
            .find(|l| l.id == other)
            .map(|l| Op::Label(l.id.clone()))
            .ok_or_else(|| GoogleError::invalid_argument(format!("Invalid label: {other}"))),
    }
}

type Changes = (Vec<Op>, Vec<Op>);

fn validate(mailbox: &Mailbox, add: &[String], remove: &[String]) -> Result<Changes, GoogleError> {
    if add.len() > MAX_LABELS || remove.len() > MAX_LABELS {
        return Err(GoogleError::invalid_argument(
            "Too many label ids (at most 100)",
        ));
    }
    if add.is_empty() && remove.is_empty() {
        return Err(GoogleError::invalid_argument(
            "No label add or removes specified",
        ));
    }
    let add = add
        .iter()
        .map(|l| resolve(mailbox, l))
        .collect::<Result<_, _>>()?;
    let remove = remove
        .iter()
        .map(|l| resolve(mailbox, l))
        .collect::<Result<_, _>>()?;
    Ok((add, remove))
}

fn apply(state: &mut MessageState, (add, remove): &Changes) {
    for op in add {
        match op {
            Op::Unread => state.read = false,
            Op::Starred => state.starred = true,
            Op::Label(l) => {
                state.labels.insert(l.clone());
            }
        }
    }
    for op in remove {
        match op {
            Op::Unread => state.read = true,
            Op::Starred => state.starred = false,
            Op::Label(l) => {
                state.labels.remove(l);
            }
        }
    }
}

pub async fn modify(
    State(state): State<SharedState>,
    Path((user_id, id)): Path<(String, String)>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: String,
) -> Result<Json<Message>, GoogleError> {
    let ctx = begin(&state, &headers, uri.path(), &user_id, &MODIFY).await?;
    let body: ModifyRequest = parse_json(&body)?;
    check_id(&id)?;
    let changes = validate(&ctx.mailbox, &body.add_label_ids, &body.remove_label_ids)?;
    let updated = ctx
        .mailbox
        .update_state(&id, |s| apply(s, &changes))
        .ok_or_else(GoogleError::not_found)?;
    Ok(Json(with_labels(&updated)))
}

pub async fn batch_modify(
    State(state): State<SharedState>,
    Path(user_id): Path<String>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: String,
) -> Result<StatusCode, GoogleError> {
    let ctx = begin(&state, &headers, uri.path(), &user_id, &BATCH_MODIFY).await?;
    let body: BatchModifyRequest = parse_json(&body)?;
    if body.ids.is_empty() || body.ids.len() > MAX_BATCH_IDS {
        return Err(GoogleError::invalid_argument(
            "ids must contain between 1 and 1000 message ids",
        ));
    }
    let changes = validate(&ctx.mailbox, &body.add_label_ids, &body.remove_label_ids)?;
    for id in &body.ids {
        // Unknown ids are skipped, as Gmail does for batchModify.
        ctx.mailbox.update_state(id, |s| apply(s, &changes));
    }
    Ok(StatusCode::NO_CONTENT)
}

async fn move_trash(
    state: SharedState,
    user_id: &str,
    id: &str,
    path: &str,
    headers: &HeaderMap,
    to_trash: bool,
) -> Result<Json<Message>, GoogleError> {
    let ctx = begin(&state, headers, path, user_id, &TRASH).await?;
    check_id(id)?;
    let updated = ctx
        .mailbox
        .update_state(id, |s| {
            if to_trash {
                s.labels.insert("TRASH".into());
                s.labels.remove("INBOX");
            } else if s.labels.remove("TRASH") && !s.labels.contains("SENT") {
                s.labels.insert("INBOX".into());
            }
        })
        .ok_or_else(GoogleError::not_found)?;
    Ok(Json(with_labels(&updated)))
}

pub async fn trash(
    State(state): State<SharedState>,
    Path((user_id, id)): Path<(String, String)>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
) -> Result<Json<Message>, GoogleError> {
    move_trash(state, &user_id, &id, uri.path(), &headers, true).await
}

pub async fn untrash(
    State(state): State<SharedState>,
    Path((user_id, id)): Path<(String, String)>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
) -> Result<Json<Message>, GoogleError> {
    move_trash(state, &user_id, &id, uri.path(), &headers, false).await
}

/// Permanent delete (needs `https://mail.google.com/`); 204 with an empty body.
pub async fn delete(
    State(state): State<SharedState>,
    Path((user_id, id)): Path<(String, String)>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
) -> Result<StatusCode, GoogleError> {
    let ctx = begin(&state, &headers, uri.path(), &user_id, &DELETE).await?;
    check_id(&id)?;
    if ctx.mailbox.delete(&id) {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(GoogleError::not_found())
    }
}
