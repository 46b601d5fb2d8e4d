//! Write-back on the web: the organization's switch (admins, on /settings), a mailbox's switch
//! (its owner on the mailbox's page, an admin on the mailbox console), and "Reconnect with write access" for a
//! mailbox linked read-only (the only time the consent asks for the modify scope). Plain forms,
//! CSRF-checked by the middleware, each change audited (`db::write_back::settings`).
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use axum::{Form, Router};
use sea_orm::DatabaseConnection;
use serde::Deserialize;

use super::error::AppError;
use super::session::{AdminUser, CurrentUser};
use super::AppState;
use crate::db::entities::mail_accounts::Model as MailAccount;
use crate::db::write_back::{eligibility_of, outbox, settings};
use crate::db::{self, mail_accounts};
use crate::domain::write_back::{write_scope, Eligibility};
use crate::mailboxes::MailDeps;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/settings/write-back", post(org_switch))
        .route("/mailboxes/{id}/write-back", post(mailbox_switch))
        .route("/admin/mailboxes/{id}/write-back", post(admin_switch))
        .route("/mailboxes/{id}/write-access", post(write_access))
}

/// What a mailbox's page shows of write-back.
pub struct WriteBackView {
    /// `on`, `off`, `read-only`, `not allowed`, `not available`.
    pub state: &'static str,
    pub note: String,
    /// The mailbox's own switch.
    pub on: bool,
    /// The switch can be changed here (the grant and the organization allow it).
    pub can_switch: bool,
    /// Linked read-only: offer a reconnect that asks for the modify scope.
    pub offer_write_access: bool,
    /// Writes waiting for the provider, and the latest failure.
    pub pending: u64,
    pub last_error: Option<String>,
}

pub async fn for_mailbox(
    db: &DatabaseConnection,
    account: &MailAccount,
) -> Result<WriteBackView, AppError> {
    let allows = settings::org_allows(db, account.organization_id).await?;
    let (pending, last_error) = outbox::pending(db, account.id).await?;
    let label = account.provider.label();
    let scope = write_scope(account.provider);
    let (state, note) = match eligibility_of(account, allows) {
        Eligibility::On => (
            "on",
            format!("Marking mail read, unread or starred here changes it in {label} too."),
        ),
        Eligibility::MailboxOff => (
            "off",
            format!("Marks stay in Threadline; {label} is not changed."),
        ),
        Eligibility::OrgOff => (
            "not allowed",
            "Your organization has not allowed write-back; an administrator can, under Settings."
                .to_string(),
        ),
        Eligibility::ReadOnly => (
            "read-only",
            format!(
                "This mailbox is linked read-only: Threadline never changes it. To write marks \
                 back, reconnect it with write access ({scope})."
            ),
        ),
        Eligibility::OrgConnection => (
            "not available",
            "This mailbox syncs through your organization's connection, which reads mail only: \
             marks are never written to it."
                .to_string(),
        ),
    };
    let eligibility = eligibility_of(account, allows);
    Ok(WriteBackView {
        state,
        note,
        on: account.write_back,
        can_switch: matches!(eligibility, Eligibility::On | Eligibility::MailboxOff),
        offer_write_access: eligibility == Eligibility::ReadOnly,
        pending,
        last_error,
    })
}

#[derive(Debug, Deserialize)]
struct SwitchForm {
    #[serde(default)]
    enabled: String,
}

impl SwitchForm {
    fn on(&self) -> Result<bool, AppError> {
        match self.enabled.as_str() {
            "on" => Ok(true),
            "off" => Ok(false),
            _ => Err(AppError::Invalid("enabled must be on or off".into())),
        }
    }
}

async fn org_switch(
    State(db): State<DatabaseConnection>,
    AdminUser(user): AdminUser,
    Form(form): Form<SwitchForm>,
) -> Result<Response, AppError> {
    let on = form.on()?;
    let txn = db::begin_write(&db).await?;
    settings::set_org(&txn, user.organization_id, user.id, on).await?;
    txn.commit().await?;
    Ok(Redirect::to("/settings#write-back").into_response())
}

/// The owner turns their mailbox's write-back on or off (from its page).
async fn mailbox_switch(
    State(deps): State<MailDeps>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<SwitchForm>,
) -> Result<Response, AppError> {
    switch(&deps, &user, id, form.on()?, false).await?;
    Ok(Redirect::to(&format!("/mailboxes/{id}#write-back")).into_response())
}

/// An admin turns any mailbox's write-back on or off (from the mailbox console).
async fn admin_switch(
    State(deps): State<MailDeps>,
    AdminUser(admin): AdminUser,
    Path(id): Path<i64>,
    Form(form): Form<SwitchForm>,
) -> Result<Response, AppError> {
    switch(&deps, &admin, id, form.on()?, true).await?;
    Ok(Redirect::to(&format!("/admin/mailboxes#mailbox-{id}")).into_response())
}

/// Set the switch of mailbox `id` (the user's own, or any of the organization's for an
/// `admin`). Turning it on needs a grant with the modify scope and the organization's consent.
async fn switch(
    deps: &MailDeps,
    user: &CurrentUser,
    id: i64,
    on: bool,
    admin: bool,
) -> Result<(), AppError> {
    let account = mail_accounts::find_in_org(&deps.db, user.organization_id, id)
        .await?
        .filter(|a| admin || a.owner_user_id == Some(user.id))
        .ok_or(AppError::NotFound)?;
    if on {
        let allows = settings::org_allows(&deps.db, account.organization_id).await?;
        let eligibility = eligibility_of(&account, allows);
        if !matches!(eligibility, Eligibility::On | Eligibility::MailboxOff) {
            let view = for_mailbox(&deps.db, &account).await?;
            return Err(AppError::Invalid(view.note));
        }
    }
    let txn = db::begin_write(&deps.db).await?;
    settings::set_mailbox(&txn, user.organization_id, user.id, id, on).await?;
    txn.commit().await?;
    Ok(())
}

/// "Reconnect with write access": the owner's consent again, this time asking for the modify
/// scope; once granted, the mailbox's write-back is turned on.
async fn write_access(
    State(deps): State<MailDeps>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let account = mail_accounts::find_in_org(&deps.db, user.organization_id, id)
        .await?
        .filter(|a| a.owner_user_id == Some(user.id))
        .ok_or(AppError::NotFound)?;
    if account.connection_id.is_some() {
        return Err(AppError::Invalid(
            "This mailbox syncs through your organization's connection; it cannot be given \
             write access."
                .into(),
        ));
    }
    let (provider, address) = (account.provider, account.address);
    super::mailboxes::start(&deps, &user, provider, Some(id), Some(&address), true).await
}
