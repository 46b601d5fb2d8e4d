//! Push upkeep at the end of a mailbox's pass (issue 22): the worker that holds the mailbox's
//! lease creates, renews, reauthorizes or recreates its Graph subscription or Gmail watch, so
//! exactly one instance does it and no separate scheduler is needed (a mailbox with healthy
//! push still passes every `THREADLINE_PUSH_POLL_SECONDS`, well inside any expiry). Its state
//! lives in `mailbox_push` ([`crate::db::push`]); the notification endpoints (`web::push_*`)
//! only record and wake ([`super::wake`]).
pub mod gmail;
pub mod gmail_notice;
pub mod graph;
pub mod graph_notifications;

use crate::db::entities::mail_accounts::Model as Account;
use crate::db::push;
use crate::domain::provider::Provider;
use crate::mailboxes::MailDeps;

/// Set up or keep up the mailbox's push after a pass that finished its work. Failures are
/// recorded on the mailbox's push row (state `failing` with the reason) and never fail the
/// pass: polling carries on.
pub async fn maintain(deps: &MailDeps, account: &Account) {
    let result = match account.provider {
        Provider::Microsoft => graph::maintain(deps, account).await,
        Provider::Google => gmail::maintain(deps, account).await,
    };
    if let Err(e) = result {
        tracing::warn!(account = account.id, error = %e, "push upkeep failed; the mailbox polls");
    }
}

/// Seconds until the mailbox's next poll: its own interval, or with push healthy (active and
/// not past its expiry) the longer safety-net interval.
pub async fn next_poll_secs(deps: &MailDeps, account: &Account) -> Result<i64, sea_orm::DbErr> {
    let own = i64::from(account.sync_interval_secs.max(30));
    let healthy = push::find(&deps.db, account.id)
        .await?
        .is_some_and(|row| push::healthy(&row.state, row.expires_at, crate::db::now()));
    Ok(if healthy {
        own.max(i64::from(deps.providers.push.poll_seconds))
    } else {
        own
    })
}
