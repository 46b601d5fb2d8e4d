//! Google: OAuth 2.0 + OpenID endpoints and the Gmail API v1 over the shared store.

pub mod clients;
pub mod gmail;

use axum::Router;

use super::SharedState;

pub fn router() -> Router<SharedState> {
    Router::new().merge(gmail::router())
}
