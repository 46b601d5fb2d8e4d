//! The web edge: router, extractors, security middleware, and one module per feature.
pub mod account;
pub mod admin;
pub mod admin_mailbox_views;
pub mod admin_mailboxes;
pub mod admin_webhooks;
pub mod assets;
pub mod attachment_settings;
pub mod attachments;
pub mod auth;
pub mod connection_consent;
pub mod connection_rules;
pub mod connection_rules_views;
pub mod connection_views;
pub mod connections;
pub mod csrf;
pub mod detach;
pub mod directory;
pub mod directory_csv;
pub mod directory_views;
pub mod email_actions;
pub mod email_links;
pub mod email_view;
pub mod error;
pub mod exclusions;
pub mod headers;
pub mod home;
pub mod link_targets;
pub mod live;
pub mod live_hub;
pub mod local_path;
pub mod mailbox_sync;
pub mod mailbox_views;
pub mod mailbox_visibility;
pub mod mailbox_write_back;
pub mod mailboxes;
pub mod metrics;
pub mod purge;
pub mod push_gmail;
pub mod push_graph;
pub mod push_views;
pub mod readiness;
pub mod reassociation_views;
pub mod reconciliation_views;
pub mod reference_timeline;
pub mod references;
pub mod session;
pub mod settings;
pub mod timeline;
pub mod timeline_views;
pub mod unmatched;
pub mod views;

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{FromRef, MatchedPath, Request};
use axum::middleware;
use axum::Router;
use sea_orm::DatabaseConnection;
use tower_http::trace::TraceLayer;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};

use crate::config::Settings;
use crate::db::session_store::DbSessionStore;
use crate::mailboxes::MailDeps;
use crate::providers::Providers;
use crate::secrets::KeyRing;

/// Shared by every handler; cheap to clone.
#[derive(Clone, FromRef)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub settings: Arc<Settings>,
    pub keys: Arc<KeyRing>,
    pub providers: Arc<Providers>,
    pub live: live_hub::LiveHub,
    /// This instance's sync workers, as `/readyz` counts them.
    pub workers: crate::lifecycle::Workers,
    /// `/metrics`: the token and this instance's database pools.
    pub scrape: metrics::Scrape,
}

/// Mailbox operations take their slice of the state.
impl FromRef<AppState> for MailDeps {
    fn from_ref(state: &AppState) -> Self {
        Self {
            db: state.db.clone(),
            keys: state.keys.clone(),
            providers: state.providers.clone(),
            blobs: crate::db::blobs::BlobDir::under(&state.settings.data_dir),
        }
    }
}

/// A session is ended after this long without a request.
pub const IDLE_TIMEOUT: time::Duration = time::Duration::days(3);

/// The whole application router with its middleware stack.
pub fn router(state: AppState) -> Router {
    let secure = state.settings.secure_cookies();
    let sessions = SessionManagerLayer::new(DbSessionStore::new(state.db.clone()))
        .with_name(if secure {
            "__Host-threadline"
        } else {
            "threadline"
        })
        .with_secure(secure)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_path("/")
        .with_expiry(Expiry::OnInactivity(IDLE_TIMEOUT));

    Router::new()
        .merge(home::router())
        .merge(auth::router())
        .merge(account::router())
        .merge(mailboxes::router())
        .merge(mailbox_sync::router())
        .merge(mailbox_visibility::router())
        .merge(mailbox_write_back::router())
        .merge(timeline::router())
        .merge(live::router())
        .merge(email_view::router())
        .merge(email_actions::router())
        .merge(attachments::router())
        .merge(purge::router())
        .merge(admin::router())
        .merge(admin_mailboxes::router())
        .merge(admin_webhooks::router())
        .merge(connections::router())
        .merge(connection_consent::router())
        .merge(connection_rules::router())
        .merge(directory::router())
        .merge(directory_csv::router())
        .merge(settings::router())
        .merge(attachment_settings::router())
        .merge(exclusions::router())
        .merge(references::router())
        .merge(reference_timeline::router())
        .merge(unmatched::router())
        .merge(email_links::router())
        .merge(link_targets::router())
        .fallback(error::not_found)
        .layer(middleware::from_fn_with_state(state.clone(), csrf::verify))
        .layer(sessions)
        // Machine webhooks authenticate themselves: no session, no CSRF token.
        .merge(push_graph::router())
        // Provider push endpoints: authenticated by their own means, not sessions or CSRF.
        .merge(push_gmail::router())
        // Probes: no session, no CSRF token.
        .merge(readiness::router())
        // Prometheus scrapes authenticate with their bearer token.
        .merge(metrics::router())
        .layer(middleware::from_fn(detach::run_to_completion))
        .merge(assets::router())
        .layer(middleware::from_fn(error::htmx_fragments))
        .layer(middleware::from_fn_with_state(state.clone(), headers::security))
        .layer(middleware::from_fn(metrics::track))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|req: &Request| {
                    let path = req
                        .extensions()
                        .get::<MatchedPath>()
                        .map_or_else(|| req.uri().path().to_string(), |p| p.as_str().to_string());
                    tracing::info_span!("request", method = %req.method(), path, status = tracing::field::Empty)
                })
                .on_response(
                    |res: &axum::response::Response, latency: Duration, span: &tracing::Span| {
                        span.record("status", res.status().as_u16());
                        tracing::info!(status = res.status().as_u16(), latency_ms = latency.as_millis(), "response");
                    },
                ),
        )
        .with_state(state)
}
