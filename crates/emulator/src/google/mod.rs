//! Google: OAuth 2.0 + `OpenID` endpoints and the Gmail API v1 over the shared store.

/// The client registry moved to the shared core; this path stays for existing callers.
pub use super::clients;
pub mod consent;
pub mod delegation;
pub mod directory;
pub mod discovery;
pub mod error;
pub mod gmail;
pub mod oauth;
pub mod signing;
pub mod token;
pub mod workspace;
pub mod workspace_control;

use axum::Router;

use super::SharedState;

pub fn router() -> Router<SharedState> {
    Router::new()
        .merge(discovery::router())
        .merge(oauth::router())
        .merge(token::router())
        .merge(gmail::router())
        .merge(directory::router())
        .merge(workspace_control::router())
}
