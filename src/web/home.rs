//! The home page (what needs attention: mailboxes to reconnect, unmatched correspondents;
//! recent threads on the reader's businesses) and the health check.
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;

use super::error::AppError;
use super::session::CurrentUser;
use super::views::{render, Layout};
use super::AppState;
use crate::db::directory::{correspondents, recent};
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
    /// The reader's mailboxes to reconnect: `(id, provider label, address)`.
    reconnect: Vec<(i64, &'static str, String)>,
    /// Unmatched correspondents in the reader's sight, newest first.
    unmatched: Vec<UnmatchedView>,
    threads: Vec<ThreadView>,
}

/// An unmatched correspondent as the home page lists them.
struct UnmatchedView {
    name: String,
    address: String,
    emails: u64,
    subject: String,
    when: String,
}

/// A recent thread on one of the reader's businesses.
struct ThreadView {
    email_id: i64,
    subject: String,
    when: String,
    business_id: i64,
    business: String,
}

/// Threads and correspondents the home page shows at most.
const RECENT: usize = 10;
const UNMATCHED: usize = 5;

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
    let layout = Layout::for_user(&user, "Home", "home");
    let page = HomePage {
        reconnect: layout.reconnect.clone(),
        unmatched: unmatched(&db, &user).await?,
        threads: recent::threads(&db, user.organization_id, user.id, RECENT)
            .await?
            .into_iter()
            .map(|t| ThreadView {
                email_id: t.email_id,
                subject: t.subject,
                when: when(t.at),
                business_id: t.business_id,
                business: t.business,
            })
            .collect(),
        layout,
        organization,
        mailboxes,
    };
    Ok(render(&page)?.into_response())
}

fn when(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M").to_string()
}

/// The first few correspondents of the reader's Unmatched mail page.
async fn unmatched(
    db: &DatabaseConnection,
    user: &CurrentUser,
) -> Result<Vec<UnmatchedView>, AppError> {
    let who = super::unmatched::triager(user);
    let (groups, _) = correspondents::page(db, user.organization_id, who, None, UNMATCHED).await?;
    Ok(groups
        .into_iter()
        .flat_map(|g| g.people)
        .take(UNMATCHED)
        .map(|c| UnmatchedView {
            name: c.name,
            address: c.address.to_string(),
            emails: c.emails,
            subject: c.latest_subject,
            when: when(c.latest_at),
        })
        .collect())
}

/// 200 `ok` while the database answers, 503 otherwise.
async fn healthz(State(db): State<DatabaseConnection>) -> (StatusCode, &'static str) {
    if db::ping(&db).await {
        (StatusCode::OK, "ok")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
    }
}
