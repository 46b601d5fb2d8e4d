//! Sync as the mailbox owner sees it: the rows of the mailboxes table (refreshed by htmx every
//! two seconds while a pass runs or a first sync is unfinished), a mailbox's page with its
//! settings, recent runs and the messages not stored, and saving those settings.
use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};

use super::error::AppError;
use super::mailbox_views::{MailboxRow, RunRow, SkipRow};
use super::push_views::{PushFacts, PushView};
use super::reconciliation_views::ReconciliationView;
use super::session::CurrentUser;
use super::views::{render, FieldErrors, Layout};
use super::AppState;
use crate::db::entities::mail_accounts::Model as MailAccount;
use crate::db::{self, mail_accounts, sync_runs, sync_status};
use crate::mailboxes::settings::{self, SettingsForm, INTERVALS};
use crate::mailboxes::MailDeps;
use crate::providers::Provider;

const FLASH_KEY: &str = "mailbox.flash";
const RUNS_SHOWN: u64 = 20;
const SKIPS_SHOWN: u64 = 50;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/mailboxes/rows", get(rows))
        .route("/mailboxes/{id}", get(show))
        .route("/mailboxes/{id}/settings", post(save))
}

/// The `<tbody>` of the mailboxes table on its own (the htmx refresh).
#[derive(Template)]
#[template(path = "mailboxes/_rows.html")]
struct RowsFragment {
    mailboxes: Vec<MailboxRow>,
    csrf: String,
    polling: bool,
}

#[derive(Template)]
#[template(path = "mailboxes/show.html")]
struct MailboxPage {
    layout: Layout,
    mailbox: MailboxRow,
    /// For the included rows: this mailbox only.
    mailboxes: Vec<MailboxRow>,
    csrf: String,
    polling: bool,
    flash: Option<String>,
    form: FormView,
    errors: FieldErrors,
    intervals: Vec<(String, String)>,
    folder_label: &'static str,
    folder_default: &'static str,
    runs: Vec<RunRow>,
    skips: Vec<SkipRow>,
    /// The provider's counts against what Threadline holds, per synced folder.
    reconciliation: ReconciliationView,
    /// The mailbox's visibility level and the choices within the organization's maximum.
    visibility: super::mailbox_visibility::MailboxVisibility,
    /// Whether the owner's marks are written back to the mailbox, and why not.
    write_back: super::mailbox_write_back::WriteBackView,
    /// The mailbox's own attachment limit and the organization's.
    attachment_limit: super::attachment_settings::MailboxLimitView,
}

struct FormView {
    interval_minutes: String,
    since: String,
    folders: String,
}

impl From<SettingsForm> for FormView {
    fn from(f: SettingsForm) -> Self {
        Self {
            interval_minutes: f.interval_minutes,
            since: f.since,
            folders: f.folders,
        }
    }
}

/// The table rows of `accounts`, and whether any of them is worth refreshing.
pub async fn mailbox_rows(
    deps: &MailDeps,
    accounts: Vec<MailAccount>,
) -> Result<(Vec<MailboxRow>, bool), AppError> {
    let now = db::now();
    let mut rows = Vec::with_capacity(accounts.len());
    for account in accounts {
        let status = sync_status::status(&deps.db, &account, now).await?;
        let facts = PushFacts::from(db::push::find(&deps.db, account.id).await?);
        let (provider, interval) = (account.provider, account.sync_interval_secs);
        let mut row = MailboxRow::new(account, &status, now);
        if row.connected && !row.can_reconnect {
            let p = &deps.providers;
            row.push = Some(PushView::new(
                provider,
                &facts,
                interval,
                &p.push,
                &p.base_url,
                now,
            ));
        }
        rows.push(row);
    }
    let polling = rows.iter().any(|r| r.sync.active);
    Ok((rows, polling))
}

async fn rows(State(deps): State<MailDeps>, user: CurrentUser) -> Result<Response, AppError> {
    let accounts = mail_accounts::list_for_owner(&deps.db, user.organization_id, user.id).await?;
    let (mailboxes, polling) = mailbox_rows(&deps, accounts).await?;
    let fragment = RowsFragment {
        mailboxes,
        csrf: user.csrf.clone(),
        polling,
    };
    Ok(render(&fragment)?.into_response())
}

/// One of the signed-in user's own mailboxes; anything else is "not found".
async fn owned(deps: &MailDeps, user: &CurrentUser, id: i64) -> Result<MailAccount, AppError> {
    mail_accounts::find_in_org(&deps.db, user.organization_id, id)
        .await?
        .filter(|a| a.owner_user_id == Some(user.id))
        .ok_or(AppError::NotFound)
}

async fn show(
    State(deps): State<MailDeps>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let account = owned(&deps, &user, id).await?;
    let form = SettingsForm::from_stored(&account.sync_settings, account.sync_interval_secs);
    let flash = user.session.remove::<String>(FLASH_KEY).await?;
    page(
        &deps,
        &user,
        account,
        form,
        FieldErrors::default(),
        flash,
        None,
    )
    .await
}

/// The mailbox's page with `errors` (a refused visibility level) and its stored settings.
pub async fn page_with_errors(
    deps: &MailDeps,
    user: &CurrentUser,
    account: MailAccount,
    errors: FieldErrors,
) -> Result<Response, AppError> {
    let form = SettingsForm::from_stored(&account.sync_settings, account.sync_interval_secs);
    page(deps, user, account, form, errors, None, None).await
}

/// The mailbox's page with a refused attachment limit (`typed`) and why (`errors`).
pub async fn page_with_limit(
    deps: &MailDeps,
    user: &CurrentUser,
    account: MailAccount,
    errors: FieldErrors,
    typed: String,
) -> Result<Response, AppError> {
    let form = SettingsForm::from_stored(&account.sync_settings, account.sync_interval_secs);
    page(deps, user, account, form, errors, None, Some(typed)).await
}

async fn page(
    deps: &MailDeps,
    user: &CurrentUser,
    account: MailAccount,
    form: SettingsForm,
    errors: FieldErrors,
    flash: Option<String>,
    typed_limit: Option<String>,
) -> Result<Response, AppError> {
    let provider = account.provider;
    let attachment_limit = super::attachment_settings::mailbox_view(
        &deps.db,
        user.organization_id,
        account.id,
        typed_limit,
    )
    .await?;
    let runs = sync_runs::recent_runs(&deps.db, account.id, RUNS_SHOWN).await?;
    let skips = sync_status::recent_skips(&deps.db, account.id, SKIPS_SHOWN).await?;
    let reconciliation = db::reconciliation::of_mailbox(&deps.db, account.id).await?;
    let title = account.address.clone();
    let visibility =
        super::mailbox_visibility::for_mailbox(&deps.db, user.organization_id, account.id).await?;
    let write_back = super::mailbox_write_back::for_mailbox(&deps.db, &account).await?;
    let (mailboxes, polling) = mailbox_rows(deps, vec![account]).await?;
    let Some(mailbox) = mailboxes.first().cloned() else {
        return Err(AppError::NotFound);
    };
    let (folder_label, folder_default) = match provider {
        Provider::Google => ("Labels", "INBOX, SENT"),
        Provider::Microsoft => ("Folders", "Inbox, Sent Items (with their subfolders)"),
    };
    let status = if errors.is_empty() {
        axum::http::StatusCode::OK
    } else {
        axum::http::StatusCode::UNPROCESSABLE_ENTITY
    };
    let view = MailboxPage {
        layout: Layout::for_user(user, title, "mailboxes"),
        mailbox,
        mailboxes,
        csrf: user.csrf.clone(),
        polling,
        flash,
        form: form.into(),
        errors,
        intervals: INTERVALS
            .iter()
            .map(|(v, l)| (v.to_string(), (*l).to_string()))
            .collect(),
        folder_label,
        folder_default,
        runs: runs.into_iter().map(RunRow::from).collect(),
        skips: skips.into_iter().map(SkipRow::from).collect(),
        reconciliation: ReconciliationView::new(&reconciliation, db::now()),
        visibility,
        write_back,
        attachment_limit,
    };
    Ok((status, render(&view)?).into_response())
}

async fn save(
    State(deps): State<MailDeps>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<SettingsForm>,
) -> Result<Response, AppError> {
    let account = owned(&deps, &user, id).await?;
    let provider = account.provider;
    let validated = match settings::validate(&form, provider, db::now().date_naive()) {
        Ok(v) => v,
        Err(problems) => {
            let mut errors = FieldErrors::default();
            for p in problems {
                errors.add(p.field, p.message);
            }
            return page(&deps, &user, account, form, errors, None, None).await;
        }
    };
    let before = account.sync_settings.clone();
    let restart = before != validated.settings;
    sync_status::save_settings(
        &deps.db,
        account.id,
        &validated.settings,
        validated.interval_secs,
        restart,
    )
    .await?;
    let note = if restart {
        "Settings saved. The mailbox is listed again with the new folders and dates at its next sync."
    } else {
        "Settings saved."
    };
    user.session.insert(FLASH_KEY, note.to_string()).await?;
    Ok(Redirect::to(&format!("/mailboxes/{id}")).into_response())
}
