//! Attachments of a message, from its MIME tree: file attachments (named or
//! `Content-Disposition: attachment` parts, inline ones with a Content-ID) and item
//! attachments (`message/rfc822`); list, get (`contentBytes` standard base64, trap 26) and
//! `/$value`.

use std::collections::HashMap;

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use serde_json::{json, Value};

use super::error::{odata_json, GraphError};
use super::messages::{enter, find};
use super::odata::Params;
use super::wire::Attachment;
use crate::mime::{MimeNode, ParsedMessage};
use crate::SharedState;

/// One attachment part.
#[derive(Debug, Clone)]
pub struct Part<'a> {
    pub node: &'a MimeNode,
    pub is_inline: bool,
    pub is_item: bool,
}

/// The attachment parts of a message, in MIME order.
pub fn parts(parsed: &ParsedMessage) -> Vec<Part<'_>> {
    parsed
        .root
        .walk()
        .into_iter()
        .filter(|n| !n.is_container())
        .filter_map(|n| {
            let is_item = n.mime_type == "message/rfc822";
            let is_body = (n.mime_type == "text/plain" || n.mime_type == "text/html")
                && !n.is_attachment
                && n.filename.is_empty();
            if is_body {
                return None;
            }
            let named = !n.filename.is_empty() || n.is_attachment || is_item;
            let inline = !n.is_attachment && n.content_id.is_some();
            (named || inline).then_some(Part {
                node: n,
                is_inline: inline,
                is_item,
            })
        })
        .collect()
}

fn attachment_id(part_id: &str) -> String {
    format!(
        "AAMkAGI2{}",
        URL_SAFE_NO_PAD.encode(format!("part:{part_id}"))
    )
}

fn part_of_id(id: &str) -> Option<String> {
    let bytes = URL_SAFE_NO_PAD.decode(id.strip_prefix("AAMkAGI2")?).ok()?;
    String::from_utf8(bytes)
        .ok()?
        .strip_prefix("part:")
        .map(str::to_string)
}

fn wire(part: &Part<'_>, modified: &str, with_bytes: bool) -> Attachment {
    let n = part.node;
    let name = if n.filename.is_empty() {
        if part.is_item {
            "Attached message".to_string()
        } else {
            n.content_id.clone().unwrap_or_else(|| "attachment".into())
        }
    } else {
        n.filename.clone()
    };
    Attachment {
        odata_type: if part.is_item {
            "#microsoft.graph.itemAttachment"
        } else {
            "#microsoft.graph.fileAttachment"
        },
        media_content_type: (!part.is_item).then(|| n.mime_type.clone()),
        id: attachment_id(&n.part_id),
        last_modified_date_time: modified.to_string(),
        name,
        content_type: n.mime_type.clone(),
        size: i32::try_from(n.body.len()).unwrap_or(i32::MAX),
        is_inline: part.is_inline,
        content_id: (!part.is_item).then(|| n.content_id.clone()),
        content_location: (!part.is_item).then_some(None),
        content_bytes: (!part.is_item && with_bytes).then(|| STANDARD.encode(&n.body)),
    }
}

fn received(m: &crate::store::StoredMessage) -> String {
    chrono::DateTime::from_timestamp_millis(m.internal_date_ms)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// `GET .../messages/{id}/attachments`.
pub async fn list(
    State(state): State<SharedState>,
    Path(params): Path<HashMap<String, String>>,
    headers: HeaderMap,
    uri: Uri,
    RawQuery(query): RawQuery,
) -> Result<Response, GraphError> {
    let ctx = enter(&state, &params, &headers, uri.path(), false).await?;
    let q = Params::parse(query.as_deref(), 1000, 1000)?;
    q.check_select(
        &[
            "id",
            "name",
            "size",
            "contentType",
            "isInline",
            "lastModifiedDateTime",
            "contentBytes",
            "contentId",
            "contentLocation",
        ],
        "microsoft.graph.attachment",
    )?;
    let m = find(&ctx, &params)?;
    let modified = received(&m);
    let value: Vec<Value> = parts(&m.parsed)
        .iter()
        .map(|p| q.select_fields(&json!(wire(p, &modified, true))))
        .collect();
    let body = json!({
        "@odata.context": format!("{}/v1.0/$metadata#users('{}')/messages('{}')/attachments", state.base_url.read(), ctx.mailbox.info.address, params.get("id").map_or("", String::as_str)),
        "value": value,
    });
    Ok(odata_json(StatusCode::OK, &body))
}

fn one<'a>(
    m: &'a crate::store::StoredMessage,
    params: &HashMap<String, String>,
) -> Result<Part<'a>, GraphError> {
    let wanted = params
        .get("attachment")
        .and_then(|a| part_of_id(a))
        .ok_or_else(GraphError::item_not_found)?;
    parts(&m.parsed)
        .into_iter()
        .find(|p| p.node.part_id == wanted)
        .ok_or_else(GraphError::item_not_found)
}

/// `GET .../messages/{id}/attachments/{attachment}`.
pub async fn get(
    State(state): State<SharedState>,
    Path(params): Path<HashMap<String, String>>,
    headers: HeaderMap,
    uri: Uri,
    RawQuery(query): RawQuery,
) -> Result<Response, GraphError> {
    let ctx = enter(&state, &params, &headers, uri.path(), false).await?;
    let q = Params::parse(query.as_deref(), 10, 1000)?;
    let m = find(&ctx, &params)?;
    let part = one(&m, &params)?;
    let mut body = q.select_fields(&json!(wire(&part, &received(&m), true)));
    body["@odata.context"] = json!(format!(
        "{}/v1.0/$metadata#users('{}')/messages('{}')/attachments/$entity",
        state.base_url.read(),
        ctx.mailbox.info.address,
        params.get("id").map_or("", String::as_str)
    ));
    Ok(odata_json(StatusCode::OK, &body))
}

/// `GET .../attachments/{attachment}/$value`: the raw bytes (the MIME of item attachments).
pub async fn value(
    State(state): State<SharedState>,
    Path(params): Path<HashMap<String, String>>,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Response, GraphError> {
    let ctx = enter(&state, &params, &headers, uri.path(), false).await?;
    let m = find(&ctx, &params)?;
    let part = one(&m, &params)?;
    let content_type = if part.is_item {
        "text/plain".to_string()
    } else {
        part.node.mime_type.clone()
    };
    Ok((
        [(axum::http::header::CONTENT_TYPE, content_type)],
        part.node.body.to_vec(),
    )
        .into_response())
}
