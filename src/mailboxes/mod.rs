//! Linked mailboxes: linking through OAuth, tokens at rest and their refresh, disconnecting,
//! and key rotation. Shared by the web pages, the CLI and (later) the sync engine.
pub mod credentials;
pub mod disconnect;
pub mod keys;
pub mod link;

use std::sync::Arc;

use axum::extract::FromRef;
use sea_orm::DatabaseConnection;

use crate::providers::Providers;
use crate::secrets::KeyRing;
use crate::web::AppState;

/// What mailbox operations need: the database, the key ring and the provider clients.
#[derive(Clone)]
pub struct MailDeps {
    pub db: DatabaseConnection,
    pub keys: Arc<KeyRing>,
    pub providers: Arc<Providers>,
}

impl FromRef<AppState> for MailDeps {
    fn from_ref(state: &AppState) -> Self {
        Self {
            db: state.db.clone(),
            keys: state.keys.clone(),
            providers: state.providers.clone(),
        }
    }
}
