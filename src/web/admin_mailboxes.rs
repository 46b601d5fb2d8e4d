//! Admin → Mailboxes: every mailbox of the organization, paged, with its owner, status, last
//! sync, lag, messages and errors (`db::mailbox_console`), and what an admin does to one:
//! Pause / Resume (`mailboxes::pausing`), Sync now and Transfer (`mailboxes::console`), and
//! Disconnect keeping or deleting its mail (`mailboxes::disconnect`, the owner's own path),
//! the last two after a confirmation page. Plain forms, CSRF-checked, each audited; another
//! organization's mailbox is "not found".
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;

use super::admin_mailbox_views::{MailboxRow, MailboxSummary, Pager, TargetUser};
use super::error::AppError;
use super::session::{AdminUser, CurrentUser};
use super::views::{render, Layout};
use super::AppState;
use crate::db::entities::mail_accounts::Model as MailAccount;
use crate::db::{self, mail_accounts, mailbox_console, users};
use crate::domain::mailbox::MailboxStatus;
use crate::mailboxes::console::{self, ConsoleError, Requester, SyncRequest};
use crate::mailboxes::disconnect::{self as unlink, DisconnectError};
use crate::mailboxes::pausing::{self, PauseError};
use crate::mailboxes::MailDeps;

const FLASH_KEY: &str = "admin.mailboxes.flash";
const LIST: &str = "/admin/mailboxes";

pub fn router() -> Router<AppState> {
    Router::new()
        .route(LIST, get(list))
        .route("/admin/mailboxes/{id}/pause", post(pause::<true>))
        .route("/admin/mailboxes/{id}/resume", post(pause::<false>))
        .route("/admin/mailboxes/{id}/sync", post(sync_now))
        .route(
            "/admin/mailboxes/{id}/transfer",
            get(confirm_transfer).post(transfer),
        )
        .route(
            "/admin/mailboxes/{id}/disconnect",
            get(confirm_disconnect).post(disconnect),
        )
}

#[derive(Template)]
#[template(path = "admin/mailboxes.html")]
struct MailboxesPage {
    layout: Layout,
    rows: Vec<MailboxRow>,
    pager: Pager,
    flash: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/mailbox_transfer.html")]
struct TransferPage {
    layout: Layout,
    mailbox: MailboxSummary,
    users: Vec<TargetUser>,
}

#[derive(Template)]
#[template(path = "admin/mailbox_disconnect.html")]
struct DisconnectPage {
    layout: Layout,
    mailbox: MailboxSummary,
    messages: u64,
}

#[derive(Debug, Default, Deserialize)]
struct PageQuery {
    #[serde(default)]
    page: Option<u64>,
}

async fn list(
    State(deps): State<MailDeps>,
    AdminUser(admin): AdminUser,
    Query(q): Query<PageQuery>,
) -> Result<Response, AppError> {
    let org = admin.organization_id;
    let page = q.page.unwrap_or(1).max(1) - 1;
    let txn = db::begin_read(&deps.db).await?;
    let total = mailbox_console::count(&txn, org).await?;
    let found = mailbox_console::page(&txn, org, page).await?;
    let levels = db::visibility::levels(&txn, org).await?;
    let max = db::visibility::policy(&txn, org).await?.max;
    let allows = db::write_back::settings::org_allows(&txn, org).await?;
    let ids: Vec<i64> = found.iter().map(|r| r.id).collect();
    let reconciled = db::reconciliation::of_mailboxes(&txn, &ids).await?;
    txn.commit().await?;
    let now = db::now();
    let rows: Vec<MailboxRow> = found
        .into_iter()
        .zip(reconciled)
        .map(|(r, reconciliation)| {
            let level = levels.get(&r.id).copied().unwrap_or_default();
            let write_back = super::admin_mailbox_views::write_back_switch(&r, allows);
            let syncing = r.status == crate::domain::mailbox::MailboxStatus::Active;
            let facts = super::admin_mailbox_views::push_facts(&r);
            let (provider, interval) = (r.provider, r.sync_interval_secs);
            let mut row = MailboxRow::new(r, now);
            let p = &deps.providers;
            row.push = syncing.then(|| {
                super::push_views::PushView::new(
                    provider,
                    &facts,
                    interval,
                    &p.push,
                    &p.base_url,
                    now,
                )
            });
            row.write_back = write_back;
            row.visibility = super::mailbox_visibility::options(level, max);
            row.reconciliation = Some(super::reconciliation_views::ReconciliationView::new(
                &reconciliation,
                now,
            ));
            row
        })
        .collect();
    let page = MailboxesPage {
        layout: Layout::for_user(&admin, "All mailboxes", "admin-mailboxes"),
        pager: Pager::new(page, rows.len(), total),
        rows,
        flash: admin.session.remove::<String>(FLASH_KEY).await?,
    };
    Ok(render(&page)?.into_response())
}

/// Back to the list, with `note` shown once on it.
async fn done(admin: &CurrentUser, note: String) -> Result<Response, AppError> {
    admin.session.insert(FLASH_KEY, note).await?;
    Ok(Redirect::to(LIST).into_response())
}

/// A console action's error as the web edge shows it (the owner's Sync now shares it).
pub(super) fn console_error(e: ConsoleError) -> AppError {
    match e {
        ConsoleError::NotFound => AppError::NotFound,
        ConsoleError::Refused(why) => AppError::Invalid(why),
        ConsoleError::Db(e) => e.into(),
    }
}

/// Pause (`PAUSE`) or resume one mailbox, then back to the list.
async fn pause<const PAUSE: bool>(
    State(deps): State<MailDeps>,
    AdminUser(admin): AdminUser,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let org = admin.organization_id;
    let mailbox = match pausing::pause_or_resume(&deps, org, admin.id, id, PAUSE).await {
        Ok(mailbox) => mailbox,
        Err(PauseError::NotFound) => return Err(AppError::NotFound),
        Err(PauseError::Refused(why)) => return Err(AppError::Invalid(why.to_string())),
        Err(PauseError::Db(e)) => return Err(e.into()),
    };
    let note = if PAUSE {
        format!(
            "Paused {}: no pass runs until it is resumed.",
            mailbox.address
        )
    } else {
        format!(
            "Resumed {}: it syncs from where it stopped.",
            mailbox.address
        )
    };
    done(&admin, note).await
}

/// "Sync now": the mailbox's pass is due at once, for a worker to run.
async fn sync_now(
    State(deps): State<MailDeps>,
    AdminUser(admin): AdminUser,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let org = admin.organization_id;
    let (mailbox, request) = console::sync_now(&deps.db, org, Requester::Admin(admin.id), id)
        .await
        .map_err(console_error)?;
    let note = match request {
        SyncRequest::Due => format!(
            "Sync of {} requested; a worker starts it within moments.",
            mailbox.address
        ),
        SyncRequest::AlreadyRunning => format!("A pass of {} is running now.", mailbox.address),
    };
    done(&admin, note).await
}

/// One mailbox of the admin's organization, with its owner as `(name, email, disabled)`.
async fn summary(
    deps: &MailDeps,
    org: i64,
    id: i64,
) -> Result<(MailAccount, MailboxSummary), AppError> {
    let mailbox = mail_accounts::find_in_org(&deps.db, org, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let owner = match mailbox.owner_user_id {
        Some(owner) => users::find_in_org(&deps.db, org, owner)
            .await?
            .map(|u| (u.name, u.email, u.disabled)),
        None => None,
    };
    let summary = MailboxSummary::new(&mailbox, owner);
    Ok((mailbox, summary))
}

async fn confirm_transfer(
    State(deps): State<MailDeps>,
    AdminUser(admin): AdminUser,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let org = admin.organization_id;
    let (mailbox, summary) = summary(&deps, org, id).await?;
    let users = mailbox_console::transfer_targets(&deps.db, org)
        .await?
        .into_iter()
        .filter(|u| Some(u.id) != mailbox.owner_user_id)
        .map(|u| TargetUser {
            id: u.id,
            label: format!("{} <{}>", u.name, u.email),
        })
        .collect();
    let page = TransferPage {
        layout: Layout::for_user(&admin, "Transfer mailbox", "admin-mailboxes"),
        mailbox: summary,
        users,
    };
    Ok(render(&page)?.into_response())
}

#[derive(Debug, Default, Deserialize)]
struct TransferForm {
    #[serde(default)]
    user_id: String,
}

async fn transfer(
    State(deps): State<MailDeps>,
    AdminUser(admin): AdminUser,
    Path(id): Path<i64>,
    Form(form): Form<TransferForm>,
) -> Result<Response, AppError> {
    let org = admin.organization_id;
    // A mailbox of another organization is "not found" whatever the form says.
    let Ok(to) = form.user_id.trim().parse::<i64>() else {
        summary(&deps, org, id).await?;
        return Err(AppError::Invalid(
            "Choose a user to hand the mailbox to.".into(),
        ));
    };
    let (mailbox, user) = console::transfer(&deps.db, org, admin.id, id, to)
        .await
        .map_err(console_error)?;
    let note = format!(
        "{} now belongs to {} <{}>; its mail and sync stay as they were.",
        mailbox.address, user.name, user.email
    );
    done(&admin, note).await
}

async fn confirm_disconnect(
    State(deps): State<MailDeps>,
    AdminUser(admin): AdminUser,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let (mailbox, summary) = summary(&deps, admin.organization_id, id).await?;
    let messages = mailbox_console::stored_messages(&deps.db, mailbox.id).await?;
    let page = DisconnectPage {
        layout: Layout::for_user(&admin, "Disconnect mailbox", "admin-mailboxes"),
        mailbox: summary,
        messages,
    };
    Ok(render(&page)?.into_response())
}

#[derive(Debug, Default, Deserialize)]
struct DisconnectForm {
    #[serde(default)]
    purge: bool,
}

/// Disconnect one mailbox (revoked at the provider where possible, tokens forgotten), keeping
/// its synced mail or, with `purge`, deleting the mailbox and all its mail as its owner's
/// disconnect does; then back to the list. A disconnected mailbox can still be purged.
async fn disconnect(
    State(deps): State<MailDeps>,
    AdminUser(admin): AdminUser,
    Path(id): Path<i64>,
    Form(form): Form<DisconnectForm>,
) -> Result<Response, AppError> {
    let org = admin.organization_id;
    let mailbox = mail_accounts::find_in_org(&deps.db, org, id)
        .await?
        .ok_or(AppError::NotFound)?;
    if mailbox.status == MailboxStatus::Disconnected && !form.purge {
        return Err(AppError::Invalid(
            "This mailbox is already disconnected; its mail is kept.".into(),
        ));
    }
    let messages = mailbox_console::stored_messages(&deps.db, mailbox.id).await?;
    match unlink::disconnect_as_admin(&deps, org, admin.id, id, form.purge).await {
        Ok(_) => {}
        Err(DisconnectError::NotFound) => return Err(AppError::NotFound),
        Err(DisconnectError::Db(e)) => return Err(e.into()),
    }
    let note = if form.purge {
        format!(
            "Disconnected {} and deleted its mail ({messages} stored messages).",
            mailbox.address
        )
    } else {
        format!("Disconnected {}; its mail is kept.", mailbox.address)
    };
    done(&admin, note).await
}
