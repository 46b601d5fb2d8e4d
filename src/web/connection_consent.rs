//! "Grant admin consent" for a Microsoft 365 connection: a POST sends the admin to the
//! tenant's admin-consent endpoint with a state bound to this session; the callback checks the
//! state and records on the connection that consent was granted, or the error Microsoft gave.
//! Tokens cached before consent carry no permissions, so they are dropped.
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq as _;

use super::connections::FLASH_KEY;
use super::error::AppError;
use super::session::AdminUser;
use super::AppState;
use crate::config::Settings;
use crate::db::{self, audit, connections as q};
use crate::mailboxes::connections::{store, ConnectionError, ConnectionKind};
use crate::mailboxes::MailDeps;

const PENDING_KEY: &str = "connections.consent";
const CALLBACK: &str = "/admin/connections/consent/callback";
/// How long the admin has to accept at Microsoft.
const PENDING_TTL: Duration = Duration::minutes(30);

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/connections/{id}/consent", post(start))
        .route(CALLBACK, get(callback))
}

#[derive(Debug, Serialize, Deserialize)]
struct Pending {
    state: String,
    connection_id: i64,
    started_at: DateTime<Utc>,
}

/// The tenant's admin-consent URL for this connection's app.
fn consent_url(login: &str, tenant: &str, client_id: &str, redirect: &str, state: &str) -> String {
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("client_id", client_id)
        .append_pair("redirect_uri", redirect)
        .append_pair("state", state)
        .finish();
    let tenant: String = url::form_urlencoded::byte_serialize(tenant.as_bytes()).collect();
    format!(
        "{}/{tenant}/adminconsent?{query}",
        login.trim_end_matches('/')
    )
}

async fn start(
    State(deps): State<MailDeps>,
    State(settings): State<Arc<Settings>>,
    AdminUser(admin): AdminUser,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let conn = store::get(&deps, admin.organization_id, id)
        .await
        .map_err(|e| match e {
            ConnectionError::NotFound => AppError::NotFound,
            other => AppError::Unexpected(other.into()),
        })?;
    if ConnectionKind::of(&conn) != Some(ConnectionKind::Microsoft365) {
        return Err(AppError::Invalid(
            "Admin consent is for Microsoft 365 connections; Google Workspace uses domain-wide \
             delegation in the Admin console."
                .into(),
        ));
    }
    let bytes: [u8; 24] = rand::random();
    let state = URL_SAFE_NO_PAD.encode(bytes);
    let pending = Pending {
        state: state.clone(),
        connection_id: conn.id,
        started_at: db::now(),
    };
    admin.session.insert(PENDING_KEY, pending).await?;
    let redirect = format!("{}{CALLBACK}", settings.base_url);
    let url = consent_url(
        &deps.providers.microsoft_login,
        &conn.tenant,
        &conn.client_id,
        &redirect,
        &state,
    );
    Ok(Redirect::to(&url).into_response())
}

#[derive(Debug, Deserialize)]
struct CallbackQuery {
    admin_consent: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

async fn callback(
    State(deps): State<MailDeps>,
    AdminUser(admin): AdminUser,
    Query(q): Query<CallbackQuery>,
) -> Result<Response, AppError> {
    // One use only: the pending consent leaves the session whatever happens next.
    let pending = admin.session.remove::<Pending>(PENDING_KEY).await?;
    let Some(pending) = pending.filter(|p| db::now() - p.started_at < PENDING_TTL) else {
        return Err(AppError::Invalid(
            "This consent response was already used or has expired. Start again with Grant \
             admin consent on the connection's page."
                .into(),
        ));
    };
    let state_ok = q
        .state
        .as_deref()
        .is_some_and(|s| bool::from(s.as_bytes().ct_eq(pending.state.as_bytes())));
    if !state_ok {
        return Err(AppError::Invalid(
            "The consent response did not match the request Threadline started, so it was \
             refused. Start again with Grant admin consent."
                .into(),
        ));
    }
    let org = admin.organization_id;
    let id = pending.connection_id;
    let conn = store::get(&deps, org, id).await.map_err(|e| match e {
        ConnectionError::NotFound => AppError::NotFound,
        other => AppError::Unexpected(other.into()),
    })?;
    let granted = q.error.is_none()
        && q.admin_consent
            .as_deref()
            .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let (note, detail) = if granted {
        q::set_consent(&deps.db, org, id, "granted", None).await?;
        q::forget_all_tokens(&deps.db, id).await?;
        (
            format!(
                "Admin consent granted for {}. Run Test connection to check it.",
                conn.name
            ),
            "granted".to_string(),
        )
    } else {
        let said = q
            .error_description
            .or(q.error)
            .unwrap_or_else(|| "no answer".into());
        let message = format!("Admin consent was not granted: {said}");
        q::set_consent(&deps.db, org, id, "missing", Some(message.clone())).await?;
        (message, format!("not granted: {said}"))
    };
    audit::record(
        &deps.db,
        audit::Entry::by_user(
            org,
            admin.id,
            "connection.consent",
            "connection",
            id,
            detail,
        ),
    )
    .await?;
    admin.session.insert(FLASH_KEY, note).await?;
    Ok(Redirect::to(&format!("/admin/connections/{id}")).into_response())
}

#[cfg(test)]
mod tests {
    #[test]
    fn consent_url_is_encoded() {
        let url = super::consent_url(
            "http://e/",
            "contoso.test",
            "abc",
            "http://t/admin/connections/consent/callback",
            "s t",
        );
        assert_eq!(
            url,
            "http://e/contoso.test/adminconsent?client_id=abc&redirect_uri=http%3A%2F%2Ft%2Fadmin%2Fconnections%2Fconsent%2Fcallback&state=s+t"
        );
    }
}
