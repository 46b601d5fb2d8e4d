//! Visibility levels on the web: the organization's policy (admins, on /settings), a
//! mailbox's level (its owner on the mailbox's page, an admin on /admin/mailboxes), and a
//! private mark on one thread (its owner, from the email page). Plain forms, CSRF-checked by
//! the middleware, each change audited (`db::visibility`, `db::private_threads`).
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use axum::{Form, Router};
use sea_orm::DatabaseConnection;
use serde::Deserialize;

use super::error::AppError;
use super::local_path::{self, local_path};
use super::session::{AdminUser, CurrentUser};
use super::views::FieldErrors;
use super::AppState;
use crate::db::visibility::{self, OrgPolicy, VisibilityError};
use crate::db::{self, email_view, mail_accounts, private_threads};
use crate::domain::visibility::Level;
use crate::mailboxes::MailDeps;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/settings/visibility", post(save_policy))
        .route("/mailboxes/{id}/visibility", post(owner_sets))
        .route("/admin/mailboxes/{id}/visibility", post(admin_sets))
        .route("/emails/{id}/private", post(mark_thread))
}

/// One level to choose in a form: `(value, label, selected, allowed)`.
pub struct LevelOption {
    pub value: &'static str,
    pub label: String,
    pub selected: bool,
    /// Within the organization's maximum.
    pub allowed: bool,
}

/// The four levels as form options, `current` selected, those above `max` marked.
pub fn options(current: Level, max: Level) -> Vec<LevelOption> {
    Level::ALL
        .into_iter()
        .rev()
        .map(|l| LevelOption {
            value: l.as_str(),
            label: format!("{}: {}", l.as_str(), l.describe()),
            selected: l == current,
            allowed: l <= max,
        })
        .collect()
}

/// What a mailbox page shows of the mailbox's level.
pub struct MailboxVisibility {
    pub level: Level,
    pub max: Level,
    pub options: Vec<LevelOption>,
}

pub async fn for_mailbox(
    db: &DatabaseConnection,
    org_id: i64,
    account_id: i64,
) -> Result<MailboxVisibility, AppError> {
    let level = visibility::mailbox(db, org_id, account_id)
        .await?
        .ok_or(AppError::NotFound)?
        .level;
    let max = visibility::policy(db, org_id).await?.max;
    Ok(MailboxVisibility {
        level,
        max,
        options: options(level, max),
    })
}

#[derive(Debug, Deserialize)]
struct PolicyForm {
    #[serde(default)]
    default: String,
    #[serde(default)]
    max: String,
}

fn parse(s: &str) -> Result<Level, AppError> {
    s.parse()
        .map_err(|_| AppError::Invalid("choose full, subject, metadata or private".into()))
}

async fn save_policy(
    State(db): State<DatabaseConnection>,
    AdminUser(user): AdminUser,
    Form(form): Form<PolicyForm>,
) -> Result<Response, AppError> {
    let new = OrgPolicy {
        default: parse(&form.default)?,
        max: parse(&form.max)?,
    };
    let txn = db::begin_write(&db).await?;
    match visibility::set_policy(&txn, user.organization_id, user.id, new).await {
        Ok(_) => {
            txn.commit().await?;
            Ok(Redirect::to("/settings").into_response())
        }
        Err(VisibilityError::Db(e)) => Err(e.into()),
        Err(e) => {
            drop(txn);
            let mut errors = FieldErrors::default();
            errors.add("visibility", e.to_string());
            super::settings::page(&db, &user, errors, String::new()).await
        }
    }
}

#[derive(Debug, Deserialize)]
struct LevelForm {
    #[serde(default)]
    level: String,
}

/// The owner sets their mailbox's level; above the maximum the page shows why and nothing
/// changes.
async fn owner_sets(
    State(deps): State<MailDeps>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<LevelForm>,
) -> Result<Response, AppError> {
    let account = mail_accounts::find_in_org(&deps.db, user.organization_id, id)
        .await?
        .filter(|a| a.owner_user_id == Some(user.id))
        .ok_or(AppError::NotFound)?;
    let refused = match form.level.parse::<Level>() {
        Err(_) => "choose full, subject, metadata or private".to_string(),
        Ok(level) => {
            let txn = db::begin_write(&deps.db).await?;
            match visibility::set_mailbox(&txn, user.organization_id, user.id, id, level).await {
                Ok(()) => {
                    txn.commit().await?;
                    return Ok(Redirect::to(&format!("/mailboxes/{id}")).into_response());
                }
                Err(VisibilityError::Db(e)) => return Err(e.into()),
                Err(e) => e.to_string(),
            }
        }
    };
    let mut errors = FieldErrors::default();
    errors.add("visibility", refused);
    super::mailbox_sync::page_with_errors(&deps, &user, account, errors).await
}

/// An admin sets any mailbox's level within the policy.
async fn admin_sets(
    State(db): State<DatabaseConnection>,
    AdminUser(admin): AdminUser,
    Path(id): Path<i64>,
    Form(form): Form<LevelForm>,
) -> Result<Response, AppError> {
    let level = parse(&form.level)?;
    let txn = db::begin_write(&db).await?;
    match visibility::set_mailbox(&txn, admin.organization_id, admin.id, id, level).await {
        Ok(()) => {
            txn.commit().await?;
            Ok(Redirect::to("/admin/mailboxes").into_response())
        }
        Err(VisibilityError::NoSuchMailbox) => Err(AppError::NotFound),
        Err(VisibilityError::Db(e)) => Err(e.into()),
        Err(e) => Err(AppError::Invalid(e.to_string())),
    }
}

#[derive(Debug, Deserialize)]
struct PrivateForm {
    /// `on` marks the thread private, anything else shares it again.
    #[serde(default)]
    private: String,
    #[serde(default)]
    back: String,
}

/// The owner of an email marks its thread private (or shares it again). Only from one of the
/// reader's own mailboxes: the mark hides the reader's own copies.
async fn mark_thread(
    State(db): State<DatabaseConnection>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<PrivateForm>,
) -> Result<Response, AppError> {
    let (email, _) = email_view::visible_email(&db, user.organization_id, user.id, id)
        .await?
        .filter(|(_, a)| a.owner_user_id == Some(user.id))
        .ok_or(AppError::NotFound)?;
    let private = form.private == "on";
    let txn = db::begin_write(&db).await?;
    private_threads::set(
        &txn,
        user.organization_id,
        user.id,
        &email.thread_key,
        private,
    )
    .await?;
    txn.commit().await?;
    let back = local_path(&form.back).map_or_else(|| format!("/emails/{id}"), str::to_string);
    Ok(local_path::see_other(&back))
}
