//! `GET /readyz` for load balancers and orchestrators: 200 `ready` while this instance can do
//! its work, else 503 with the failing checks, one a line (`/healthz` says only that the
//! process is alive and its database answers).
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use sea_orm::DatabaseConnection;

use super::AppState;
use crate::lifecycle::{self, Workers};

/// Outside sessions and CSRF: a probe has no cookie and changes nothing.
pub fn router() -> Router<AppState> {
    Router::new().route("/readyz", get(readyz))
}

async fn readyz(
    State(db): State<DatabaseConnection>,
    State(workers): State<Workers>,
) -> (StatusCode, String) {
    let failing = lifecycle::not_ready(&db, &workers).await;
    if failing.is_empty() {
        (StatusCode::OK, "ready".to_string())
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, failing.join("\n"))
    }
}
