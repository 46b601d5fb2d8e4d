//! Deleting mail for good (admins): every stored copy of a message, or every message of a
//! thread, with its bodies, participants, attachment metadata and links (cascades), the
//! readers' marks, and an audit entry. Each purged copy is recorded in the sync ledger as
//! `purged`, and ingest skips ledgered copies, so no later pass or resync brings it back.
use std::collections::BTreeSet;

use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter};

use super::audit::{self, Entry};
use super::emails::{record_skipped, Owner};
use super::entities::{emails, sync_ledger, user_email_states};

/// The ledger reason that keeps a purged message out for good.
pub const PURGED: &str = "purged";

/// What a purge removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Purged {
    pub messages: u64,
    pub copies: u64,
}

/// Any email of the organization (admins may purge what they cannot read).
pub async fn email_in_org(
    db: &impl ConnectionTrait,
    organization_id: i64,
    id: i64,
) -> Result<Option<emails::Model>, DbErr> {
    emails::Entity::find_by_id(id)
        .filter(emails::Column::OrganizationId.eq(organization_id))
        .one(db)
        .await
}

/// What purging `email` (or, with `thread`, its whole thread) would remove: the messages and
/// their stored copies.
pub async fn reach(
    db: &impl ConnectionTrait,
    organization_id: i64,
    email: &emails::Model,
    thread: bool,
) -> Result<Purged, DbErr> {
    let rows = emails::Entity::find().filter(emails::Column::OrganizationId.eq(organization_id));
    if thread {
        let all = rows
            .filter(emails::Column::ThreadKey.eq(email.thread_key.as_str()))
            .all(db)
            .await?;
        let keys: BTreeSet<&str> = all.iter().map(|r| r.message_key.as_str()).collect();
        Ok(Purged {
            messages: keys.len() as u64,
            copies: all.len() as u64,
        })
    } else {
        let copies = rows
            .filter(emails::Column::MessageKey.eq(email.message_key.as_str()))
            .count(db)
            .await?;
        Ok(Purged {
            messages: 1,
            copies,
        })
    }
}

async fn purge_keys(
    db: &impl ConnectionTrait,
    organization_id: i64,
    actor: i64,
    keys: &BTreeSet<String>,
    what: (&str, i64, String),
) -> Result<Purged, DbErr> {
    let mut out = Purged::default();
    for key in keys {
        let copies = emails::Entity::find()
            .filter(emails::Column::OrganizationId.eq(organization_id))
            .filter(emails::Column::MessageKey.eq(key.as_str()))
            .all(db)
            .await?;
        for copy in &copies {
            let owner = Owner {
                organization_id,
                account_id: copy.account_id,
            };
            record_skipped(
                db,
                owner,
                &copy.provider_message_id,
                PURGED,
                "deleted for good by an administrator",
            )
            .await?;
            // Reconciliation counts the purged message where the provider still files it.
            sync_ledger::Entity::update_many()
                .col_expr(
                    sync_ledger::Column::Folders,
                    Expr::value(copy.folders.to_json()),
                )
                .col_expr(
                    sync_ledger::Column::GoneAt,
                    Expr::value(copy.deleted_in_provider_at),
                )
                .filter(sync_ledger::Column::AccountId.eq(copy.account_id))
                .filter(
                    sync_ledger::Column::ProviderMessageId.eq(copy.provider_message_id.as_str()),
                )
                .exec(db)
                .await?;
        }
        let removed = emails::Entity::delete_many()
            .filter(emails::Column::OrganizationId.eq(organization_id))
            .filter(emails::Column::MessageKey.eq(key.as_str()))
            .exec(db)
            .await?
            .rows_affected;
        user_email_states::Entity::delete_many()
            .filter(user_email_states::Column::OrganizationId.eq(organization_id))
            .filter(user_email_states::Column::MessageKey.eq(key.as_str()))
            .exec(db)
            .await?;
        out.messages += 1;
        out.copies += removed;
    }
    let (kind, id, label) = what;
    audit::record(
        db,
        Entry {
            organization_id,
            actor_user_id: Some(actor),
            action: if kind == "thread" {
                "thread.purge"
            } else {
                "email.purge"
            },
            subject_kind: kind,
            subject_id: Some(id),
            detail: format!(
                "{label}: {} message(s), {} stored copies",
                out.messages, out.copies
            ),
        },
    )
    .await?;
    Ok(out)
}

/// Purge every copy of the message `email` is a copy of.
pub async fn purge_email(
    db: &impl ConnectionTrait,
    organization_id: i64,
    actor: i64,
    email: &emails::Model,
) -> Result<Purged, DbErr> {
    let keys = BTreeSet::from([email.message_key.clone()]);
    let label = format!("{} \u{2014} {}", email.message_key, email.subject);
    purge_keys(
        db,
        organization_id,
        actor,
        &keys,
        ("email", email.id, label),
    )
    .await
}

/// Purge every message of the thread `email` belongs to.
pub async fn purge_thread(
    db: &impl ConnectionTrait,
    organization_id: i64,
    actor: i64,
    email: &emails::Model,
) -> Result<Purged, DbErr> {
    let keys: BTreeSet<String> = emails::Entity::find()
        .filter(emails::Column::OrganizationId.eq(organization_id))
        .filter(emails::Column::ThreadKey.eq(email.thread_key.as_str()))
        .all(db)
        .await?
        .into_iter()
        .map(|e| e.message_key)
        .collect();
    let label = format!("thread {} \u{2014} {}", email.thread_key, email.subject);
    purge_keys(
        db,
        organization_id,
        actor,
        &keys,
        ("thread", email.id, label),
    )
    .await
}

/// Provider ids among `ids` that an administrator purged from mailbox `account_id` (one
/// probe of the ledger's unique index per id).
pub async fn purged_ids(
    db: &impl ConnectionTrait,
    account_id: i64,
    ids: &[String],
) -> Result<BTreeSet<String>, DbErr> {
    let select = "SELECT v.k AS pid FROM v WHERE EXISTS (SELECT 1 FROM sync_ledger l \
                  WHERE l.account_id = ? AND l.provider_message_id = v.k AND l.reason = ?)";
    let scope = [account_id.into(), PURGED.into()];
    super::batch::per_key(db, ids, select, &scope)
        .await?
        .into_iter()
        .map(|row| row.try_get::<String>("", "pid"))
        .collect()
}
