//! Gmail API v1 under `/gmail/v1/users/{userId}/...` and `/batch/gmail/v1`: every handler
//! starts with `begin` (bearer token, userId, per-method scopes from the discovery document,
//! faults and quota) and renders errors in Google's shape.

pub mod batch;
pub mod fields;
pub mod get;
pub mod history;
pub mod labels;
pub mod list;
pub mod modify;
pub mod query;
pub mod threads;
pub mod view;
pub mod watch;
pub mod wire;

use std::sync::Arc;

use axum::extract::{FromRequestParts, OriginalUri};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};
use axum::routing::{get, post};
use axum::Router;

use super::error::GoogleError;
use crate::gate::{admit, Admission};
use crate::latency::Endpoint;
use crate::quota::Permit;
use crate::state::GmailCosts;
use crate::store::{Mailbox, Provider};
use crate::SharedState;

pub const SCOPE_PREFIX: &str = "https://www.googleapis.com/auth/";
pub const SCOPE_FULL: &str = "https://mail.google.com/";
pub const SCOPE_METADATA: &str = "https://www.googleapis.com/auth/gmail.metadata";

pub fn router() -> Router<SharedState> {
    let users = "/gmail/v1/users/{userId}";
    Router::new()
        .route(&format!("{users}/profile"), get(labels::profile))
        .route(&format!("{users}/labels"), get(labels::list))
        .route(&format!("{users}/labels/{{id}}"), get(labels::get))
        .route(&format!("{users}/messages"), get(list::list))
        .route(
            &format!("{users}/messages/batchModify"),
            post(modify::batch_modify),
        )
        .route(
            &format!("{users}/messages/{{id}}"),
            get(get::get).delete(modify::delete),
        )
        .route(
            &format!("{users}/messages/{{id}}/modify"),
            post(modify::modify),
        )
        .route(
            &format!("{users}/messages/{{id}}/trash"),
            post(modify::trash),
        )
        .route(
            &format!("{users}/messages/{{id}}/untrash"),
            post(modify::untrash),
        )
        .route(
            &format!("{users}/messages/{{messageId}}/attachments/{{id}}"),
            get(get::attachment),
        )
        .route(&format!("{users}/history"), get(history::list))
        .route(&format!("{users}/threads"), get(threads::list))
        .route(&format!("{users}/threads/{{id}}"), get(threads::get))
        .route(&format!("{users}/watch"), post(watch::watch))
        .route(&format!("{users}/stop"), post(watch::stop))
        .route("/batch/gmail/v1", post(batch::batch))
        .route("/batch", post(batch::batch))
        .layer(axum::middleware::from_fn(fields::partial_response))
        .layer(axum::middleware::map_response(google_shaped))
        .merge(watch::control_router())
}

/// Extractor rejections (bad path encoding, oversized or non-UTF-8 bodies, wrong method) are
/// plain text in axum; Google answers every API error in its JSON shape.
async fn google_shaped(response: axum::response::Response) -> axum::response::Response {
    use axum::response::IntoResponse as _;
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json") || v.starts_with("multipart/"));
    if !status.is_client_error() || is_json {
        return response;
    }
    let text = axum::body::to_bytes(response.into_body(), 64 * 1024)
        .await
        .unwrap_or_default();
    let message = String::from_utf8_lossy(&text).trim().to_string();
    GoogleError::from_status(status.as_u16(), message).into_response()
}

/// A Gmail method: route template, scopes that allow it (suffixes after
/// `https://www.googleapis.com/auth/`, `""` = `https://mail.google.com/`) and its cost.
pub struct Method {
    pub template: &'static str,
    pub scopes: &'static [&'static str],
    pub cost: fn(&GmailCosts) -> u32,
}

const READ: &[&str] = &["", "gmail.metadata", "gmail.modify", "gmail.readonly"];
const WRITE: &[&str] = &["", "gmail.modify"];
const PROFILE_SCOPES: &[&str] = &[
    "",
    "gmail.compose",
    "gmail.metadata",
    "gmail.modify",
    "gmail.readonly",
];
const LABELS_SCOPES: &[&str] = &[
    "",
    "gmail.labels",
    "gmail.metadata",
    "gmail.modify",
    "gmail.readonly",
];
const GET_SCOPES: &[&str] = &[
    "",
    "gmail.metadata",
    "gmail.modify",
    "gmail.readonly",
    "gmail.addons.current.message.metadata",
    "gmail.addons.current.message.readonly",
    "gmail.addons.current.message.action",
];
const ATTACHMENT_SCOPES: &[&str] = &[
    "",
    "gmail.modify",
    "gmail.readonly",
    "gmail.addons.current.message.readonly",
    "gmail.addons.current.message.action",
];

const fn method(
    template: &'static str,
    scopes: &'static [&'static str],
    cost: fn(&GmailCosts) -> u32,
) -> Method {
    Method {
        template,
        scopes,
        cost,
    }
}

pub const PROFILE: Method = method("users.getProfile", PROFILE_SCOPES, |c| c.get_profile);
pub const LABELS: Method = method("users.labels", LABELS_SCOPES, |c| c.labels);
pub const LIST: Method = method("users.messages.list", READ, |c| c.messages_list);
pub const GET: Method = method("users.messages.get", GET_SCOPES, |c| c.messages_get);
pub const ATTACHMENT: Method = method("users.messages.attachments.get", ATTACHMENT_SCOPES, |c| {
    c.attachments_get
});
pub const THREADS: Method = method("users.threads", READ, |c| c.threads);
pub const HISTORY: Method = method("users.history.list", READ, |c| c.history_list);
pub const MODIFY: Method = method("users.messages.modify", WRITE, |c| c.messages_modify);
pub const TRASH: Method = method("users.messages.trash", WRITE, |c| c.messages_trash);
pub const BATCH_MODIFY: Method = method("users.messages.batchModify", WRITE, |c| c.batch_modify);
pub const DELETE: Method = method("users.messages.delete", &[""], |c| c.messages_delete);
pub const WATCH: Method = method("users.watch", READ, |c| c.watch);
pub const STOP: Method = method("users.stop", READ, |c| c.stop);

/// An authenticated, admitted Gmail request.
pub struct Ctx {
    pub mailbox: Arc<Mailbox>,
    pub scopes: Vec<String>,
    _permit: Permit,
}

impl Ctx {
    /// gmail.metadata anywhere in the token restricts it, even beside broader scopes.
    pub fn metadata_restricted(&self) -> bool {
        self.scopes.iter().any(|s| s == SCOPE_METADATA)
    }
}

fn short_scope(scope: &str) -> Option<&str> {
    if scope == SCOPE_FULL {
        Some("")
    } else {
        scope.strip_prefix(SCOPE_PREFIX)
    }
}

/// The parts of a request every Gmail handler reads: the original path (also inside a batch),
/// the headers and the raw query.
pub struct GmailCall {
    pub path: String,
    pub headers: HeaderMap,
    pub raw_query: Option<String>,
}

impl FromRequestParts<SharedState> for GmailCall {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &SharedState,
    ) -> Result<Self, Self::Rejection> {
        let OriginalUri(uri) = OriginalUri::from_request_parts(parts, state).await?;
        Ok(Self {
            path: uri.path().to_string(),
            headers: parts.headers.clone(),
            raw_query: parts.uri.query().map(str::to_string),
        })
    }
}

impl GmailCall {
    /// `begin` for this request.
    pub async fn begin(
        &self,
        state: &SharedState,
        user_id: &str,
        method: &Method,
    ) -> Result<Ctx, GoogleError> {
        begin(state, &self.headers, &self.path, user_id, method).await
    }

    pub fn params(&self) -> Params {
        Params::parse(self.raw_query.as_deref())
    }
}

/// Authenticate, authorise and admit a request.
pub async fn begin(
    state: &SharedState,
    headers: &HeaderMap,
    path: &str,
    user_id: &str,
    method: &Method,
) -> Result<Ctx, GoogleError> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .ok_or_else(GoogleError::unauthenticated)?;
    let info = state
        .tokens
        .check_access(token)
        .map_err(|_| GoogleError::unauthenticated())?;
    if info.provider != Provider::Google {
        return Err(GoogleError::unauthenticated());
    }
    let mailbox =
        state.store.get(&info.mailbox).ok_or_else(
            || match crate::google::workspace::gmail_refusal(state, &info.mailbox) {
                Some(message) => {
                    GoogleError::new(400, message, "failedPrecondition", "FAILED_PRECONDITION")
                }
                None => GoogleError::unauthenticated(),
            },
        )?;
    if user_id != "me" && !user_id.eq_ignore_ascii_case(&mailbox.info.address) {
        return Err(GoogleError::forbidden(format!(
            "Delegation denied for {}",
            mailbox.info.address
        )));
    }
    let allowed = info
        .scopes
        .iter()
        .filter_map(|s| short_scope(s))
        .any(|s| method.scopes.contains(&s));
    if !allowed {
        return Err(GoogleError::insufficient_scope());
    }
    let tunables = state.tunables();
    let permit = admit(
        state,
        Admission {
            path,
            template: method.template,
            mailbox: &mailbox.info.address,
            pool: "gmail",
            units: (method.cost)(&tunables.gmail_costs),
            per_minute: tunables.gmail_units_per_minute,
            concurrency: tunables.gmail_concurrency,
            endpoint: Endpoint::gmail(method.template),
        },
    )
    .await
    .map_err(|r| GoogleError::from_refusal(r, &tunables.gmail_quota_error))?;
    Ok(Ctx {
        mailbox,
        scopes: info.scopes,
        _permit: permit,
    })
}

/// Repeated and single query parameters.
pub struct Params(pub Vec<(String, String)>);

impl Params {
    pub fn parse(raw: Option<&str>) -> Self {
        Self(
            url::form_urlencoded::parse(raw.unwrap_or("").as_bytes())
                .into_owned()
                .collect(),
        )
    }

    pub fn one(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    pub fn all(&self, key: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == key)
            .flat_map(|(_, v)| v.split(',').map(str::to_string))
            .filter(|v| !v.is_empty())
            .collect()
    }

    /// A uint32 parameter (400 `INVALID_ARGUMENT` when not a number).
    pub fn uint(&self, key: &str, wire: &str) -> Result<Option<u32>, GoogleError> {
        self.one(key)
            .map(|v| {
                v.parse::<u32>().map_err(|_| {
                    GoogleError::invalid_argument(format!(
                        "Invalid value at '{wire}' (TYPE_UINT32), \"{v}\""
                    ))
                })
            })
            .transpose()
    }

    pub fn boolean(&self, key: &str) -> Result<bool, GoogleError> {
        match self.one(key) {
            None | Some("false") => Ok(false),
            Some("true") => Ok(true),
            Some(v) => Err(GoogleError::invalid_argument(format!(
                "Invalid value at '{key}' (TYPE_BOOL), \"{v}\""
            ))),
        }
    }
}

/// Parse a JSON request body (empty = defaults) or answer 400 `INVALID_ARGUMENT`.
pub fn parse_json<T: serde::de::DeserializeOwned + Default>(body: &str) -> Result<T, GoogleError> {
    if body.trim().is_empty() {
        return Ok(T::default());
    }
    serde_json::from_str(body)
        .map_err(|e| GoogleError::invalid_argument(format!("Invalid JSON payload received. {e}")))
}

/// Gmail message ids are hex strings; anything else is a 400 like Gmail's "Invalid id value".
pub fn check_id(id: &str) -> Result<(), GoogleError> {
    if !id.is_empty() && id.len() <= 32 && id.chars().all(|c| c.is_ascii_hexdigit()) {
        Ok(())
    } else {
        Err(GoogleError::invalid_argument("Invalid id value"))
    }
}
