//! The SQL every timeline query shares: which rows a scope covers, what the organization hides,
//! and the reader's filters, as one `FROM ... WHERE ...` with bound values. Written with `?`
//! placeholders, numbered for PostgreSQL when the statement is built.
use chrono::{DateTime, Utc};
use sea_orm::{DbBackend, Statement, Value};

use super::{Filters, Policy, Reader, Scope};
use crate::domain::search::SearchQuery;

/// A statement being assembled.
#[derive(Debug, Default)]
pub struct Sql {
    text: String,
    values: Vec<Value>,
}

impl Sql {
    pub fn push(&mut self, text: &str) -> &mut Self {
        self.text.push_str(text);
        self
    }

    /// Append a placeholder bound to `value`.
    pub fn bind(&mut self, value: impl Into<Value>) -> &mut Self {
        self.text.push('?');
        self.values.push(value.into());
        self
    }

    /// `(?, ?, ...)` bound to `values`, for `IN`. The list is padded to a power of two (at least
    /// 4) by repeating its last value, so lists of similar length share one statement text and
    /// hence one prepared statement: parsing a new statement per page cost more than running it.
    pub fn bind_list<V: Into<Value>>(&mut self, values: impl IntoIterator<Item = V>) -> &mut Self {
        let values: Vec<Value> = values.into_iter().map(Into::into).collect();
        self.text.push('(');
        let Some(last) = values.last().cloned() else {
            // `IN ()` is not SQL; `IN (NULL)` matches nothing.
            self.text.push_str("NULL)");
            return self;
        };
        let padded = values.len().next_power_of_two().max(4);
        let fill = std::iter::repeat_n(last, padded - values.len());
        for (i, v) in values.into_iter().chain(fill).enumerate() {
            if i > 0 {
                self.text.push_str(", ");
            }
            self.bind(v);
        }
        self.text.push(')');
        self
    }

    /// Append a fragment that carries its own `?` placeholders and values.
    pub fn splice(&mut self, text: &str, values: Vec<Value>) -> &mut Self {
        self.text.push_str(text);
        self.values.extend(values);
        self
    }

    pub fn build(self, backend: DbBackend) -> Statement {
        crate::db::batch::statement(backend, &self.text, self.values)
    }
}

/// The columns a scope pages by: the link's copy of the time for business and contact
/// timelines (their index is on the link), the email's own for "my mail".
pub struct Keys {
    pub at: &'static str,
    pub id: &'static str,
    /// The thread key where a walk reads it: the link's copy (kept by triggers) for business
    /// and contact timelines.
    pub thread: &'static str,
    /// The message key (what the reader's marks are keyed by), likewise.
    pub message: &'static str,
}

pub fn keys(scope: Scope) -> Keys {
    match scope {
        Scope::Business(_) | Scope::Contact(_) => Keys {
            at: "l.received_at",
            id: "l.email_id",
            thread: "l.thread_key",
            message: "l.message_key",
        },
        Scope::Mine | Scope::Reference(_) => Keys {
            at: "e.received_at",
            id: "e.id",
            thread: "e.thread_key",
            message: "e.message_key",
        },
    }
}

/// Do these filters need the email row (not only the link's copies of it)?
fn needs_email(filters: Option<&Filters>) -> bool {
    filters.is_some_and(|f| f.mailbox.is_some() || f.attachments || f.hide_deleted)
}

/// Which table a query walks first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Drive {
    /// The scope's time index, newest first (a page of the timeline).
    Time,
    /// The emails the caller names (by thread key or id), then their links.
    Emails,
}

/// What every timeline statement of one request shares: the SQL dialect, who reads, whose
/// timeline, and what the organization hides.
#[derive(Debug, Clone, Copy)]
pub struct Within<'a> {
    pub backend: DbBackend,
    pub reader: Reader,
    pub scope: Scope,
    pub policy: &'a Policy,
}

/// `FROM ... WHERE ...` for the messages the reader sees in `scope`: never soft-deleted mail,
/// no bulk or internal-only mail when the organization hides it, and, with `filters`, only the
/// messages that match them. The link (when there is one) is `l`, the email `e`. The join order
/// is fixed by `drive` (`CROSS JOIN` keeps SQLite's order; PostgreSQL plans it as an inner
/// join; from named emails, a `LATERAL` link look-up): either would otherwise walk a heavy
/// business's every link to find a page's threads.
pub fn from_where(sql: &mut Sql, w: Within<'_>, drive: Drive, filters: Option<&Filters>) {
    let Within {
        backend,
        reader,
        scope,
        policy,
    } = w;
    let org = reader.organization_id;
    match scope {
        Scope::Business(id) | Scope::Contact(id) => {
            let column = if matches!(scope, Scope::Business(_)) {
                "l.business_id"
            } else {
                "l.contact_id"
            };
            let lateral = drive == Drive::Emails && backend == DbBackend::Postgres;
            // The walk reads the link index alone when nothing asks for the email row: the
            // link carries the email's thread key, bulk flag and soft deletion.
            let links_only = drive == Drive::Time && !needs_email(filters);
            sql.push(match drive {
                _ if links_only => " FROM email_links l WHERE",
                _ if lateral => {
                    " FROM emails e CROSS JOIN LATERAL (SELECT l.id, l.email_id, l.received_at \
                     FROM email_links l WHERE l.email_id = e.id AND"
                }
                Drive::Time => {
                    " FROM email_links l CROSS JOIN emails e WHERE e.id = l.email_id AND"
                }
                Drive::Emails => {
                    " FROM emails e CROSS JOIN email_links l WHERE l.email_id = e.id AND"
                }
            })
            .push(" l.organization_id = ")
            .bind(org)
            .push(&format!(" AND {column} = "))
            .bind(id)
            .push(" AND l.tombstone = ")
            .bind(false)
            // Also in every walk of the time index, whose order follows this column.
            .push(" AND l.soft_deleted = ")
            .bind(false);
            if lateral {
                // At most one link per email and scope (unique indexes); the LIMIT keeps
                // PostgreSQL from flattening this into a join that a reused generic plan would
                // drive from every link of a business with tens of thousands.
                sql.push(" LIMIT 1) l WHERE l.email_id = e.id");
            }
            if links_only {
                if policy.hide_bulk {
                    sql.push(" AND l.is_bulk = ").bind(false);
                }
                visible_sql(sql, w, "l.email_id", filters);
                if let Some(f) = filters {
                    filters_sql(sql, w, f, keys(scope).message);
                }
                return;
            }
            visible_sql(sql, w, "e.id", filters);
        }
        Scope::Mine => {
            // The reader's mailboxes, and the organization mailbox at their address.
            sql.push(" FROM emails e WHERE e.account_id IN (SELECT a.id FROM mail_accounts a WHERE a.organization_id = ")
                .bind(org)
                .push(" AND ")
                .splice(
                    &crate::db::visibility::own_sql("a"),
                    crate::db::visibility::own_values(reader.user_id).to_vec(),
                )
                .push(")");
        }
        Scope::Reference(id) => {
            sql.push(match drive {
                Drive::Time => {
                    " FROM email_references r CROSS JOIN emails e WHERE e.id = r.email_id AND"
                }
                Drive::Emails => {
                    " FROM emails e CROSS JOIN email_references r WHERE r.email_id = e.id AND"
                }
            })
            .push(" r.organization_id = ")
            .bind(org)
            .push(" AND r.reference_id = ")
            .bind(id);
            reference_visible_sql(sql, w);
        }
    }
    sql.push(" AND e.organization_id = ")
        .bind(org)
        .push(" AND e.soft_deleted_at IS NULL");
    if policy.hide_bulk {
        sql.push(" AND e.is_bulk = ").bind(false);
    }
    if matches!(scope, Scope::Mine | Scope::Reference(_))
        && policy.hide_internal_only
        && !policy.internal.is_empty()
    {
        sql.push(
            " AND EXISTS (SELECT 1 FROM email_participants p WHERE p.email_id = e.id \
             AND COALESCE(NULLIF(p.registrable, ''), p.domain) NOT IN ",
        )
        .bind_list(policy.internal.iter().cloned())
        .push(")");
    }
    if let Some(f) = filters {
        filters_sql(sql, w, f, "e.message_key");
    }
}

/// Does a colleague's level decide what this reader sees of the scope's messages? Only in a
/// business or contact timeline (my mail is the reader's own), and only when the organization
/// restricts anything at all.
pub fn levels_apply(w: Within<'_>) -> bool {
    w.policy.restricted && !matches!(w.scope, Scope::Mine)
}

/// A reference timeline's rule of who sees what (`r` the email's match): the reader's own
/// mail; a colleague's copy only when it is linked (as in every shared timeline) and, when
/// levels apply, at a level that shows where the reference was found (the subject from
/// `subject` up, the body at `full`): a reference in the body of a copy shared at `subject`
/// does not reveal that email.
fn reference_visible_sql(sql: &mut Sql, w: Within<'_>) {
    let org = w.reader.organization_id;
    sql.push(" AND (e.account_id IN (SELECT a.id FROM mail_accounts a WHERE a.organization_id = ")
        .bind(org)
        .push(" AND ")
        .splice(
            &crate::db::visibility::own_sql("a"),
            crate::db::visibility::own_values(w.reader.user_id).to_vec(),
        )
        .push(") OR (EXISTS (SELECT 1 FROM email_links rl WHERE rl.email_id = e.id AND rl.organization_id = ")
        .bind(org)
        .push(" AND rl.tombstone = ")
        .bind(false)
        .push(")");
    if w.policy.restricted {
        let (rank, values) = crate::db::visibility::rank_sql(w.reader.user_id, "e.id");
        sql.push(" AND ")
            .splice(&rank, values)
            .push(" >= CASE WHEN r.in_subject THEN 2 ELSE 3 END");
    }
    sql.push("))");
}

/// Leave out the messages the reader may not see at all (level `private`): `id` names the
/// email id column. A search leaves them out itself (`db::search::matches_at_level`), after
/// its cheaper word match.
fn visible_sql(sql: &mut Sql, w: Within<'_>, id: &str, filters: Option<&Filters>) {
    if levels_apply(w) && filters.is_none_or(|f| f.search.is_none()) {
        let (rank, values) = crate::db::visibility::rank_sql(w.reader.user_id, id);
        sql.push(" AND ").splice(&rank, values).push(" > 0");
    }
}

/// The reader's filters; dates and search go through the scope's keys (the link's copy of the
/// time, the link's email id), and the marks through `message` (the link's copy of the message
/// key on a walk of the link index alone, else the email's), so such a walk can apply them.
fn filters_sql(sql: &mut Sql, w: Within<'_>, f: &Filters, message: &str) {
    let Within { reader, scope, .. } = w;
    let k = keys(scope);
    let time = |t: DateTime<Utc>| Value::from(t);
    if let Some(since) = f.since {
        sql.push(&format!(" AND {} >= ", k.at)).bind(time(since));
    }
    if let Some(before) = f.before {
        sql.push(&format!(" AND {} < ", k.at)).bind(time(before));
    }
    if let Some(mailbox) = f.mailbox {
        sql.push(" AND e.account_id = ").bind(mailbox);
    }
    if f.attachments {
        sql.push(" AND e.has_attachments = ").bind(true);
    }
    if f.hide_deleted {
        sql.push(" AND e.deleted_in_provider_at IS NULL");
    }
    // The reader's mark as a scalar sub-select (at most one state row per user and message),
    // not [NOT] EXISTS: PostgreSQL may turn the latter into an anti- or semi-join, whose generic
    // plan (a hash of every state row of the reader) looks so costly that it plans each
    // execution anew. A sub-select stays a look-up per walked row, and the plan is reused.
    if f.unread {
        sql.push(" AND (SELECT s.read_at FROM user_email_states s WHERE s.user_id = ")
            .bind(reader.user_id)
            .push(&format!(" AND s.message_key = {message}) IS NULL"));
    }
    if f.starred {
        sql.push(" AND (SELECT s.starred_at FROM user_email_states s WHERE s.user_id = ")
            .bind(reader.user_id)
            .push(&format!(" AND s.message_key = {message}) IS NOT NULL"));
    }
    if let Some(q) = &f.search {
        let (text, values) = search_test(w, q, k.id);
        sql.push(" AND ").splice(&text, values);
    }
}

/// The search condition for the email whose id is the column `id`, as this reader may match
/// it: in the fields its level shows when levels apply (`db::search::matches_at_level`), else
/// in all of them. Every search path of a timeline goes through here.
pub fn search_test(w: Within<'_>, q: &SearchQuery, id: &str) -> (String, Vec<Value>) {
    if levels_apply(w) {
        crate::db::search::matches_at_level(w.backend, q, id, w.reader.user_id)
    } else {
        crate::db::search::matches(w.backend, q, id)
    }
}
