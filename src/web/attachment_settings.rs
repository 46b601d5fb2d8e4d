//! Attachment settings on the web: the organization's storage mode and size limit (admins, on
//! /settings) and a mailbox's own limit (its owner, on the mailbox's page). Plain forms,
//! CSRF-checked by the middleware; a bad value re-renders the page with the reason beside the
//! field and nothing changes.
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use axum::{Form, Router};
use sea_orm::DatabaseConnection;
use serde::Deserialize;

use super::error::AppError;
use super::session::{AdminUser, CurrentUser};
use super::views::FieldErrors;
use super::AppState;
use crate::db::{self, attachment_settings, mail_accounts};
use crate::domain::attachments::{as_mb, parse_limit_mb, parse_mailbox_limit, Policy, Storage};
use crate::mailboxes::MailDeps;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/settings/attachments", post(save_policy))
        .route("/mailboxes/{id}/attachment-limit", post(save_mailbox_limit))
}

/// The organization's form as shown: the storage choices and the limit in megabytes.
pub struct PolicyView {
    /// `(value, label, selected)`.
    pub storage: Vec<(&'static str, &'static str, bool)>,
    pub limit_mb: String,
}

impl PolicyView {
    pub fn stored(p: Policy) -> Self {
        Self::typed(p.storage.as_str(), as_mb(p.limit_bytes).to_string())
    }

    fn typed(storage: &str, limit_mb: String) -> Self {
        Self {
            storage: Storage::ALL
                .into_iter()
                .map(|s| (s.as_str(), s.describe(), s.as_str() == storage))
                .collect(),
            limit_mb,
        }
    }
}

/// A mailbox's limit as its page shows it.
pub struct MailboxLimitView {
    /// Its own limit in megabytes as stored or typed; empty: the organization's.
    pub own_mb: String,
    pub organization_mb: u64,
}

pub async fn mailbox_view(
    db: &DatabaseConnection,
    org_id: i64,
    account_id: i64,
    typed: Option<String>,
) -> Result<MailboxLimitView, AppError> {
    let org = attachment_settings::policy(db, org_id).await?;
    let own_mb = match typed {
        Some(t) => t,
        None => attachment_settings::mailbox_limit(db, org_id, account_id)
            .await?
            .map(|l| as_mb(l).to_string())
            .unwrap_or_default(),
    };
    Ok(MailboxLimitView {
        own_mb,
        organization_mb: as_mb(org.limit_bytes),
    })
}

#[derive(Debug, Deserialize)]
struct PolicyForm {
    #[serde(default)]
    storage: String,
    #[serde(default)]
    limit_mb: String,
}

async fn save_policy(
    State(db): State<DatabaseConnection>,
    AdminUser(user): AdminUser,
    Form(form): Form<PolicyForm>,
) -> Result<Response, AppError> {
    let mut errors = FieldErrors::default();
    let storage = Storage::parse(&form.storage);
    if storage.is_none() {
        errors.add(
            "attachment_storage",
            "Choose off, in the database or in files.",
        );
    }
    let limit = parse_limit_mb(&form.limit_mb).map_err(|e| errors.add("attachment_limit", e));
    let (Some(storage), Ok(limit_bytes), true) = (storage, limit, errors.is_empty()) else {
        let typed = PolicyView::typed(form.storage.trim(), form.limit_mb.clone());
        return super::settings::page_with(&db, &user, errors, String::new(), Some(typed)).await;
    };
    let txn = db::begin_write(&db).await?;
    let policy = Policy {
        storage,
        limit_bytes,
    };
    attachment_settings::save_policy(&txn, user.organization_id, user.id, policy).await?;
    txn.commit().await?;
    Ok(Redirect::to("/settings").into_response())
}

#[derive(Debug, Deserialize)]
struct LimitForm {
    #[serde(default)]
    limit_mb: String,
}

/// The owner sets their mailbox's own limit (empty: the organization's).
async fn save_mailbox_limit(
    State(deps): State<MailDeps>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<LimitForm>,
) -> Result<Response, AppError> {
    let account = mail_accounts::find_in_org(&deps.db, user.organization_id, id)
        .await?
        .filter(|a| a.owner_user_id == Some(user.id))
        .ok_or(AppError::NotFound)?;
    match parse_mailbox_limit(&form.limit_mb) {
        Ok(limit) => {
            let txn = db::begin_write(&deps.db).await?;
            attachment_settings::save_mailbox_limit(&txn, user.organization_id, user.id, id, limit)
                .await?;
            txn.commit().await?;
            Ok(Redirect::to(&format!("/mailboxes/{id}")).into_response())
        }
        Err(message) => {
            let mut errors = FieldErrors::default();
            errors.add("attachment_limit", message);
            super::mailbox_sync::page_with_limit(&deps, &user, account, errors, form.limit_mb).await
        }
    }
}
