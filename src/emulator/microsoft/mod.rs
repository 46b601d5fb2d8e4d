//! Microsoft identity platform v2.0 + Graph v1.0 mail views over the shared store (built by
//! the Microsoft engineer on top of the core; see `store`, `changes`, `tokens`, `gate`).

use axum::Router;

use super::SharedState;

/// Routes under `/{tenant}/oauth2/v2.0/...`, `/{tenant}/v2.0/...` and `/v1.0/...`.
pub fn router() -> Router<SharedState> {
    Router::new()
}
