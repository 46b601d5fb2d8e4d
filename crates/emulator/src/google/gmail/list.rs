//! users.messages.list: newest first, labelIds AND-semantics, `q`, includeSpamTrash, paging
//! by an opaque token naming the last item returned. A full page always carries a
//! nextPageToken, so the page after it may be empty (trap 10: loop until the token is absent).
//! The filter is shared with users.threads.list.

use axum::extract::{Path, State};
use axum::Json;
use base64::Engine as _;

use super::query::Query;
use super::view::reference;
use super::wire::ListMessagesResponse;
use super::GmailCall;
use super::{Ctx, Params, LIST};
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

/// What `q`, `labelIds`, `includeSpamTrash`, `maxResults` and `pageToken` ask for.
struct Filter {
    page_size: usize,
    after: Option<(i64, String)>,
    query: Query,
    with_spam_trash: bool,
    wanted: Vec<String>,
}

impl Filter {
    fn parse(ctx: &Ctx, params: &Params) -> Result<Self, GoogleError> {
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
        let wanted = wanted_labels
            .iter()
            .map(|l| ctx.mailbox.find_user_label(l).unwrap_or_else(|| l.clone()))
            .collect();
        Ok(Self {
            page_size: page_size as usize,
            after,
            query,
            with_spam_trash,
            wanted,
        })
    }

    /// Labels and spam / trash only (the labels of [`label_ids`], without building them).
    fn labels_match(&self, m: &StoredMessage) -> bool {
        let s = &m.state;
        let has = |l: &str| {
            s.labels.contains(l) || (l == "UNREAD" && !s.read) || (l == "STARRED" && s.starred)
        };
        (self.with_spam_trash || !(has("SPAM") || has("TRASH")))
            && self.wanted.iter().all(|w| has(w))
    }
}

/// Apply `q`, `labelIds`, `includeSpamTrash`, `maxResults` and `pageToken`.
pub fn listing(ctx: &Ctx, params: &Params) -> Result<Listing, GoogleError> {
    let filter = Filter::parse(ctx, params)?;
    let mailbox = &ctx.mailbox;
    let candidates: Vec<StoredMessage> = {
        let data = mailbox.data.read();
        data.by_date
            .iter()
            .rev()
            .filter_map(|(_, id)| data.messages.get(id))
            .filter(|m| filter.labels_match(m))
            .cloned()
            .collect()
    };
    let matched = candidates
        .into_iter()
        .filter(|m| filter.query.matches(mailbox, m))
        .collect();
    Ok(Listing {
        page_size: filter.page_size,
        after: filter.after,
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
    call: GmailCall,
) -> Result<Json<ListMessagesResponse>, GoogleError> {
    let ctx = call.begin(&state, &user_id, &LIST).await?;
    let filter = Filter::parse(&ctx, &call.params())?;
    let mailbox = &ctx.mailbox;
    let data = mailbox.data.read();
    let matches = |m: &&StoredMessage| filter.labels_match(m) && filter.query.matches(mailbox, m);
    // Keyset paging from the token's position, newest first: a page costs its own size, not
    // the mailbox's (a 50,000-message listing used to copy every match for every page).
    let from: Box<dyn Iterator<Item = &(i64, String)>> = match &filter.after {
        Some(after) => Box::new(data.by_date.range(..after.clone()).rev()),
        None => Box::new(data.by_date.iter().rev()),
    };
    let page: Vec<&StoredMessage> = from
        .filter_map(|(_, id)| data.messages.get(id))
        .filter(matches)
        .take(filter.page_size)
        .collect();
    let total = data
        .messages
        .values()
        .filter(|m| filter.labels_match(m))
        .filter(|m| filter.query.matches(mailbox, m))
        .count();
    let next_page_token = (page.len() == filter.page_size)
        .then(|| page.last().map(|m| encode_token(m.internal_date_ms, &m.id)))
        .flatten();
    Ok(Json(ListMessagesResponse {
        messages: page.iter().map(|m| reference(m)).collect(),
        next_page_token,
        result_size_estimate: u32::try_from(total).unwrap_or(u32::MAX),
    }))
}
