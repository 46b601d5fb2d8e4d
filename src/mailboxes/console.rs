//! What an admin does to one mailbox of the organization from the console, besides pausing
//! (`pausing`) and disconnecting (`disconnect`): ask for a pass now, and hand the mailbox to
//! another user. Each is scoped to the admin's organization and audited. An owner's "Sync now"
//! goes through the same [`sync_now`] (and its refusals), unaudited.
use sea_orm::{DatabaseConnection, DbErr};

use crate::db::entities::mail_accounts::Model as MailAccount;
use crate::db::entities::users::Model as User;
use crate::db::{self, audit, jobs, mail_accounts, users};
use crate::domain::mailbox::MailboxStatus;

#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    #[error("not found")]
    NotFound,
    /// Why the action does not apply, for the admin.
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// Whether the requested pass starts as soon as a worker is free, or one is running now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncRequest {
    Due,
    AlreadyRunning,
}

/// Who asks for a pass now: an admin of the organization from the console (audited), or the
/// mailbox's owner from their mailboxes page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Requester {
    Admin(i64),
    Owner(i64),
}

/// Make the mailbox's sync job due at once; a worker runs the pass (never the caller). Only a
/// connected mailbox syncs: a paused one must be resumed first, one that needs reconnecting
/// waits for its owner, a disconnected one has no tokens; a refusal queues nothing. An owner
/// asks only for their own mailbox (anything else is not found).
pub async fn sync_now(
    db: &DatabaseConnection,
    org_id: i64,
    by: Requester,
    mailbox_id: i64,
) -> Result<(MailAccount, SyncRequest), ConsoleError> {
    let txn = db::begin_write(db).await?;
    let mailbox = mail_accounts::find_in_org(&txn, org_id, mailbox_id)
        .await?
        .filter(|m| match by {
            Requester::Admin(_) => true,
            Requester::Owner(user) => m.owner_user_id == Some(user),
        })
        .ok_or(ConsoleError::NotFound)?;
    if let Some(why) = sync_refusal(mailbox.status, by) {
        return Err(ConsoleError::Refused(why.to_string()));
    }
    let now = db::now();
    jobs::ensure(&txn, org_id, jobs::SYNC_ACCOUNT, mailbox.id, now).await?;
    let request = if jobs::run_now(&txn, jobs::SYNC_ACCOUNT, mailbox.id).await? {
        SyncRequest::Due
    } else {
        SyncRequest::AlreadyRunning
    };
    if let Requester::Admin(actor) = by {
        let detail = format!("{} {}", mailbox.provider, mailbox.address);
        let entry = audit::Entry::by_user(
            org_id,
            actor,
            "mailbox.sync_now",
            "mail_account",
            mailbox.id,
            detail,
        );
        audit::record(&txn, entry).await?;
    }
    txn.commit().await?;
    Ok((mailbox, request))
}

/// Why a mailbox in `status` cannot sync now, in the words of whoever asked; None when it can.
fn sync_refusal(status: MailboxStatus, by: Requester) -> Option<&'static str> {
    let admin = matches!(by, Requester::Admin(_));
    match status {
        // A refused organization mailbox may be tried again at once (after its scope changed).
        MailboxStatus::Active | MailboxStatus::Refused => None,
        MailboxStatus::Paused if admin => Some("This mailbox is paused: resume it first."),
        MailboxStatus::Paused => Some(
            "This mailbox is paused by the organization: reconnect it (or ask an admin to \
             resume it) before it syncs again.",
        ),
        MailboxStatus::NeedsReconnect if admin => {
            Some("This mailbox needs reconnecting: its owner must reconnect it first.")
        }
        MailboxStatus::NeedsReconnect => {
            Some("This mailbox needs reconnecting: reconnect it before it syncs again.")
        }
        MailboxStatus::Disconnected => Some("This mailbox is disconnected: nothing can sync."),
    }
}

/// Hand the mailbox to `to_user`, an active user of the same organization: the owner
/// changes, and nothing else (its mail, cursors, sync job, status and everyone's marks stay).
/// The new owner finds it under Mailboxes and its mail under My mail; the previous owner no
/// longer does.
pub async fn transfer(
    db: &DatabaseConnection,
    org_id: i64,
    actor: i64,
    mailbox_id: i64,
    to_user: i64,
) -> Result<(MailAccount, User), ConsoleError> {
    let txn = db::begin_write(db).await?;
    let mailbox = mail_accounts::find_in_org(&txn, org_id, mailbox_id)
        .await?
        .ok_or(ConsoleError::NotFound)?;
    let refuse = |why: &str| Err(ConsoleError::Refused(why.to_string()));
    let Some(user) = users::find_in_org(&txn, org_id, to_user).await? else {
        return refuse("Choose a user of this organization.");
    };
    if user.disabled {
        return refuse("This user is disabled: choose an active user.");
    }
    if mailbox.owner_user_id == Some(user.id) {
        return refuse("This user already owns the mailbox.");
    }
    let from = match mailbox.owner_user_id {
        Some(id) => users::find_in_org(&txn, org_id, id)
            .await?
            .map_or_else(|| "nobody".to_string(), |u| u.email),
        None => "the organization".to_string(),
    };
    mail_accounts::set_owner(&txn, mailbox.id, user.id).await?;
    let detail = format!(
        "{} {}: from {from} to {}",
        mailbox.provider, mailbox.address, user.email
    );
    let entry = audit::Entry::by_user(
        org_id,
        actor,
        "mailbox.transfer",
        "mail_account",
        mailbox.id,
        detail,
    );
    audit::record(&txn, entry).await?;
    txn.commit().await?;
    Ok((mailbox, user))
}
