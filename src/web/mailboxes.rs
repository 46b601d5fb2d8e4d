//! The user's mailboxes: list, connect through OAuth (Gmail, Outlook), reconnect, disconnect.
//! The OAuth callback is a GET by necessity (the provider redirects the browser); it is bound to
//! the session by a one-time state and PKCE.
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

use super::error::AppError;
use super::session::CurrentUser;
use super::views::{render, Layout};
use super::AppState;
use crate::db::{self, mail_accounts, write_back};
use crate::domain::write_back::can_write;
use crate::mailboxes::connect::{self, ConnectError, ConnectRequest};
use crate::mailboxes::console::{self, Requester, SyncRequest};
use crate::mailboxes::disconnect::{self, Revocation};
use crate::mailboxes::MailDeps;
use crate::providers::{Provider, Secret};
use crate::web::mailbox_views::{MailboxRow, ProviderChoice};

const PENDING_KEY: &str = "oauth.pending";
const FLASH_KEY: &str = "mailboxes.flash";
/// A consent must come back within this long.
const PENDING_TTL: Duration = Duration::minutes(15);

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/mailboxes", get(index))
        .route("/mailboxes/connect/{provider}", post(connect))
        .route("/mailboxes/{id}/reconnect", post(reconnect))
        .route("/mailboxes/{id}/sync", post(sync_now))
        .route("/mailboxes/oauth/{provider}/callback", get(callback))
        .route(
            "/mailboxes/{id}/disconnect",
            get(confirm_disconnect).post(disconnect),
        )
}

/// The authorization in flight, kept in the session until its callback.
#[derive(Debug, Serialize, Deserialize)]
struct PendingOAuth {
    provider: Provider,
    state: String,
    pkce_verifier: Secret,
    reconnect: Option<i64>,
    /// The consent also asked for the modify scope (write-back).
    #[serde(default)]
    write: bool,
    started_at: DateTime<Utc>,
}

#[derive(Template)]
#[template(path = "mailboxes/index.html")]
struct MailboxesPage {
    layout: Layout,
    mailboxes: Vec<MailboxRow>,
    csrf: String,
    polling: bool,
    providers: Vec<ProviderChoice>,
    flash: Option<String>,
}

#[derive(Template)]
#[template(path = "mailboxes/connect_failed.html")]
struct ConnectFailedPage {
    layout: Layout,
    title: String,
    message: String,
    details: Vec<&'static str>,
}

#[derive(Template)]
#[template(path = "mailboxes/disconnect.html")]
struct DisconnectPage {
    layout: Layout,
    mailbox: MailboxRow,
}

async fn index(State(deps): State<MailDeps>, user: CurrentUser) -> Result<Response, AppError> {
    let accounts = mail_accounts::list_for_owner(&deps.db, user.organization_id, user.id).await?;
    let flash = user.session.remove::<String>(FLASH_KEY).await?;
    let (mailboxes, polling) = super::mailbox_sync::mailbox_rows(&deps, accounts).await?;
    let page = MailboxesPage {
        layout: Layout::for_user(&user, "Mailboxes", "mailboxes"),
        mailboxes,
        csrf: user.csrf.clone(),
        polling,
        providers: Provider::ALL
            .iter()
            .map(|p| ProviderChoice::new(*p, deps.providers.oauth(*p).is_some()))
            .collect(),
        flash,
    };
    Ok(render(&page)?.into_response())
}

#[derive(Debug, Default, Deserialize)]
struct ConnectForm {
    /// Preselect this mailbox on the provider's consent page.
    #[serde(default)]
    login_hint: Option<String>,
}

async fn connect(
    State(deps): State<MailDeps>,
    user: CurrentUser,
    Path(provider): Path<String>,
    Form(form): Form<ConnectForm>,
) -> Result<Response, AppError> {
    let provider = Provider::parse(&provider).ok_or(AppError::NotFound)?;
    let hint = form
        .login_hint
        .as_deref()
        .map(str::trim)
        .filter(|h| !h.is_empty());
    start(&deps, &user, provider, None, hint, false).await
}

async fn reconnect(
    State(deps): State<MailDeps>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let account = owned_account(&deps, &user, id).await?;
    let provider = account.provider;
    // A mailbox that may write back keeps its write access through a reconnect.
    let write = can_write(provider, &account.granted_scopes);
    start(
        &deps,
        &user,
        provider,
        Some(account.id),
        Some(&account.address),
        write,
    )
    .await
}

/// One of the signed-in user's own mailboxes; anything else is "not found".
async fn owned_account(
    deps: &MailDeps,
    user: &CurrentUser,
    id: i64,
) -> Result<crate::db::entities::mail_accounts::Model, AppError> {
    mail_accounts::find_in_org(&deps.db, user.organization_id, id)
        .await?
        .filter(|a| a.owner_user_id == Some(user.id))
        .ok_or(AppError::NotFound)
}

/// "Sync now": make the mailbox's sync job due at once (a worker picks it up); refused, with
/// nothing queued, for a mailbox that cannot sync (paused, needing a reconnect, disconnected).
async fn sync_now(
    State(deps): State<MailDeps>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let by = Requester::Owner(user.id);
    let (account, request) = console::sync_now(&deps.db, user.organization_id, by, id)
        .await
        .map_err(super::admin_mailboxes::console_error)?;
    let note = match request {
        SyncRequest::Due => format!(
            "Sync of {} requested; it starts within moments.",
            account.address
        ),
        SyncRequest::AlreadyRunning => format!("A pass of {} is running now.", account.address),
    };
    user.session.insert(FLASH_KEY, note).await?;
    Ok(Redirect::to("/mailboxes").into_response())
}

/// Remember a fresh state and PKCE verifier, then send the browser to the provider (asking for
/// the modify scope as well when `write`).
pub(super) async fn start(
    deps: &MailDeps,
    user: &CurrentUser,
    provider: Provider,
    reconnect: Option<i64>,
    login_hint: Option<&str>,
    write: bool,
) -> Result<Response, AppError> {
    let oauth = deps.providers.oauth(provider).ok_or(AppError::Forbidden(
        "Linking this kind of mailbox is not configured on this server.",
    ))?;
    let auth = oauth
        .authorize(login_hint, write)
        .map_err(|e| AppError::Unexpected(e.into()))?;
    let pending = PendingOAuth {
        provider,
        state: auth.state,
        pkce_verifier: auth.pkce_verifier,
        reconnect,
        write,
        started_at: db::now(),
    };
    user.session.insert(PENDING_KEY, pending).await?;
    Ok(Redirect::to(&auth.url).into_response())
}

#[derive(Debug, Deserialize)]
struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

async fn callback(
    State(deps): State<MailDeps>,
    user: CurrentUser,
    Path(provider): Path<String>,
    Query(q): Query<CallbackQuery>,
) -> Result<Response, AppError> {
    // One use only: the pending authorization leaves the session whatever happens next.
    let pending = user.session.remove::<PendingOAuth>(PENDING_KEY).await?;
    let fail = |status, title: &str, message: String, details| {
        let layout = Layout::for_user(&user, "Linking failed", "mailboxes");
        let page = ConnectFailedPage {
            layout,
            title: title.into(),
            message,
            details,
        };
        render(&page).map(|body| (status, body).into_response())
    };
    let Some(pending) = pending.filter(|p| db::now() - p.started_at < PENDING_TTL) else {
        let msg = "This sign-in response was already used or has expired. Start again from the \
                   Mailboxes page."
            .into();
        return fail(StatusCode::BAD_REQUEST, "Link expired", msg, vec![]);
    };
    let state_ok = q
        .state
        .as_deref()
        .is_some_and(|s| bool::from(s.as_bytes().ct_eq(pending.state.as_bytes())));
    if Provider::parse(&provider) != Some(pending.provider) || !state_ok {
        let msg = "The response did not match the sign-in Threadline started, so it was refused. \
                   Start again from the Mailboxes page."
            .into();
        return fail(
            StatusCode::BAD_REQUEST,
            "Sign-in response refused",
            msg,
            vec![],
        );
    }
    let label = pending.provider.label();
    if let Some(error) = q.error {
        let msg = if error == "access_denied" {
            format!("You declined access in {label}, so nothing was linked.")
        } else {
            format!("{label} reported: {}", q.error_description.unwrap_or(error))
        };
        return fail(StatusCode::BAD_REQUEST, "Not linked", msg, vec![]);
    }
    let Some(code) = q.code else {
        return fail(
            StatusCode::BAD_REQUEST,
            "Not linked",
            format!("{label} sent no authorization code."),
            vec![],
        );
    };
    let request = ConnectRequest {
        organization_id: user.organization_id,
        user_id: user.id,
        provider: pending.provider,
        code: &code,
        pkce_verifier: &pending.pkce_verifier,
        reconnect: pending.reconnect,
    };
    match connect::complete(&deps, request).await {
        Ok(account) => {
            if pending.write && can_write(account.provider, &account.granted_scopes) {
                let txn = db::begin_write(&deps.db).await?;
                write_back::settings::set_mailbox(
                    &txn,
                    user.organization_id,
                    user.id,
                    account.id,
                    true,
                )
                .await?;
                txn.commit().await?;
            }
            let verb = if pending.reconnect.is_some() {
                "Reconnected"
            } else {
                "Linked"
            };
            user.session
                .insert(
                    FLASH_KEY,
                    format!("{verb} {label} mailbox {}.", account.address),
                )
                .await?;
            Ok(Redirect::to("/mailboxes").into_response())
        }
        Err(ConnectError::MissingScopes(missing)) => {
            let msg = format!(
                "{label} granted only part of what Threadline asks for. Connect again and leave \
                 these permissions ticked:"
            );
            fail(StatusCode::FORBIDDEN, "Permissions missing", msg, missing)
        }
        Err(e @ (ConnectError::ConnectedByOther { .. } | ConnectError::WrongMailbox { .. })) => {
            fail(StatusCode::CONFLICT, "Not linked", e.to_string(), vec![])
        }
        Err(ConnectError::Db(e)) => Err(AppError::Unexpected(e.into())),
        Err(e) => {
            tracing::warn!(provider = %pending.provider, error = %e, "connecting the mailbox failed");
            fail(
                StatusCode::BAD_GATEWAY,
                "Not linked",
                format!("{label}: {e}"),
                vec![],
            )
        }
    }
}

async fn confirm_disconnect(
    State(deps): State<MailDeps>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let account = owned_account(&deps, &user, id).await?;
    let page = DisconnectPage {
        layout: Layout::for_user(&user, "Disconnect mailbox", "mailboxes"),
        mailbox: MailboxRow::from(account),
    };
    Ok(render(&page)?.into_response())
}

#[derive(Debug, Deserialize)]
struct DisconnectForm {
    #[serde(default)]
    purge: bool,
}

async fn disconnect(
    State(deps): State<MailDeps>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<DisconnectForm>,
) -> Result<Response, AppError> {
    let outcome = disconnect::disconnect(&deps, user.organization_id, user.id, id, form.purge)
        .await
        .map_err(|e| match e {
            disconnect::DisconnectError::NotFound => AppError::NotFound,
            disconnect::DisconnectError::Db(e) => AppError::Unexpected(e.into()),
        })?;
    let kept = if form.purge {
        "Its synced mail was deleted."
    } else {
        "Its synced mail is kept."
    };
    let revoked = match outcome {
        Revocation::Revoked => "Access was revoked at the provider.".to_string(),
        Revocation::NotSupported => "Microsoft has no revocation for this; remove Threadline \
                                     under your account's app permissions if you wish."
            .to_string(),
        Revocation::Failed(why) => format!(
            "The provider could not revoke access ({why}); Threadline deleted its tokens anyway."
        ),
        Revocation::NothingStored => String::new(),
    };
    user.session
        .insert(
            FLASH_KEY,
            format!("Mailbox disconnected. {kept} {revoked}")
                .trim()
                .to_string(),
        )
        .await?;
    Ok(Redirect::to("/mailboxes").into_response())
}
