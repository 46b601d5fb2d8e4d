//! Write-back of the reader's marks to their own mailboxes: the organization's and each
//! mailbox's switch ([`settings`]) and the durable outbox of writes waiting for the provider
//! ([`outbox`]). Only the owner's marks on copies in the owner's own mailboxes are queued: a
//! colleague reading a copy never changes someone else's mailbox.
pub mod outbox;
pub mod settings;

use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};

use super::email_actions::Mark;
use super::entities::{emails, mail_accounts, write_back_outbox};
use crate::domain::mailbox::MailboxStatus;
use crate::domain::write_back::{eligibility, Eligibility, Facts};

/// Whether a mailbox writes back, given the organization's switch.
pub fn eligibility_of(account: &mail_accounts::Model, org_allows: bool) -> Eligibility {
    eligibility(&Facts {
        provider: account.provider,
        granted_scopes: &account.granted_scopes,
        org_allows,
        mailbox_on: account.write_back,
        via_connection: account.connection_id.is_some(),
    })
}

/// Queue the reader's new mark for every mailbox of theirs that holds a copy of the message
/// and writes back. A copy the provider already shows that way, with nothing pending, needs no
/// write. How many writes were queued (or changed).
pub async fn queue_mark(
    db: &impl ConnectionTrait,
    organization_id: i64,
    user_id: i64,
    message_key: &str,
    mark: Mark,
    on: bool,
) -> Result<u64, DbErr> {
    if !settings::org_allows(db, organization_id).await? {
        return Ok(0);
    }
    let accounts: Vec<mail_accounts::Model> = mail_accounts::Entity::find()
        .filter(mail_accounts::Column::OrganizationId.eq(organization_id))
        .filter(mail_accounts::Column::OwnerUserId.eq(user_id))
        .filter(mail_accounts::Column::WriteBack.eq(true))
        .filter(mail_accounts::Column::Status.ne(MailboxStatus::Disconnected))
        .all(db)
        .await?
        .into_iter()
        .filter(|a| eligibility_of(a, true) == Eligibility::On)
        .collect();
    if accounts.is_empty() {
        return Ok(0);
    }
    let copies = emails::Entity::find()
        .filter(emails::Column::OrganizationId.eq(organization_id))
        .filter(emails::Column::MessageKey.eq(message_key))
        .filter(emails::Column::AccountId.is_in(accounts.iter().map(|a| a.id)))
        .filter(emails::Column::DeletedInProviderAt.is_null())
        .all(db)
        .await?;
    let mut queued = 0;
    for copy in copies {
        let shown = match mark {
            Mark::Read => copy.provider_read,
            Mark::Starred => copy.provider_starred,
        };
        let pending = write_back_outbox::Entity::find()
            .filter(write_back_outbox::Column::AccountId.eq(copy.account_id))
            .filter(
                write_back_outbox::Column::ProviderMessageId.eq(copy.provider_message_id.as_str()),
            )
            .one(db)
            .await?;
        if pending.is_none() && shown == on {
            continue;
        }
        outbox::upsert(db, &copy, mark, on).await?;
        queued += 1;
    }
    Ok(queued)
}
