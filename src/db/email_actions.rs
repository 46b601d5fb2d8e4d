//! What a reader does to an email: read / unread and star / unstar (per user, per message: one
//! state however many colleagues' mailboxes hold a copy), and soft delete / restore (for the
//! whole organization, every copy of the message, audited). All idempotent. Plus the list of
//! soft-deleted messages a reader may see.
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use std::collections::{HashMap, HashSet};

use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};

use super::audit::{self, Entry};
use super::entities::{email_links, email_participants, emails, mail_accounts, user_email_states};

/// A reader's own marks on a message.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Marks {
    pub read: bool,
    pub starred: bool,
}

/// The reader's marks on `message_key` (unread and unstarred when never touched).
pub async fn marks(
    db: &impl ConnectionTrait,
    user_id: i64,
    message_key: &str,
) -> Result<Marks, DbErr> {
    let row = user_email_states::Entity::find()
        .filter(user_email_states::Column::UserId.eq(user_id))
        .filter(user_email_states::Column::MessageKey.eq(message_key))
        .one(db)
        .await?;
    Ok(row.map_or_else(Marks::default, |r| Marks {
        read: r.read_at.is_some(),
        starred: r.starred_at.is_some(),
    }))
}

/// Which mark to set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    Read,
    Starred,
}

/// Set or clear one of the reader's marks on a message.
pub async fn set_mark(
    db: &impl ConnectionTrait,
    organization_id: i64,
    user_id: i64,
    message_key: &str,
    mark: Mark,
    on: bool,
) -> Result<(), DbErr> {
    let now = super::now();
    let at: Option<DateTime<Utc>> = on.then_some(now);
    // The change time is kept for un-marking too: a provider change sync observes later
    // replaces the owner's mark, an earlier one does not (`super::provider_marks`).
    let (column, changed) = match mark {
        Mark::Read => (
            user_email_states::Column::ReadAt,
            user_email_states::Column::ReadChangedAt,
        ),
        Mark::Starred => (
            user_email_states::Column::StarredAt,
            user_email_states::Column::StarredChangedAt,
        ),
    };
    let mut row = user_email_states::ActiveModel {
        organization_id: Set(organization_id),
        user_id: Set(user_id),
        message_key: Set(message_key.to_string()),
        read_at: Set(None),
        starred_at: Set(None),
        read_changed_at: Set(None),
        starred_changed_at: Set(None),
        ..Default::default()
    };
    match mark {
        Mark::Read => {
            row.read_at = Set(at);
            row.read_changed_at = Set(Some(now));
        }
        Mark::Starred => {
            row.starred_at = Set(at);
            row.starred_changed_at = Set(Some(now));
        }
    }
    user_email_states::Entity::insert(row)
        .on_conflict(
            OnConflict::columns([
                user_email_states::Column::UserId,
                user_email_states::Column::MessageKey,
            ])
            .update_columns([column, changed])
            .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    super::live::touch_message(db, organization_id, message_key).await
}

/// Hide (`deleted`) or bring back every copy of a message in the organization; audited.
/// Returns whether anything changed.
pub async fn set_deleted(
    db: &impl ConnectionTrait,
    organization_id: i64,
    user_id: i64,
    email: &emails::Model,
    deleted: bool,
) -> Result<bool, DbErr> {
    let mut update = emails::Entity::update_many()
        .filter(emails::Column::OrganizationId.eq(organization_id))
        .filter(emails::Column::MessageKey.eq(email.message_key.as_str()));
    update = if deleted {
        update
            .col_expr(emails::Column::SoftDeletedAt, Expr::value(super::now()))
            .col_expr(emails::Column::SoftDeletedBy, Expr::value(user_id))
            .filter(emails::Column::SoftDeletedAt.is_null())
    } else {
        update
            .col_expr(
                emails::Column::SoftDeletedAt,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
            .col_expr(
                emails::Column::SoftDeletedBy,
                Expr::value(Option::<i64>::None),
            )
            .filter(emails::Column::SoftDeletedAt.is_not_null())
    };
    let changed = update.exec(db).await?.rows_affected > 0;
    if changed {
        let action = if deleted {
            "email.soft_delete"
        } else {
            "email.restore"
        };
        // The message key, not the subject: admins read the audit log, and a colleague's
        // subject is theirs only at a level that shows it.
        let detail = email.message_key.clone();
        let entry = Entry::by_user(organization_id, user_id, action, "email", email.id, detail);
        audit::record(db, entry).await?;
        super::live::touch_message(db, organization_id, &email.message_key).await?;
    }
    Ok(changed)
}

/// A soft-deleted message as the Deleted view lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeletedEmail {
    pub id: i64,
    /// None when the reader's level of a colleague's copy does not show the subject.
    pub subject: Option<String>,
    /// The sender's display name, else address; empty when the copy has no `from`.
    pub from: String,
    pub deleted_at: Option<DateTime<Utc>>,
}

/// Soft-deleted messages of the organization that `user_id` may see (see
/// [`super::email_view::visible_email`]), newest deletion first, one copy per message, at most
/// `limit`. Looks at the `limit * 4` most recently deleted copies, in four queries whatever
/// their number.
pub async fn deleted(
    db: &impl ConnectionTrait,
    org_id: i64,
    user_id: i64,
    limit: u64,
) -> Result<Vec<DeletedEmail>, DbErr> {
    let candidates = emails::Entity::find()
        .filter(emails::Column::OrganizationId.eq(org_id))
        .filter(emails::Column::SoftDeletedAt.is_not_null())
        .order_by_desc(emails::Column::SoftDeletedAt)
        .limit(limit * 4)
        .all(db)
        .await?;
    let account_ids: HashSet<i64> = candidates.iter().map(|e| e.account_id).collect();
    let owners: HashMap<i64, Option<i64>> = mail_accounts::Entity::find()
        .select_only()
        .column(mail_accounts::Column::Id)
        .column(mail_accounts::Column::OwnerUserId)
        .filter(mail_accounts::Column::OrganizationId.eq(org_id))
        .filter(mail_accounts::Column::Id.is_in(account_ids))
        .into_tuple::<(i64, Option<i64>)>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    let linked: HashSet<i64> = email_links::Entity::find()
        .select_only()
        .column(email_links::Column::EmailId)
        .filter(email_links::Column::OrganizationId.eq(org_id))
        .filter(email_links::Column::EmailId.is_in(candidates.iter().map(|e| e.id)))
        .filter(email_links::Column::Tombstone.eq(false))
        .into_tuple::<i64>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    let mut seen = HashSet::new();
    let restricted = super::visibility::restricted(db, org_id).await?;
    let mut shown: Vec<emails::Model> = Vec::new();
    let mut subject_hidden = HashSet::new();
    for e in candidates {
        if shown.len() >= usize::try_from(limit).unwrap_or(usize::MAX) {
            break;
        }
        let own = match owners.get(&e.account_id) {
            None => continue,
            Some(owner) => *owner == Some(user_id),
        };
        if !own && !linked.contains(&e.id) {
            continue;
        }
        // A colleague's copy at its visibility level: not at all when private, without its
        // subject below `subject`.
        if !own && restricted {
            match super::visibility::email_level(db, org_id, user_id, e.id).await? {
                None => continue,
                Some(level) if !level.shows_subject() => {
                    subject_hidden.insert(e.id);
                }
                Some(_) => {}
            }
        }
        if seen.insert(e.message_key.clone()) {
            shown.push(e);
        }
    }
    let mut senders: HashMap<i64, String> = HashMap::new();
    for p in email_participants::Entity::find()
        .filter(email_participants::Column::EmailId.is_in(shown.iter().map(|e| e.id)))
        .filter(email_participants::Column::Role.eq("from"))
        .order_by_asc(email_participants::Column::Id)
        .all(db)
        .await?
    {
        senders
            .entry(p.email_id)
            .or_insert(if p.name.is_empty() { p.address } else { p.name });
    }
    Ok(shown
        .into_iter()
        .map(|e| DeletedEmail {
            id: e.id,
            from: senders.remove(&e.id).unwrap_or_default(),
            subject: (!subject_hidden.contains(&e.id)).then_some(e.subject),
            deleted_at: e.soft_deleted_at,
        })
        .collect())
}
