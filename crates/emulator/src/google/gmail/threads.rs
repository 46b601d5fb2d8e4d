//! users.threads.list and users.threads.get: threads as Gmail groups them (thread id = id of
//! the first message), listed by their newest matching message, newest first.

use std::collections::HashSet;

use axum::extract::{OriginalUri, Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::Json;
use serde::Serialize;

use super::list::{encode_token, listing, start_index};
use super::view;
use super::wire::Message;
use super::{begin, check_id, Params, THREADS};
use crate::google::error::GoogleError;
use crate::store::StoredMessage;
use crate::SharedState;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Thread {
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snippet: Option<String>,
    pub history_id: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub messages: Vec<Message>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListThreadsResponse {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub threads: Vec<Thread>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
    pub result_size_estimate: u32,
}

pub async fn list(
    State(state): State<SharedState>,
    Path(user_id): Path<String>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Json<ListThreadsResponse>, GoogleError> {
    let ctx = begin(&state, &headers, uri.path(), &user_id, &THREADS).await?;
    let listing = listing(&ctx, &Params::parse(raw.as_deref()))?;
    let mut seen = HashSet::new();
    let newest: Vec<&StoredMessage> = listing
        .matched
        .iter()
        .filter(|m| seen.insert(m.thread_id.clone()))
        .collect();
    let start = start_index(&newest, listing.after.as_ref(), |m| {
        (m.internal_date_ms, m.id.as_str())
    });
    let page: Vec<&&StoredMessage> = newest.iter().skip(start).take(listing.page_size).collect();
    let next_page_token = (page.len() == listing.page_size)
        .then(|| page.last().map(|m| encode_token(m.internal_date_ms, &m.id)))
        .flatten();
    let data = ctx.mailbox.data.read();
    let threads = page
        .iter()
        .map(|m| {
            let history = data
                .messages
                .values()
                .filter(|x| x.thread_id == m.thread_id)
                .map(|x| x.last_change)
                .max()
                .unwrap_or(m.last_change);
            Thread {
                id: m.thread_id.clone(),
                snippet: Some(view::snippet(m)),
                history_id: history.to_string(),
                messages: Vec::new(),
            }
        })
        .collect();
    Ok(Json(ListThreadsResponse {
        threads,
        next_page_token,
        result_size_estimate: u32::try_from(newest.len()).unwrap_or(u32::MAX),
    }))
}

pub async fn get(
    State(state): State<SharedState>,
    Path((user_id, id)): Path<(String, String)>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Json<Thread>, GoogleError> {
    let ctx = begin(&state, &headers, uri.path(), &user_id, &THREADS).await?;
    let params = Params::parse(raw.as_deref());
    let format = params.one("format").unwrap_or("full").to_ascii_lowercase();
    if !matches!(format.as_str(), "full" | "metadata" | "minimal") {
        return Err(GoogleError::invalid_argument(format!(
            "Invalid value at 'format' (type.googleapis.com/google.apps.gmail.v1.GetThreadRequest.Format), \"{format}\""
        )));
    }
    if ctx.metadata_restricted() && format == "full" {
        return Err(GoogleError::forbidden(
            "Metadata scope doesn't allow format FULL",
        ));
    }
    check_id(&id)?;
    let mut messages: Vec<StoredMessage> = {
        let data = ctx.mailbox.data.read();
        data.messages
            .values()
            .filter(|m| m.thread_id == id)
            .cloned()
            .collect()
    };
    if messages.is_empty() {
        return Err(GoogleError::not_found());
    }
    messages.sort_by(|a, b| (a.internal_date_ms, &a.id).cmp(&(b.internal_date_ms, &b.id)));
    let now = chrono::Utc::now().timestamp();
    let headers_wanted = params.all("metadataHeaders");
    let history = messages
        .iter()
        .map(|m| m.last_change)
        .max()
        .unwrap_or_default();
    Ok(Json(Thread {
        id,
        snippet: None,
        history_id: history.to_string(),
        messages: messages
            .iter()
            .map(|m| match format.as_str() {
                "minimal" => view::minimal(m),
                "metadata" => view::metadata(m, &headers_wanted),
                _ => view::full(m, now),
            })
            .collect(),
    }))
}
