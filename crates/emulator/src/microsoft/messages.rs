//! Messages: list (`/messages`, `/mailFolders/{id}/messages`) with `$select`, `$top`,
//! `$skip`, `$filter`, `$orderby`; get; `PATCH` (isRead, flag) recorded in the change log;
//! `/$value` (the MIME text).

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use super::auth::{admit, caller, require_mail, target, Caller};
use super::error::{odata_json, GraphError};
use super::folders::{key_of, resolve};
use super::odata::{eval, page_link, Lit, Params};
use super::view::{lookup, render, HtmlBodies, Modified, ViewPrefs};
use crate::store::{Mailbox, StoredMessage};
use crate::SharedState;

/// Properties of `microsoft.graph.message` a `$select` may name.
pub const MESSAGE_PROPERTIES: [&str; 35] = [
    "id",
    "createdDateTime",
    "lastModifiedDateTime",
    "changeKey",
    "categories",
    "receivedDateTime",
    "sentDateTime",
    "hasAttachments",
    "internetMessageId",
    "subject",
    "bodyPreview",
    "importance",
    "parentFolderId",
    "conversationId",
    "conversationIndex",
    "isDeliveryReceiptRequested",
    "isReadReceiptRequested",
    "isRead",
    "isDraft",
    "webLink",
    "inferenceClassification",
    "body",
    "sender",
    "from",
    "toRecipients",
    "ccRecipients",
    "bccRecipients",
    "replyTo",
    "flag",
    "internetMessageHeaders",
    "uniqueBody",
    "attachments",
    "extensions",
    "multiValueExtendedProperties",
    "singleValueExtendedProperties",
];

type PathParams = Path<HashMap<String, String>>;

/// The parts of a request every mail handler reads: path parameters, headers, path, query.
pub struct GraphCall {
    pub params: HashMap<String, String>,
    pub headers: HeaderMap,
    pub path: String,
    pub query: Option<String>,
}

impl FromRequestParts<SharedState> for GraphCall {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &SharedState,
    ) -> Result<Self, Self::Rejection> {
        let Path(params) = PathParams::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        Ok(Self {
            params,
            headers: parts.headers.clone(),
            path: parts.uri.path().to_string(),
            query: parts.uri.query().map(str::to_string),
        })
    }
}

/// A mail read admitted: its context, its OData parameters and the request's parts.
pub struct GraphRead {
    pub ctx: Ctx,
    pub q: Params,
    pub params: HashMap<String, String>,
    pub headers: HeaderMap,
    pub path: String,
}

impl GraphCall {
    /// `enter` for this request.
    pub async fn enter(&self, state: &SharedState, write: bool) -> Result<Ctx, GraphError> {
        enter(state, &self.params, &self.headers, &self.path, write).await
    }

    /// `enter`, then parse the query with the page size `top` and its cap `max_top`.
    pub async fn open(
        self,
        state: &SharedState,
        write: bool,
        top: usize,
        max_top: usize,
    ) -> Result<GraphRead, GraphError> {
        let ctx = self.enter(state, write).await?;
        let q = Params::parse(self.query.as_deref(), top, max_top)?;
        Ok(GraphRead {
            ctx,
            q,
            params: self.params,
            headers: self.headers,
            path: self.path,
        })
    }
}

impl GraphRead {
    /// The parts by name, for handlers that need most of them.
    pub fn into_parts(self) -> (Ctx, Params, HashMap<String, String>, HeaderMap, String) {
        (self.ctx, self.q, self.params, self.headers, self.path)
    }
}

/// What every message handler starts with: caller, mailbox, permit.
pub struct Ctx {
    pub caller: Caller,
    pub mailbox: std::sync::Arc<Mailbox>,
    pub permit: crate::quota::Permit,
}

pub async fn enter(
    state: &SharedState,
    params: &HashMap<String, String>,
    headers: &HeaderMap,
    path: &str,
    write: bool,
) -> Result<Ctx, GraphError> {
    let who = caller(state, headers)?;
    require_mail(&who, write)?;
    let mailbox = target(state, &who, params.get("user").map(String::as_str))?;
    let permit = admit(state, &who, &mailbox.info.address, path, write).await?;
    Ok(Ctx {
        caller: who,
        mailbox,
        permit,
    })
}

/// The view preferences of a request plus `$select`-only properties.
pub fn prefs(headers: &HeaderMap, q: &Params) -> ViewPrefs {
    ViewPrefs {
        with_headers: q.selects("internetMessageHeaders"),
        with_unique_body: q.selects("uniqueBody"),
        ..ViewPrefs::from_headers(headers)
    }
}

/// Render one message as JSON, restricted to `$select`.
pub fn message_json(
    state: &SharedState,
    mailbox: &Mailbox,
    m: &StoredMessage,
    prefs: ViewPrefs,
    q: &Params,
) -> Value {
    let modified = state.ext.get::<Modified>();
    let html = state.ext.get::<HtmlBodies>();
    q.select_fields(&json!(render(mailbox, &modified, &html, m, prefs)))
}

/// A property value for `$filter`.
pub fn field(m: &StoredMessage, prop: &str) -> Lit {
    match prop {
        "receivedDateTime" | "createdDateTime" | "lastModifiedDateTime" => {
            Lit::Date(m.internal_date_ms)
        }
        "sentDateTime" => Lit::Date(m.parsed.date_ms.unwrap_or(m.internal_date_ms)),
        "isRead" => Lit::Bool(m.state.read),
        "isDraft" => Lit::Bool(key_of(m.state.folder.as_ref()) == "drafts"),
        "hasAttachments" => Lit::Bool(
            super::attachments::parts(&m.parsed)
                .iter()
                .any(|a| !a.is_inline),
        ),
        "subject" => Lit::Str(m.parsed.subject.clone()),
        "internetMessageId" => m
            .parsed
            .message_id
            .as_ref()
            .map_or(Lit::Null, |i| Lit::Str(format!("<{i}>"))),
        _ => Lit::Null,
    }
}

fn with_preference(mut response: Response, prefs: ViewPrefs) -> Response {
    if let Some(applied) = prefs.applied().and_then(|a| HeaderValue::from_str(&a).ok()) {
        response.headers_mut().insert("preference-applied", applied);
    }
    response
}

/// `GET .../messages` and `.../mailFolders/{folder}/messages`.
pub async fn list(
    State(state): State<SharedState>,
    call: GraphCall,
) -> Result<Response, GraphError> {
    let read = call.open(&state, false, 10, 1000).await?;
    let (ctx, q, params, headers, path) = read.into_parts();
    q.check_select(&MESSAGE_PROPERTIES, "microsoft.graph.message")?;
    let folder = params
        .get("folder")
        .map(|f| resolve(&ctx.mailbox, f))
        .transpose()?;
    let prefs = prefs(&headers, &q);
    let (page, more) = {
        let data = ctx.mailbox.data.read();
        let desc = q.orderby.as_ref().is_none_or(|(_, d)| *d);
        let sent_order = q.orderby.as_ref().is_some_and(|(p, _)| p == "sentDateTime");
        let mut matching: Vec<&StoredMessage> = data
            .by_date
            .iter()
            .filter_map(|(_, id)| data.messages.get(id))
            .filter(|m| {
                folder
                    .as_ref()
                    .is_none_or(|f| key_of(m.state.folder.as_ref()) == *f)
            })
            .filter(|m| q.filter.as_ref().is_none_or(|f| eval(f, &|p| field(m, p))))
            .collect();
        if sent_order {
            matching
                .sort_by_key(|m| (m.parsed.date_ms.unwrap_or(m.internal_date_ms), m.id.clone()));
        }
        if desc {
            matching.reverse();
        }
        let more = matching.len() > q.skip + q.top;
        let page: Vec<Value> = matching
            .into_iter()
            .skip(q.skip)
            .take(q.top)
            .map(|m| message_json(&state, &ctx.mailbox, m, prefs, &q))
            .collect();
        (page, more)
    };
    let mut body = json!({
        "@odata.context": format!("{}/v1.0/$metadata#users('{}')/messages", state.base_url.read(), ctx.mailbox.info.address),
        "value": page,
    });
    if more {
        body["@odata.nextLink"] = json!(page_link(&state, &path, &q, q.skip + q.top));
    }
    Ok(with_preference(odata_json(StatusCode::OK, &body), prefs))
}

/// The message of `{id}` (and, when given, in `{folder}`).
pub fn find(ctx: &Ctx, params: &HashMap<String, String>) -> Result<StoredMessage, GraphError> {
    let id = params.get("id").map_or("", String::as_str);
    let m = lookup(&ctx.mailbox, id).ok_or_else(GraphError::item_not_found)?;
    if let Some(f) = params.get("folder") {
        if key_of(m.state.folder.as_ref()) != resolve(&ctx.mailbox, f)? {
            return Err(GraphError::item_not_found());
        }
    }
    Ok(m)
}

/// `GET .../messages/{id}`.
pub async fn get(
    State(state): State<SharedState>,
    call: GraphCall,
) -> Result<Response, GraphError> {
    let read = call.open(&state, false, 10, 1000).await?;
    let (ctx, q, params, headers, _) = read.into_parts();
    q.check_select(&MESSAGE_PROPERTIES, "microsoft.graph.message")?;
    let m = find(&ctx, &params)?;
    let prefs = prefs(&headers, &q);
    let mut body = message_json(&state, &ctx.mailbox, &m, prefs, &q);
    body["@odata.context"] = json!(format!(
        "{}/v1.0/$metadata#users('{}')/messages/$entity",
        state.base_url.read(),
        ctx.mailbox.info.address
    ));
    Ok(with_preference(odata_json(StatusCode::OK, &body), prefs))
}

/// `GET .../messages/{id}/$value`: the MIME text.
pub async fn value(
    State(state): State<SharedState>,
    Path(params): PathParams,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Response, GraphError> {
    let ctx = enter(&state, &params, &headers, uri.path(), false).await?;
    let m = find(&ctx, &params)?;
    Ok((
        [(axum::http::header::CONTENT_TYPE, "text/plain")],
        m.raw.clone(),
    )
        .into_response())
}

/// `PATCH .../messages/{id}` with `isRead`, `flag` and/or `categories` → 200 + the message.
pub async fn patch(
    State(state): State<SharedState>,
    Path(params): PathParams,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Result<Response, GraphError> {
    let ctx = enter(&state, &params, &headers, uri.path(), true).await?;
    let m = find(&ctx, &params)?;
    let patch: serde_json::Map<String, Value> = serde_json::from_slice(&body).map_err(|e| {
        GraphError::bad_request(format!("Unable to read JSON request payload: {e}"))
    })?;
    let mut read = None;
    let mut flagged = None;
    for (key, value) in &patch {
        match (key.as_str(), value) {
            ("isRead", Value::Bool(b)) => read = Some(*b),
            ("flag", Value::Object(flag)) => {
                flagged = match flag.get("flagStatus").and_then(Value::as_str) {
                    Some("flagged") => Some(true),
                    Some("notFlagged" | "complete") => Some(false),
                    None => None,
                    Some(other) => {
                        return Err(GraphError::bad_request(format!(
                            "Requested value '{other}' was not found for flagStatus."
                        )))
                    }
                };
            }
            ("categories", Value::Array(_)) => {}
            (
                "subject" | "body" | "internetMessageId" | "replyTo" | "toRecipients" | "from"
                | "sender",
                _,
            ) => {
                return Err(GraphError::invalid_request(format!(
                    "The property '{key}' can only be updated on draft messages."
                )));
            }
            _ => {
                return Err(GraphError::bad_request(format!(
                    "Invalid value for property '{key}'."
                )))
            }
        }
    }
    let updated = ctx
        .mailbox
        .update_state(&m.id, |s| {
            if let Some(r) = read {
                s.read = r;
            }
            if let Some(f) = flagged {
                s.starred = f;
            }
        })
        .ok_or_else(GraphError::item_not_found)?;
    let q = Params::default();
    let prefs = ViewPrefs::from_headers(&headers);
    let mut out = message_json(&state, &ctx.mailbox, &updated, prefs, &q);
    out["@odata.context"] = json!(format!(
        "{}/v1.0/$metadata#users('{}')/messages/$entity",
        state.base_url.read(),
        ctx.mailbox.info.address
    ));
    Ok(odata_json(StatusCode::OK, &out))
}
