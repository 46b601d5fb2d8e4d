//! Webhooks: admins register endpoints (a URL and the events it wants) and get a secret shown
//! once; events are written to the outbox by the changes that cause them (`db::webhooks`), and
//! [`deliver`] sends them, signed as the Standard Webhooks convention has it, from a durable
//! queue with retries.
pub mod deliver;

use std::sync::Arc;
use std::time::Duration;

use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, TransactionTrait};

use crate::crypto::{self, CryptoError};
use crate::db::entities::webhook_endpoints::Model as Endpoint;
use crate::db::webhooks as store;
use crate::domain::webhooks::{events_column, parse_url, secret_from_bytes, EventType, UrlError};
use crate::secrets::KeyRing;

#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error(transparent)]
    Url(#[from] UrlError),
    #[error("choose at least one event")]
    NoEvents,
    #[error("no such webhook endpoint")]
    NotFound,
    #[error("the endpoint's secret: {0}")]
    Crypto(#[from] CryptoError),
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// What the delivery worker needs.
#[derive(Clone)]
pub struct WebhookDeps {
    pub db: DatabaseConnection,
    pub keys: Arc<KeyRing>,
    pub http: reqwest::Client,
    /// `THREADLINE_WEBHOOK_ALLOW_PRIVATE`: deliveries may reach loopback and private addresses.
    pub allow_private: bool,
}

impl WebhookDeps {
    pub fn new(db: DatabaseConnection, keys: Arc<KeyRing>, allow_private: bool) -> Self {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .connect_timeout(Duration::from_secs(5))
            .user_agent(concat!("threadline-webhooks/", env!("CARGO_PKG_VERSION")))
            .build()
            .unwrap_or_default();
        Self {
            db,
            keys,
            http,
            allow_private,
        }
    }
}

/// Associated data binding a sealed secret to its endpoint.
fn aad(endpoint_id: i64, org_id: i64) -> String {
    format!("webhook_endpoints|secret|{endpoint_id}|{org_id}")
}

/// A fresh secret: `whsec_` and 32 random bytes.
fn new_secret() -> String {
    let bytes: [u8; 32] = rand::random();
    secret_from_bytes(&bytes)
}

/// The endpoint's secret, opened.
pub fn open_secret(
    keys: &KeyRing,
    endpoint_id: i64,
    org_id: i64,
    sealed: &str,
) -> Result<String, CryptoError> {
    let bytes = crypto::open(keys, sealed, &aad(endpoint_id, org_id))?;
    String::from_utf8(bytes).map_err(|_| CryptoError::Malformed)
}

/// The events chosen on the form (names), validated.
pub fn parse_events(names: &[String]) -> Result<Vec<EventType>, WebhookError> {
    let events: Vec<EventType> = names
        .iter()
        .filter_map(|n| n.parse().ok())
        .filter(|e| *e != EventType::Test)
        .collect();
    if events.is_empty() {
        return Err(WebhookError::NoEvents);
    }
    Ok(events)
}

/// Register an endpoint; returns it with its secret (to show once).
pub async fn create<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    keys: &KeyRing,
    org_id: i64,
    actor: i64,
    url: &str,
    events: &[EventType],
) -> Result<(Endpoint, String), WebhookError> {
    let url = parse_url(url)?;
    if events.is_empty() {
        return Err(WebhookError::NoEvents);
    }
    let txn = crate::db::begin_write(db).await?;
    let endpoint = store::insert(&txn, org_id, actor, url.as_str(), &events_column(events)).await?;
    let secret = new_secret();
    let sealed = crypto::seal(keys, secret.as_bytes(), &aad(endpoint.id, org_id))?;
    store::set_secret(&txn, org_id, endpoint.id, sealed).await?;
    txn.commit().await?;
    Ok((endpoint, secret))
}

/// Replace an endpoint's secret; returns the new one (to show once). Deliveries not yet sent
/// are signed with it.
pub async fn rotate<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    keys: &KeyRing,
    org_id: i64,
    actor: i64,
    id: i64,
) -> Result<String, WebhookError> {
    let txn = crate::db::begin_write(db).await?;
    store::get(&txn, org_id, id)
        .await?
        .ok_or(WebhookError::NotFound)?;
    let secret = new_secret();
    let sealed = crypto::seal(keys, secret.as_bytes(), &aad(id, org_id))?;
    store::set_secret(&txn, org_id, id, sealed).await?;
    crate::db::audit::record(
        &txn,
        crate::db::audit::Entry::by_user(
            org_id,
            actor,
            "webhook.rotate",
            "webhook_endpoint",
            id,
            String::new(),
        ),
    )
    .await?;
    txn.commit().await?;
    Ok(secret)
}

/// Queue a `webhook.test` event for one endpoint; returns its message id.
pub async fn send_test(
    db: &impl ConnectionTrait,
    org_id: i64,
    actor: i64,
    id: i64,
) -> Result<String, WebhookError> {
    store::get(db, org_id, id)
        .await?
        .ok_or(WebhookError::NotFound)?;
    Ok(store::outbox::enqueue_test(db, org_id, id, actor).await?)
}
