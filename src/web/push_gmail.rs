//! `POST /push/gmail`: Gmail's notifications through a Pub/Sub push subscription (issue 22).
//! Outside sessions and CSRF: the request is authenticated by its own means, the Google-signed
//! ID token Pub/Sub sends when the subscription has authentication, checked before anything
//! in the body is trusted (`providers::pubsub`). A refused token is 401 and wakes nothing. An
//! accepted notification is recorded and wakes the mailbox's next pass
//! (`sync::push::gmail_notice`), answered 204 at once; a body that is not a Gmail notification
//! is acknowledged too (with a warning), as Pub/Sub would otherwise redeliver it for days.
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use sea_orm::DatabaseConnection;

use super::AppState;
use crate::config_push::GMAIL_PATH;
use crate::providers::pubsub::{self, Expected, PushAuthError};
use crate::providers::Providers;
use crate::sync::push::gmail_notice;

/// Pub/Sub push bodies are small (a Gmail notification is under 1 KiB).
const MAX_BODY: usize = 64 * 1024;

pub fn router() -> Router<AppState> {
    Router::new().route(
        GMAIL_PATH,
        post(receive).layer(DefaultBodyLimit::max(MAX_BODY)),
    )
}

async fn receive(
    State(db): State<DatabaseConnection>,
    State(providers): State<Arc<Providers>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Ok(config) = providers.push.gmail(&providers.base_url) else {
        return (StatusCode::NOT_FOUND, "Gmail push is not configured").into_response();
    };
    let expected = Expected {
        audience: &config.audience,
        service_account: &config.service_account,
    };
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let checked = match pubsub::bearer(authorization) {
        Ok(token) => {
            let certs = &providers.google_certs;
            let url = &providers.push.certs_url;
            pubsub::verify(&providers.http, certs, url, token, expected).await
        }
        Err(e) => Err(e),
    };
    match checked {
        Ok(()) => {}
        Err(e @ PushAuthError::KeysUnavailable(_)) => {
            tracing::warn!(error = %e, "gmail push not checked; Pub/Sub will redeliver it");
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
        Err(e) => {
            tracing::warn!(error = %e, "gmail push refused");
            return (
                StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, "Bearer")],
            )
                .into_response();
        }
    }
    let Some(notice) = gmail_notice::parse(&body) else {
        tracing::warn!(
            bytes = body.len(),
            "gmail push is not a Gmail notification; acknowledged"
        );
        return StatusCode::NO_CONTENT.into_response();
    };
    match gmail_notice::received(&db, &notice).await {
        Ok(received) => {
            tracing::debug!(
                history_id = notice.history_id,
                mailboxes = received.mailboxes,
                woken = received.woken,
                "gmail push received"
            );
            StatusCode::NO_CONTENT.into_response()
        }
        Err(e) => {
            tracing::error!(error = %e, "gmail push could not be recorded; Pub/Sub will redeliver it");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}
