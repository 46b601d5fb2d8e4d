//! The signed-in user's own account: change password, sign out other sessions.
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use sea_orm::DatabaseConnection;
use serde::Deserialize;

use super::error::AppError;
use super::session::CurrentUser;
use super::views::{render, FieldErrors, Layout};
use super::AppState;
use crate::accounts::{self, AccountError};
use crate::db::{session_store, users};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/account", get(show))
        .route("/account/password", post(change_password))
        .route("/account/sign-out-others", post(sign_out_others))
}

#[derive(Template)]
#[template(path = "account/index.html")]
struct AccountPage {
    layout: Layout,
    errors: FieldErrors,
    notice: Option<String>,
}

#[derive(Debug, Deserialize)]
struct PasswordForm {
    current_password: String,
    new_password: String,
    new_password_confirm: String,
}

fn page(user: &CurrentUser, errors: FieldErrors, notice: Option<String>) -> AccountPage {
    AccountPage {
        layout: Layout::for_user(user, "Your account", "account"),
        errors,
        notice,
    }
}

async fn show(user: CurrentUser) -> Result<Response, AppError> {
    Ok(render(&page(&user, FieldErrors::default(), None))?.into_response())
}

async fn change_password(
    State(db): State<DatabaseConnection>,
    user: CurrentUser,
    Form(form): Form<PasswordForm>,
) -> Result<Response, AppError> {
    let mut errors = FieldErrors::default();
    if form.new_password != form.new_password_confirm {
        errors.add("new_password_confirm", "the new passwords differ");
        let body = render(&page(&user, errors, None))?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, body).into_response());
    }
    let me = users::find_in_org(&db, user.organization_id, user.id)
        .await?
        .ok_or(AppError::NotFound)?;
    let keep = user
        .session
        .id()
        .map(|id| id.to_string())
        .unwrap_or_default();
    match accounts::change_password(&db, &me, &form.current_password, &form.new_password, &keep)
        .await
    {
        Ok(()) => {
            let notice = "Password changed. Your other sessions were signed out.".to_string();
            Ok(render(&page(&user, errors, Some(notice)))?.into_response())
        }
        Err(AccountError::Invalid { field, message }) => {
            errors.add(field, message);
            let body = render(&page(&user, errors, None))?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, body).into_response())
        }
        Err(e) => Err(AppError::Unexpected(e.into())),
    }
}

async fn sign_out_others(
    State(db): State<DatabaseConnection>,
    user: CurrentUser,
) -> Result<Response, AppError> {
    let keep = user
        .session
        .id()
        .map(|id| id.to_string())
        .unwrap_or_default();
    let ended = session_store::delete_user_sessions(&db, user.id, Some(&keep)).await?;
    let notice = format!("Signed out {ended} other session(s).");
    Ok(render(&page(&user, FieldErrors::default(), Some(notice)))?.into_response())
}
