//! The list by last activity: a walk of the organization's mail newest first, each record at
//! its first visible link, keyset-paged by that link; records without visible mail last.
use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbErr};

use super::super::{fetch, matching_sql, rows_of, select_records, tables, RecordRow};
use super::{visible_sql, Sight};
use crate::db::directory::Cursor;
use crate::db::timeline::sql::Sql;
use crate::domain::records::RecordKind;

/// Links a page sorted by activity walks at most.
pub const MAX_WALK: usize = 5_000;

/// Where a list by last activity goes on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActivityCursor {
    /// After this link of the walk.
    Walk(Position),
    /// Among records without visible mail, by name: after this one (None: from the first).
    Idle(Option<Cursor>),
}

/// One visible link in walk order: newest first, then by email id, then by record id (both
/// descending): a record's place in the list is its first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    pub at: DateTime<Utc>,
    pub email_id: i64,
    pub record_id: i64,
}

impl Position {
    /// `nanoseconds.email.record`, for a URL.
    pub fn encode(&self) -> String {
        let nanos = self.at.timestamp_nanos_opt().unwrap_or_default();
        format!("{nanos}.{}.{}", self.email_id, self.record_id)
    }

    pub fn decode(s: &str) -> Option<Self> {
        let mut it = s.split('.');
        let nanos: i64 = it.next()?.parse().ok()?;
        let position = Self {
            at: DateTime::from_timestamp_nanos(nanos),
            email_id: it.next()?.parse().ok()?,
            record_id: it.next()?.parse().ok()?,
        };
        it.next().is_none().then_some(position)
    }
}

/// A page of records by last activity, newest first, and where the next one starts.
#[derive(Debug, Clone)]
pub struct ActivityPage {
    pub items: Vec<RecordRow>,
    pub next: Option<ActivityCursor>,
}

/// Records matching `query` (as [`super::list`]) by last activity in the reader's sight, after
/// `after`: up to `size` of them, fewer when [`MAX_WALK`] links were read first.
pub async fn by_activity(
    db: &impl ConnectionTrait,
    s: Sight,
    kind: RecordKind,
    query: &str,
    after: Option<&ActivityCursor>,
    size: usize,
) -> Result<ActivityPage, DbErr> {
    let start = match after {
        Some(ActivityCursor::Idle(c)) => {
            return idle_page(db, s, kind, query, c.as_ref(), size, Vec::new()).await
        }
        Some(ActivityCursor::Walk(p)) => Some(*p),
        None => None,
    };
    let mut order: Vec<(i64, Position)> = Vec::new();
    let mut met: HashSet<i64> = HashSet::new();
    let mut position = start;
    let mut walked = 0usize;
    let mut batch = size * 4;
    let exhausted = loop {
        let rows = walk(db, s, kind, query, position, batch).await?;
        let done = rows.len() < batch;
        walked += rows.len();
        let mut fresh = Vec::new();
        for p in rows {
            position = Some(p);
            if met.insert(p.record_id) {
                fresh.push((p.record_id, p));
            }
        }
        if let Some(start) = start {
            let ids: Vec<i64> = fresh.iter().map(|(id, _)| *id).collect();
            let shown = shown_before(db, s, kind, start, &ids).await?;
            fresh.retain(|(id, _)| !shown.contains(id));
        }
        order.extend(fresh);
        if done {
            break true;
        }
        if order.len() > size || walked >= MAX_WALK {
            break false;
        }
        batch = (batch * 2).min(1_000);
    };
    let next = if order.len() > size {
        order.truncate(size);
        order.last().map(|(_, p)| ActivityCursor::Walk(*p))
    } else if exhausted {
        None
    } else {
        position.map(ActivityCursor::Walk)
    };
    let items = rows_by_id(db, s, kind, &order).await?;
    if next.is_none() && exhausted {
        return idle_page(db, s, kind, query, None, size, items).await;
    }
    Ok(ActivityPage { items, next })
}

/// The page's records in walk order.
async fn rows_by_id(
    db: &impl ConnectionTrait,
    s: Sight,
    kind: RecordKind,
    order: &[(i64, Position)],
) -> Result<Vec<RecordRow>, DbErr> {
    if order.is_empty() {
        return Ok(Vec::new());
    }
    let mut sql = select_records(kind, s.reader.organization_id);
    sql.push(" AND r.id IN ")
        .bind_list(order.iter().map(|(id, _)| *id));
    let mut by_id: HashMap<i64, RecordRow> = rows_of(db, kind, fetch(db, sql).await?)
        .await?
        .into_iter()
        .map(|r| (r.id, r))
        .collect();
    Ok(order
        .iter()
        .filter_map(|(id, _)| by_id.remove(id))
        .collect())
}

/// Fill the rest of a page (after `items`) with records without visible mail, by name.
async fn idle_page(
    db: &impl ConnectionTrait,
    s: Sight,
    kind: RecordKind,
    query: &str,
    after: Option<&Cursor>,
    size: usize,
    mut items: Vec<RecordRow>,
) -> Result<ActivityPage, DbErr> {
    let room = size.saturating_sub(items.len());
    let org = s.reader.organization_id;
    let mut sql = select_records(kind, org);
    matching_sql(&mut sql, kind, org, query);
    sql.push(" AND NOT EXISTS (SELECT 1 FROM email_links l WHERE l.")
        .push(tables(kind).owner)
        .push(" = r.id");
    visible_sql(&mut sql, s);
    sql.push(")");
    if let Some(c) = after {
        sql.push(" AND (r.name > ")
            .bind(c.name.clone())
            .push(" OR (r.name = ")
            .bind(c.name.clone())
            .push(" AND r.id > ")
            .bind(c.id)
            .push("))");
    }
    sql.push(" ORDER BY r.name, r.id LIMIT ")
        .bind(i64::try_from(room + 1).unwrap_or(i64::MAX));
    let mut idle = rows_of(db, kind, fetch(db, sql).await?).await?;
    let next = (idle.len() > room).then(|| {
        idle.truncate(room);
        ActivityCursor::Idle(
            idle.last()
                .map(|r| Cursor {
                    name: r.name.clone(),
                    id: r.id,
                })
                .or_else(|| after.cloned()),
        )
    });
    items.extend(idle);
    Ok(ActivityPage { items, next })
}

/// Up to `batch` visible links of the organization's records (matching `query`) after
/// `from`, in walk order.
async fn walk(
    db: &impl ConnectionTrait,
    s: Sight,
    kind: RecordKind,
    query: &str,
    from: Option<Position>,
    batch: usize,
) -> Result<Vec<Position>, DbErr> {
    let t = tables(kind);
    let org = s.reader.organization_id;
    let owner = format!("l.{}", t.owner);
    let mut sql = Sql::default();
    sql.push(&format!(
        "SELECT e.received_at AS at, e.id AS eid, {owner} AS rid FROM emails e \
         CROSS JOIN email_links l WHERE e.organization_id = "
    ))
    .bind(org)
    .push(&format!(" AND l.email_id = e.id AND {owner} IS NOT NULL"));
    visible_sql(&mut sql, s);
    if !query.trim().is_empty() {
        sql.push(&format!(
            " AND {owner} IN (SELECT r.id FROM {} r WHERE r.organization_id = ",
            t.records
        ))
        .bind(org);
        matching_sql(&mut sql, kind, org, query);
        sql.push(")");
    }
    if let Some(p) = from {
        sql.push(" AND e.received_at <= ")
            .bind(p.at)
            .push(" AND (e.received_at < ")
            .bind(p.at)
            .push(" OR e.id < ")
            .bind(p.email_id)
            .push(" OR (e.id = ")
            .bind(p.email_id)
            .push(&format!(" AND {owner} < "))
            .bind(p.record_id)
            .push("))");
    }
    sql.push(&format!(
        " ORDER BY e.received_at DESC, e.id DESC, {owner} DESC LIMIT {batch}"
    ));
    fetch(db, sql)
        .await?
        .iter()
        .map(|r| {
            Ok(Position {
                at: r.try_get("", "at")?,
                email_id: r.try_get("", "eid")?,
                record_id: r.try_get("", "rid")?,
            })
        })
        .collect()
}

/// Which of `ids` have a visible link at or above `start` in walk order: an earlier page
/// listed them. One indexed `EXISTS` per record, from its link index.
async fn shown_before(
    db: &impl ConnectionTrait,
    s: Sight,
    kind: RecordKind,
    start: Position,
    ids: &[i64],
) -> Result<HashSet<i64>, DbErr> {
    let mut shown = HashSet::new();
    let t = tables(kind);
    for chunk in ids.chunks(256) {
        let mut sql = Sql::default();
        sql.push(&format!(
            "SELECT r.id FROM {} r WHERE r.organization_id = ",
            t.records
        ))
        .bind(s.reader.organization_id)
        .push(" AND r.id IN ")
        .bind_list(chunk.iter().copied())
        .push(&format!(
            " AND EXISTS (SELECT 1 FROM email_links l WHERE l.{} = r.id",
            t.owner
        ));
        visible_sql(&mut sql, s);
        sql.push(" AND l.received_at >= ")
            .bind(start.at)
            .push(" AND (l.received_at > ")
            .bind(start.at)
            .push(" OR l.email_id > ")
            .bind(start.email_id)
            .push(" OR (l.email_id = ")
            .bind(start.email_id)
            .push(" AND r.id >= ")
            .bind(start.record_id)
            .push(")))");
        for r in fetch(db, sql).await? {
            shown.insert(r.try_get::<i64>("", "id")?);
        }
    }
    Ok(shown)
}

#[cfg(test)]
mod tests {
    use super::Position;

    #[test]
    fn positions_round_trip_through_urls() {
        let p = Position {
            at: chrono::DateTime::from_timestamp_nanos(1_700_000_000_123_456_789),
            email_id: 42,
            record_id: 7,
        };
        assert_eq!(Position::decode(&p.encode()), Some(p));
        assert_eq!(Position::decode("1.2"), None);
        assert_eq!(Position::decode("x.2.3"), None);
        assert_eq!(Position::decode("1.2.3.4"), None);
    }
}
