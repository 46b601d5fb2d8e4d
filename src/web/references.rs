//! Reference rules under `/admin/references` (admins; members 403): list, add, edit, delete.
//! Adding or editing goes through a preview (a GET: how many stored emails the pattern
//! matches, as the admin may see them) and an Apply that saves the rule and applies it to the
//! stored mail (`references::save`); the data work is in `db::references`.
use askama::Template;
use axum::extract::{Path, Query, State};
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
use crate::db::references::{self as rules, apply, ReferenceError, RuleInput};
use crate::domain::references::{Pattern, RuleError, RuleName, UrlTemplate};
use crate::references::job;

const BASE: &str = "/admin/references";

pub fn router() -> Router<AppState> {
    Router::new()
        .route(BASE, get(list).post(create))
        .route("/admin/references/preview", get(preview))
        .route("/admin/references/{id}", post(update))
        .route("/admin/references/{id}/edit", get(edit))
        .route("/admin/references/{id}/delete", post(delete))
}

/// The rule form as typed (`id` set when editing).
#[derive(Debug, Default, Clone, Deserialize)]
struct RuleForm {
    #[serde(default)]
    id: Option<i64>,
    #[serde(default)]
    name: String,
    #[serde(default)]
    pattern: String,
    #[serde(default)]
    url: String,
}

impl RuleForm {
    /// The rule, or the form's errors by field.
    fn parse(&self) -> Result<RuleInput, FieldErrors> {
        let mut errors = FieldErrors::default();
        let mut note = |field, e: RuleError| errors.add(field, e.to_string());
        let name = RuleName::parse(&self.name)
            .map_err(|e| note("name", e))
            .ok();
        let pattern = Pattern::parse(&self.pattern)
            .map_err(|e| note("pattern", e))
            .ok();
        let url = UrlTemplate::parse(&self.url)
            .map_err(|e| note("url", e))
            .ok();
        match (name, pattern, url) {
            (Some(name), Some(pattern), Some(url)) => Ok(RuleInput { name, pattern, url }),
            _ => Err(errors),
        }
    }
}

pub struct RuleRow {
    pub id: i64,
    pub name: String,
    pub pattern: String,
    pub url: String,
    /// How its apply stands: "applying, 40%", "12 matches", or a failure.
    pub status: String,
}

#[derive(Template)]
#[template(path = "references/index.html")]
struct ListPage {
    layout: Layout,
    rules: Vec<RuleRow>,
    form: RuleForm,
    errors: FieldErrors,
    notice: Option<String>,
}

#[derive(Template)]
#[template(path = "references/preview.html")]
struct PreviewPage {
    layout: Layout,
    form: RuleForm,
    name: String,
    p: apply::Preview,
}

#[derive(Debug, Default, Deserialize)]
struct Done {
    #[serde(default)]
    saved: Option<String>,
    #[serde(default)]
    removed: Option<String>,
}

async fn rows(db: &DatabaseConnection, org: i64) -> Result<Vec<RuleRow>, AppError> {
    let mut out = Vec::new();
    for r in rules::list(db, org).await? {
        let status = match job::progress(db, r.id).await? {
            Some(p) if p.error.is_some() => "apply failed, retrying".to_string(),
            Some(p) if p.running => {
                let pct = (p.payload.done * 100)
                    .checked_div(p.payload.total)
                    .unwrap_or(100)
                    .min(100);
                format!("applying, {pct}%")
            }
            Some(p) => plural(p.payload.matched, "match", "matches"),
            None => String::new(),
        };
        out.push(RuleRow {
            id: r.id,
            name: r.name,
            pattern: r.pattern,
            url: r.url_template.unwrap_or_default(),
            status,
        });
    }
    Ok(out)
}

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

async fn list_page(
    db: &DatabaseConnection,
    user: &CurrentUser,
    form: RuleForm,
    errors: FieldErrors,
    done: &Done,
) -> Result<Response, AppError> {
    let rules = rows(db, user.organization_id).await?;
    // Only about a rule that is (saved) or is not (removed) listed: a crafted link cannot put
    // text on the page.
    let listed = |n: &str| rules.iter().any(|r| r.name == n);
    let notice = if let Some(n) = done.saved.as_deref().filter(|n| listed(n)) {
        Some(format!(
            "Reference rule {n} saved and applied to stored mail."
        ))
    } else {
        done.removed
            .as_deref()
            .and_then(|n| RuleName::parse(n).ok())
            .filter(|n| !listed(n.as_str()))
            .map(|n| format!("Reference rule {n} deleted with its references."))
    };
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = ListPage {
        layout: Layout::for_user(user, "Reference rules", "references"),
        rules,
        form,
        errors,
        notice,
    };
    Ok((status, render(&page)?).into_response())
}

async fn list(
    State(db): State<DatabaseConnection>,
    AdminUser(user): AdminUser,
    Query(done): Query<Done>,
) -> Result<Response, AppError> {
    list_page(
        &db,
        &user,
        RuleForm::default(),
        FieldErrors::default(),
        &done,
    )
    .await
}

async fn edit(
    State(db): State<DatabaseConnection>,
    AdminUser(user): AdminUser,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let rule = rules::find(&db, user.organization_id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let form = RuleForm {
        id: Some(id),
        name: rule.name,
        pattern: rule.pattern,
        url: rule.url_template.unwrap_or_default(),
    };
    list_page(&db, &user, form, FieldErrors::default(), &Done::default()).await
}

/// The form parsed and free of name clashes, or the list page again with the errors.
async fn checked(
    db: &DatabaseConnection,
    user: &CurrentUser,
    form: &RuleForm,
) -> Result<Result<RuleInput, Response>, AppError> {
    let errors = match form.parse() {
        Ok(input) => {
            let other = rules::by_name(db, user.organization_id, input.name.as_str()).await?;
            if other.is_none_or(|o| Some(o.id) == form.id) {
                return Ok(Ok(input));
            }
            let mut errors = FieldErrors::default();
            let dup = ReferenceError::Duplicate(input.name.to_string());
            errors.add("name", dup.to_string());
            errors
        }
        Err(errors) => errors,
    };
    let page = list_page(db, user, form.clone(), errors, &Done::default()).await?;
    Ok(Err(page))
}

async fn preview(
    State(db): State<DatabaseConnection>,
    AdminUser(user): AdminUser,
    Query(form): Query<RuleForm>,
) -> Result<Response, AppError> {
    if let Some(id) = form.id {
        rules::find(&db, user.organization_id, id)
            .await?
            .ok_or(AppError::NotFound)?;
    }
    let input = match checked(&db, &user, &form).await? {
        Ok(input) => input,
        Err(page) => return Ok(page),
    };
    let p = apply::preview(&db, user.organization_id, user.id, &input.pattern).await?;
    let page = PreviewPage {
        layout: Layout::for_user(&user, "Apply reference rule?", "references"),
        name: input.name.to_string(),
        form: RuleForm {
            pattern: input.pattern.as_str().to_string(),
            url: input
                .url
                .map(|u| u.as_str().to_string())
                .unwrap_or_default(),
            ..form
        },
        p,
    };
    Ok(render(&page)?.into_response())
}

async fn save(
    db: &DatabaseConnection,
    user: &CurrentUser,
    form: RuleForm,
) -> Result<Response, AppError> {
    let input = match checked(db, user, &form).await? {
        Ok(input) => input,
        Err(page) => return Ok(page),
    };
    let org = user.organization_id;
    match crate::references::save(db, org, user.id, form.id, &input).await {
        Ok(saved) => {
            let q = serde_urlencoded::to_string([("saved", saved.rule.name)]).unwrap_or_default();
            Ok(Redirect::to(&format!("{BASE}?{q}")).into_response())
        }
        Err(ReferenceError::Duplicate(name)) => {
            let mut errors = FieldErrors::default();
            errors.add("name", ReferenceError::Duplicate(name).to_string());
            list_page(db, user, form, errors, &Done::default()).await
        }
        Err(ReferenceError::NotFound) => Err(AppError::NotFound),
        Err(ReferenceError::Db(e)) => Err(e.into()),
    }
}

async fn create(
    State(db): State<DatabaseConnection>,
    AdminUser(user): AdminUser,
    Form(form): Form<RuleForm>,
) -> Result<Response, AppError> {
    save(&db, &user, RuleForm { id: None, ..form }).await
}

async fn update(
    State(db): State<DatabaseConnection>,
    AdminUser(user): AdminUser,
    Path(id): Path<i64>,
    Form(form): Form<RuleForm>,
) -> Result<Response, AppError> {
    save(
        &db,
        &user,
        RuleForm {
            id: Some(id),
            ..form
        },
    )
    .await
}

async fn delete(
    State(db): State<DatabaseConnection>,
    AdminUser(user): AdminUser,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    match rules::remove(&db, user.organization_id, user.id, id).await {
        Ok(rule) => {
            let q = serde_urlencoded::to_string([("removed", rule.name)]).unwrap_or_default();
            Ok(Redirect::to(&format!("{BASE}?{q}")).into_response())
        }
        Err(ReferenceError::Db(e)) => Err(e.into()),
        Err(_) => Err(AppError::NotFound),
    }
}
