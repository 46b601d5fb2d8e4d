//! Administration of webhooks: the endpoints (create, rotate the secret, enable / disable,
//! delete, send a test event), each endpoint's delivery log, and a notice for the endpoints
//! disabled after failing. A secret is shown once, in the answer to its creation or rotation.
use std::sync::Arc;

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use sea_orm::DatabaseConnection;
use serde::Deserialize;

use super::error::AppError;
use super::session::AdminUser;
use super::views::{render, Layout};
use super::AppState;
use crate::db::entities::webhook_endpoints::Model as Endpoint;
use crate::db::webhooks::{self as store, queue};
use crate::domain::webhooks::{parse_events_column, EventType};
use crate::secrets::KeyRing;
use crate::webhooks::{self, WebhookError};

/// Deliveries the log shows.
const LOG_ROWS: i64 = 50;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/webhooks", get(list).post(create))
        .route("/admin/webhooks/{id}", get(detail))
        .route("/admin/webhooks/{id}/rotate", post(rotate))
        .route("/admin/webhooks/{id}/enabled", post(set_enabled))
        .route("/admin/webhooks/{id}/delete", post(delete))
        .route("/admin/webhooks/{id}/test", post(send_test))
}

/// One endpoint as the pages show it.
pub struct EndpointRow {
    pub id: i64,
    pub url: String,
    pub events: String,
    pub enabled: bool,
    pub failure_streak: i64,
    pub disabled_reason: Option<String>,
}

impl EndpointRow {
    fn new(e: Endpoint) -> Self {
        let events: Vec<&str> = parse_events_column(&e.events)
            .into_iter()
            .map(EventType::as_str)
            .collect();
        Self {
            id: e.id,
            url: e.url,
            events: events.join(", "),
            enabled: e.enabled,
            failure_streak: e.failure_streak,
            disabled_reason: e.disabled_reason,
        }
    }
}

/// A secret to show once, with the endpoint it belongs to.
pub struct Revealed {
    pub url: String,
    pub secret: String,
}

#[derive(Template)]
#[template(path = "admin/webhooks.html")]
struct WebhooksPage {
    layout: Layout,
    endpoints: Vec<EndpointRow>,
    choices: Vec<&'static str>,
    revealed: Option<Revealed>,
    error: Option<String>,
    form_url: String,
}

pub struct LogRow {
    pub msg_id: String,
    pub event_type: String,
    pub state: String,
    pub attempts: i64,
    pub status: String,
    pub response: String,
    pub next_attempt: String,
    pub created: String,
}

#[derive(Template)]
#[template(path = "admin/webhook.html")]
struct WebhookPage {
    layout: Layout,
    endpoint: EndpointRow,
    log: Vec<LogRow>,
    notice: Option<String>,
}

async fn page(
    db: &DatabaseConnection,
    admin: &AdminUser,
    revealed: Option<Revealed>,
    error: Option<String>,
    form_url: String,
) -> Result<WebhooksPage, AppError> {
    let me = &admin.0;
    let endpoints = store::list(db, me.organization_id).await?;
    Ok(WebhooksPage {
        layout: Layout::for_user(me, "Webhooks", "webhooks"),
        endpoints: endpoints.into_iter().map(EndpointRow::new).collect(),
        choices: EventType::SUBSCRIBABLE.iter().map(|e| e.as_str()).collect(),
        revealed,
        error,
        form_url,
    })
}

async fn list(
    State(db): State<DatabaseConnection>,
    admin: AdminUser,
) -> Result<Response, AppError> {
    Ok(render(&page(&db, &admin, None, None, String::new()).await?)?.into_response())
}

/// The form's fields; `event` repeats, one per box ticked.
fn form_fields(body: &[u8]) -> (String, Vec<String>) {
    let mut url = String::new();
    let mut events = Vec::new();
    for (k, v) in url::form_urlencoded::parse(body) {
        match k.as_ref() {
            "url" => url = v.into_owned(),
            "event" => events.push(v.into_owned()),
            _ => {}
        }
    }
    (url, events)
}

async fn create(
    State(db): State<DatabaseConnection>,
    State(keys): State<Arc<KeyRing>>,
    admin: AdminUser,
    body: Bytes,
) -> Result<Response, AppError> {
    let me = &admin.0;
    let (url, names) = form_fields(&body);
    let created = match webhooks::parse_events(&names) {
        Ok(events) => webhooks::create(&db, &keys, me.organization_id, me.id, &url, &events).await,
        Err(e) => Err(e),
    };
    match created {
        Ok((endpoint, secret)) => {
            let revealed = Revealed {
                url: endpoint.url,
                secret,
            };
            let page = page(&db, &admin, Some(revealed), None, String::new()).await?;
            Ok((StatusCode::CREATED, render(&page)?).into_response())
        }
        Err(e @ (WebhookError::Url(_) | WebhookError::NoEvents)) => {
            let page = page(&db, &admin, None, Some(e.to_string()), url).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
        }
        Err(e) => Err(unexpected(e)),
    }
}

fn unexpected(e: WebhookError) -> AppError {
    match e {
        WebhookError::NotFound => AppError::NotFound,
        e => AppError::Unexpected(e.into()),
    }
}

async fn detail(
    State(db): State<DatabaseConnection>,
    admin: AdminUser,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    Ok(render(&detail_page(&db, &admin, id, None).await?)?.into_response())
}

async fn detail_page(
    db: &DatabaseConnection,
    admin: &AdminUser,
    id: i64,
    notice: Option<String>,
) -> Result<WebhookPage, AppError> {
    let me = &admin.0;
    let endpoint = store::get(db, me.organization_id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let log = queue::log(db, me.organization_id, id, LOG_ROWS).await?;
    let time = |t: chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%d %H:%M:%S UTC").to_string();
    Ok(WebhookPage {
        layout: Layout::for_user(me, "Webhook deliveries", "webhooks"),
        endpoint: EndpointRow::new(endpoint),
        log: log
            .into_iter()
            .map(|r| LogRow {
                next_attempt: if r.state == "pending" {
                    time(r.next_attempt_at)
                } else {
                    String::new()
                },
                created: time(r.created_at),
                msg_id: r.msg_id,
                event_type: r.event_type,
                state: r.state,
                attempts: r.attempts,
                status: r.last_status.map_or_else(|| "-".into(), |s| s.to_string()),
                response: r.last_response.unwrap_or_default(),
            })
            .collect(),
        notice,
    })
}

async fn rotate(
    State(db): State<DatabaseConnection>,
    State(keys): State<Arc<KeyRing>>,
    admin: AdminUser,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let me = &admin.0;
    let secret = webhooks::rotate(&db, &keys, me.organization_id, me.id, id)
        .await
        .map_err(unexpected)?;
    let url = store::get(&db, me.organization_id, id)
        .await?
        .map(|e| e.url)
        .unwrap_or_default();
    let page = page(
        &db,
        &admin,
        Some(Revealed { url, secret }),
        None,
        String::new(),
    )
    .await?;
    Ok(render(&page)?.into_response())
}

#[derive(Debug, Deserialize)]
struct EnabledForm {
    enabled: bool,
}

async fn set_enabled(
    State(db): State<DatabaseConnection>,
    admin: AdminUser,
    Path(id): Path<i64>,
    Form(form): Form<EnabledForm>,
) -> Result<Response, AppError> {
    let me = &admin.0;
    if !store::set_enabled(&db, me.organization_id, me.id, id, form.enabled).await? {
        return Err(AppError::NotFound);
    }
    Ok(Redirect::to("/admin/webhooks").into_response())
}

async fn delete(
    State(db): State<DatabaseConnection>,
    admin: AdminUser,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let me = &admin.0;
    if !store::delete(&db, me.organization_id, me.id, id).await? {
        return Err(AppError::NotFound);
    }
    Ok(Redirect::to("/admin/webhooks").into_response())
}

async fn send_test(
    State(db): State<DatabaseConnection>,
    admin: AdminUser,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let me = &admin.0;
    let msg_id = webhooks::send_test(&db, me.organization_id, me.id, id)
        .await
        .map_err(unexpected)?;
    let notice = format!("Test event {msg_id} queued; it appears below once sent.");
    Ok(render(&detail_page(&db, &admin, id, Some(notice)).await?)?.into_response())
}
