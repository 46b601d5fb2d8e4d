//! Organization settings (admins only): internal domains, free-mail overrides, the auto-create
//! contacts policy and the timeline filters (the visibility policy and the attachment settings
//! are saved by their own modules and shown here).
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use sea_orm::DatabaseConnection;
use serde::Deserialize;

use super::error::AppError;
use super::session::{AdminUser, CurrentUser};
use super::views::{render, FieldErrors, Layout};
use super::AppState;
use crate::db::directory::settings::{self, OrgSettings, Override, Policies, SettingsError};
use crate::domain::auto_contacts::AutoCreate;
use crate::domain::domains::{Domain, DomainError};
use crate::domain::freemail::is_shipped;
use crate::domain::visibility::Level;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/settings", get(show))
        .route("/settings/policies", post(save_policies))
        .route("/settings/internal-domains", post(add_internal))
        .route("/settings/internal-domains/remove", post(remove_internal))
        .route("/settings/free-mail", post(add_free_mail))
        .route("/settings/free-mail/remove", post(remove_free_mail))
}

#[derive(Template)]
#[template(path = "settings/index.html")]
struct SettingsPage {
    layout: Layout,
    s: OrgSettings,
    errors: FieldErrors,
    /// What was typed in the field that failed, shown again.
    typed: String,
    /// The visibility policy's choices (`mailbox_visibility`).
    visibility_default: Vec<super::mailbox_visibility::LevelOption>,
    visibility_max: Vec<super::mailbox_visibility::LevelOption>,
    /// Members may write their marks back to their mailboxes.
    write_back: bool,
    /// The attachment storage mode and size limit (`attachment_settings`).
    attachments: super::attachment_settings::PolicyView,
}

#[derive(Debug, Deserialize)]
struct PoliciesForm {
    auto_create_contacts: String,
    #[serde(default)]
    hide_internal_only: Option<String>,
    #[serde(default)]
    hide_bulk: Option<String>,
}

#[derive(Debug, Deserialize)]
struct DomainForm {
    #[serde(default)]
    domain: String,
    /// Free-mail only: `add` or `remove`.
    #[serde(default)]
    how: String,
}

pub(super) async fn page(
    db: &DatabaseConnection,
    user: &CurrentUser,
    errors: FieldErrors,
    typed: String,
) -> Result<Response, AppError> {
    page_with(db, user, errors, typed, None).await
}

/// The page with the attachment form as typed (`attachments`) instead of as stored.
pub(super) async fn page_with(
    db: &DatabaseConnection,
    user: &CurrentUser,
    errors: FieldErrors,
    typed: String,
    attachments: Option<super::attachment_settings::PolicyView>,
) -> Result<Response, AppError> {
    let attachments = match attachments {
        Some(a) => a,
        None => super::attachment_settings::PolicyView::stored(
            crate::db::attachment_settings::policy(db, user.organization_id).await?,
        ),
    };
    let s = settings::load(db, user.organization_id)
        .await
        .map_err(settings_failed)?;
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let layout = Layout::for_user(user, "Settings", "settings");
    let v = crate::db::visibility::policy(db, user.organization_id).await?;
    let write_back = crate::db::write_back::settings::org_allows(db, user.organization_id).await?;
    let body = render(&SettingsPage {
        layout,
        s,
        errors,
        typed,
        visibility_default: super::mailbox_visibility::options(v.default, Level::Full),
        visibility_max: super::mailbox_visibility::options(v.max, Level::Full),
        write_back,
        attachments,
    })?;
    Ok((status, body).into_response())
}

fn settings_failed(err: SettingsError) -> AppError {
    match err {
        SettingsError::Db(e) => e.into(),
        _ => AppError::NotFound,
    }
}

/// A refusal shown next to `field`, or an error page.
fn refused(err: SettingsError, field: &'static str) -> Result<FieldErrors, AppError> {
    let mut errors = FieldErrors::default();
    match err {
        SettingsError::Db(e) => return Err(e.into()),
        SettingsError::NotFound => return Err(AppError::NotFound),
        e => errors.add(field, e.to_string()),
    }
    Ok(errors)
}

fn saved() -> Response {
    Redirect::to("/settings").into_response()
}

async fn show(
    State(db): State<DatabaseConnection>,
    AdminUser(user): AdminUser,
) -> Result<Response, AppError> {
    page(&db, &user, FieldErrors::default(), String::new()).await
}

async fn save_policies(
    State(db): State<DatabaseConnection>,
    AdminUser(user): AdminUser,
    Form(form): Form<PoliciesForm>,
) -> Result<Response, AppError> {
    let Some(auto_create) = AutoCreate::parse(&form.auto_create_contacts) else {
        let mut errors = FieldErrors::default();
        errors.add(
            "auto_create_contacts",
            "choose off, from sent mail, or all mail",
        );
        return page(&db, &user, errors, String::new()).await;
    };
    let p = Policies {
        auto_create,
        hide_internal_only: form.hide_internal_only.is_some(),
        hide_bulk: form.hide_bulk.is_some(),
    };
    settings::save_policies(&db, user.organization_id, user.id, p)
        .await
        .map_err(settings_failed)?;
    Ok(saved())
}

/// An organization's own domain: valid, registrable (not a public suffix) and not free-mail.
fn internal_domain(input: &str) -> Result<Domain, DomainError> {
    let d = Domain::parse(input)?;
    if d.registrable().is_none() {
        return Err(DomainError::PublicSuffix(d.to_string()));
    }
    if is_shipped(&d.registrable().unwrap_or_default()) {
        return Err(DomainError::FreeMail(d.to_string()));
    }
    Ok(d)
}

async fn add_internal(
    State(db): State<DatabaseConnection>,
    AdminUser(user): AdminUser,
    Form(form): Form<DomainForm>,
) -> Result<Response, AppError> {
    let errors = match internal_domain(&form.domain) {
        Ok(d) => {
            match settings::add_internal_domain(&db, user.organization_id, user.id, &d).await {
                Ok(()) => return Ok(saved()),
                Err(e) => refused(e, "internal_domain")?,
            }
        }
        Err(e) => {
            let mut errors = FieldErrors::default();
            errors.add("internal_domain", e.to_string());
            errors
        }
    };
    page(&db, &user, errors, form.domain).await
}

async fn remove_internal(
    State(db): State<DatabaseConnection>,
    AdminUser(user): AdminUser,
    Form(form): Form<DomainForm>,
) -> Result<Response, AppError> {
    settings::remove_internal_domain(&db, user.organization_id, user.id, form.domain.trim())
        .await
        .map_err(settings_failed)?;
    Ok(saved())
}

async fn add_free_mail(
    State(db): State<DatabaseConnection>,
    AdminUser(user): AdminUser,
    Form(form): Form<DomainForm>,
) -> Result<Response, AppError> {
    let how = if form.how == "remove" {
        Override::Remove
    } else {
        Override::Add
    };
    let org = user.organization_id;
    let errors = match Domain::parse(&form.domain) {
        Ok(d) => match settings::add_free_mail_override(&db, org, user.id, &d, how).await {
            Ok(()) => return Ok(saved()),
            Err(e) => refused(e, "free_mail")?,
        },
        Err(e) => {
            let mut errors = FieldErrors::default();
            errors.add("free_mail", e.to_string());
            errors
        }
    };
    page(&db, &user, errors, form.domain).await
}

async fn remove_free_mail(
    State(db): State<DatabaseConnection>,
    AdminUser(user): AdminUser,
    Form(form): Form<DomainForm>,
) -> Result<Response, AppError> {
    settings::remove_free_mail_override(&db, user.organization_id, user.id, form.domain.trim())
        .await
        .map_err(settings_failed)?;
    Ok(saved())
}
