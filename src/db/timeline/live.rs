//! What changed on a timeline since a time: the threads of the organization with a message
//! stored or changed after it (`emails.updated_at`, stamped by ingest and by every reader
//! action, see `db::live`), split into those the reader sees in the scope under the page's
//! filters (with their summary lines) and those they do not (any more).
use std::collections::HashSet;

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbErr};

use super::messages::{self, ThreadSummary};
use super::sql::{from_where, Drive, Sql, Within};
use super::{Context, Filters, Reader, Scope};

/// The threads changed since a time, as one reader sees them in one scope.
#[derive(Debug, Clone, Default)]
pub struct Changed {
    /// Changed threads the reader sees in the scope under the filters, newest first.
    pub threads: Vec<ThreadSummary>,
    /// Changed threads the reader does not see there (deleted, unlinked, no longer matching
    /// the filters, or never theirs): a page drops them if it shows them.
    pub gone: Vec<String>,
    /// More threads changed than were read: the page should reload its list.
    pub overflow: bool,
}

/// The threads with a message stored or changed after `since`, at most `limit` of them.
pub async fn changed(
    db: &impl ConnectionTrait,
    ctx: Context,
    reader: Reader,
    scope: Scope,
    filters: &Filters,
    since: DateTime<Utc>,
    limit: usize,
) -> Result<Changed, DbErr> {
    let backend = db.get_database_backend();
    let mut sql = Sql::default();
    sql.push("SELECT c.thread_key FROM emails c WHERE c.organization_id = ")
        .bind(reader.organization_id)
        .push(" AND c.updated_at > ")
        .bind(since)
        .push(&format!(
            " GROUP BY c.thread_key ORDER BY MAX(c.updated_at) DESC LIMIT {}",
            limit + 1
        ));
    let mut candidates = Vec::new();
    for row in db.query_all(sql.build(backend)).await? {
        candidates.push(row.try_get_by_index::<String>(0)?);
    }
    let overflow = candidates.len() > limit;
    candidates.truncate(limit);
    if candidates.is_empty() {
        return Ok(Changed::default());
    }
    let policy = ctx.policy;
    let w = Within {
        backend,
        reader,
        scope,
        policy: &policy,
    };
    let mut sql = Sql::default();
    sql.push("SELECT DISTINCT e.thread_key");
    from_where(&mut sql, w, Drive::Emails, Some(filters));
    sql.push(" AND e.thread_key IN ")
        .bind_list(candidates.iter().cloned());
    let mut seen = HashSet::new();
    for row in db.query_all(sql.build(backend)).await? {
        seen.insert(row.try_get_by_index::<String>(0)?);
    }
    let (shown, gone): (Vec<String>, Vec<String>) =
        candidates.into_iter().partition(|k| seen.contains(k));
    let mut threads = messages::summaries(db, w, &shown).await?;
    messages::with_references(db, w.reader.organization_id, &mut threads).await?;
    threads.sort_by_key(|t| std::cmp::Reverse((t.latest_at, t.handle)));
    Ok(Changed {
        threads,
        gone,
        overflow,
    })
}
