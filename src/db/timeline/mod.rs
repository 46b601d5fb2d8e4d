//! Timelines: the threads a reader sees for a business, for a contact, or in their own
//! mailboxes ("my mail"), newest first by their latest message, with keyset paging.
//!
//! A page is found by walking the scope's messages newest first (the link's time index for
//! businesses and contacts, the mailbox's for my mail) and taking each thread at its first,
//! hence latest, matching message. The cursor is that message's `(time, email id)`: the next
//! page walks on from there and leaves out threads that have a matching message at or above
//! the cursor, because an earlier page already showed them. A page costs its own messages plus
//! a look-up per thread, however much mail the business has. Copies of one message in
//! several colleagues' mailboxes share a thread and are shown once.
mod live;
mod messages;
mod search_walk;
pub mod sql;

use std::collections::HashSet;

use chrono::{DateTime, TimeZone, Utc};
use sea_orm::{ConnectionTrait, DbBackend, DbErr};

use self::search_walk::{Fetched, SearchWalk, Walked};
use self::sql::{from_where, keys, Drive, Sql, Within};
use super::combined::{self, FromPartRow, PartRow};
use crate::domain::search::SearchQuery;

pub use self::live::{changed, Changed};
pub use self::messages::{Deletion, Message, ThreadSummary};

/// Whose timeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Business(i64),
    Contact(i64),
    /// The reader's own mailboxes.
    Mine,
    /// The emails that mention one reference (`reference_values.id`), as the reader may see
    /// them: their own, and colleagues' linked copies whose level shows where it was found.
    Reference(i64),
}

/// Who is reading: their organization bounds every query; marks are theirs.
#[derive(Debug, Clone, Copy)]
pub struct Reader {
    pub organization_id: i64,
    pub user_id: i64,
}

/// The reader's filters; a thread is listed when one of its messages matches all of them.
#[derive(Debug, Clone, Default)]
pub struct Filters {
    /// Received at or after.
    pub since: Option<DateTime<Utc>>,
    /// Received before.
    pub before: Option<DateTime<Utc>>,
    pub mailbox: Option<i64>,
    pub attachments: bool,
    pub unread: bool,
    pub starred: bool,
    /// Leave out messages deleted (or binned) in their provider: a message still matches
    /// while some copy the reader sees is not.
    pub hide_deleted: bool,
    pub search: Option<SearchQuery>,
}

impl Filters {
    /// Does any filter leave out some of a scope's messages? Without one, a timeline's walk
    /// reads exactly the messages its thread lines show.
    pub fn narrows(&self) -> bool {
        self.since.is_some()
            || self.before.is_some()
            || self.mailbox.is_some()
            || self.attachments
            || self.unread
            || self.starred
            || self.hide_deleted
            || self.search.is_some()
    }
}

/// What the organization hides from every timeline.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    pub hide_bulk: bool,
    pub hide_internal_only: bool,
    /// The organization's own domains.
    pub internal: Vec<String>,
    /// Some mailbox is below `full` or some thread is marked private: each message a
    /// colleague's timeline reads is checked against its level (`db::visibility`). Without,
    /// every linked message is seen in full and no check is made.
    pub restricted: bool,
}

/// What a timeline page reads besides its mail: whether the scope's business or contact is
/// the organization's, the organization's policy and the mailboxes the scope's mail can come
/// from (for the mailbox filter, as `(id, address)` by address).
#[derive(Debug, Clone, Default)]
pub struct Context {
    pub scope_exists: bool,
    pub policy: Policy,
    pub mailboxes: Vec<(i64, String)>,
}

/// Read the [`Context`] alone (see [`context_part`] to read it with a page's other reads).
pub async fn context(
    db: &impl ConnectionTrait,
    reader: Reader,
    scope: Scope,
) -> Result<Context, DbErr> {
    Ok(context_of(
        combined::one(db, |sql| context_part(sql, reader, scope)).await?,
    ))
}

/// One row of [`context_part`], by kind (the order sorts them as [`context_of`] reads them).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum ContextRow {
    /// Kind 0: the organization's policy flags (1 hides bulk mail, 2 internal-only threads,
    /// 4 visibility restricted).
    Policy { flags: i64 },
    /// Kind 1: one of the organization's domains.
    InternalDomain(String),
    /// Kind 2: a mailbox the scope's mail can come from, by address.
    Mailbox { address: String, id: i64 },
    /// Kind 3: the scope's business or contact is the organization's.
    ScopeExists,
}

impl FromPartRow for ContextRow {
    fn from_part_row(row: PartRow) -> Option<Self> {
        let text = row.text.unwrap_or_default();
        Some(match row.kind {
            0 => Self::Policy {
                flags: row.number.unwrap_or_default(),
            },
            1 => Self::InternalDomain(text),
            2 => Self::Mailbox {
                address: text,
                id: row.number.unwrap_or_default(),
            },
            3 => Self::ScopeExists,
            _ => return None,
        })
    }
}

/// The [`Context`] as a part of a [`combined`] read, as rows of [`ContextRow`]: the policy
/// (kind 0, its flags as the number), the organization's domains (1), the mailboxes (2,
/// `(id, address)`) and a row for the scope when it exists (3).
pub fn context_part(sql: &mut Sql, reader: Reader, scope: Scope) {
    let org = reader.organization_id;
    match scope {
        Scope::Business(id) => {
            sql.push("SELECT 3, NULL, NULL, NULL FROM businesses b WHERE b.id = ")
                .bind(id)
                .push(" AND b.organization_id = ")
                .bind(org)
                .push(" UNION ALL ");
        }
        Scope::Contact(id) => {
            sql.push("SELECT 3, NULL, NULL, NULL FROM contacts c WHERE c.id = ")
                .bind(id)
                .push(" AND c.organization_id = ")
                .bind(org)
                .push(" UNION ALL ");
        }
        Scope::Mine => {
            sql.push("SELECT 3, NULL, NULL, NULL UNION ALL ");
        }
        Scope::Reference(id) => {
            sql.push("SELECT 3, NULL, NULL, NULL FROM reference_values v WHERE v.id = ")
                .bind(id)
                .push(" AND v.organization_id = ")
                .bind(org)
                .push(" UNION ALL ");
        }
    }
    sql.push(&format!(
        "SELECT 0, CASE WHEN o.hide_bulk THEN 1 ELSE 0 END \
         + CASE WHEN o.hide_internal_only THEN 2 ELSE 0 END \
         + CASE WHEN {} THEN 4 ELSE 0 END, NULL, NULL \
         FROM organizations o WHERE o.id = ",
        crate::db::visibility::restricted_sql("o.id")
    ))
    .bind(org)
    .push(" UNION ALL SELECT 1, NULL, d.domain, NULL FROM organization_domains d WHERE d.organization_id = ")
    .bind(org)
    .push(" UNION ALL SELECT 2, a.id, a.address, NULL FROM mail_accounts a WHERE a.organization_id = ")
    .bind(org);
    let own = crate::db::visibility::own_sql("a");
    let own_values = crate::db::visibility::own_values(reader.user_id).to_vec();
    if scope == Scope::Mine {
        sql.push(" AND ").splice(&own, own_values);
    } else {
        // A colleague's private mailbox shows nothing here: not even in the mailbox filter.
        sql.push(" AND (a.visibility <> 'private' OR ")
            .splice(&own, own_values)
            .push(")");
    }
}

/// The [`Context`] of [`context_part`]'s rows.
pub fn context_of(rows: Vec<PartRow>) -> Context {
    let mut rows: Vec<ContextRow> = combined::decode(rows);
    rows.sort();
    let mut ctx = Context::default();
    for row in rows {
        match row {
            ContextRow::Policy { flags } => {
                ctx.policy.hide_bulk = flags & 1 != 0;
                ctx.policy.hide_internal_only = flags & 2 != 0;
                ctx.policy.restricted = flags & 4 != 0;
            }
            ContextRow::InternalDomain(domain) => ctx.policy.internal.push(domain),
            ContextRow::Mailbox { address, id } => ctx.mailboxes.push((id, address)),
            ContextRow::ScopeExists => ctx.scope_exists = true,
        }
    }
    ctx
}

/// Where a page ends: the latest matching message of its last thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub at: DateTime<Utc>,
    pub email_id: i64,
}

impl Cursor {
    /// `nanoseconds.email_id`, for a URL.
    pub fn encode(&self) -> String {
        let nanos = self.at.timestamp_nanos_opt().unwrap_or_default();
        format!("{nanos}.{}", self.email_id)
    }

    pub fn decode(s: &str) -> Option<Self> {
        let (nanos, id) = s.split_once('.')?;
        Some(Self {
            at: Utc.timestamp_nanos(nanos.parse().ok()?),
            email_id: id.parse().ok()?,
        })
    }
}

/// One page of threads and where the next one starts, with the mailboxes the scope's mail can
/// come from (for the mailbox filter).
#[derive(Debug, Clone)]
pub struct Page {
    pub threads: Vec<ThreadSummary>,
    pub next: Option<Cursor>,
    pub mailboxes: Vec<(i64, String)>,
}

/// The page of threads after `after` (the first page without it), with `ctx` as read for
/// this reader and scope.
pub async fn page(
    db: &impl ConnectionTrait,
    ctx: Context,
    reader: Reader,
    scope: Scope,
    filters: &Filters,
    after: Option<Cursor>,
    limit: usize,
) -> Result<Page, DbErr> {
    let Context {
        policy, mailboxes, ..
    } = ctx;
    let w = Within {
        backend: db.get_database_backend(),
        reader,
        scope,
        policy: &policy,
    };
    let Scan { mut found, whole } = scan(db, w, filters, after, limit + 1).await?;
    let next = if found.len() > limit {
        found.truncate(limit);
        found.last().map(|(_, c)| *c)
    } else {
        None
    };
    let keys: Vec<String> = found.into_iter().map(|(k, _)| k).collect();
    let mut threads = match whole {
        // The walk read every message of the scope: the page's are among them.
        Some(walked) => {
            let wanted: HashSet<&str> = keys.iter().map(String::as_str).collect();
            let emails: Vec<(i64, DateTime<Utc>)> = walked
                .into_iter()
                .filter(|(key, _)| wanted.contains(key.as_str()))
                .map(|(_, c)| (c.email_id, c.at))
                .collect();
            messages::summaries_of(db, w, &keys, &emails).await?
        }
        None => messages::summaries(db, w, &keys).await?,
    };
    messages::with_references(db, reader.organization_id, &mut threads).await?;
    Ok(Page {
        threads,
        next,
        mailboxes,
    })
}

/// The messages of the thread of `email_id` that the reader sees in `scope`, oldest first,
/// with `ctx` as read for this reader and scope; None when that email is not in the scope
/// (for the caller, a 404).
pub async fn thread(
    db: &impl ConnectionTrait,
    ctx: Context,
    reader: Reader,
    scope: Scope,
    email_id: i64,
) -> Result<Option<Vec<Message>>, DbErr> {
    let policy = ctx.policy;
    let w = Within {
        backend: db.get_database_backend(),
        reader,
        scope,
        policy: &policy,
    };
    let mut sql = Sql::default();
    sql.push("SELECT e.thread_key");
    from_where(&mut sql, w, Drive::Emails, None);
    sql.push(" AND e.id = ").bind(email_id);
    let Some(row) = db.query_one(sql.build(w.backend)).await? else {
        return Ok(None);
    };
    let key: String = row.try_get_by_index(0)?;
    let mut list = messages::of_threads(db, w, &[key], true).await?;
    list.reverse();
    Ok(Some(list))
}

/// What [`scan`] found.
struct Scan {
    /// Up to `want` threads in timeline order, each with its latest matching message as the
    /// position.
    found: Vec<(String, Cursor)>,
    /// Every message of the scope with its thread, when one walk from the top without a
    /// narrowing filter read them all (a business or contact with little mail): the page's
    /// messages are then read by id, without looking up each one's thread and link again.
    whole: Option<Vec<(String, Cursor)>>,
}

/// At most this many walked rows are kept for [`Scan::whole`].
const WHOLE_LIMIT: usize = 512;

/// Up to `want` threads after `after`, in timeline order, each with its latest matching
/// message as the position.
async fn scan(
    db: &impl ConnectionTrait,
    w: Within<'_>,
    filters: &Filters,
    after: Option<Cursor>,
    want: usize,
) -> Result<Scan, DbErr> {
    let mut seen: HashSet<String> = HashSet::new();
    let mut out = Vec::new();
    let mut position = after;
    // A search on PostgreSQL picks its own path and batches (`search_walk`); SQLite's FTS5
    // answers a search as the list of matching rows, which the plain walk reads.
    let mut search = match &filters.search {
        Some(q) if w.backend == DbBackend::Postgres => Some(SearchWalk::new(filters, q, want)),
        _ => None,
    };
    // Unfiltered, a thread shows up about once per message it has, so the first batch allows
    // for a few each. A filter that picks single messages (unread, starred, attachments, a
    // mailbox) mostly yields one per thread, and each row it reads costs look-ups: start
    // smaller and let the doubling catch up. (A search on SQLite pays most per statement, for
    // the matching set, so it keeps the larger batch.)
    let picky = filters.search.is_none()
        && (filters.unread || filters.starred || filters.attachments || filters.mailbox.is_some());
    let mut batch = if picky { want * 2 } else { (want * 4).max(50) };
    let mut whole = (after.is_none() && !filters.narrows()).then(Vec::new);
    loop {
        let Fetched { rows, exhausted } = match search.as_mut() {
            Some(s) => s.next(db, w, position, seen.len(), out.len()).await?,
            None => walk(db, w, filters, position, batch).await?,
        };
        let mut fresh = Vec::new();
        for Walked { key, at: here, hit } in rows {
            position = Some(here);
            if !hit {
                continue;
            }
            if let Some(walked) = whole.as_mut() {
                if walked.len() < WHOLE_LIMIT {
                    walked.push((key.clone(), here));
                } else {
                    whole = None;
                }
            }
            if seen.insert(key.clone()) {
                fresh.push((key, here));
            }
        }
        if let Some(start) = after {
            let shown = shown_before(db, w, filters, start, &fresh).await?;
            fresh.retain(|(key, _)| !shown.contains(key));
        }
        out.extend(fresh);
        if exhausted {
            break;
        }
        if out.len() >= want {
            // Mail beyond this walk may belong to the page's threads.
            whole = None;
            break;
        }
        batch = (batch * 2).min(5000);
    }
    out.truncate(want);
    Ok(Scan { found: out, whole })
}

/// Up to `batch` of the scope's matching rows after `position`, newest first, by the scope's
/// time index (the search, if any, tested per row).
async fn walk(
    db: &impl ConnectionTrait,
    w: Within<'_>,
    filters: &Filters,
    position: Option<Cursor>,
    batch: usize,
) -> Result<Fetched, DbErr> {
    let k = keys(w.scope);
    let mut sql = Sql::default();
    sql.push(&format!("SELECT {}, {}, {}", k.thread, k.at, k.id));
    from_where(&mut sql, w, Drive::Time, Some(filters));
    if let Some(c) = position {
        sql.push(&format!(" AND {} <= ", k.at))
            .bind(c.at)
            .push(&format!(" AND ({} < ", k.at))
            .bind(c.at)
            .push(&format!(" OR {} < ", k.id))
            .bind(c.email_id)
            .push(")");
    }
    sql.push(&format!(
        " ORDER BY {} DESC, {} DESC LIMIT {batch}",
        k.at, k.id
    ));
    let rows = db.query_all(sql.build(w.backend)).await?;
    let exhausted = rows.len() < batch;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        out.push(Walked {
            key: row.try_get_by_index(0)?,
            at: Cursor {
                at: row.try_get_by_index(1)?,
                email_id: row.try_get_by_index(2)?,
            },
            hit: true,
        });
    }
    Ok(Fetched {
        rows: out,
        exhausted,
    })
}

/// Which of `candidates` have a matching message at or above `start`: threads an earlier page
/// already showed.
async fn shown_before(
    db: &impl ConnectionTrait,
    w: Within<'_>,
    filters: &Filters,
    start: Cursor,
    candidates: &[(String, Cursor)],
) -> Result<HashSet<String>, DbErr> {
    let k = keys(w.scope);
    let mut shown = HashSet::new();
    for chunk in candidates.chunks(300) {
        let mut sql = Sql::default();
        sql.push("SELECT DISTINCT e.thread_key");
        from_where(&mut sql, w, Drive::Emails, Some(filters));
        sql.push(" AND e.thread_key IN ")
            .bind_list(chunk.iter().map(|(key, _)| key.clone()))
            .push(&format!(" AND ({} > ", k.at))
            .bind(start.at)
            .push(&format!(" OR ({} = ", k.at))
            .bind(start.at)
            .push(&format!(" AND {} >= ", k.id))
            .bind(start.email_id)
            .push("))");
        for row in db.query_all(sql.build(w.backend)).await? {
            shown.insert(row.try_get_by_index::<String>(0)?);
        }
    }
    Ok(shown)
}
