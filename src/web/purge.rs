//! Admins delete an email or a whole thread for good, after a confirmation page; members get
//! 403. The data work and the audit entry are in `db::purge`.
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};
use serde::Deserialize;

use super::error::AppError;
use super::session::AdminUser;
use super::views::{render, Layout};
use super::AppState;
use crate::db::entities::emails;
use crate::db::{begin_write, email_view, purge};
use crate::mailboxes::MailDeps;

pub fn router() -> Router<AppState> {
    Router::new().route("/emails/{id}/purge", get(confirm).post(apply))
}

#[derive(Debug, Default, Deserialize)]
struct Scope {
    #[serde(default)]
    scope: String,
}

impl Scope {
    fn thread(&self) -> Result<bool, AppError> {
        match self.scope.as_str() {
            "" | "email" => Ok(false),
            "thread" => Ok(true),
            _ => Err(AppError::Invalid("scope must be email or thread".into())),
        }
    }
}

#[derive(Template)]
#[template(path = "emails/purge.html")]
struct ConfirmPage {
    layout: Layout,
    id: i64,
    subject: String,
    thread: bool,
    messages: u64,
    copies: u64,
}

/// Any email of the admin's organization (admins may purge what they cannot read).
async fn email(deps: &MailDeps, org: i64, id: i64) -> Result<emails::Model, AppError> {
    purge::email_in_org(&deps.db, org, id)
        .await?
        .ok_or(AppError::NotFound)
}

async fn confirm(
    State(deps): State<MailDeps>,
    AdminUser(user): AdminUser,
    Path(id): Path<i64>,
    Query(scope): Query<Scope>,
) -> Result<Response, AppError> {
    let e = email(&deps, user.organization_id, id).await?;
    let thread = scope.thread()?;
    let reach = purge::reach(&deps.db, user.organization_id, &e, thread).await?;
    // Admins manage mail they may not read: the subject only at a level that shows it.
    let level = email_view::visible_email_at(&deps.db, user.organization_id, user.id, id)
        .await?
        .map(|(_, _, l)| l);
    let page = ConfirmPage {
        layout: Layout::for_user(&user, "Delete for good", ""),
        id,
        subject: if !level.is_some_and(crate::domain::visibility::Level::shows_subject) {
            super::timeline_views::NOT_SHARED_SUBJECT.into()
        } else if e.subject.is_empty() {
            "(no subject)".into()
        } else {
            e.subject
        },
        thread,
        messages: reach.messages,
        copies: reach.copies,
    };
    Ok(render(&page)?.into_response())
}

async fn apply(
    State(deps): State<MailDeps>,
    AdminUser(user): AdminUser,
    Path(id): Path<i64>,
    Form(scope): Form<Scope>,
) -> Result<Response, AppError> {
    let e = email(&deps, user.organization_id, id).await?;
    let thread = scope.thread()?;
    let txn = begin_write(&deps.db).await?;
    if thread {
        purge::purge_thread(&txn, user.organization_id, user.id, &e).await?;
    } else {
        purge::purge_email(&txn, user.organization_id, user.id, &e).await?;
    }
    txn.commit().await?;
    // Stored attachment content no email uses any more goes with them.
    crate::db::blobs::sweep_quietly(&deps.db, &deps.blobs).await;
    Ok(Redirect::to("/").into_response())
}
