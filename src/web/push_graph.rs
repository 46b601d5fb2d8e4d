//! Microsoft Graph's calls (§D.10): the notification and lifecycle endpoints under the public
//! URL. Graph is the caller, so there is no session or CSRF token: a validation request
//! (`?validationToken=`) is echoed decoded as text/plain, anything else is a batch whose items
//! authenticate by their `clientState` ([`graph_notifications::receive`]). Well-formed batches
//! get 202 whatever they named, so nobody learns which subscriptions exist.
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use sea_orm::DatabaseConnection;
use serde::Deserialize;

use super::AppState;
use crate::config_push::{GRAPH_LIFECYCLE_PATH, GRAPH_PATH};
use crate::sync::push::graph_notifications::{self, Batch};

/// Largest notification body read (Graph's batches are far smaller).
const BODY_LIMIT: usize = 2 * 1024 * 1024;
/// Graph counts answers slower than about 2.9 s against the endpoint.
const ANSWER_WITHIN: std::time::Duration = std::time::Duration::from_millis(2_500);

pub fn router() -> Router<AppState> {
    Router::new()
        .route(GRAPH_PATH, post(notify))
        .route(GRAPH_LIFECYCLE_PATH, post(notify))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
}

#[derive(Deserialize)]
struct Validation {
    #[serde(rename = "validationToken")]
    validation_token: Option<String>,
}

async fn notify(
    State(db): State<DatabaseConnection>,
    Query(q): Query<Validation>,
    body: Bytes,
) -> Response {
    if let Some(token) = q.validation_token {
        return ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], token).into_response();
    }
    let Ok(batch) = serde_json::from_slice::<Batch>(&body) else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    // Graph wants its answer within 3 s: recording goes on in the background past that (a
    // busy SQLite writer), and the answer does not wait for it.
    let recording = tokio::spawn(async move { graph_notifications::receive(&db, &batch).await });
    match tokio::time::timeout(ANSWER_WITHIN, recording).await {
        Ok(Ok(Ok(received))) => {
            tracing::debug!(?received, "Graph notifications received");
            StatusCode::ACCEPTED.into_response()
        }
        Err(_) => {
            tracing::info!("Graph notifications still being recorded; answered 202");
            StatusCode::ACCEPTED.into_response()
        }
        // Not recorded: Graph delivers them again later.
        Ok(Ok(Err(e))) => {
            tracing::error!(error = %e, "could not record Graph notifications");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
        Ok(Err(e)) => {
            tracing::error!(error = %e, "recording Graph notifications failed");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}
