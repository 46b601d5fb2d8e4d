//! Linking an email (or its whole thread) to a business or contact by hand, and unlinking.
//! Both answer with a redirect back to the page the form was on.
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use axum::{Form, Router};
use sea_orm::DatabaseConnection;
use serde::Deserialize;

use super::error::AppError;
use super::session::CurrentUser;
use super::AppState;
use crate::db::links::manual::{self, LinkError, Scope};
use crate::domain::association::Target;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/emails/{id}/links", post(link))
        .route("/emails/{id}/links/{link_id}/delete", post(unlink))
}

#[derive(Debug, Deserialize)]
struct LinkForm {
    /// `business:ID` or `contact:ID`.
    target: String,
    /// `email` (default) or `thread`.
    #[serde(default)]
    scope: String,
    #[serde(default)]
    back: String,
}

#[derive(Debug, Deserialize)]
struct UnlinkForm {
    #[serde(default)]
    back: String,
}

fn parse_target(s: &str) -> Option<Target> {
    let (kind, id) = s.split_once(':')?;
    let id = id.trim().parse().ok()?;
    match kind.trim() {
        "business" => Some(Target::Business(id)),
        "contact" => Some(Target::Contact(id)),
        _ => None,
    }
}

fn page_of(target: Target) -> String {
    match target {
        Target::Business(id) => format!("/businesses/{id}"),
        Target::Contact(id) => format!("/contacts/{id}"),
    }
}

/// A local path to return to (never another site), else the target's page.
fn back_or(back: &str, target: Target) -> String {
    let local = back.starts_with('/') && !back.starts_with("//") && !back.contains('\\');
    if local {
        back.to_string()
    } else {
        page_of(target)
    }
}

impl From<LinkError> for AppError {
    fn from(e: LinkError) -> Self {
        match e {
            LinkError::NotFound => AppError::NotFound,
            LinkError::Db(e) => e.into(),
        }
    }
}

async fn link(
    State(db): State<DatabaseConnection>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<LinkForm>,
) -> Result<Response, AppError> {
    let target = parse_target(&form.target)
        .ok_or_else(|| AppError::Invalid("choose a business or contact".into()))?;
    let scope = match form.scope.as_str() {
        "thread" => Scope::Thread,
        "" | "email" => Scope::Email,
        _ => return Err(AppError::Invalid("scope is email or thread".into())),
    };
    manual::link(&db, user.organization_id, user.id, id, target, scope).await?;
    Ok(Redirect::to(&back_or(&form.back, target)).into_response())
}

async fn unlink(
    State(db): State<DatabaseConnection>,
    user: CurrentUser,
    Path((id, link_id)): Path<(i64, i64)>,
    Form(form): Form<UnlinkForm>,
) -> Result<Response, AppError> {
    let target = manual::unlink(&db, user.organization_id, user.id, id, link_id).await?;
    Ok(Redirect::to(&back_or(&form.back, target)).into_response())
}
