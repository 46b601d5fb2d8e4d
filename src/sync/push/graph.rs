//! Push upkeep for graph mailboxes (issue 22): to be built.
use crate::db::entities::mail_accounts::Model as Account;
use crate::mailboxes::MailDeps;

/// Create, renew or repair the mailbox's push; records its state in `mailbox_push`.
#[allow(clippy::unused_async)]
pub async fn maintain(_deps: &MailDeps, _account: &Account) -> Result<(), super::super::SyncError> {
    Ok(())
}
