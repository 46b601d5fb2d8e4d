//! Live pages: an open timeline (business, contact, my mail) listens to a stream of server-sent
//! events for the reader's organization and, on each, asks which of its threads changed since
//! its cursor (`static/live.js` merges them without moving what the reader looks at). Both are
//! plain GETs behind the session, like any page; neither changes anything.
use std::convert::Infallible;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use chrono::{TimeZone, Utc};
use futures_util::stream;
use sea_orm::DatabaseConnection;
use serde::Deserialize;
use tokio::sync::broadcast::error::RecvError;

use super::error::AppError;
use super::live_hub::{LiveHub, Subscription};
use super::session::CurrentUser;
use super::timeline::{base_of, reader};
use super::timeline_views::{live_id, ThreadRow, TimelineQuery};
use super::views::render;
use super::AppState;
use crate::db;
use crate::db::timeline::{self, Scope};

/// Changes are re-read this far before the page's cursor: a change stamped before the cursor
/// but committed after it is still seen (re-sending a thread is harmless).
const OVERLAP: chrono::Duration = chrono::Duration::seconds(30);
/// Changed threads read per request (the newest changed first).
const LIMIT: usize = 200;
/// A stream ends after this long; the browser reconnects at once, which checks the session
/// again (a signed-out or removed user's stream does not outlive it by more than this).
const LIFETIME: std::time::Duration = std::time::Duration::from_secs(15 * 60);

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/live/events", get(events))
        .route("/mail/threads/changes", get(mail_changes))
        .route("/businesses/{id}/threads/changes", get(business_changes))
        .route("/contacts/{id}/threads/changes", get(contact_changes))
}

/// `?live=<cursor>`: the time (ms) a page's threads were read at.
#[derive(Debug, Default, Deserialize)]
pub struct LiveCursor {
    #[serde(default)]
    pub live: String,
}

/// The page's cursor for threads read now.
pub fn cursor_now() -> String {
    Utc::now().timestamp_millis().to_string()
}

/// `change` events for the reader's organization, with keep-alive comments.
async fn events(State(hub): State<LiveHub>, user: CurrentUser) -> Response {
    let session = user
        .session
        .id()
        .map_or_else(|| format!("user {}", user.id), |id| id.to_string());
    let Some(sub) = hub.subscribe(session) else {
        return (
            StatusCode::TOO_MANY_REQUESTS,
            "Too many live pages are open in this session.",
        )
            .into_response();
    };
    let org = user.organization_id;
    let end = tokio::time::Instant::now() + LIFETIME;
    let events = stream::unfold(sub, move |mut sub: Subscription| async move {
        loop {
            let got = tokio::select! {
                got = sub.rx.recv() => got,
                () = sub.closing.cancelled() => return None,
                () = tokio::time::sleep_until(end) => return None,
            };
            let seq = match got {
                Ok(change) if change.organization_id == org => change.seq.to_string(),
                Ok(_) => continue,
                // Missed some: one event says it all (the page asks what changed).
                Err(RecvError::Lagged(_)) => "lagged".to_string(),
                Err(RecvError::Closed) => return None,
            };
            let event = Event::default().event("change").data(seq);
            return Some((Ok::<_, Infallible>(event), sub));
        }
    });
    // A proxy must pass each event on at once (nginx buffers responses otherwise).
    let unbuffered = [("X-Accel-Buffering", "no")];
    (
        unbuffered,
        Sse::new(events).keep_alive(KeepAlive::default()),
    )
        .into_response()
}

#[derive(Template)]
#[template(path = "timeline/_changes.html")]
struct Changes {
    cursor: String,
    threads: Vec<ThreadRow>,
    gone: Vec<String>,
}

/// The threads of `scope` changed since the page's cursor, under its filters.
async fn changes(
    db: &DatabaseConnection,
    user: &CurrentUser,
    scope: Scope,
    query: &TimelineQuery,
    cursor: &LiveCursor,
) -> Result<Response, AppError> {
    let now = cursor_now();
    let since = cursor
        .live
        .parse::<i64>()
        .ok()
        .and_then(|ms| Utc.timestamp_millis_opt(ms).single())
        .ok_or_else(|| AppError::Invalid("live: not a cursor".into()))?
        - OVERLAP;
    let reader = reader(user);
    let read = db::begin_read(db).await?;
    let ctx = timeline::context(&read, reader, scope).await?;
    if !ctx.scope_exists {
        return Err(AppError::NotFound);
    }
    let (filters, _) = query.filters();
    let changed = timeline::changed(&read, ctx, reader, scope, &filters, since, LIMIT).await?;
    read.commit().await?;
    let base = base_of(scope);
    let at = Utc::now();
    Ok(render(&Changes {
        cursor: now,
        threads: changed
            .threads
            .into_iter()
            .map(|t| ThreadRow::new(t, &base, at))
            .collect(),
        gone: changed.gone.iter().map(|k| live_id(k)).collect(),
    })?
    .into_response())
}

async fn mail_changes(
    State(db): State<DatabaseConnection>,
    user: CurrentUser,
    Query(query): Query<TimelineQuery>,
    Query(cursor): Query<LiveCursor>,
) -> Result<Response, AppError> {
    changes(&db, &user, Scope::Mine, &query, &cursor).await
}

async fn business_changes(
    State(db): State<DatabaseConnection>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Query(query): Query<TimelineQuery>,
    Query(cursor): Query<LiveCursor>,
) -> Result<Response, AppError> {
    changes(&db, &user, Scope::Business(id), &query, &cursor).await
}

async fn contact_changes(
    State(db): State<DatabaseConnection>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Query(query): Query<TimelineQuery>,
    Query(cursor): Query<LiveCursor>,
) -> Result<Response, AppError> {
    changes(&db, &user, Scope::Contact(id), &query, &cursor).await
}
