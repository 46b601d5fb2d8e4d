//! Exclusion rules: the organization's under `/settings/exclusions` (admins; members 403) and
//! each user's own under `/account/exclusions` (their mailboxes only). Adding a rule goes
//! through a preview (a GET: how many stored emails it matches, per mailbox, with examples from
//! the user's own mail) and an Apply that saves it and removes that mail; the data work is in
//! `db::exclusions`.
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
use crate::db::exclusions::{self, apply, ExclusionError, RuleScope};
use crate::domain::exclusions::RuleValue;

/// Examples of matching mail a preview shows (from the viewer's own mailboxes).
const EXAMPLES: u64 = 5;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/settings/exclusions", get(org_list).post(org_apply))
        .route("/settings/exclusions/preview", get(org_preview))
        .route("/settings/exclusions/{id}/remove", post(org_remove))
        .route("/account/exclusions", get(own_list).post(own_apply))
        .route("/account/exclusions/preview", get(own_preview))
        .route("/account/exclusions/{id}/remove", post(own_remove))
}

/// Where a scope's pages live.
fn base(scope: RuleScope) -> &'static str {
    match scope {
        RuleScope::Organization => "/settings/exclusions",
        RuleScope::Personal(_) => "/account/exclusions",
    }
}

pub struct RuleRow {
    pub id: i64,
    pub value: String,
    pub kind: String,
    pub added: String,
}

impl From<crate::db::entities::exclusion_rules::Model> for RuleRow {
    fn from(m: crate::db::entities::exclusion_rules::Model) -> Self {
        Self {
            id: m.id,
            value: m.value,
            kind: m.kind,
            added: m.created_at.format("%Y-%m-%d").to_string(),
        }
    }
}

#[derive(Template)]
#[template(path = "exclusions/index.html")]
struct ListPage {
    layout: Layout,
    base: &'static str,
    org: bool,
    rules: Vec<RuleRow>,
    /// On the personal page: the organization's rules, which apply too.
    org_rules: Vec<RuleRow>,
    errors: FieldErrors,
    typed: String,
    notice: Option<String>,
}

pub struct ExampleRow {
    pub email_id: i64,
    pub subject: String,
    pub sender: String,
    pub when: String,
}

#[derive(Template)]
#[template(path = "exclusions/preview.html")]
struct PreviewPage {
    layout: Layout,
    base: &'static str,
    org: bool,
    value: String,
    kind: &'static str,
    p: apply::Preview,
    examples: Vec<ExampleRow>,
}

#[derive(Debug, Default, Deserialize)]
struct RuleForm {
    #[serde(default)]
    rule: String,
}

#[derive(Debug, Default, Deserialize)]
struct Done {
    #[serde(default)]
    excluded: Option<String>,
    #[serde(default)]
    removed: Option<u64>,
    #[serde(default)]
    unexcluded: Option<String>,
}

impl Done {
    /// The notice after Apply or Remove; only for a value that is a rule of `rules` (Apply) or
    /// a valid rule value that is not (Remove), so a crafted link cannot put text on the page.
    fn notice(&self, rules: &[RuleRow]) -> Option<String> {
        let listed = |v: &str| rules.iter().any(|r| r.value == v);
        if let Some(v) = self.excluded.as_deref().filter(|v| listed(v)) {
            let n = self.removed.unwrap_or(0);
            return Some(format!(
                "Mail with {v} is no longer stored: {n} stored email{} removed.",
                if n == 1 { "" } else { "s" }
            ));
        }
        let removed = self
            .unexcluded
            .as_deref()
            .and_then(|v| RuleValue::parse(v).ok())
            .filter(|r| !listed(&r.value));
        removed.map(|r| {
            let v = r.value;
            format!(
                "{v} is no longer excluded: its new mail is stored from now on. \
                 Mail removed earlier comes back only when the mailbox is synced from scratch \
                 (a resync)."
            )
        })
    }
}

async fn list_page(
    db: &DatabaseConnection,
    user: &CurrentUser,
    scope: RuleScope,
    (errors, typed, done): (FieldErrors, String, Done),
) -> Result<Response, AppError> {
    let org = user.organization_id;
    let rules: Vec<RuleRow> = exclusions::list(db, org, scope)
        .await?
        .into_iter()
        .map(RuleRow::from)
        .collect();
    let notice = done.notice(&rules);
    let org_rules = match scope {
        RuleScope::Organization => Vec::new(),
        RuleScope::Personal(_) => exclusions::list(db, org, RuleScope::Organization).await?,
    };
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let (title, active) = match scope {
        RuleScope::Organization => ("Excluded mail", "settings"),
        RuleScope::Personal(_) => ("Your excluded mail", "account"),
    };
    let page = ListPage {
        layout: Layout::for_user(user, title, active),
        base: base(scope),
        org: scope == RuleScope::Organization,
        rules,
        org_rules: org_rules.into_iter().map(RuleRow::from).collect(),
        errors,
        typed,
        notice,
    };
    Ok((status, render(&page)?).into_response())
}

/// The typed rule, or the list page again with the reason.
async fn parsed(
    db: &DatabaseConnection,
    user: &CurrentUser,
    scope: RuleScope,
    typed: &str,
) -> Result<Result<RuleValue, Response>, AppError> {
    match RuleValue::parse(typed) {
        Ok(r) => Ok(Ok(r)),
        Err(e) => {
            let mut errors = FieldErrors::default();
            errors.add("rule", e.to_string());
            let page = list_page(
                db,
                user,
                scope,
                (errors, typed.to_string(), Done::default()),
            )
            .await?;
            Ok(Err(page))
        }
    }
}

async fn preview(
    db: &DatabaseConnection,
    user: &CurrentUser,
    scope: RuleScope,
    typed: &str,
) -> Result<Response, AppError> {
    let rule = match parsed(db, user, scope, typed).await? {
        Ok(r) => r,
        Err(page) => return Ok(page),
    };
    let org = user.organization_id;
    if exclusions::find(db, org, scope, &rule.value)
        .await?
        .is_some()
    {
        return duplicate(db, user, scope, typed, &rule.value).await;
    }
    let p = apply::preview(db, org, scope, &rule, (user.id, EXAMPLES)).await?;
    let examples = p
        .examples
        .iter()
        .map(|e| ExampleRow {
            email_id: e.email_id,
            subject: if e.subject.is_empty() {
                "(no subject)".into()
            } else {
                e.subject.clone()
            },
            sender: e.sender.clone(),
            when: e.received_at.format("%Y-%m-%d %H:%M").to_string(),
        })
        .collect();
    let page = PreviewPage {
        layout: Layout::for_user(user, "Exclude mail?", ""),
        base: base(scope),
        org: scope == RuleScope::Organization,
        value: rule.value,
        kind: rule.kind.as_str(),
        p,
        examples,
    };
    Ok(render(&page)?.into_response())
}

async fn duplicate(
    db: &DatabaseConnection,
    user: &CurrentUser,
    scope: RuleScope,
    typed: &str,
    value: &str,
) -> Result<Response, AppError> {
    let mut errors = FieldErrors::default();
    errors.add("rule", ExclusionError::Duplicate(value.into()).to_string());
    list_page(
        db,
        user,
        scope,
        (errors, typed.to_string(), Done::default()),
    )
    .await
}

async fn save(
    db: &DatabaseConnection,
    user: &CurrentUser,
    scope: RuleScope,
    typed: &str,
) -> Result<Response, AppError> {
    let rule = match parsed(db, user, scope, typed).await? {
        Ok(r) => r,
        Err(page) => return Ok(page),
    };
    match apply::apply(db, user.organization_id, user.id, scope, &rule).await {
        Ok(done) => {
            let q = serde_urlencoded::to_string([
                ("excluded", rule.value.clone()),
                ("removed", done.emails.to_string()),
            ])
            .unwrap_or_default();
            Ok(Redirect::to(&format!("{}?{q}", base(scope))).into_response())
        }
        Err(ExclusionError::Duplicate(v)) => duplicate(db, user, scope, typed, &v).await,
        Err(ExclusionError::NotFound) => Err(AppError::NotFound),
        Err(ExclusionError::Db(e)) => Err(e.into()),
    }
}

async fn remove(
    db: &DatabaseConnection,
    user: &CurrentUser,
    scope: RuleScope,
    id: i64,
) -> Result<Response, AppError> {
    match exclusions::remove(db, user.organization_id, user.id, scope, id).await {
        Ok(rule) => {
            let q = serde_urlencoded::to_string([("unexcluded", rule.value)]).unwrap_or_default();
            Ok(Redirect::to(&format!("{}?{q}", base(scope))).into_response())
        }
        Err(ExclusionError::Db(e)) => Err(e.into()),
        Err(_) => Err(AppError::NotFound),
    }
}

async fn org_list(
    State(db): State<DatabaseConnection>,
    AdminUser(user): AdminUser,
    Query(done): Query<Done>,
) -> Result<Response, AppError> {
    let empty = (FieldErrors::default(), String::new(), done);
    list_page(&db, &user, RuleScope::Organization, empty).await
}

async fn org_preview(
    State(db): State<DatabaseConnection>,
    AdminUser(user): AdminUser,
    Query(form): Query<RuleForm>,
) -> Result<Response, AppError> {
    preview(&db, &user, RuleScope::Organization, &form.rule).await
}

async fn org_apply(
    State(db): State<DatabaseConnection>,
    AdminUser(user): AdminUser,
    Form(form): Form<RuleForm>,
) -> Result<Response, AppError> {
    save(&db, &user, RuleScope::Organization, &form.rule).await
}

async fn org_remove(
    State(db): State<DatabaseConnection>,
    AdminUser(user): AdminUser,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    remove(&db, &user, RuleScope::Organization, id).await
}

async fn own_list(
    State(db): State<DatabaseConnection>,
    user: CurrentUser,
    Query(done): Query<Done>,
) -> Result<Response, AppError> {
    let empty = (FieldErrors::default(), String::new(), done);
    list_page(&db, &user, RuleScope::Personal(user.id), empty).await
}

async fn own_preview(
    State(db): State<DatabaseConnection>,
    user: CurrentUser,
    Query(form): Query<RuleForm>,
) -> Result<Response, AppError> {
    preview(&db, &user, RuleScope::Personal(user.id), &form.rule).await
}

async fn own_apply(
    State(db): State<DatabaseConnection>,
    user: CurrentUser,
    Form(form): Form<RuleForm>,
) -> Result<Response, AppError> {
    save(&db, &user, RuleScope::Personal(user.id), &form.rule).await
}

async fn own_remove(
    State(db): State<DatabaseConnection>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    remove(&db, &user, RuleScope::Personal(user.id), id).await
}
