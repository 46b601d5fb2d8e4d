//! A request runs to its end even when its client goes away.
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::AppError;

/// Run the rest of the stack as a task of its own. A client that disconnects (a closed tab, a
/// proxy's timeout, a load generator stopping) would otherwise cancel the request at whatever
/// await it had reached: a state change could be left half-done, and a transaction abandoned
/// while its `BEGIN` is in flight goes back to the pool still open (sqlx 0.8 counts it only once
/// the server has answered), so the next statements on that connection would run inside it.
pub async fn run_to_completion(req: Request, next: Next) -> Response {
    match tokio::spawn(next.run(req)).await {
        Ok(response) => response,
        Err(e) => AppError::Unexpected(anyhow::anyhow!("request task failed: {e}")).into_response(),
    }
}
