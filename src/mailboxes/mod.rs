//! Connected mailboxes: connecting through OAuth, tokens at rest and their refresh,
//! organization-wide connections (app-only and domain-wide delegation) and their tokens,
//! disconnecting, pausing, the admin console's sync-now and transfer, and key rotation. Shared by
//! the web pages, the CLI and the sync engine.
pub mod connect;
pub mod connections;
pub mod console;
pub mod credentials;
pub mod disconnect;
pub mod keys;
pub mod pausing;
pub mod push_cleanup;
pub mod settings;

use std::sync::Arc;

use sea_orm::DatabaseConnection;

use crate::config::Settings;
use crate::providers::Providers;
use crate::secrets::KeyRing;

/// What mailbox operations need: the database, the key ring and the provider clients.
#[derive(Clone)]
pub struct MailDeps {
    pub db: DatabaseConnection,
    pub keys: Arc<KeyRing>,
    pub providers: Arc<Providers>,
    /// Where attachment content kept in files lives (`<data dir>/attachments`).
    pub blobs: crate::db::blobs::BlobDir,
}

impl MailDeps {
    /// For commands that work on mailboxes without serving (`threadline sync`): the same
    /// database (migrated), key ring (checked against what is stored) and provider clients
    /// the server would use.
    pub async fn open(settings: &Settings) -> anyhow::Result<Self> {
        let db = crate::db::connect(&settings.database_url).await?;
        crate::db::migrate(&db).await?;
        let keys = KeyRing::load_or_create(settings.secret_key.as_deref(), &settings.data_dir)?;
        keys::check(&db, &keys).await?;
        let providers = Providers::from_settings(settings)?;
        Ok(Self {
            db,
            keys: Arc::new(keys),
            providers: Arc::new(providers),
            blobs: crate::db::blobs::BlobDir::under(&settings.data_dir),
        })
    }
}
