//! users.messages.list: newest first, labelIds AND-semantics, `q`, includeSpamTrash, paging
//! by an opaque token naming the last item returned. A full page always carries a
//! nextPageToken, so the page after it may be empty (trap 10: loop until the token is absent).
//! The filter is shared with users.threads.list.

use axum::extract::{OriginalUri, Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::Json;
use base64::Engine as _;

use super::query::Query;
use super::view::{label_ids, reference};
use super::wire::ListMessagesResponse;
use super::{begin, Ctx, Params, LIST};
use crate::google::error::GoogleError;
use crate::store::StoredMessage;
use crate::SharedState;

const DEFAULT_PAGE: u32 = 100;
const MAX_PAGE: u32 = 500;

pub fn encode_token(date: i64, id: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{date}:{id}"))
}

pub fn decode_token(token: &str) -> Result<(i64, String), GoogleError> {
    let invalid = || GoogleError::invalid_argument("Invalid pageToken");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    let (date, id) = text.split_once(':').ok_or_else(invalid)?;
    Ok((date.parse().map_err(|_| invalid())?, id.to_string()))
}

/// The parsed list parameters shared by messages.list and threads.list.
pub struct Listing {
    pub page_size: usize,
    pub after: Option<(i64, String)>,
    /// Matching messages, newest first.
    pub matched: Vec<StoredMessage>,
}

/// Apply `q`, `labelIds`, `includeSpamTrash`, `maxResults` and `pageToken`.
pub fn listing(ctx: &Ctx, params: &Params) -> Result<Listing, GoogleError> {
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
    let candidates: Vec<StoredMessage> = {
        let data = mailbox.data.read();
        data.by_date
            .iter()
            .rev()
            .filter_map(|(_, id)| data.messages.get(id))
            .filter(|m| {
                let ids = label_ids(&m.state);
                (with_spam_trash || !ids.iter().any(|l| l == "SPAM" || l == "TRASH"))
                    && wanted.iter().all(|w| ids.contains(w))
            })
            .cloned()
            .collect()
    };
    let matched = candidates
        .into_iter()
        .filter(|m| query.matches(mailbox, m))
        .collect();
    Ok(Listing {
        page_size: page_size as usize,
        after,
        matched,
    })
}

/// Index of the first item strictly after the page token's position (newest-first order).
pub fn start_index<T>(
    items: &[T],
    after: Option<&(i64, String)>,
    key: impl Fn(&T) -> (i64, &str),
) -> usize {
    match after {
        None => 0,
        Some((date, id)) => items
            .iter()
            .position(|item| key(item) < (*date, id.as_str()))
            .unwrap_or(items.len()),
    }
}

pub async fn list(
    State(state): State<SharedState>,
    Path(user_id): Path<String>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Json<ListMessagesResponse>, GoogleError> {
    let ctx = begin(&state, &headers, uri.path(), &user_id, &LIST).await?;
    let listing = listing(&ctx, &Params::parse(raw.as_deref()))?;
    let matched = &listing.matched;
    let start = start_index(matched, listing.after.as_ref(), |m| {
        (m.internal_date_ms, m.id.as_str())
    });
    let page: Vec<&StoredMessage> = matched.iter().skip(start).take(listing.page_size).collect();
    let next_page_token = (page.len() == listing.page_size)
        .then(|| page.last().map(|m| encode_token(m.internal_date_ms, &m.id)))
        .flatten();
    Ok(Json(ListMessagesResponse {
        messages: page.iter().map(|m| reference(m)).collect(),
        next_page_token,
        result_size_estimate: u32::try_from(matched.len()).unwrap_or(u32::MAX),
    }))
}
