//! users.messages.list: newest first, labelIds AND-semantics, `q`, includeSpamTrash, paging
//! by an opaque token naming the last message returned. A full page always carries a
//! nextPageToken, so the page after it may be empty (trap 10: loop until the token is absent).

use axum::extract::{OriginalUri, Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::Json;
use base64::Engine as _;

use super::query::Query;
use super::view::{label_ids, reference};
use super::wire::ListMessagesResponse;
use super::{begin, Params, LIST};
use crate::emulator::google::error::GoogleError;
use crate::emulator::SharedState;

const DEFAULT_PAGE: u32 = 100;
const MAX_PAGE: u32 = 500;

fn encode_token(date: i64, id: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{date}:{id}"))
}

fn decode_token(token: &str) -> Result<(i64, String), GoogleError> {
    let invalid = || GoogleError::invalid_argument("Invalid pageToken");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    let (date, id) = text.split_once(':').ok_or_else(invalid)?;
    Ok((date.parse().map_err(|_| invalid())?, id.to_string()))
}

pub async fn list(
    State(state): State<SharedState>,
    Path(user_id): Path<String>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Json<ListMessagesResponse>, GoogleError> {
    let ctx = begin(&state, &headers, uri.path(), &user_id, &LIST).await?;
    let params = Params::parse(raw.as_deref());
    let q = params.one("q").filter(|q| !q.trim().is_empty());
    if q.is_some() && ctx.metadata_restricted() {
        return Err(GoogleError::forbidden(
            "Metadata scope does not support 'q' parameter",
        ));
    }
    let page_size = match params.uint("maxResults", "max_results")? {
        None | Some(0) => DEFAULT_PAGE,
        Some(n) => n.min(MAX_PAGE),
    };
    let include_spam_trash = params.boolean("includeSpamTrash")?;
    let wanted_labels = params.all("labelIds");
    let after = params
        .one("pageToken")
        .filter(|t| !t.is_empty())
        .map(decode_token)
        .transpose()?;
    let query = Query::parse(q.unwrap_or(""), chrono::Utc::now().timestamp_millis());
    let with_spam_trash = include_spam_trash
        || query.includes_spam_trash()
        || wanted_labels.iter().any(|l| l == "SPAM" || l == "TRASH");
    let mailbox = &ctx.mailbox;
    let wanted: Vec<String> = wanted_labels
        .iter()
        .map(|l| mailbox.find_user_label(l).unwrap_or_else(|| l.clone()))
        .collect();

    let data = mailbox.data.read();
    let mut matched = Vec::new();
    for (_, id) in data.by_date.iter().rev() {
        let Some(m) = data.messages.get(id) else {
            continue;
        };
        let ids = label_ids(&m.state);
        if !with_spam_trash && ids.iter().any(|l| l == "SPAM" || l == "TRASH") {
            continue;
        }
        if !wanted.iter().all(|w| ids.contains(w)) {
            continue;
        }
        matched.push(m.clone());
    }
    drop(data);
    let matched: Vec<_> = matched
        .into_iter()
        .filter(|m| query.matches(mailbox, m))
        .collect();
    let estimate = u32::try_from(matched.len()).unwrap_or(u32::MAX);
    let start = match &after {
        None => 0,
        Some((after_date, after_id)) => matched
            .iter()
            .position(|m| (m.internal_date_ms, m.id.as_str()) < (*after_date, after_id.as_str()))
            .unwrap_or(matched.len()),
    };
    let page: Vec<_> = matched
        .iter()
        .skip(start)
        .take(page_size as usize)
        .collect();
    let next_page_token = (page.len() == page_size as usize)
        .then(|| page.last().map(|m| encode_token(m.internal_date_ms, &m.id)))
        .flatten();
    Ok(Json(ListMessagesResponse {
        messages: page.iter().map(|m| reference(m)).collect(),
        next_page_token,
        result_size_estimate: estimate,
    }))
}
