//! First-run setup, sign-in and sign-out.
use std::net::SocketAddr;

use askama::Template;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use sea_orm::DatabaseConnection;
use serde::Deserialize;
use tower_sessions::Session;

use super::error::AppError;
use super::local_path::{safe_next, see_other};
use super::session::{sign_in, sign_out, SessionUser};
use super::views::{render, FieldErrors, Layout};
use super::{csrf, AppState};
use crate::accounts::{self, AccountError, NewUser};
use crate::db::session_store::USER_KEY;
use crate::db::users;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/setup", get(setup_form).post(setup))
        .route("/login", get(login_form).post(login))
        .route("/logout", post(logout))
}

#[derive(Template)]
#[template(path = "auth/setup.html")]
struct SetupPage {
    layout: Layout,
    form: SetupForm,
    errors: FieldErrors,
}

#[derive(Debug, Default, Deserialize)]
struct SetupForm {
    organization: String,
    name: String,
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_confirm: String,
}

#[derive(Template)]
#[template(path = "auth/login.html")]
struct LoginPage {
    layout: Layout,
    email: String,
    next: String,
    failed: bool,
}

#[derive(Debug, Deserialize)]
struct LoginForm {
    email: String,
    password: String,
    #[serde(default)]
    next: String,
}

#[derive(Debug, Default, Deserialize)]
struct NextQuery {
    #[serde(default)]
    next: String,
}

async fn setup_form(
    State(db): State<DatabaseConnection>,
    session: Session,
) -> Result<Response, AppError> {
    if users::count_all(&db).await? > 0 {
        return Ok(Redirect::to("/login").into_response());
    }
    let layout = Layout::anonymous("Set up Threadline", csrf::token(&session).await?);
    let page = SetupPage {
        layout,
        form: SetupForm::default(),
        errors: FieldErrors::default(),
    };
    Ok(render(&page)?.into_response())
}

async fn setup(
    State(db): State<DatabaseConnection>,
    session: Session,
    Form(mut form): Form<SetupForm>,
) -> Result<Response, AppError> {
    let mut errors = FieldErrors::default();
    let result = if form.password == form.password_confirm {
        match NewUser::parse(&form.email, &form.name, &form.password) {
            Ok(admin) => accounts::setup(&db, &form.organization, admin).await,
            Err(e) => Err(e),
        }
    } else {
        Err(AccountError::Invalid {
            field: "password_confirm",
            message: "the passwords differ".into(),
        })
    };
    match result {
        Ok(user) => {
            sign_in(&session, user.id, user.organization_id).await?;
            Ok(Redirect::to("/").into_response())
        }
        Err(AccountError::Refused(_)) => Ok(Redirect::to("/login").into_response()),
        Err(AccountError::Invalid { field, message }) => {
            errors.add(field, message);
            form.password.clear();
            form.password_confirm.clear();
            let layout = Layout::anonymous("Set up Threadline", csrf::token(&session).await?);
            let page = SetupPage {
                layout,
                form,
                errors,
            };
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
        }
        Err(e) => Err(AppError::Unexpected(e.into())),
    }
}

async fn login_form(
    State(db): State<DatabaseConnection>,
    session: Session,
    Query(query): Query<NextQuery>,
) -> Result<Response, AppError> {
    if session.get::<SessionUser>(USER_KEY).await?.is_some() {
        return Ok(see_other(safe_next(&query.next)));
    }
    if users::count_all(&db).await? == 0 {
        return Ok(Redirect::to("/setup").into_response());
    }
    let layout = Layout::anonymous("Sign in", csrf::token(&session).await?);
    let page = LoginPage {
        layout,
        email: String::new(),
        next: safe_next(&query.next).to_string(),
        failed: false,
    };
    Ok(render(&page)?.into_response())
}

async fn login(
    State(db): State<DatabaseConnection>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    session: Session,
    Form(form): Form<LoginForm>,
) -> Result<Response, AppError> {
    match accounts::authenticate(&db, &form.email, &form.password, peer.ip()).await {
        Ok(user) => {
            sign_in(&session, user.id, user.organization_id).await?;
            Ok(see_other(safe_next(&form.next)))
        }
        Err(AccountError::SignInFailed) => {
            tracing::info!(client = %peer.ip(), "sign-in failed");
            let layout = Layout::anonymous("Sign in", csrf::token(&session).await?);
            let page = LoginPage {
                layout,
                email: form.email,
                next: safe_next(&form.next).to_string(),
                failed: true,
            };
            Ok((StatusCode::UNAUTHORIZED, render(&page)?).into_response())
        }
        Err(e) => Err(AppError::Unexpected(e.into())),
    }
}

async fn logout(session: Session) -> Result<Redirect, AppError> {
    sign_out(&session).await?;
    Ok(Redirect::to("/login"))
}
