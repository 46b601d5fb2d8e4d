//! The home page and the health check.
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use sea_orm::DatabaseConnection;

use super::error::AppError;
use super::session::CurrentUser;
use super::views::{render, Layout};
use super::AppState;
use crate::db::{self, mail_accounts, organizations, users};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/healthz", get(healthz))
}

#[derive(Template)]
#[template(path = "home/index.html")]
struct HomePage {
    layout: Layout,
    organization: String,
    mailboxes: usize,
}

async fn home(
    State(db): State<DatabaseConnection>,
    user: Result<CurrentUser, AppError>,
) -> Result<Response, AppError> {
    let user = match user {
        Ok(user) => user,
        Err(AppError::SignInRequired { htmx }) => {
            if !htmx && users::count_all(&db).await? == 0 {
                return Ok(Redirect::to("/setup").into_response());
            }
            return Err(AppError::SignInRequired { htmx });
        }
        Err(other) => return Err(other),
    };
    let organization = organizations::find(&db, user.organization_id)
        .await?
        .map(|o| o.name)
        .unwrap_or_default();
    let mailboxes = mail_accounts::list_for_owner(&db, user.organization_id, user.id)
        .await?
        .len();
    let page = HomePage {
        layout: Layout::for_user(&user, "Home", "home"),
        organization,
        mailboxes,
    };
    Ok(render(&page)?.into_response())
}

/// 200 `ok` while the database answers, 503 otherwise.
async fn healthz(State(db): State<DatabaseConnection>) -> (StatusCode, &'static str) {
    if db::ping(&db).await {
        (StatusCode::OK, "ok")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
    }
}
