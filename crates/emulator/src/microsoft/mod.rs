//! Microsoft identity platform v2.0 + Graph v1.0 mail views over the shared store: identity
//! (`aad`, `consent`, `token`, `directory`), Graph access (`auth`, `error`, `odata`), the
//! mail views (`view`, `wire`, `users`, `folders`, `messages`, `delta`, `attachments`),
//! `$batch`, and change notifications (`subscriptions`, `notify`).
//!
//! Emulator-only control routes owned here:
//! - `GET|PATCH /_emulator/microsoft/settings`: throttling and subscription-lifetime knobs
//!   (`auth::GraphSettings`).
//! - `POST /_emulator/mailboxes/{address}/lifecycle` `{"event":"reauthorizationRequired"|
//!   "subscriptionRemoved"|"missed","subscription_id"?}`: send a lifecycle notification to the
//!   lifecycleNotificationUrl of the mailbox's subscriptions (all, or the one given);
//!   `subscriptionRemoved` also deletes them.

// Handlers take `Path<HashMap<String, String>>` so one handler serves `/me` and `/users/{user}`.
#![allow(clippy::implicit_hasher)]

pub mod aad;
pub mod admin_consent;
pub mod app_control;
pub mod app_token;
pub mod attachments;
pub mod auth;
pub mod batch;
pub mod consent;
pub mod delta;
pub mod directory;
pub mod error;
pub mod filter;
pub mod folders;
pub mod messages;
pub mod notify;
pub mod odata;
pub mod odata_paths;
pub mod org_groups;
pub mod org_users;
pub mod subscriptions;
pub mod tenant_control;
pub mod tenants;
pub mod token;
pub mod user_filter;
pub mod users;
pub mod view;
pub mod wire;

use axum::routing::{get, post, MethodRouter};
use axum::Router;

use super::SharedState;

type Routes = Router<SharedState>;

/// Register `/v1.0/me{suffix}` and `/v1.0/users/{user}{suffix}` (plus the lowercase
/// `mailfolders` spelling Graph also accepts and uses in its links).
fn both(mut router: Routes, suffix: &str, handler: &MethodRouter<SharedState>) -> Routes {
    let mut suffixes = vec![suffix.to_string()];
    if suffix.contains("mailFolders") {
        suffixes.push(suffix.replace("mailFolders", "mailfolders"));
    }
    for s in suffixes {
        router = router
            .route(&format!("/v1.0/me{s}"), handler.clone())
            .route(&format!("/v1.0/users/{{user}}{s}"), handler.clone());
    }
    router
}

/// Graph routes (`/v1.0/...`), each answering with request ids.
pub fn graph_router() -> Routes {
    let mut r = Router::new()
        .route("/v1.0/me", get(users::me))
        .route("/v1.0/users", get(users::list))
        .route("/v1.0/users/$count", get(users::count))
        .route("/v1.0/users/{user}", get(users::get))
        .route("/v1.0/groups", get(users::groups))
        .route("/v1.0/groups/{group}", get(users::group))
        .route("/v1.0/groups/{group}/members", get(users::group))
        .route(
            "/v1.0/groups/{group}/members/microsoft.graph.user",
            get(users::group),
        )
        .route("/v1.0/$batch", post(batch::batch))
        .route(
            "/v1.0/subscriptions",
            post(subscriptions::create).get(subscriptions::list),
        )
        .route(
            "/v1.0/subscriptions/{id}/reauthorize",
            post(subscriptions::reauthorize),
        )
        .route(
            "/v1.0/subscriptions/{id}",
            get(subscriptions::get)
                .patch(subscriptions::renew)
                .delete(subscriptions::delete),
        );
    let routes: [(&str, MethodRouter<SharedState>); 12] = [
        ("/mailFolders", get(folders::list)),
        ("/mailFolders/{folder}", get(folders::get)),
        ("/mailFolders/{folder}/childFolders", get(folders::list)),
        ("/messages", get(messages::list)),
        ("/messages/{id}", get(messages::get).patch(messages::patch)),
        ("/messages/{id}/$value", get(messages::value)),
        ("/messages/{id}/attachments", get(attachments::list)),
        (
            "/messages/{id}/attachments/{attachment}",
            get(attachments::get),
        ),
        (
            "/messages/{id}/attachments/{attachment}/$value",
            get(attachments::value),
        ),
        ("/mailFolders/{folder}/messages", get(messages::list)),
        (
            "/mailFolders/{folder}/messages/{id}",
            get(messages::get).patch(messages::patch),
        ),
        ("/mailFolders/{folder}/messages/delta", get(delta::delta)),
    ];
    for (suffix, handler) in &routes {
        r = both(r, suffix, handler);
    }
    r.route_layer(axum::middleware::from_fn(error::with_request_ids))
}

/// Routes under `/{tenant}/oauth2/v2.0/...`, `/{tenant}/v2.0/...` and `/v1.0/...`, plus the
/// Microsoft control routes.
pub fn router() -> Routes {
    Router::new()
        .route(
            "/{tenant}/oauth2/v2.0/authorize",
            get(consent::authorize_get).post(consent::authorize_post),
        )
        .route("/{tenant}/oauth2/v2.0/token", post(token::token))
        .route(
            "/{tenant}/adminconsent",
            get(admin_consent::get).post(admin_consent::post),
        )
        .route(
            "/{tenant}/v2.0/adminconsent",
            get(admin_consent::get).post(admin_consent::post),
        )
        .route(
            "/{tenant}/v2.0/.well-known/openid-configuration",
            get(token::openid_configuration),
        )
        .route(
            "/_emulator/microsoft/settings",
            get(subscriptions::get_settings).patch(subscriptions::patch_settings),
        )
        .route(
            "/_emulator/mailboxes/{address}/lifecycle",
            post(notify::lifecycle),
        )
        .merge(tenant_control::router())
        .merge(graph_router())
}
