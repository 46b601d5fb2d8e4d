//! users.messages.get (format full|metadata|minimal|raw, metadataHeaders) and
//! users.messages.attachments.get with ephemeral attachment ids.

use axum::extract::{OriginalUri, Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::Json;

use super::view::{self, b64url, is_attachment_part};
use super::wire::{Message, MessagePartBody};
use super::{begin, check_id, Params, ATTACHMENT, GET};
use crate::google::error::GoogleError;
use crate::SharedState;

pub async fn get(
    State(state): State<SharedState>,
    Path((user_id, id)): Path<(String, String)>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Json<Message>, GoogleError> {
    let ctx = begin(&state, &headers, uri.path(), &user_id, &GET).await?;
    let params = Params::parse(raw.as_deref());
    let format = params.one("format").unwrap_or("full").to_ascii_lowercase();
    if !matches!(format.as_str(), "full" | "metadata" | "minimal" | "raw") {
        return Err(GoogleError::invalid_argument(format!(
            "Invalid value at 'format' (type.googleapis.com/google.apps.gmail.v1.Format), \"{format}\""
        )));
    }
    if ctx.metadata_restricted() && (format == "full" || format == "raw") {
        return Err(GoogleError::forbidden(format!(
            "Metadata scope doesn't allow format {}",
            format.to_ascii_uppercase()
        )));
    }
    check_id(&id)?;
    let message = ctx.mailbox.get(&id).ok_or_else(GoogleError::not_found)?;
    let now = chrono::Utc::now().timestamp();
    Ok(Json(match format.as_str() {
        "minimal" => view::minimal(&message),
        "raw" => view::raw(&message),
        "metadata" => view::metadata(&message, &params.all("metadataHeaders")),
        _ => view::full(&message, now),
    }))
}

pub async fn attachment(
    State(state): State<SharedState>,
    Path((user_id, message_id, attachment_id)): Path<(String, String, String)>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
) -> Result<Json<MessagePartBody>, GoogleError> {
    let ctx = begin(&state, &headers, uri.path(), &user_id, &ATTACHMENT).await?;
    if ctx.metadata_restricted() {
        return Err(GoogleError::insufficient_scope());
    }
    check_id(&message_id)?;
    let message = ctx
        .mailbox
        .get(&message_id)
        .ok_or_else(GoogleError::not_found)?;
    let now = chrono::Utc::now().timestamp();
    let ttl = state.tunables().attachment_id_ttl_secs;
    let part_id = view::resolve_attachment(&attachment_id, &message_id, now, ttl)
        .ok_or_else(|| GoogleError::invalid_argument("Invalid attachment token"))?;
    let node = message
        .parsed
        .root
        .find(&part_id)
        .filter(|n| is_attachment_part(n))
        .ok_or_else(GoogleError::not_found)?;
    Ok(Json(MessagePartBody {
        attachment_id: None,
        size: u32::try_from(node.body.len()).unwrap_or(u32::MAX),
        data: Some(b64url(&node.body)),
    }))
}
