//! What an admin does to one mailbox of the organization from the console, besides pausing
//! (`pausing`) and disconnecting (`disconnect`): ask for a pass now, and hand the mailbox to
//! another user. Each is scoped to the admin's organization and audited.
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

/// Make the mailbox's sync job due at once; a worker runs the pass (never the caller). Only a
/// connected mailbox syncs: a paused one must be resumed first, one that needs reconnecting
/// waits for its owner, a disconnected one has no tokens.
pub async fn sync_now(
    db: &DatabaseConnection,
    org_id: i64,
    actor: i64,
    mailbox_id: i64,
) -> Result<(MailAccount, SyncRequest), ConsoleError> {
    let txn = db::begin_write(db).await?;
    let mailbox = mail_accounts::find_in_org(&txn, org_id, mailbox_id)
        .await?
        .ok_or(ConsoleError::NotFound)?;
    let refused = match mailbox.status {
        // A refused organization mailbox may be tried again at once (after its scope changed).
        MailboxStatus::Active | MailboxStatus::Refused => None,
        MailboxStatus::Paused => Some("This mailbox is paused: resume it first."),
        MailboxStatus::NeedsReconnect => {
            Some("This mailbox needs reconnecting: its owner must reconnect it first.")
        }
        MailboxStatus::Disconnected => Some("This mailbox is disconnected: nothing can sync."),
    };
    if let Some(why) = refused {
        return Err(ConsoleError::Refused(why.to_string()));
    }
    let now = db::now();
    jobs::ensure(&txn, org_id, jobs::SYNC_ACCOUNT, mailbox.id, now).await?;
    let request = if jobs::run_now(&txn, jobs::SYNC_ACCOUNT, mailbox.id).await? {
        SyncRequest::Due
    } else {
        SyncRequest::AlreadyRunning
    };
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
    txn.commit().await?;
    Ok((mailbox, request))
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
