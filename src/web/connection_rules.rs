//! `/admin/connections/{id}/rules` (admins only): an organization-wide connection's selection
//! rules (add, remove), the preview of what they select in the live directory (a GET: nothing
//! changes), Apply (a directory sync now), and the last directory sync's summary. The work is in
//! `directory_sync` and `db::connection_rules`.
use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use sea_orm::DatabaseConnection;
use serde::Deserialize;

use super::connection_rules_views::{
    kind_options, ConnectionView, KindOption, LastRunView, PreviewView, RuleView,
};
use super::error::AppError;
use super::session::{AdminUser, CurrentUser};
use super::views::{render, FieldErrors, Layout};
use super::AppState;
use crate::config::Settings;
use crate::db::entities::connections::Model as Connection;
use crate::db::{self, audit, connection_rules, directory_syncs};
use crate::directory_sync::{self, DirectorySyncError, Trigger};
use crate::domain::selection::{rules, Directory};
use crate::mailboxes::MailDeps;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/connections/{id}/rules", get(page).post(add))
        .route("/admin/connections/{id}/rules/preview", get(preview))
        .route("/admin/connections/{id}/rules/apply", post(apply))
        .route("/admin/connections/{id}/rules/{rule}/remove", post(remove))
}

#[derive(Template)]
#[template(path = "connection_rules/index.html")]
struct RulesPage {
    layout: Layout,
    connection: ConnectionView,
    rules: Vec<RuleView>,
    kinds: Vec<KindOption>,
    errors: FieldErrors,
    typed_kind: String,
    typed_value: String,
    notice: Option<String>,
    last: Option<LastRunView>,
}

#[derive(Template)]
#[template(path = "connection_rules/preview.html")]
struct PreviewPage {
    layout: Layout,
    connection: ConnectionView,
    p: PreviewView,
}

#[derive(Debug, Default, Deserialize)]
struct RuleForm {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    value: String,
}

#[derive(Debug, Default, Deserialize)]
struct Done {
    /// `added`, `removed`, `synced` or `busy`.
    #[serde(default)]
    done: Option<String>,
}

impl Done {
    fn notice(&self) -> Option<String> {
        Some(
            match self.done.as_deref()? {
                "added" => "Rule added. Preview to see whom the rules select, then Apply.",
                "removed" => "Rule removed. Preview to see what changes, then Apply.",
                "synced" => "Directory sync done: see the summary below.",
                "norules" => "Nothing applied: add a rule that selects users first.",
                _ => return None,
            }
            .to_string(),
        )
    }
}

/// The organization's connection `id`, or 404.
async fn connection(
    db: &DatabaseConnection,
    user: &CurrentUser,
    id: i64,
) -> Result<Connection, AppError> {
    db::connections::find(db, user.organization_id, id)
        .await?
        .ok_or(AppError::NotFound)
}

fn directory_of(c: &Connection) -> Result<Directory, AppError> {
    Directory::of_connection_kind(&c.kind).ok_or(AppError::NotFound)
}

async fn rules_page(
    db: &DatabaseConnection,
    user: &CurrentUser,
    c: &Connection,
    (errors, typed, notice): (FieldErrors, RuleForm, Option<String>),
) -> Result<Response, AppError> {
    let org = user.organization_id;
    let rows = connection_rules::rows(db, org, c.id).await?;
    let last = directory_syncs::last(db, org, c.id).await?;
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = RulesPage {
        layout: Layout::for_user(user, format!("Mailbox rules: {}", c.name), "admin"),
        connection: ConnectionView::new(c),
        rules: rows.iter().map(RuleView::new).collect(),
        kinds: kind_options(directory_of(c)?),
        errors,
        typed_kind: typed.kind,
        typed_value: typed.value,
        notice,
        last: last.as_ref().map(LastRunView::new),
    };
    Ok((status, render(&page)?).into_response())
}

fn back(id: i64, done: &str) -> Response {
    Redirect::to(&format!("/admin/connections/{id}/rules?done={done}")).into_response()
}

async fn page(
    State(db): State<DatabaseConnection>,
    AdminUser(user): AdminUser,
    Path(id): Path<i64>,
    Query(done): Query<Done>,
) -> Result<Response, AppError> {
    let c = connection(&db, &user, id).await?;
    let empty = (FieldErrors::default(), RuleForm::default(), done.notice());
    rules_page(&db, &user, &c, empty).await
}

async fn add(
    State(db): State<DatabaseConnection>,
    AdminUser(user): AdminUser,
    Path(id): Path<i64>,
    Form(form): Form<RuleForm>,
) -> Result<Response, AppError> {
    let c = connection(&db, &user, id).await?;
    let (kind, value) = match rules::parse(directory_of(&c)?, &form.kind, &form.value) {
        Ok(parsed) => parsed,
        Err(e) => {
            let mut errors = FieldErrors::default();
            errors.add("value", e.to_string());
            return rules_page(&db, &user, &c, (errors, form, None)).await;
        }
    };
    if connection_rules::add(&db, &c, kind, &value, Some(user.id))
        .await?
        .is_none()
    {
        let mut errors = FieldErrors::default();
        errors.add("value", "the connection has this rule already");
        return rules_page(&db, &user, &c, (errors, form, None)).await;
    }
    let detail = format!("{}: {} {}", c.name, kind.as_str(), value);
    audit::record(
        &db,
        audit::Entry::by_user(
            user.organization_id,
            user.id,
            "connection_rule.add",
            "connection",
            c.id,
            detail,
        ),
    )
    .await?;
    Ok(back(c.id, "added"))
}

async fn remove(
    State(db): State<DatabaseConnection>,
    AdminUser(user): AdminUser,
    Path((id, rule)): Path<(i64, i64)>,
) -> Result<Response, AppError> {
    let c = connection(&db, &user, id).await?;
    let removed = connection_rules::remove(&db, user.organization_id, c.id, rule)
        .await?
        .ok_or(AppError::NotFound)?;
    let detail = format!("{}: {} {}", c.name, removed.kind, removed.value);
    audit::record(
        &db,
        audit::Entry::by_user(
            user.organization_id,
            user.id,
            "connection_rule.remove",
            "connection",
            c.id,
            detail,
        ),
    )
    .await?;
    Ok(back(c.id, "removed"))
}

async fn preview(
    State(deps): State<MailDeps>,
    AdminUser(user): AdminUser,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let c = connection(&deps.db, &user, id).await?;
    let eval = match directory_sync::evaluate(&deps, &c).await {
        Ok(eval) => eval,
        Err(e) => return failed(&deps.db, &user, &c, &e).await,
    };
    let page = PreviewPage {
        layout: Layout::for_user(&user, format!("Preview: {}", c.name), "admin"),
        connection: ConnectionView::new(&c),
        p: PreviewView::new(&eval),
    };
    Ok(render(&page)?.into_response())
}

async fn apply(
    State(deps): State<MailDeps>,
    State(settings): State<Arc<Settings>>,
    AdminUser(user): AdminUser,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let c = connection(&deps.db, &user, id).await?;
    let worker = format!("{}-web", settings.instance_id);
    match directory_sync::run_now(&deps, &c, Trigger::Web { admin: user.id }, &worker).await {
        Ok(report) if report.no_rules => Ok(back(c.id, "norules")),
        Ok(_) => Ok(back(c.id, "synced")),
        Err(e) => failed(&deps.db, &user, &c, &e).await,
    }
}

/// The rules page with what went wrong (the directory's answer, or a run in progress).
async fn failed(
    db: &DatabaseConnection,
    user: &CurrentUser,
    c: &Connection,
    e: &DirectorySyncError,
) -> Result<Response, AppError> {
    if let DirectorySyncError::Db(_) = e {
        return Err(AppError::Unexpected(anyhow::anyhow!("directory sync: {e}")));
    }
    let mut errors = FieldErrors::default();
    errors.add("directory", e.to_string());
    let page = rules_page(db, user, c, (errors, RuleForm::default(), None)).await?;
    Ok(page)
}
