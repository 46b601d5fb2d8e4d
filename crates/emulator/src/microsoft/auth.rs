//! Who calls Graph and what they may reach: bearer-token check (401
//! `InvalidAuthenticationToken`), delegated vs app-only principals, `/me` vs `/users/{id|upn}`
//! (trap 24), scope checks, then admission: injected faults, then Outlook throttling per
//! app + mailbox (4 concurrent requests, 10,000 requests per 10 minutes, trap 20).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, StatusCode};
use parking_lot::{Mutex, RwLock};
use serde::{Deserialize, Serialize};

use super::aad::{can_read_mail, can_write_mail};
use super::directory::{find_user, tenant_of};
use super::error::GraphError;
use crate::latency::Endpoint;
use crate::quota::{Permit, Throttle};
use crate::state::EmulatorState;
use crate::store::{Mailbox, Provider};
use crate::tokens::TokenError;

/// Grants of app-only tokens are recorded against the pseudo-mailbox `app:{tenant}`.
pub const APP_PREFIX: &str = "app:";

/// Microsoft-side settings (`GET|PATCH /_emulator/microsoft/settings`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct GraphSettings {
    /// Concurrent requests per app + mailbox before 429 `MailboxConcurrency`.
    pub concurrency: usize,
    /// Requests per app + mailbox per window before 429.
    pub requests_per_window: u32,
    pub window_secs: u64,
    /// Retry-After sent with throttling 429s.
    pub retry_after_secs: u64,
    /// Longest subscription lifetime for Outlook messages, minutes (was 4,230, now 10,080).
    pub max_subscription_minutes: i64,
    /// Shorter requested lifetimes are raised to this.
    pub min_subscription_minutes: i64,
}

impl Default for GraphSettings {
    fn default() -> Self {
        Self {
            concurrency: 4,
            requests_per_window: 10_000,
            window_secs: 600,
            retry_after_secs: 10,
            max_subscription_minutes: 10_080,
            min_subscription_minutes: 45,
        }
    }
}

/// Settings plus request windows, kept in the state's extension slot.
#[derive(Default)]
pub struct GraphLimits {
    pub settings: RwLock<GraphSettings>,
    windows: Mutex<HashMap<String, (Instant, u32)>>,
}

/// The principal behind a Graph token.
#[derive(Debug, Clone)]
pub struct Caller {
    pub client_id: String,
    pub scopes: Vec<String>,
    /// `Some(address)` for delegated tokens, `None` for app-only ones.
    pub mailbox: Option<String>,
    pub tenant: String,
}

impl Caller {
    pub fn is_app(&self) -> bool {
        self.mailbox.is_none()
    }
}

/// Check the bearer token of a Graph request.
pub fn caller(state: &EmulatorState, headers: &HeaderMap) -> Result<Caller, GraphError> {
    let token = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| GraphError::unauthenticated("Access token is empty."))?;
    let info = state.tokens.check_access(token).map_err(|e| match e {
        TokenError::Expired | TokenError::Revoked => {
            GraphError::unauthenticated("Lifetime validation failed, the token is expired.")
        }
        TokenError::Unknown => {
            GraphError::unauthenticated("IDX14100: JWT is not well formed, there are no dots (.).")
        }
    })?;
    if info.provider != Provider::Microsoft {
        return Err(GraphError::unauthenticated(
            "Access token validation failure. Invalid audience.",
        ));
    }
    if let Some(tenant) = info.mailbox.strip_prefix(APP_PREFIX) {
        return Ok(Caller {
            client_id: info.client_id,
            scopes: info.scopes,
            mailbox: None,
            tenant: tenant.to_string(),
        });
    }
    let tenant = state
        .store
        .get(&info.mailbox)
        .map(|m| tenant_of(&m))
        .unwrap_or_default();
    Ok(Caller {
        client_id: info.client_id,
        scopes: info.scopes,
        mailbox: Some(info.mailbox),
        tenant,
    })
}

/// The mailbox a request addresses: `user` is `None` for `/me`.
pub fn target(
    state: &EmulatorState,
    caller: &Caller,
    user: Option<&str>,
) -> Result<Arc<Mailbox>, GraphError> {
    let Some(user) = user else {
        let address = caller.mailbox.as_deref().ok_or_else(|| {
            GraphError::new(
                StatusCode::BAD_REQUEST,
                "BadRequest",
                "/me request is only valid with delegated authentication flow.",
            )
        })?;
        return state.store.get(address).ok_or_else(invalid_user_me);
    };
    let invalid = || {
        GraphError::new(
            StatusCode::NOT_FOUND,
            "ErrorInvalidUser",
            format!("The requested user '{user}' is invalid."),
        )
    };
    if caller.is_app() {
        let managed = super::tenants::read(state, &caller.tenant, |t| {
            managed_target(state, t, caller, user)
        });
        if let Some(result) = managed {
            return result;
        }
    }
    let mailbox = find_user(state, user).ok_or_else(invalid)?;
    match &caller.mailbox {
        Some(own) if *own == mailbox.info.address => Ok(mailbox),
        Some(_) => Err(GraphError::access_denied()),
        None if tenant_of(&mailbox).eq_ignore_ascii_case(&caller.tenant) => Ok(mailbox),
        None => Err(invalid()),
    }
}

/// An app-only caller's mailbox in a managed tenant: the directory user must have a mailbox
/// (404 `MailboxNotEnabledForRESTAPI` otherwise) inside the app's mailbox scope (403
/// `ErrorAccessDenied` otherwise).
fn managed_target(
    state: &EmulatorState,
    t: &super::tenants::Tenant,
    caller: &Caller,
    user: &str,
) -> Result<Arc<Mailbox>, GraphError> {
    let invalid = || {
        GraphError::new(
            StatusCode::NOT_FOUND,
            "ErrorInvalidUser",
            format!("The requested user '{user}' is invalid."),
        )
    };
    let entry = t.user(user).ok_or_else(invalid)?;
    let address = entry
        .mail
        .clone()
        .filter(|_| entry.mailbox != super::tenants::MailboxKind::None)
        .ok_or_else(|| {
            GraphError::new(
                StatusCode::NOT_FOUND,
                "MailboxNotEnabledForRESTAPI",
                "The mailbox is either inactive, soft-deleted, or is hosted on-premise.",
            )
        })?;
    if let Some(message) = t
        .app(&caller.client_id)
        .and_then(|app| super::tenants::scope_refusal(app, entry))
    {
        return Err(GraphError::new(
            StatusCode::FORBIDDEN,
            "ErrorAccessDenied",
            message,
        ));
    }
    state.store.get(&address).ok_or_else(invalid)
}

fn invalid_user_me() -> GraphError {
    GraphError::new(
        StatusCode::NOT_FOUND,
        "ErrorInvalidUser",
        "The requested user is invalid.",
    )
}

/// Require a mail scope.
pub fn require_mail(caller: &Caller, write: bool) -> Result<(), GraphError> {
    let ok = if write {
        can_write_mail(&caller.scopes)
    } else {
        can_read_mail(&caller.scopes)
    };
    if ok {
        Ok(())
    } else {
        Err(GraphError::access_denied())
    }
}

/// Admit a request on a mailbox: faults first, then concurrency, then the request budget, then
/// the endpoint's service time (latency model) while the slot is held. Keep the permit alive
/// while the request runs.
pub async fn admit(
    state: &EmulatorState,
    caller: &Caller,
    mailbox: &str,
    path: &str,
    write: bool,
) -> Result<Permit, GraphError> {
    let (latency, hit) = state.faults.check(path, path, Some(mailbox));
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    if let Some(hit) = hit {
        return Err(fault_error(hit.status)
            .with_retry_after(hit.retry_after)
            .dropping(hit.drop));
    }
    let limits = state.ext.get::<GraphLimits>();
    let settings = limits.settings.read().clone();
    let key = format!("graph:{}:{mailbox}", caller.client_id);
    let throttled = |what: &str| {
        GraphError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "ApplicationThrottled",
            format!("Application is over its {what} limit."),
        )
        .with_retry_after(Some(settings.retry_after_secs))
    };
    let permit = state.quota.enter(&key, settings.concurrency).map_err(|t| {
        state.stats.throttle("graph", t);
        throttled("MailboxConcurrency")
    })?;
    if state.quota.enabled() {
        let mut windows = limits.windows.lock();
        let now = Instant::now();
        let window = Duration::from_secs(settings.window_secs.max(1));
        let entry = windows.entry(key).or_insert((now, 0));
        if now.duration_since(entry.0) >= window {
            *entry = (now, 0);
        }
        if entry.1 >= settings.requests_per_window {
            let left = window
                .saturating_sub(now.duration_since(entry.0))
                .as_secs()
                .max(1);
            state
                .stats
                .throttle("graph", Throttle::Rate { retry_after: left });
            return Err(throttled("MailboxRequests").with_retry_after(Some(left)));
        }
        entry.1 += 1;
    }
    state.stats.charge(mailbox, 1);
    state.serve(Endpoint::graph(write, path)).await;
    Ok(permit)
}

/// The Graph body of an injected fault.
pub fn fault_error(status: u16) -> GraphError {
    match status {
        429 => GraphError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "TooManyRequests",
            "Too many requests.",
        ),
        500 => GraphError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "generalException",
            "An internal server error occurred.",
        ),
        502 => GraphError::new(StatusCode::BAD_GATEWAY, "BadGateway", "Bad gateway."),
        504 => GraphError::new(
            StatusCode::GATEWAY_TIMEOUT,
            "GatewayTimeout",
            "The gateway timed out.",
        ),
        _ => GraphError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "serviceNotAvailable",
            "The service is temporarily unavailable. Retry after the indicated time.",
        ),
    }
}
