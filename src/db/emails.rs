//! Stored messages of a mailbox: batched idempotent upserts of normalized messages (with bodies,
//! participants and attachments), provider-side state changes (labels, flags, deletion), the
//! ledger of messages deliberately not stored, and counts for `threadline stats`.
use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter,
    QuerySelect, Set, Value,
};

use super::entities::{emails, sync_ledger};
use crate::domain::message::NormalizedMessage;
use crate::domain::stored::Folders;

pub use super::email_states::{
    apply_provider_states, set_states, Applied, ProviderState, StateChange, StatesSet,
};
pub use super::ingest::{stored_or_kept_out, upsert_page};

/// The mailbox rows are written for.
#[derive(Debug, Clone, Copy)]
pub struct Owner {
    pub organization_id: i64,
    pub account_id: i64,
}

/// What one upsert did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Upserted {
    pub inserted: u64,
    pub updated: u64,
    /// New messages an exclusion rule kept out (ledgered, not stored).
    pub excluded: u64,
}

/// The conversation key from a message's own headers: the thread root named by the first
/// `References` id, else the parent (`In-Reply-To`), else the message itself. Ingest refines it
/// with the stored threads the message names (`super::threads`). Like the message key it is
/// built from RFC ids, so colleagues' copies of one conversation share it.
pub fn thread_key(message: &NormalizedMessage, message_key: &str) -> String {
    message
        .references
        .first()
        .or(message.in_reply_to.as_ref())
        .map_or_else(|| message_key.to_string(), |id| format!("<{id}>"))
}

/// `provider_message_id -> emails.id` for those of `ids` the mailbox stores: one probe of the
/// unique index per id, whatever the table's statistics say (see [`super::batch`]).
pub async fn ids_by_provider_id(
    db: &impl ConnectionTrait,
    account_id: i64,
    ids: &[String],
) -> Result<HashMap<String, i64>, DbErr> {
    let select = "SELECT v.k AS pid, (SELECT e.id FROM emails e WHERE e.account_id = ? \
                  AND e.provider_message_id = v.k) AS id FROM v";
    let rows = super::batch::per_key(db, ids, select, &[account_id.into()]).await?;
    let mut out = HashMap::with_capacity(ids.len());
    for row in rows {
        if let Some(id) = row.try_get::<Option<i64>>("", "id")? {
            out.insert(row.try_get::<String>("", "pid")?, id);
        }
    }
    Ok(out)
}

/// Set the provider-side state of one stored message; true when it is stored.
pub async fn set_state(
    db: &impl ConnectionTrait,
    account_id: i64,
    provider_message_id: &str,
    folders: &Folders,
    read: bool,
    starred: bool,
) -> Result<bool, DbErr> {
    let live = Option::<DateTime<Utc>>::None;
    let res = state_update(account_id, provider_message_id, folders, read, starred)
        .col_expr(emails::Column::DeletedInProviderAt, Expr::value(live))
        .exec(db)
        .await?;
    Ok(res.rows_affected > 0)
}

/// Set the provider-side state of one stored message that sits in the provider's bin (Deleted
/// Items / Trash, Junk / Spam): its folder follows the provider and it counts as deleted in
/// the provider (stamped once). 1 when it was live until now, else 0.
pub async fn set_binned_state(
    db: &impl ConnectionTrait,
    account_id: i64,
    provider_message_id: &str,
    folders: &Folders,
    read: bool,
    starred: bool,
) -> Result<u64, DbErr> {
    state_update(account_id, provider_message_id, folders, read, starred)
        .exec(db)
        .await?;
    mark_deleted(db, account_id, &[provider_message_id.to_string()]).await
}

/// The update of one stored message's folders and provider read / starred state.
fn state_update(
    account_id: i64,
    provider_message_id: &str,
    folders: &Folders,
    read: bool,
    starred: bool,
) -> sea_orm::UpdateMany<emails::Entity> {
    emails::Entity::update_many()
        .col_expr(emails::Column::Folders, Expr::value(folders.clone()))
        .col_expr(emails::Column::ProviderRead, Expr::value(read))
        .col_expr(emails::Column::ProviderStarred, Expr::value(starred))
        .col_expr(emails::Column::UpdatedAt, Expr::value(super::now()))
        .filter(emails::Column::AccountId.eq(account_id))
        .filter(emails::Column::ProviderMessageId.eq(provider_message_id))
}

/// Provider-side state of a stored message: `(folders, read, starred)`.
pub async fn state(
    db: &impl ConnectionTrait,
    account_id: i64,
    provider_message_id: &str,
) -> Result<Option<(Folders, bool, bool)>, DbErr> {
    emails::Entity::find()
        .select_only()
        .column(emails::Column::Folders)
        .column(emails::Column::ProviderRead)
        .column(emails::Column::ProviderStarred)
        .filter(emails::Column::AccountId.eq(account_id))
        .filter(emails::Column::ProviderMessageId.eq(provider_message_id))
        .into_tuple()
        .one(db)
        .await
}

/// Mark messages the provider deleted permanently; the rows stay (the CRM keeps history).
/// The number newly marked.
pub async fn mark_deleted(
    db: &impl ConnectionTrait,
    account_id: i64,
    provider_ids: &[String],
) -> Result<u64, DbErr> {
    if provider_ids.is_empty() {
        return Ok(0);
    }
    let now = super::now();
    // Ledgered ones (kept out, never stored) are gone from the provider too: reconciliation
    // stops counting them, and retention may forget them.
    for chunk in provider_ids.chunks(500) {
        sync_ledger::Entity::update_many()
            .col_expr(sync_ledger::Column::GoneAt, Expr::value(now))
            .filter(sync_ledger::Column::AccountId.eq(account_id))
            .filter(sync_ledger::Column::GoneAt.is_null())
            .filter(sync_ledger::Column::ProviderMessageId.is_in(chunk.iter().cloned()))
            .exec(db)
            .await?;
    }
    let ids: Vec<i64> = ids_by_provider_id(db, account_id, provider_ids)
        .await?
        .into_values()
        .collect();
    let marked = super::batch::update_by_id(
        db,
        "emails",
        (
            "deleted_in_provider_at = ?, updated_at = ?",
            &[now.into(), now.into()],
        ),
        &ids,
        ("AND deleted_in_provider_at IS NULL", &[]),
    )
    .await?;
    if let (true, Some(&id)) = (marked > 0, ids.first()) {
        super::live::bump_for_email(db, id).await?;
    }
    Ok(marked)
}

/// Stamp the stored messages among `provider_ids` as named by the listing that began at or
/// before `at` (see [`super::sync_cursors::begin_listing`]). Rows already stamped for it (new
/// mail is inserted stamped) are not written again.
pub async fn mark_listed(
    db: &impl ConnectionTrait,
    account_id: i64,
    provider_ids: &[String],
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    if provider_ids.is_empty() {
        return Ok(());
    }
    let ids: Vec<i64> = ids_by_provider_id(db, account_id, provider_ids)
        .await?
        .into_values()
        .collect();
    super::batch::update_by_id(
        db,
        "emails",
        ("listed_at = ?", &[Value::from(at)]),
        &ids,
        (
            "AND (listed_at IS NULL OR listed_at < ?)",
            &[Value::from(at)],
        ),
    )
    .await?;
    Ok(())
}

/// Those of `provider_ids` stored and named by a listing since `since` (a listing resumed after
/// a restart finds what it stored or read before it).
pub async fn listed_since(
    db: &impl ConnectionTrait,
    account_id: i64,
    provider_ids: &[String],
    since: DateTime<Utc>,
) -> Result<HashSet<String>, DbErr> {
    let select = "SELECT v.k AS pid FROM v WHERE EXISTS (SELECT 1 FROM emails e \
                  WHERE e.account_id = ? AND e.provider_message_id = v.k AND e.listed_at >= ?)";
    let scope = [account_id.into(), Value::from(since)];
    let rows = super::batch::per_key(db, provider_ids, select, &scope).await?;
    rows.iter()
        .map(|row| row.try_get::<String>("", "pid"))
        .collect()
}

/// Provider ids of live stored messages no listing has named since `since`; with `folder`,
/// only those filed in that folder (label). Called once a full listing has ended.
pub async fn unlisted(
    db: &impl ConnectionTrait,
    account_id: i64,
    since: DateTime<Utc>,
    folder: Option<&str>,
) -> Result<Vec<String>, DbErr> {
    let mut query = emails::Entity::find()
        .select_only()
        .column(emails::Column::ProviderMessageId)
        .filter(emails::Column::AccountId.eq(account_id))
        .filter(emails::Column::DeletedInProviderAt.is_null())
        .filter(
            Condition::any()
                .add(emails::Column::ListedAt.is_null())
                .add(emails::Column::ListedAt.lt(since)),
        );
    if let Some(folder) = folder {
        let quoted = serde_json::to_string(folder).unwrap_or_default();
        query = query.filter(emails::Column::Folders.contains(quoted));
    }
    query.into_tuple().all(db).await
}

/// Record a message deliberately not stored, with why (idempotent: the latest reason wins).
pub async fn record_skipped(
    db: &impl ConnectionTrait,
    owner: Owner,
    provider_message_id: &str,
    reason: &str,
    detail: &str,
) -> Result<(), DbErr> {
    record_skipped_many(db, owner, &[(provider_message_id, reason, detail)]).await
}

/// [`record_skipped`] for several messages at once: `(provider id, reason, detail)`.
pub async fn record_skipped_many(
    db: &impl ConnectionTrait,
    owner: Owner,
    skips: &[(&str, &str, &str)],
) -> Result<(), DbErr> {
    let mut unique: HashMap<&str, (&str, &str)> = HashMap::new();
    for (id, reason, detail) in skips {
        unique.insert(id, (reason, detail));
    }
    let now = super::now();
    let rows: Vec<sync_ledger::ActiveModel> = unique
        .into_iter()
        .map(|(id, (reason, detail))| sync_ledger::ActiveModel {
            organization_id: Set(owner.organization_id),
            account_id: Set(owner.account_id),
            provider_message_id: Set(id.to_string()),
            reason: Set(reason.to_string()),
            detail: Set(detail.to_string()),
            created_at: Set(now),
            ..Default::default()
        })
        .collect();
    for chunk in rows.chunks(super::batch::rows_per_insert(6)) {
        sync_ledger::Entity::insert_many(chunk.to_vec())
            .on_conflict(
                OnConflict::columns([
                    sync_ledger::Column::AccountId,
                    sync_ledger::Column::ProviderMessageId,
                ])
                .update_columns([sync_ledger::Column::Reason, sync_ledger::Column::Detail])
                .to_owned(),
            )
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

/// `(messages, threads)` a mailbox stores, not counting those deleted in the provider.
pub async fn counts(db: &impl ConnectionTrait, account_id: i64) -> Result<(u64, u64), DbErr> {
    let live = || {
        emails::Entity::find()
            .filter(emails::Column::AccountId.eq(account_id))
            .filter(emails::Column::DeletedInProviderAt.is_null())
    };
    let messages = live().count(db).await?;
    let threads: Vec<String> = live()
        .select_only()
        .column(emails::Column::ThreadKey)
        .distinct()
        .into_tuple()
        .all(db)
        .await?;
    Ok((messages, threads.len() as u64))
}
