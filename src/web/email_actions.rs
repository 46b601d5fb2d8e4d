//! Reader actions on an email, each a POST (CSRF-checked) that works as a plain form (303 back
//! to the email) and with htmx (the action bar is re-rendered in place): read / unread and
//! star / unstar for the reader alone, soft delete / restore for the organization. Plus the
//! Deleted view that lists what was soft-deleted, with Restore.
use askama::Template;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;

use super::error::AppError;
use super::session::CurrentUser;
use super::views::{render, Layout};
use super::AppState;
use crate::db::email_actions::{self, Mark};
use crate::db::entities::emails;
use crate::db::{email_view, write_back};
use crate::mailboxes::MailDeps;

const DELETED_SHOWN: u64 = 200;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/emails/{id}/read", post(toggle::<READ>))
        .route("/emails/{id}/star", post(toggle::<STAR>))
        .route("/emails/{id}/delete", post(soft_delete::<true>))
        .route("/emails/{id}/restore", post(soft_delete::<false>))
        .route("/deleted", get(deleted))
}

/// The action bar of the email page.
#[derive(Debug, Clone)]
pub struct ActionsView {
    pub id: i64,
    pub read: bool,
    pub starred: bool,
    pub deleted: bool,
    pub csrf: String,
}

#[derive(Template)]
#[template(path = "emails/_actions.html")]
struct ActionsFragment {
    a: ActionsView,
}

#[derive(Debug, Deserialize)]
struct Toggle {
    value: String,
}

impl Toggle {
    fn on(&self) -> Result<bool, AppError> {
        match self.value.as_str() {
            "on" => Ok(true),
            "off" => Ok(false),
            _ => Err(AppError::Invalid("value must be on or off".into())),
        }
    }
}

/// The action bar's state for `user` on the email.
pub async fn actions_view(
    deps: &MailDeps,
    user: &CurrentUser,
    email: &emails::Model,
) -> Result<ActionsView, AppError> {
    let marks = email_actions::marks(&deps.db, user.id, &email.message_key).await?;
    Ok(ActionsView {
        id: email.id,
        read: marks.read,
        starred: marks.starred,
        deleted: email.soft_deleted_at.is_some(),
        csrf: user.csrf.clone(),
    })
}

async fn visible(deps: &MailDeps, user: &CurrentUser, id: i64) -> Result<emails::Model, AppError> {
    email_view::visible_email(&deps.db, user.organization_id, user.id, id)
        .await?
        .map(|(email, _)| email)
        .ok_or(AppError::NotFound)
}

/// The re-rendered action bar for htmx, else back to the email.
async fn respond(
    deps: &MailDeps,
    user: &CurrentUser,
    headers: &HeaderMap,
    id: i64,
) -> Result<Response, AppError> {
    if headers.contains_key("hx-request") {
        let email = visible(deps, user, id).await?;
        let fragment = ActionsFragment {
            a: actions_view(deps, user, &email).await?,
        };
        return Ok(render(&fragment)?.into_response());
    }
    Ok(Redirect::to(&format!("/emails/{id}")).into_response())
}

/// Which mark a toggle route sets (`Mark` as a const parameter of [`toggle`]).
const READ: u8 = 0;
const STAR: u8 = 1;

/// Read / unread (`READ`) or star / unstar (`STAR`), for the reader alone.
async fn toggle<const WHICH: u8>(
    State(deps): State<MailDeps>,
    user: CurrentUser,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(form): Form<Toggle>,
) -> Result<Response, AppError> {
    let which = if WHICH == STAR {
        Mark::Starred
    } else {
        Mark::Read
    };
    let on = form.on()?;
    let email = visible(&deps, &user, id).await?;
    let (org, key) = (user.organization_id, email.message_key.as_str());
    let txn = crate::db::begin_write(&deps.db).await?;
    email_actions::set_mark(&txn, org, user.id, key, which, on).await?;
    // The reader's own mailboxes that write back get the change too (through the outbox).
    let queued = write_back::queue_mark(&txn, org, user.id, key, which, on).await?;
    txn.commit().await?;
    if queued > 0 {
        crate::sync::wake::announce(&deps.db).await;
    }
    respond(&deps, &user, &headers, id).await
}

/// Soft delete (`DELETE` true) or restore, for the whole organization.
async fn soft_delete<const DELETE: bool>(
    State(deps): State<MailDeps>,
    user: CurrentUser,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let email = visible(&deps, &user, id).await?;
    email_actions::set_deleted(&deps.db, user.organization_id, user.id, &email, DELETE).await?;
    respond(&deps, &user, &headers, id).await
}

struct DeletedRow {
    id: i64,
    subject: String,
    from: String,
    deleted_at: String,
}

#[derive(Template)]
#[template(path = "emails/deleted.html")]
struct DeletedPage {
    layout: Layout,
    rows: Vec<DeletedRow>,
    csrf: String,
}

/// Soft-deleted messages the reader may see, newest deletion first, one row per message.
async fn deleted(State(deps): State<MailDeps>, user: CurrentUser) -> Result<Response, AppError> {
    let rows = email_actions::deleted(&deps.db, user.organization_id, user.id, DELETED_SHOWN)
        .await?
        .into_iter()
        .map(|e| DeletedRow {
            id: e.id,
            subject: match e.subject {
                None => super::timeline_views::NOT_SHARED_SUBJECT.into(),
                Some(s) if s.is_empty() => "(no subject)".into(),
                Some(s) => s,
            },
            from: e.from,
            deleted_at: e
                .deleted_at
                .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
                .unwrap_or_default(),
        })
        .collect();
    let page = DeletedPage {
        layout: Layout::for_user(&user, "Deleted", "deleted"),
        rows,
        csrf: user.csrf.clone(),
    };
    Ok(render(&page)?.into_response())
}
