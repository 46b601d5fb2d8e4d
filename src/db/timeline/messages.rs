//! The messages of a page's threads as the reader sees them in a scope: one per message however
//! many mailboxes hold a copy, with sender, recipients and the reader's marks; and the summary
//! line of each thread built from them. A colleague's message carries only what its level
//! shows (`db::visibility`): of several copies, the most permissive one is kept.
use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbErr};

use super::sql::{from_where, keys, levels_apply, Drive, Sql, Within};
use super::Scope;
use crate::domain::provider::Provider;
use crate::domain::visibility::Level;

/// A message deleted (or moved to the bin) in its provider, as sync observed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deletion {
    pub provider: Provider,
    pub at: DateTime<Utc>,
}

/// One message of a thread.
#[derive(Debug, Clone)]
pub struct Message {
    pub email_id: i64,
    pub thread_key: String,
    pub message_key: String,
    pub subject: String,
    pub snippet: String,
    pub at: DateTime<Utc>,
    pub attachments: bool,
    /// The link that puts it in a business or contact timeline.
    pub link_id: Option<i64>,
    pub from_name: String,
    pub from_address: String,
    /// To and Cc, as names (addresses when nameless).
    pub to: Vec<String>,
    pub read: bool,
    pub starred: bool,
    /// The level the reader sees it at: below `subject` the subject is empty, below `full`
    /// the snippet too and `attachments` false.
    pub level: Level,
    /// Deleted in the provider: every copy the reader sees in the scope is (the latest
    /// deletion); a message with a copy still in a mailbox is not.
    pub deleted: Option<Deletion>,
}

/// A thread as one line of a timeline.
#[derive(Debug, Clone)]
pub struct ThreadSummary {
    pub key: String,
    /// The latest message, which opens and expands the thread.
    pub handle: i64,
    /// The first message's subject.
    pub subject: String,
    /// No subject shown because the reader's level hides it (not because there is none).
    pub subject_hidden: bool,
    /// Senders, first one first, each once.
    pub people: Vec<String>,
    pub messages: usize,
    pub unread: usize,
    pub starred: bool,
    pub attachments: bool,
    /// The latest message's snippet.
    pub snippet: String,
    pub latest_at: DateTime<Utc>,
    /// The level the reader sees the latest message at.
    pub level: Level,
    /// The latest message's references as the reader may see them: `(rule, value)`
    /// ([`with_references`]).
    pub references: Vec<(String, String)>,
    /// Its messages deleted in the provider, and the latest deletion when that is all of them.
    pub deleted: usize,
    pub all_deleted: Option<Deletion>,
}

/// Fill each summary's references: those of its latest message, at its level (one statement
/// per page).
pub async fn with_references(
    db: &impl ConnectionTrait,
    org_id: i64,
    threads: &mut [ThreadSummary],
) -> Result<(), DbErr> {
    let handles: Vec<(i64, Level)> = threads.iter().map(|t| (t.handle, t.level)).collect();
    let mut found = crate::db::references::read::of_emails(db, org_id, &handles).await?;
    for t in threads {
        if let Some(list) = found.remove(&t.handle) {
            t.references = list.into_iter().map(|s| (s.rule, s.value)).collect();
        }
    }
    Ok(())
}

/// The summaries of the threads `keys`, in that order.
pub async fn summaries(
    db: &impl ConnectionTrait,
    w: Within<'_>,
    keys: &[String],
) -> Result<Vec<ThreadSummary>, DbErr> {
    let mut by_thread: HashMap<String, Vec<Message>> = HashMap::new();
    for m in of_threads(db, w, keys, false).await? {
        by_thread.entry(m.thread_key.clone()).or_default().push(m);
    }
    Ok(keys
        .iter()
        .filter_map(|k| by_thread.remove(k))
        .map(|newest_first| summarize(&newest_first))
        .collect())
}

/// [`summaries`] when the scope's messages of those threads are known: `emails`, by id with
/// the time the scope lists them at (all of them, as a walk of the whole scope read them).
pub async fn summaries_of(
    db: &impl ConnectionTrait,
    w: Within<'_>,
    keys: &[String],
    emails: &[(i64, DateTime<Utc>)],
) -> Result<Vec<ThreadSummary>, DbErr> {
    let mut by_thread: HashMap<String, Vec<Message>> = HashMap::new();
    for m in by_id(db, w, emails).await? {
        by_thread.entry(m.thread_key.clone()).or_default().push(m);
    }
    Ok(keys
        .iter()
        .filter_map(|k| by_thread.remove(k))
        .map(|newest_first| summarize(&newest_first))
        .collect())
}

fn summarize(newest_first: &[Message]) -> ThreadSummary {
    let latest = &newest_first[0];
    let first = &newest_first[newest_first.len() - 1];
    let mut people = Vec::new();
    let mut seen = HashSet::new();
    for m in newest_first.iter().rev() {
        if seen.insert(m.from_address.as_str()) {
            people.push(m.from_name.clone());
        }
    }
    let subject = if first.subject.trim().is_empty() {
        latest.subject.clone()
    } else {
        first.subject.clone()
    };
    let subject_hidden =
        subject.trim().is_empty() && newest_first.iter().any(|m| !m.level.shows_subject());
    ThreadSummary {
        key: latest.thread_key.clone(),
        handle: latest.email_id,
        subject,
        subject_hidden,
        people,
        messages: newest_first.len(),
        unread: newest_first.iter().filter(|m| !m.read).count(),
        starred: newest_first.iter().any(|m| m.starred),
        attachments: newest_first.iter().any(|m| m.attachments),
        snippet: latest.snippet.clone(),
        latest_at: latest.at,
        level: latest.level,
        references: Vec::new(),
        deleted: newest_first.iter().filter(|m| m.deleted.is_some()).count(),
        all_deleted: newest_first
            .iter()
            .map(|m| m.deleted)
            .reduce(both_deleted)
            .flatten(),
    }
}

/// The scope's messages of the threads `keys`, newest first, one per message; with their
/// To and Cc when `recipients` (a thread line shows senders only).
pub async fn of_threads(
    db: &impl ConnectionTrait,
    w: Within<'_>,
    thread_keys: &[String],
    recipients: bool,
) -> Result<Vec<Message>, DbErr> {
    let k = keys(w.scope);
    let link = if matches!(w.scope, Scope::Mine | Scope::Reference(_)) {
        "NULL"
    } else {
        "l.id"
    };
    let mut out = Vec::new();
    let mut copies = HashMap::new();
    for chunk in thread_keys.chunks(300) {
        let mut sql = Sql::default();
        select_message(&mut sql, w, k.at, link);
        from_where(&mut sql, w, Drive::Emails, None);
        sql.push(" AND e.thread_key IN ")
            .bind_list(chunk.iter().cloned())
            .push(&format!(" ORDER BY {} DESC, {} DESC", k.at, k.id));
        for row in db.query_all(sql.build(w.backend)).await? {
            push_message(&mut out, &mut copies, &row)?;
        }
    }
    out.sort_by(|a, b| b.at.cmp(&a.at).then(b.email_id.cmp(&a.email_id)));
    if recipients {
        fill_recipients(db, w.reader.organization_id, &mut out).await?;
    }
    Ok(out)
}

/// The messages `emails` (ids the caller found in the scope, with the time the scope lists
/// each at), newest first, one per message, without their links or recipients.
async fn by_id(
    db: &impl ConnectionTrait,
    w: Within<'_>,
    emails: &[(i64, DateTime<Utc>)],
) -> Result<Vec<Message>, DbErr> {
    let at: HashMap<i64, DateTime<Utc>> = emails.iter().copied().collect();
    let mut sorted: Vec<i64> = at.keys().copied().collect();
    sorted.sort_unstable();
    let mut rows = Vec::new();
    for chunk in sorted.chunks(300) {
        let mut sql = Sql::default();
        select_message(&mut sql, w, "e.received_at", "NULL");
        sql.push(" FROM emails e WHERE e.id IN ")
            .bind_list(chunk.iter().copied());
        rows.extend(db.query_all(sql.build(w.backend)).await?);
    }
    let mut all = Vec::with_capacity(rows.len());
    for row in &rows {
        let mut m = decode(row)?;
        if let Some(t) = at.get(&m.email_id) {
            m.at = *t;
        }
        all.push(m);
    }
    // Copies of one message: keep the one the scope lists first (newest, then highest id),
    // as the query by thread does, with the most permissive copy's content.
    all.sort_by(|a, b| b.at.cmp(&a.at).then(b.email_id.cmp(&a.email_id)));
    let mut out = Vec::with_capacity(all.len());
    let mut copies = HashMap::new();
    for m in all {
        keep_best(&mut out, &mut copies, m);
    }
    Ok(out)
}

/// `SELECT` of a message's columns as [`push_message`] reads them: `at` and `link` name the
/// time and link id columns.
fn select_message(sql: &mut Sql, w: Within<'_>, at: &str, link: &str) {
    sql.push(&format!(
        "SELECT e.id, e.thread_key, e.message_key, e.subject, e.snippet, {at}, \
         e.has_attachments, {link}, e.sender_name, e.sender_address"
    ));
    // Both marks from one look-up of the reader's state row (read = 1, starred = 2; NULL
    // without a row).
    sql.push(
        ", (SELECT CASE WHEN s.read_at IS NULL THEN 0 ELSE 1 END \
         + CASE WHEN s.starred_at IS NULL THEN 0 ELSE 2 END \
         FROM user_email_states s WHERE s.user_id = ",
    )
    .bind(w.reader.user_id)
    .push(" AND s.message_key = e.message_key)");
    // The level as its rank (3 = full, also for everyone when nothing is restricted).
    if levels_apply(w) {
        let (rank, values) = crate::db::visibility::rank_sql(w.reader.user_id, "e.id");
        sql.push(", ").splice(&rank, values);
    } else {
        sql.push(", 3");
    }
    // Deleted in the provider: when, and the mailbox's provider (looked up only then).
    sql.push(
        ", e.deleted_in_provider_at, CASE WHEN e.deleted_in_provider_at IS NULL THEN NULL \
         ELSE (SELECT pa.provider FROM mail_accounts pa WHERE pa.id = e.account_id) END",
    );
}

/// A message is deleted in the provider when all its copies are: the latest deletion.
fn both_deleted(a: Option<Deletion>, b: Option<Deletion>) -> Option<Deletion> {
    match (a, b) {
        (Some(a), Some(b)) => Some(if a.at >= b.at { a } else { b }),
        _ => None,
    }
}

/// Append `m` unless `copies` (message key -> index in `out`) already holds its message; a
/// copy the reader sees at a higher level replaces the one kept, at its place.
fn keep_best(out: &mut Vec<Message>, copies: &mut HashMap<String, usize>, m: Message) {
    if let Some(&i) = copies.get(&m.message_key) {
        let deleted = both_deleted(out[i].deleted, m.deleted);
        if m.level > out[i].level {
            let at = out[i].at;
            out[i] = Message { at, ..m };
        }
        out[i].deleted = deleted;
    } else {
        copies.insert(m.message_key.clone(), out.len());
        out.push(m);
    }
}

/// Append the message of `row` (as [`select_message`] selects it), one per message (see
/// [`keep_best`]).
fn push_message(
    out: &mut Vec<Message>,
    copies: &mut HashMap<String, usize>,
    row: &sea_orm::QueryResult,
) -> Result<(), DbErr> {
    keep_best(out, copies, decode(row)?);
    Ok(())
}

/// The message of `row`, as [`select_message`] selects it.
fn decode(row: &sea_orm::QueryResult) -> Result<Message, DbErr> {
    let message_key: String = row.try_get_by_index(2)?;
    let marks = row.try_get_by_index::<Option<i32>>(10)?.unwrap_or(0);
    let from_address: String = row.try_get_by_index(9)?;
    let from_name = shown(row.try_get_by_index(8)?, &from_address);
    let level = Level::from_rank(row.try_get_by_index::<Option<i32>>(11)?.unwrap_or(0).into());
    let mut subject: String = row.try_get_by_index(3)?;
    let mut snippet: String = row.try_get_by_index(4)?;
    let mut attachments: bool = row.try_get_by_index(6)?;
    if !level.shows_subject() {
        subject.clear();
    }
    if !level.shows_body() {
        snippet.clear();
        attachments = false;
    }
    Ok(Message {
        email_id: row.try_get_by_index(0)?,
        thread_key: row.try_get_by_index(1)?,
        message_key,
        subject,
        snippet,
        at: row.try_get_by_index(5)?,
        attachments,
        link_id: row.try_get_by_index(7)?,
        from_name: if from_address.is_empty() {
            UNKNOWN_SENDER.into()
        } else {
            from_name
        },
        from_address,
        to: Vec::new(),
        read: marks & 1 != 0,
        starred: marks & 2 != 0,
        level,
        deleted: deletion(row)?,
    })
}

/// The deletion in the provider of `row`'s copy, if any (columns 12 and 13).
fn deletion(row: &sea_orm::QueryResult) -> Result<Option<Deletion>, DbErr> {
    let at: Option<DateTime<Utc>> = row.try_get_by_index(12)?;
    let provider: Option<String> = row.try_get_by_index(13)?;
    Ok(at.and_then(|at| {
        Some(Deletion {
            provider: Provider::parse(provider.as_deref()?)?,
            at,
        })
    }))
}

const UNKNOWN_SENDER: &str = "(unknown sender)";

/// A participant as a timeline names them: the display name, else the address.
fn shown(name: String, address: &str) -> String {
    if name.trim().is_empty() {
        address.to_string()
    } else {
        name
    }
}

async fn fill_recipients(
    db: &impl ConnectionTrait,
    org_id: i64,
    messages: &mut [Message],
) -> Result<(), DbErr> {
    let mut rows: HashMap<i64, Vec<(String, String)>> = HashMap::new();
    let ids: Vec<i64> = messages.iter().map(|m| m.email_id).collect();
    let backend = db.get_database_backend();
    for chunk in ids.chunks(500) {
        let mut sql = Sql::default();
        sql.push("SELECT email_id, name, address FROM email_participants WHERE organization_id = ")
            .bind(org_id)
            .push(" AND role IN ('to', 'cc') AND email_id IN ")
            .bind_list(chunk.iter().copied());
        for row in db.query_all(sql.build(backend)).await? {
            rows.entry(row.try_get_by_index(0)?)
                .or_default()
                .push((row.try_get_by_index(1)?, row.try_get_by_index(2)?));
        }
    }
    for m in messages {
        for (name, address) in rows.remove(&m.email_id).unwrap_or_default() {
            m.to.push(shown(name, &address));
        }
    }
    Ok(())
}
