//! Pausing mailboxes: an organization stops a mailbox's sync without disconnecting it. Disabling
//! a user pauses their mailboxes; an admin pauses or resumes any mailbox of the organization.
//! A paused mailbox gets no pass (`db::jobs::claim` skips it, the credentials layer hands out
//! no token) until an admin resumes it or its owner reconnects it. Every change is audited.
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr};

use crate::db::entities::mail_accounts::Model as MailAccount;
use crate::db::{audit, jobs, mail_accounts, users};
use crate::domain::mailbox::MailboxStatus;

#[derive(Debug, thiserror::Error)]
pub enum PauseError {
    #[error("not found")]
    NotFound,
    /// Why the change does not apply, for the admin.
    #[error("{0}")]
    Refused(&'static str),
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// In the transaction that disables the user `(id, email)`: pause each mailbox they own that
/// syncs or waits to be reconnected, audited as `actor`'s.
pub async fn pause_owned_by(
    txn: &impl ConnectionTrait,
    org_id: i64,
    actor: i64,
    (user_id, email): (i64, &str),
) -> Result<(), DbErr> {
    let why = "Paused because its owner was disabled; it resumes when its owner reconnects it \
               or an admin resumes it.";
    for mailbox in mail_accounts::pause_owned(txn, org_id, user_id, why).await? {
        let detail = format!("{} (owner {email} disabled)", mailbox.address);
        let entry = audit::Entry::by_user(
            org_id,
            actor,
            "mailbox.pause",
            "mail_account",
            mailbox.id,
            detail,
        );
        audit::record(txn, entry).await?;
    }
    Ok(())
}

/// An admin pauses (`pause`) or resumes one mailbox of the organization. Only a syncing (or
/// waiting to be reconnected) mailbox pauses, only a paused one resumes, and not while its
/// owner is disabled; a resumed mailbox is due at once, from its cursors.
pub async fn set_paused(
    db: &DatabaseConnection,
    org_id: i64,
    actor: i64,
    mailbox_id: i64,
    pause: bool,
) -> Result<MailAccount, PauseError> {
    let txn = crate::db::begin_write(db).await?;
    let mailbox = mail_accounts::find_in_org(&txn, org_id, mailbox_id)
        .await?
        .ok_or(PauseError::NotFound)?;
    let (status, message, action) = if pause {
        if !matches!(
            mailbox.status,
            MailboxStatus::Active | MailboxStatus::NeedsReconnect | MailboxStatus::Refused
        ) {
            return Err(PauseError::Refused(
                "Only a connected mailbox can be paused.",
            ));
        }
        let why = "Paused by an administrator.".to_string();
        (MailboxStatus::Paused, Some(why), "mailbox.pause")
    } else {
        if mailbox.status != MailboxStatus::Paused {
            return Err(PauseError::Refused("Only a paused mailbox can be resumed."));
        }
        if let Some(owner) = mailbox.owner_user_id {
            let owner = users::find_in_org(&txn, org_id, owner).await?;
            if owner.is_none_or(|o| o.disabled) {
                return Err(PauseError::Refused(
                    "Its owner is disabled: enable them first.",
                ));
            }
        }
        (MailboxStatus::Active, None, "mailbox.resume")
    };
    mail_accounts::set_status(&txn, mailbox.id, status, message).await?;
    let detail = format!("{} {}", mailbox.provider, mailbox.address);
    let entry = audit::Entry::by_user(org_id, actor, action, "mail_account", mailbox.id, detail);
    audit::record(&txn, entry).await?;
    txn.commit().await?;
    if !pause {
        jobs::run_now(db, jobs::SYNC_ACCOUNT, mailbox.id).await?;
    }
    Ok(mailbox)
}

/// [`set_paused`], and a paused mailbox's Graph subscription deleted (its next pass after
/// resuming subscribes it again).
pub async fn pause_or_resume(
    deps: &super::MailDeps,
    org_id: i64,
    actor: i64,
    mailbox_id: i64,
    pause: bool,
) -> Result<MailAccount, PauseError> {
    if pause {
        // While its tokens still serve it (a paused mailbox gets none).
        let found = mail_accounts::find_in_org(&deps.db, org_id, mailbox_id).await?;
        if let Some(mailbox) = found.filter(|m| m.status == MailboxStatus::Active) {
            super::push_cleanup::unsubscribe(deps, &mailbox, "The mailbox is paused.").await;
        }
    }
    set_paused(&deps.db, org_id, actor, mailbox_id, pause).await
}
