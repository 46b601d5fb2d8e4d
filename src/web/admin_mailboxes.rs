//! Admin → Mailboxes: every mailbox of the organization with its owner, status, last sync and
//! error, and Pause / Resume (see `mailboxes::pausing`) and Disconnect keeping its
//! mail (`mailboxes::disconnect`); plain forms, CSRF-checked, each audited.
use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use sea_orm::DatabaseConnection;

use super::error::AppError;
use super::session::AdminUser;
use super::views::{render, Layout};
use super::AppState;
use crate::db::{mail_accounts, users};
use crate::domain::mailbox::MailboxStatus;
use crate::mailboxes::disconnect::{self as unlink, DisconnectError};
use crate::mailboxes::pausing::{self, PauseError};
use crate::mailboxes::MailDeps;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/mailboxes", get(list))
        .route("/admin/mailboxes/{id}/pause", post(pause::<true>))
        .route("/admin/mailboxes/{id}/resume", post(pause::<false>))
        .route("/admin/mailboxes/{id}/disconnect", post(disconnect))
}

struct MailboxRow {
    id: i64,
    address: String,
    provider: &'static str,
    owner: String,
    status: &'static str,
    last_success: String,
    last_error: String,
    can_pause: bool,
    can_resume: bool,
    can_disconnect: bool,
    /// Visibility level choices (`mailbox_visibility`).
    visibility: Vec<super::mailbox_visibility::LevelOption>,
}

#[derive(Template)]
#[template(path = "admin/mailboxes.html")]
struct MailboxesPage {
    layout: Layout,
    rows: Vec<MailboxRow>,
    csrf: String,
}

fn status_label(status: MailboxStatus) -> &'static str {
    match status {
        MailboxStatus::Active => "Connected",
        MailboxStatus::NeedsReconnect => "Needs reconnecting",
        MailboxStatus::Paused => "Paused",
        MailboxStatus::Disconnected => "Disconnected",
    }
}

async fn list(
    State(db): State<DatabaseConnection>,
    AdminUser(admin): AdminUser,
) -> Result<Response, AppError> {
    let org = admin.organization_id;
    let owners: HashMap<i64, String> = users::list_in_org(&db, org)
        .await?
        .into_iter()
        .map(|u| {
            let disabled = if u.disabled { " (disabled)" } else { "" };
            (u.id, format!("{} <{}>{disabled}", u.name, u.email))
        })
        .collect();
    let levels = crate::db::visibility::levels(&db, org).await?;
    let max = crate::db::visibility::policy(&db, org).await?.max;
    let rows = mail_accounts::list_in_org(&db, org)
        .await?
        .into_iter()
        .map(|a| MailboxRow {
            visibility: super::mailbox_visibility::options(
                levels.get(&a.id).copied().unwrap_or_default(),
                max,
            ),
            id: a.id,
            provider: a.provider.label(),
            owner: a.owner_user_id.map_or_else(
                || "the organization".to_string(),
                |id| owners.get(&id).cloned().unwrap_or_default(),
            ),
            status: status_label(a.status),
            last_success: a.last_success_at.map_or_else(
                || "never".into(),
                |t| t.format("%Y-%m-%d %H:%M UTC").to_string(),
            ),
            last_error: a.last_error.unwrap_or_default(),
            can_pause: matches!(
                a.status,
                MailboxStatus::Active | MailboxStatus::NeedsReconnect
            ),
            can_resume: a.status == MailboxStatus::Paused,
            can_disconnect: a.status != MailboxStatus::Disconnected,
            address: a.address,
        })
        .collect();
    let page = MailboxesPage {
        layout: Layout::for_user(&admin, "All mailboxes", "admin-mailboxes"),
        rows,
        csrf: admin.csrf.clone(),
    };
    Ok(render(&page)?.into_response())
}

/// Pause (`PAUSE`) or resume one mailbox, then back to the list.
async fn pause<const PAUSE: bool>(
    State(db): State<DatabaseConnection>,
    AdminUser(admin): AdminUser,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let org = admin.organization_id;
    match pausing::set_paused(&db, org, admin.id, id, PAUSE).await {
        Ok(_) => Ok(Redirect::to("/admin/mailboxes").into_response()),
        Err(PauseError::NotFound) => Err(AppError::NotFound),
        Err(PauseError::Refused(why)) => Err(AppError::Invalid(why.to_string())),
        Err(PauseError::Db(e)) => Err(e.into()),
    }
}

/// Disconnect one mailbox (revoked at the provider where possible, tokens forgotten), keeping
/// its synced mail; then back to the list.
async fn disconnect(
    State(deps): State<MailDeps>,
    AdminUser(admin): AdminUser,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let org = admin.organization_id;
    match unlink::disconnect_as_admin(&deps, org, admin.id, id, false).await {
        Ok(_) => Ok(Redirect::to("/admin/mailboxes").into_response()),
        Err(DisconnectError::NotFound) => Err(AppError::NotFound),
        Err(DisconnectError::Db(e)) => Err(e.into()),
    }
}
