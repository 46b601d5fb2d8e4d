//! users.getProfile, users.labels.list and users.labels.get.

use axum::extract::{OriginalUri, Path, State};
use axum::http::HeaderMap;
use axum::Json;

use super::view::label_ids;
use super::wire::{Label, ListLabelsResponse, Profile};
use super::{begin, LABELS, PROFILE};
use crate::control::SYSTEM_LABELS;
use crate::google::error::GoogleError;
use crate::store::Mailbox;
use crate::SharedState;

pub async fn profile(
    State(state): State<SharedState>,
    Path(user_id): Path<String>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
) -> Result<Json<Profile>, GoogleError> {
    let ctx = begin(&state, &headers, uri.path(), &user_id, &PROFILE).await?;
    let data = ctx.mailbox.data.read();
    Ok(Json(Profile {
        email_address: ctx.mailbox.info.address.clone(),
        messages_total: u32::try_from(data.messages.len()).unwrap_or(u32::MAX),
        threads_total: u32::try_from(data.threads_total()).unwrap_or(u32::MAX),
        history_id: data.log.head().to_string(),
    }))
}

fn all_labels(mailbox: &Mailbox) -> Vec<Label> {
    let mut labels: Vec<Label> = SYSTEM_LABELS
        .iter()
        .map(|id| {
            let visible = matches!(
                *id,
                "INBOX" | "SENT" | "DRAFT" | "SPAM" | "TRASH" | "STARRED" | "IMPORTANT" | "UNREAD"
            );
            Label {
                id: (*id).to_string(),
                name: (*id).to_string(),
                kind: "system",
                message_list_visibility: visible.then_some("hide"),
                label_list_visibility: visible.then_some("labelShow"),
                ..Label::default()
            }
        })
        .collect();
    labels.extend(mailbox.data.read().user_labels.iter().map(|l| Label {
        id: l.id.clone(),
        name: l.name.clone(),
        kind: "user",
        message_list_visibility: Some("show"),
        label_list_visibility: Some("labelShow"),
        ..Label::default()
    }));
    labels
}

pub async fn list(
    State(state): State<SharedState>,
    Path(user_id): Path<String>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
) -> Result<Json<ListLabelsResponse>, GoogleError> {
    let ctx = begin(&state, &headers, uri.path(), &user_id, &LABELS).await?;
    Ok(Json(ListLabelsResponse {
        labels: all_labels(&ctx.mailbox),
    }))
}

pub async fn get(
    State(state): State<SharedState>,
    Path((user_id, id)): Path<(String, String)>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
) -> Result<Json<Label>, GoogleError> {
    let ctx = begin(&state, &headers, uri.path(), &user_id, &LABELS).await?;
    let mut label = all_labels(&ctx.mailbox)
        .into_iter()
        .find(|l| l.id == id)
        .ok_or_else(GoogleError::not_found)?;
    let data = ctx.mailbox.data.read();
    let mut totals = (0u32, 0u32);
    let mut threads = std::collections::HashMap::<&str, bool>::new();
    for m in data
        .messages
        .values()
        .filter(|m| label_ids(&m.state).contains(&id))
    {
        totals.0 += 1;
        totals.1 += u32::from(!m.state.read);
        let unread = threads.entry(m.thread_id.as_str()).or_default();
        *unread |= !m.state.read;
    }
    label.messages_total = Some(totals.0);
    label.messages_unread = Some(totals.1);
    label.threads_total = Some(u32::try_from(threads.len()).unwrap_or(u32::MAX));
    label.threads_unread =
        Some(u32::try_from(threads.values().filter(|u| **u).count()).unwrap_or(u32::MAX));
    Ok(Json(label))
}
