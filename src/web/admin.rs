//! Administration: users (create, disable / enable, change role) and the audit log.
use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use sea_orm::DatabaseConnection;
use serde::Deserialize;

use super::error::AppError;
use super::session::AdminUser;
use super::views::{render, FieldErrors, Layout};
use super::AppState;
use crate::accounts::{self, AccountError, NewUser, UserChange};
use crate::db::entities::users::Model as User;
use crate::db::{audit, users};
use crate::domain::user::Role;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/users", get(list).post(create))
        .route("/admin/users/{id}/role", post(change_role))
        .route("/admin/users/{id}/disabled", post(change_disabled))
        .route("/admin/audit", get(audit_log))
}

/// One user as the admin page shows it.
#[derive(Debug, Clone)]
pub struct UserRow {
    pub id: i64,
    pub name: String,
    pub email: String,
    pub is_admin: bool,
    pub disabled: bool,
    pub last_login: String,
    pub is_self: bool,
}

impl UserRow {
    fn new(u: User, me: i64) -> Self {
        Self {
            id: u.id,
            is_admin: u.role == Role::Admin,
            disabled: u.disabled,
            last_login: u.last_login_at.map_or_else(
                || "never".into(),
                |t| t.format("%Y-%m-%d %H:%M UTC").to_string(),
            ),
            is_self: u.id == me,
            name: u.name,
            email: u.email,
        }
    }
}

#[derive(Template)]
#[template(path = "admin/users.html")]
struct UsersPage {
    layout: Layout,
    users: Vec<UserRow>,
    form: NewUserForm,
    errors: FieldErrors,
    notice: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/_user_row.html")]
struct UserRowFragment {
    u: UserRow,
    csrf: String,
}

#[derive(Debug, Default, Deserialize)]
struct NewUserForm {
    email: String,
    name: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    role: String,
}

#[derive(Debug, Deserialize)]
struct RoleForm {
    role: String,
}

#[derive(Debug, Deserialize)]
struct DisabledForm {
    disabled: bool,
}

async fn users_page(
    db: &DatabaseConnection,
    admin: &AdminUser,
    form: NewUserForm,
    errors: FieldErrors,
    notice: Option<String>,
) -> Result<UsersPage, AppError> {
    let me = &admin.0;
    let users = users::list_in_org(db, me.organization_id).await?;
    Ok(UsersPage {
        layout: Layout::for_user(me, "Users", "admin"),
        users: users.into_iter().map(|u| UserRow::new(u, me.id)).collect(),
        form,
        errors,
        notice,
    })
}

async fn list(
    State(db): State<DatabaseConnection>,
    admin: AdminUser,
) -> Result<Response, AppError> {
    let page = users_page(
        &db,
        &admin,
        NewUserForm::default(),
        FieldErrors::default(),
        None,
    )
    .await?;
    Ok(render(&page)?.into_response())
}

async fn create(
    State(db): State<DatabaseConnection>,
    admin: AdminUser,
    Form(mut form): Form<NewUserForm>,
) -> Result<Response, AppError> {
    let role = Role::parse(&form.role).unwrap_or(Role::Member);
    let me = &admin.0;
    let result = match NewUser::parse(&form.email, &form.name, &form.password) {
        Ok(new) => accounts::create_user(&db, me.organization_id, Some(me.id), new, role).await,
        Err(e) => Err(e),
    };
    form.password.clear();
    match result {
        Ok(user) => {
            let notice = format!(
                "Created {}. Give them their password in person.",
                user.email
            );
            let page = users_page(
                &db,
                &admin,
                NewUserForm::default(),
                FieldErrors::default(),
                Some(notice),
            )
            .await?;
            Ok((StatusCode::CREATED, render(&page)?).into_response())
        }
        Err(AccountError::Invalid { field, message }) => {
            let mut errors = FieldErrors::default();
            errors.add(field, message);
            let page = users_page(&db, &admin, form, errors, None).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
        }
        Err(e) => Err(AppError::Unexpected(e.into())),
    }
}

async fn change_role(
    State(db): State<DatabaseConnection>,
    admin: AdminUser,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(form): Form<RoleForm>,
) -> Result<Response, AppError> {
    let role = Role::parse(&form.role).ok_or_else(|| AppError::Invalid("unknown role".into()))?;
    apply(&db, &admin, &headers, id, UserChange::Role(role)).await
}

async fn change_disabled(
    State(db): State<DatabaseConnection>,
    admin: AdminUser,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(form): Form<DisabledForm>,
) -> Result<Response, AppError> {
    apply(
        &db,
        &admin,
        &headers,
        id,
        UserChange::Disabled(form.disabled),
    )
    .await
}

/// Apply a change; htmx gets the updated row, a plain form a redirect back to the list.
async fn apply(
    db: &DatabaseConnection,
    admin: &AdminUser,
    headers: &HeaderMap,
    id: i64,
    change: UserChange,
) -> Result<Response, AppError> {
    let me = &admin.0;
    match accounts::update_user(db, me.organization_id, me.id, id, change).await {
        Ok(user) if headers.contains_key("HX-Request") => {
            let row = UserRowFragment {
                u: UserRow::new(user, me.id),
                csrf: me.csrf.clone(),
            };
            Ok(render(&row)?.into_response())
        }
        Ok(_) => Ok(Redirect::to("/admin/users").into_response()),
        Err(AccountError::NotFound) => Err(AppError::NotFound),
        Err(AccountError::Refused(why)) => Err(AppError::Invalid(why.to_string())),
        Err(e) => Err(AppError::Unexpected(e.into())),
    }
}

#[derive(Template)]
#[template(path = "admin/audit.html")]
struct AuditPage {
    layout: Layout,
    entries: Vec<AuditRow>,
}

struct AuditRow {
    at: String,
    actor: String,
    action: String,
    subject: String,
    detail: String,
}

async fn audit_log(
    State(db): State<DatabaseConnection>,
    admin: AdminUser,
) -> Result<Response, AppError> {
    let me = &admin.0;
    let names: std::collections::HashMap<i64, String> = users::list_in_org(&db, me.organization_id)
        .await?
        .into_iter()
        .map(|u| (u.id, u.email))
        .collect();
    let entries = audit::list(&db, me.organization_id, 500)
        .await?
        .into_iter()
        .map(|e| AuditRow {
            at: e.created_at.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
            actor: e
                .actor_user_id
                .and_then(|id| names.get(&id).cloned())
                .unwrap_or_else(|| "system".into()),
            action: e.action,
            subject: format!(
                "{} {}",
                e.subject_kind,
                e.subject_id.map(|i| i.to_string()).unwrap_or_default()
            ),
            detail: e.detail,
        })
        .collect();
    let page = AuditPage {
        layout: Layout::for_user(me, "Audit log", "audit"),
        entries,
    };
    Ok(render(&page)?.into_response())
}
