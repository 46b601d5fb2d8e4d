//! The `/_emulator` control plane (shared/CONTRACTS.md): mailboxes, message delivery and
//! state changes, cursor expiry, token revocation, faults, statistics, tokens, settings.
//! Errors are `{"error": "..."}` with 400/404/409.

mod messages;
pub mod push;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::faults::FaultRule;
use super::state::Tunables;
use super::store::{MailboxInfo, Provider, MAX_RAW_BYTES};
use super::SharedState;

pub use messages::{
    ground_truth, state_from_query, DeliverQuery, Delivered, MessagePatch, TruthItem, SYSTEM_LABELS,
};

/// A control-plane error.
#[derive(Debug)]
pub struct ControlError(pub StatusCode, pub String);

impl IntoResponse for ControlError {
    fn into_response(self) -> Response {
        (self.0, Json(json!({ "error": self.1 }))).into_response()
    }
}

pub(crate) fn not_found(what: &str) -> ControlError {
    ControlError(StatusCode::NOT_FOUND, format!("no such {what}"))
}

pub fn router() -> Router<SharedState> {
    Router::new()
        .route(
            "/_emulator/mailboxes",
            post(create_mailbox).get(list_mailboxes),
        )
        .route(
            "/_emulator/mailboxes/{address}/messages",
            post(messages::deliver)
                .layer(axum::extract::DefaultBodyLimit::max(MAX_RAW_BYTES + 1))
                .get(messages::list),
        )
        .route(
            "/_emulator/mailboxes/{address}/messages/{id}",
            axum::routing::patch(messages::patch).delete(messages::delete),
        )
        .route(
            "/_emulator/mailboxes/{address}/expire-cursors",
            post(expire_cursors),
        )
        .route(
            "/_emulator/mailboxes/{address}/revoke-tokens",
            post(revoke_tokens),
        )
        .route(
            "/_emulator/mailboxes/{address}/expire-access-tokens",
            post(expire_access),
        )
        .route(
            "/_emulator/faults",
            post(add_fault).delete(clear_faults).get(list_faults),
        )
        .route("/_emulator/mailboxes/{address}/push", get(push::show))
        .route("/_emulator/stats", get(stats))
        .route("/_emulator/tokens", get(tokens))
        .route(
            "/_emulator/settings",
            get(get_settings).patch(patch_settings),
        )
}

/// The body of `POST /_emulator/mailboxes`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CreateMailbox {
    pub provider: Provider,
    pub address: String,
    /// Default: the address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
}

/// A mailbox with its counts (`GET /_emulator/mailboxes`, and the answer of a creation).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MailboxSummary {
    pub provider: Provider,
    pub address: String,
    pub display_name: String,
    pub tenant: Option<String>,
    pub messages: usize,
    pub threads: usize,
    pub unread: usize,
    /// The change log's newest entry and its epoch (bumped by `expire-cursors`).
    pub cursor_head: u64,
    pub cursor_epoch: u64,
}

/// The answer of `revoke-tokens`: grants revoked.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct Revoked {
    pub revoked_grants: usize,
}

/// The answer of `expire-access-tokens`: access tokens expired.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct ExpiredAccess {
    pub expired_access_tokens: usize,
}

async fn create_mailbox(
    State(state): State<SharedState>,
    Json(body): Json<CreateMailbox>,
) -> Result<Response, ControlError> {
    let address = body.address.trim().to_ascii_lowercase();
    if !address.contains('@') || address.len() > 320 {
        return Err(ControlError(
            StatusCode::BAD_REQUEST,
            "address must be an email".into(),
        ));
    }
    let display_name = body.display_name.unwrap_or_else(|| address.clone());
    let info = MailboxInfo {
        provider: body.provider,
        address,
        display_name,
        tenant: body.tenant,
    };
    let mailbox = state
        .store
        .create(info)
        .ok_or_else(|| ControlError(StatusCode::CONFLICT, "mailbox exists".into()))?;
    Ok((StatusCode::CREATED, Json(summary(&mailbox))).into_response())
}

fn summary(mailbox: &super::store::Mailbox) -> MailboxSummary {
    let data = mailbox.data.read();
    MailboxSummary {
        provider: mailbox.info.provider,
        address: mailbox.info.address.clone(),
        display_name: mailbox.info.display_name.clone(),
        tenant: mailbox.info.tenant.clone(),
        messages: data.messages.len(),
        threads: data.threads_total(),
        unread: data.messages.values().filter(|m| !m.state.read).count(),
        cursor_head: data.log.head(),
        cursor_epoch: data.log.epoch(),
    }
}

async fn list_mailboxes(State(state): State<SharedState>) -> Json<Vec<MailboxSummary>> {
    Json(state.store.all().iter().map(|m| summary(m)).collect())
}

async fn expire_cursors(
    State(state): State<SharedState>,
    Path(address): Path<String>,
) -> Result<StatusCode, ControlError> {
    state
        .store
        .get(&address)
        .ok_or_else(|| not_found("mailbox"))?
        .expire_cursors();
    Ok(StatusCode::NO_CONTENT)
}

async fn revoke_tokens(
    State(state): State<SharedState>,
    Path(address): Path<String>,
) -> Result<Json<Revoked>, ControlError> {
    let mailbox = state
        .store
        .get(&address)
        .ok_or_else(|| not_found("mailbox"))?;
    let revoked_grants = state.tokens.revoke_mailbox(&mailbox.info.address);
    Ok(Json(Revoked { revoked_grants }))
}

async fn expire_access(
    State(state): State<SharedState>,
    Path(address): Path<String>,
) -> Result<Json<ExpiredAccess>, ControlError> {
    let mailbox = state
        .store
        .get(&address)
        .ok_or_else(|| not_found("mailbox"))?;
    let expired_access_tokens = state.tokens.expire_access(&mailbox.info.address);
    Ok(Json(ExpiredAccess {
        expired_access_tokens,
    }))
}

async fn add_fault(
    State(state): State<SharedState>,
    Json(rule): Json<FaultRule>,
) -> Result<StatusCode, ControlError> {
    state
        .faults
        .add(rule)
        .map_err(|e| ControlError(StatusCode::BAD_REQUEST, e))?;
    Ok(StatusCode::CREATED)
}

async fn clear_faults(State(state): State<SharedState>) -> StatusCode {
    state.faults.clear();
    StatusCode::NO_CONTENT
}

async fn list_faults(State(state): State<SharedState>) -> Json<Vec<FaultRule>> {
    Json(state.faults.list())
}

async fn stats(State(state): State<SharedState>) -> Json<super::stats::StatsReport> {
    Json(state.stats.report())
}

async fn tokens(State(state): State<SharedState>) -> Json<Vec<super::tokens::TokenRecord>> {
    Json(state.tokens.list())
}

async fn get_settings(State(state): State<SharedState>) -> Json<Tunables> {
    Json(state.tunables())
}

/// Merge the given fields into the current settings.
async fn patch_settings(
    State(state): State<SharedState>,
    Json(patch): Json<serde_json::Value>,
) -> Result<Json<Tunables>, ControlError> {
    let bad = |e: serde_json::Error| ControlError(StatusCode::BAD_REQUEST, e.to_string());
    let mut current = serde_json::to_value(state.tunables()).map_err(bad)?;
    merge(&mut current, patch);
    let updated: Tunables = serde_json::from_value(current).map_err(bad)?;
    *state.settings.write() = updated.clone();
    Ok(Json(updated))
}

fn merge(target: &mut serde_json::Value, patch: serde_json::Value) {
    match (target, patch) {
        (serde_json::Value::Object(t), serde_json::Value::Object(p)) => {
            for (k, v) in p {
                merge(t.entry(k).or_insert(serde_json::Value::Null), v);
            }
        }
        (t, p) => *t = p,
    }
}
