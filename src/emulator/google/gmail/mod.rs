//! Gmail API v1 under `/gmail/v1/users/{userId}/...` and `/batch/gmail/v1`.

pub mod watch;

use axum::Router;

use crate::emulator::SharedState;

pub fn router() -> Router<SharedState> {
    Router::new()
}
