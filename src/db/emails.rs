//! Stored messages of a mailbox: batched idempotent upserts of normalized messages (with bodies,
//! participants and attachments), provider-side state changes (labels, flags, deletion), the
//! ledger of messages deliberately not stored, and counts for `threadline stats`.
use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter,
    QuerySelect, Set,
};

use super::directory::auto_contacts::AutoContacts;
use super::entities::{
    attachments, email_bodies, email_links, email_participants, emails, sync_ledger,
};
use crate::domain::association::{associate, Directory, Target};
use crate::domain::message::{NormalizedMessage, ParticipantRole};
use crate::domain::reassociation::Source;
use crate::domain::stored::Folders;

/// Rows per multi-row INSERT: keeps every statement far below SQLite's bound-parameter limit.
const INSERT_CHUNK: usize = 100;

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

/// Insert the messages not stored yet (with their children) and refresh the mutable state of
/// those that are (folders, read, starred; a message seen again is no longer deleted). Safe to
/// repeat: rows are keyed by (account_id, provider_message_id) and children are only written
/// for rows this call created.
pub async fn upsert_page(
    db: &impl ConnectionTrait,
    owner: Owner,
    messages: &[NormalizedMessage],
) -> Result<Upserted, DbErr> {
    let mut unique: HashMap<&str, &NormalizedMessage> = HashMap::new();
    for m in messages {
        unique.insert(m.provider_message_id.as_str(), m);
    }
    let ids: Vec<String> = unique.keys().map(|s| (*s).to_string()).collect();
    // Deleted for good by an administrator: never stored again.
    let purged = super::purge::purged_ids(db, owner.account_id, &ids).await?;
    unique.retain(|pid, _| !purged.contains(*pid));
    let existing = ids_by_provider_id(db, owner.account_id, &ids).await?;
    let now = super::now();
    let mut out = Upserted::default();
    let mut fresh = Vec::new();
    for (pid, m) in &unique {
        if existing.contains_key(*pid) {
            set_state(
                db,
                owner.account_id,
                pid,
                &Folders::from_labels(&m.folders),
                m.read,
                m.starred,
            )
            .await?;
            out.updated += 1;
        } else {
            fresh.push(*m);
        }
    }
    let keyed: Vec<(&NormalizedMessage, String)> = fresh
        .iter()
        .map(|m| (*m, m.key(owner.account_id)))
        .collect();
    let threads =
        super::threads::assign_keys(db, owner.organization_id, owner.account_id, &keyed).await?;
    for chunk in fresh.chunks(INSERT_CHUNK) {
        let rows = chunk.iter().map(|m| {
            let mut row = new_row(owner, m, now);
            if let Some(key) = threads.get(&m.provider_message_id) {
                row.thread_key = Set(key.clone());
            }
            row
        });
        emails::Entity::insert_many(rows)
            .on_conflict(
                OnConflict::columns([emails::Column::AccountId, emails::Column::ProviderMessageId])
                    .do_nothing()
                    .to_owned(),
            )
            .exec_without_returning(db)
            .await?;
    }
    let fresh_ids: Vec<String> = fresh
        .iter()
        .map(|m| m.provider_message_id.clone())
        .collect();
    let created = ids_by_provider_id(db, owner.account_id, &fresh_ids).await?;
    // Links are written with the email, in the same transaction.
    let (mut directory, auto_contacts) = if fresh.is_empty() {
        (None, None)
    } else {
        (
            Some(super::directory::load(db, owner.organization_id).await?),
            AutoContacts::load(db, owner.organization_id, owner.account_id).await?,
        )
    };
    // A link someone undid on another stored copy of a message stays undone on this one.
    let keys: Vec<String> = fresh.iter().map(|m| m.key(owner.account_id)).collect();
    let undone = super::links::tombstones_by_message(db, owner.organization_id, &keys).await?;
    let mut people = Vec::new();
    let mut files = Vec::new();
    let mut links = Vec::new();
    let mut documents = Vec::new();
    for m in &fresh {
        let Some(&email_id) = created.get(&m.provider_message_id) else {
            continue;
        };
        // The body row is the claim on a new email's children: when two passes over one
        // mailbox race (a worker and `threadline sync`), only the one whose body insert lands
        // writes participants and attachments; the other's conflicts and does nothing.
        let claimed = email_bodies::Entity::insert(body(owner, email_id, m))
            .on_conflict(
                OnConflict::column(email_bodies::Column::EmailId)
                    .do_nothing()
                    .to_owned(),
            )
            .exec_without_returning(db)
            .await?;
        if claimed == 1 {
            out.inserted += 1;
            children(owner, email_id, m, &mut people, &mut files);
            documents.push((email_id, search_document(m)));
            if let Some(directory) = &mut directory {
                if let Some(auto) = &auto_contacts {
                    auto.apply(db, m, directory).await?;
                }
                let undone = undone.get(&m.key(owner.account_id));
                links.extend(auto_links(owner, email_id, m, directory, undone, now));
            }
        }
    }
    for chunk in people.chunks(INSERT_CHUNK) {
        email_participants::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(db)
            .await?;
    }
    for chunk in links.chunks(INSERT_CHUNK) {
        // Only emails this call created get links here, so none exist yet (the body claim above
        // keeps a racing pass out); re-association of stored mail is a separate job.
        email_links::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(db)
            .await?;
    }
    super::search::index(db, owner.organization_id, &documents).await?;
    for chunk in files.chunks(INSERT_CHUNK) {
        attachments::Entity::insert_many(chunk.to_vec())
            .on_conflict(
                OnConflict::columns([attachments::Column::EmailId, attachments::Column::PartKey])
                    .do_nothing()
                    .to_owned(),
            )
            .exec_without_returning(db)
            .await?;
    }
    Ok(out)
}

fn new_row(owner: Owner, m: &NormalizedMessage, now: DateTime<Utc>) -> emails::ActiveModel {
    let key = m.key(owner.account_id);
    let sender = m
        .participants
        .iter()
        .find(|p| p.role == ParticipantRole::From);
    emails::ActiveModel {
        organization_id: Set(owner.organization_id),
        account_id: Set(owner.account_id),
        provider_message_id: Set(m.provider_message_id.clone()),
        provider_thread_id: Set(m.provider_thread_id.clone()),
        message_id: Set(m.message_id.as_ref().map(ToString::to_string)),
        thread_key: Set(thread_key(m, &key)),
        message_key: Set(key),
        in_reply_to: Set(m.in_reply_to.as_ref().map(ToString::to_string)),
        references: Set(m
            .references
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(" ")),
        subject: Set(m.subject.clone()),
        snippet: Set(m.snippet.clone()),
        sent_at: Set(m.sent_at),
        received_at: Set(m.received_at),
        folders: Set(Folders::from_labels(&m.folders)),
        provider_read: Set(m.read),
        provider_starred: Set(m.starred),
        has_attachments: Set(m.attachments.iter().any(|a| !a.inline)),
        is_bulk: Set(m.is_bulk),
        size_bytes: Set(i64::try_from(m.size_bytes).unwrap_or(i64::MAX)),
        deleted_in_provider_at: Set(None),
        soft_deleted_at: Set(None),
        soft_deleted_by: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        sender_name: Set(sender.map(|p| p.name.clone()).unwrap_or_default()),
        sender_address: Set(sender
            .map(|p| p.address.as_str().to_string())
            .unwrap_or_default()),
        ..Default::default()
    }
}

fn search_document(m: &NormalizedMessage) -> String {
    crate::domain::search::document(
        &m.subject,
        m.participants
            .iter()
            .map(|p| (p.name.as_str(), p.address.as_str())),
        m.body_text.as_deref(),
        m.body_html.as_deref(),
    )
}

fn body(owner: Owner, email_id: i64, m: &NormalizedMessage) -> email_bodies::ActiveModel {
    email_bodies::ActiveModel {
        email_id: Set(email_id),
        organization_id: Set(owner.organization_id),
        body_text: Set(m.body_text.clone()),
        body_html: Set(m.body_html.clone()),
        truncated: Set(m.body_truncated),
    }
}

/// The automatic links of a new email: every business and contact its participants match; a
/// target `undone` on another copy of the message is written as a tombstone instead.
fn auto_links(
    owner: Owner,
    email_id: i64,
    m: &NormalizedMessage,
    directory: &Directory,
    undone: Option<&HashSet<Target>>,
    now: DateTime<Utc>,
) -> Vec<email_links::ActiveModel> {
    associate(directory, m.participants.iter().map(|p| &p.address))
        .into_iter()
        .map(|link| {
            let tombstone = undone.is_some_and(|u| u.contains(&link.target));
            let (business, contact) = match link.target {
                Target::Business(id) => (Some(id), None),
                Target::Contact(id) => (None, Some(id)),
            };
            email_links::ActiveModel {
                organization_id: Set(owner.organization_id),
                email_id: Set(email_id),
                business_id: Set(business),
                contact_id: Set(contact),
                source: Set(Source::Auto),
                reason: Set(link.reason),
                tombstone: Set(tombstone),
                received_at: Set(m.received_at),
                created_by: Set(None),
                created_at: Set(now),
                ..Default::default()
            }
        })
        .collect()
}

fn children(
    owner: Owner,
    email_id: i64,
    m: &NormalizedMessage,
    people: &mut Vec<email_participants::ActiveModel>,
    files: &mut Vec<attachments::ActiveModel>,
) {
    let org = owner.organization_id;
    for p in &m.participants {
        people.push(email_participants::ActiveModel {
            organization_id: Set(org),
            email_id: Set(email_id),
            role: Set(p.role),
            address: Set(p.address.as_str().to_string()),
            name: Set(p.name.clone()),
            domain: Set(p.address.domain().to_string()),
            registrable: Set(Some(
                crate::domain::domains::registrable(p.address.domain()).unwrap_or_default(),
            )),
            ..Default::default()
        });
    }
    let mut parts = HashSet::new();
    for a in m.attachments.iter().filter(|a| parts.insert(&a.part_key)) {
        files.push(attachments::ActiveModel {
            organization_id: Set(org),
            email_id: Set(email_id),
            part_key: Set(a.part_key.clone()),
            filename: Set(a.filename.clone()),
            content_type: Set(a.content_type.clone()),
            size_bytes: Set(i64::try_from(a.size).unwrap_or(i64::MAX)),
            content_id: Set(a.content_id.clone()),
            is_inline: Set(a.inline),
            ..Default::default()
        });
    }
}

/// `provider_message_id -> emails.id` for those of `ids` the mailbox stores.
pub async fn ids_by_provider_id(
    db: &impl ConnectionTrait,
    account_id: i64,
    ids: &[String],
) -> Result<HashMap<String, i64>, DbErr> {
    let mut out = HashMap::new();
    for chunk in ids.chunks(500) {
        let rows: Vec<(String, i64)> = emails::Entity::find()
            .select_only()
            .column(emails::Column::ProviderMessageId)
            .column(emails::Column::Id)
            .filter(emails::Column::AccountId.eq(account_id))
            .filter(emails::Column::ProviderMessageId.is_in(chunk.iter().cloned()))
            .into_tuple()
            .all(db)
            .await?;
        out.extend(rows);
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
pub async fn mark_deleted(
    db: &impl ConnectionTrait,
    account_id: i64,
    provider_ids: &[String],
) -> Result<u64, DbErr> {
    let now = super::now();
    let mut total = 0;
    for chunk in provider_ids.chunks(500) {
        let res = emails::Entity::update_many()
            .col_expr(emails::Column::DeletedInProviderAt, Expr::value(now))
            .col_expr(emails::Column::UpdatedAt, Expr::value(now))
            .filter(emails::Column::AccountId.eq(account_id))
            .filter(emails::Column::ProviderMessageId.is_in(chunk.iter().cloned()))
            .filter(emails::Column::DeletedInProviderAt.is_null())
            .exec(db)
            .await?;
        total += res.rows_affected;
    }
    Ok(total)
}

/// Stamp the stored messages among `provider_ids` as named by the listing that began at or
/// before `at` (see [`super::sync_cursors::begin_listing`]).
pub async fn mark_listed(
    db: &impl ConnectionTrait,
    account_id: i64,
    provider_ids: &[String],
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    for chunk in provider_ids.chunks(500) {
        emails::Entity::update_many()
            .col_expr(emails::Column::ListedAt, Expr::value(at))
            .filter(emails::Column::AccountId.eq(account_id))
            .filter(emails::Column::ProviderMessageId.is_in(chunk.iter().cloned()))
            .exec(db)
            .await?;
    }
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
    let mut out = HashSet::new();
    for chunk in provider_ids.chunks(500) {
        let rows: Vec<String> = emails::Entity::find()
            .select_only()
            .column(emails::Column::ProviderMessageId)
            .filter(emails::Column::AccountId.eq(account_id))
            .filter(emails::Column::ProviderMessageId.is_in(chunk.iter().cloned()))
            .filter(emails::Column::ListedAt.gte(since))
            .into_tuple()
            .all(db)
            .await?;
        out.extend(rows);
    }
    Ok(out)
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
    let row = sync_ledger::ActiveModel {
        organization_id: Set(owner.organization_id),
        account_id: Set(owner.account_id),
        provider_message_id: Set(provider_message_id.to_string()),
        reason: Set(reason.to_string()),
        detail: Set(detail.to_string()),
        created_at: Set(super::now()),
        ..Default::default()
    };
    sync_ledger::Entity::insert(row)
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
