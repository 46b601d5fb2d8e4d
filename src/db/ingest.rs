//! Writing one page of new mail: a few set-based statements whatever the page's size. The
//! messages not stored yet are inserted in multi-row statements that return the ids they
//! created; their bodies are the claim on their children (one multi-row insert that returns the
//! emails it claimed: when two passes over one mailbox race, only the one whose body lands
//! writes participants, links, attachments and search documents); those children are then
//! written per statement for the whole page. Messages already stored get their provider-side
//! state refreshed, grouped. Look-ups go through [`super::batch`], whose plans do not depend on
//! table statistics.
use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{OnConflict, Query};
use sea_orm::{ConnectionTrait, DbErr, EntityTrait, QueryTrait, Set};

use super::directory::cache::PassDirectory;
use super::emails::{thread_key, Owner, StateChange, Upserted};
use super::entities::{attachments, email_bodies, email_links, email_participants, emails};
use crate::domain::association::{associate, Directory, Target};
use crate::domain::message::{NormalizedMessage, ParticipantRole};
use crate::domain::reassociation::Source;
use crate::domain::stored::Folders;

/// Insert the messages not stored yet (with their children) and refresh the mutable state of
/// those that are (folders, read, starred; a message seen again is no longer deleted). Safe to
/// repeat: rows are keyed by (account_id, provider_message_id) and children are only written
/// for rows this call claimed. New mail is associated with `directory` (kept by the pass) and,
/// when the page belongs to a listing that began at `listed_at`, inserted stamped as listed.
/// New mail over the attachment limit is ledgered `too_large`, and attachment content the
/// messages carry is kept in `store` ([`super::blobs::keep`]).
///
/// `db` is the page's transaction; on PostgreSQL it commits without waiting for its WAL to
/// reach disk (see [`relax_commit`]).
pub async fn upsert_page(
    db: &impl ConnectionTrait,
    owner: Owner,
    messages: &[NormalizedMessage],
    directory: &mut PassDirectory,
    listed_at: Option<DateTime<Utc>>,
    store: &super::blobs::Store,
) -> Result<Upserted, DbErr> {
    relax_commit(db).await?;
    let mut unique: HashMap<&str, &NormalizedMessage> = HashMap::new();
    for m in messages {
        unique.insert(m.provider_message_id.as_str(), m);
    }
    let ids: Vec<String> = unique.keys().map(|s| (*s).to_string()).collect();
    let (existing, kept_out) = stored_or_kept_out(db, owner.account_id, &ids).await?;
    // Deleted for good by an administrator, or kept out by a rule: never stored again.
    unique.retain(|pid, _| !kept_out.contains(*pid));
    // New messages an exclusion rule matches are ledgered instead of stored.
    let excluded =
        super::exclusions::keep_out(db, owner, directory, &mut unique, &existing).await?;
    let mut out = Upserted {
        excluded,
        ..Upserted::default()
    };
    let now = super::now();
    let mut fresh = Vec::new();
    let mut changes = Vec::new();
    for (pid, m) in &unique {
        if let Some(&id) = existing.get(*pid) {
            changes.push(StateChange {
                id,
                folders: Folders::from_labels(&m.folders),
                read: m.read,
                starred: m.starred,
            });
        } else {
            fresh.push(*m);
        }
    }
    out.updated = super::emails::set_states(db, &changes, true).await?.stored;
    if fresh.is_empty() {
        return Ok(out);
    }
    // Oldest first, so ids (and the order of children) follow the mail's own order.
    fresh.sort_by_key(|m| {
        (
            m.sent_at.unwrap_or(m.received_at),
            m.provider_message_id.clone(),
        )
    });
    let keyed: Vec<(&NormalizedMessage, String)> = fresh
        .iter()
        .map(|m| (*m, m.key(owner.account_id)))
        .collect();
    let threads =
        super::threads::assign_keys(db, owner.organization_id, owner.account_id, &keyed).await?;
    let created = insert_emails(db, owner, &fresh, (&threads, listed_at), now).await?;
    let claimed = claim_bodies(db, owner, &fresh, &created).await?;
    let fresh: Vec<(i64, &NormalizedMessage)> = fresh
        .iter()
        .filter_map(|m| {
            let id = *created.get(&m.provider_message_id)?;
            claimed.contains(&id).then_some((id, *m))
        })
        .collect();
    out.inserted = fresh.len() as u64;
    if fresh.is_empty() {
        return Ok(out);
    }
    // The owner's marks start as the provider's (where they did not set them since).
    let arrived = fresh
        .iter()
        .map(|(id, m)| (*id, m.read, m.starred, m.received_at));
    super::provider_marks::follow(db, &super::provider_marks::on_arrival(arrived)).await?;
    let mut people = Vec::new();
    let mut files = Vec::new();
    let mut documents = Vec::with_capacity(fresh.len());
    for (id, m) in &fresh {
        children(owner, *id, m, &mut people, &mut files);
        documents.push((*id, search_document(m)));
    }
    // Links are written with the email, in the same transaction. A link someone undid on
    // another stored copy of a message stays undone on this one.
    let keys: Vec<String> = fresh.iter().map(|(_, m)| m.key(owner.account_id)).collect();
    let undone = super::links::tombstones_by_message(db, owner.organization_id, &keys).await?;
    let (dir, auto_contacts) = directory.current(db).await?;
    let mut created_contacts = false;
    let mut links = Vec::new();
    for (id, m) in &fresh {
        if let Some(auto) = auto_contacts {
            created_contacts |= auto.apply(db, m, dir).await? > 0;
        }
        let undone = undone.get(&m.key(owner.account_id));
        links.extend(auto_links(owner, *id, m, dir, undone, now));
    }
    if created_contacts {
        // The in-memory directory holds contacts of a transaction that may yet roll back.
        directory.forget();
    }
    let received = super::webhooks::outbox::received(owner.account_id, &fresh, &links);
    insert_chunked(db, people, 8, email_participants::Entity::insert_many).await?;
    // Only emails this call claimed get links here, so none exist yet; re-association of
    // stored mail is a separate job.
    insert_chunked(db, links, 10, email_links::Entity::insert_many).await?;
    super::search::index(db, owner.organization_id, &documents).await?;
    // The reference rules' matches, with their email (one statement when no rule matches).
    super::references::match_messages(db, owner.organization_id, &fresh).await?;
    insert_chunked(db, files, 8, |rows| {
        attachments::Entity::insert_many(rows).on_conflict(
            OnConflict::columns([attachments::Column::EmailId, attachments::Column::PartKey])
                .do_nothing()
                .to_owned(),
        )
    })
    .await?;
    super::blobs::keep(db, owner, store, &fresh).await?;
    // One statement per page: open pages of the organization look for the new threads.
    super::live::bump(db, owner.organization_id).await?;
    // `email.received`, in the page's transaction (one statement when no endpoint wants it).
    super::webhooks::outbox::email_received(db, owner.organization_id, received).await?;
    Ok(out)
}

/// PostgreSQL: `SET LOCAL synchronous_commit = off` for the rest of the sync transaction `db`.
/// Its commit then returns before the WAL is flushed (the WAL writer flushes it within a few
/// hundred milliseconds); the data is visible to others at once, and a server crash in that
/// window can lose the transaction, never corrupt the database. That is safe here because a
/// sync page's transaction holds both its mail and the cursor that covers it: a lost page loses
/// the two together, the mailbox's cursor is then the previous page's, and the next pass
/// fetches the lost mail again (upserts are idempotent). Nothing outside the transaction acts
/// on its commit: the provider is only read. SQLite (WAL, `synchronous = NORMAL`) already
/// commits this way.
async fn relax_commit(db: &impl ConnectionTrait) -> Result<(), DbErr> {
    if super::is_postgres(db) {
        db.execute_unprepared("SET LOCAL synchronous_commit = off")
            .await?;
    }
    Ok(())
}

/// Of `ids`: `provider id -> emails.id` of those stored, and those kept out for good (the
/// ledger's mark: purged by an administrator, or excluded by a rule), in one look-up (one
/// probe of each unique index per id). Sync fetches neither again.
pub async fn stored_or_kept_out(
    db: &impl ConnectionTrait,
    account_id: i64,
    ids: &[String],
) -> Result<(HashMap<String, i64>, HashSet<String>), DbErr> {
    let select = "SELECT v.k AS pid, \
         (SELECT e.id FROM emails e WHERE e.account_id = ? AND e.provider_message_id = v.k) AS id, \
         EXISTS (SELECT 1 FROM sync_ledger l WHERE l.account_id = ? \
         AND l.provider_message_id = v.k AND l.reason IN (?, ?)) AS purged FROM v";
    let scope = [
        account_id.into(),
        account_id.into(),
        super::purge::PURGED.into(),
        super::exclusions::EXCLUDED.into(),
    ];
    let (mut stored, mut purged) = (HashMap::new(), HashSet::new());
    for row in super::batch::per_key(db, ids, select, &scope).await? {
        let pid: String = row.try_get("", "pid")?;
        if row.try_get::<bool>("", "purged")? {
            purged.insert(pid.clone());
        }
        if let Some(id) = row.try_get::<Option<i64>>("", "id")? {
            stored.insert(pid, id);
        }
    }
    Ok((stored, purged))
}

/// Multi-row inserts of `rows` (`columns` bound values each), as few as SQLite's limit allows.
async fn insert_chunked<A>(
    db: &impl ConnectionTrait,
    rows: Vec<A>,
    columns: usize,
    insert: impl Fn(Vec<A>) -> sea_orm::Insert<A>,
) -> Result<(), DbErr>
where
    A: sea_orm::ActiveModelTrait,
{
    let per = super::batch::rows_per_insert(columns);
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<A> = rows.by_ref().take(per).collect();
        db.execute(insert(chunk).build(db.get_database_backend()))
            .await?;
    }
    Ok(())
}

/// Insert the new emails; `provider_message_id -> id` of the rows this call created (a row a
/// racing pass created first is not returned, and its children are that pass's).
async fn insert_emails(
    db: &impl ConnectionTrait,
    owner: Owner,
    fresh: &[&NormalizedMessage],
    (threads, listed_at): (&HashMap<String, String>, Option<DateTime<Utc>>),
    now: DateTime<Utc>,
) -> Result<HashMap<String, i64>, DbErr> {
    let backend = db.get_database_backend();
    let mut created = HashMap::with_capacity(fresh.len());
    for chunk in fresh.chunks(super::batch::rows_per_insert(EMAIL_COLUMNS)) {
        let rows = chunk.iter().map(|m| {
            let mut row = new_row(owner, m, now);
            if let Some(key) = threads.get(&m.provider_message_id) {
                row.thread_key = Set(key.clone());
            }
            row.listed_at = Set(listed_at);
            row
        });
        let mut insert = emails::Entity::insert_many(rows).on_conflict(
            OnConflict::columns([emails::Column::AccountId, emails::Column::ProviderMessageId])
                .do_nothing()
                .to_owned(),
        );
        insert.query().returning(
            Query::returning().columns([emails::Column::Id, emails::Column::ProviderMessageId]),
        );
        for row in db.query_all(insert.build(backend)).await? {
            let id: i64 = row.try_get("", "id")?;
            let pid: String = row.try_get("", "provider_message_id")?;
            created.insert(pid, id);
        }
    }
    Ok(created)
}

/// Bound values of one new email row (an upper bound).
const EMAIL_COLUMNS: usize = 30;

/// Insert the bodies of the emails this call created; the ids whose body landed (the claim on
/// their children: a body already there means another pass owns them).
async fn claim_bodies(
    db: &impl ConnectionTrait,
    owner: Owner,
    fresh: &[&NormalizedMessage],
    created: &HashMap<String, i64>,
) -> Result<HashSet<i64>, DbErr> {
    let backend = db.get_database_backend();
    let bodies: Vec<(i64, &NormalizedMessage)> = fresh
        .iter()
        .filter_map(|m| Some((*created.get(&m.provider_message_id)?, *m)))
        .collect();
    let mut claimed = HashSet::with_capacity(bodies.len());
    let text = |(_, m): &(i64, &NormalizedMessage)| {
        m.body_text.as_ref().map_or(0, String::len) + m.body_html.as_ref().map_or(0, String::len)
    };
    for run in super::batch::runs(&bodies, super::batch::rows_per_insert(5), text) {
        let chunk = run.iter().map(|(id, m)| body(owner, *id, m));
        let mut insert = email_bodies::Entity::insert_many(chunk).on_conflict(
            OnConflict::column(email_bodies::Column::EmailId)
                .do_nothing()
                .to_owned(),
        );
        insert
            .query()
            .returning(Query::returning().column(email_bodies::Column::EmailId));
        for row in db.query_all(insert.build(backend)).await? {
            claimed.insert(row.try_get::<i64>("", "email_id")?);
        }
    }
    Ok(claimed)
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

pub(super) fn search_document(m: &NormalizedMessage) -> crate::domain::search::SearchDocument {
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

pub(super) fn children(
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
