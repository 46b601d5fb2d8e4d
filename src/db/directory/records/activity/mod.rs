//! What a CRM user scans in the directory lists: each record's last activity, threads and
//! messages as the reader's timeline of it shows them (live links, no soft-deleted mail, no
//! bulk mail when the organization hides it, nothing a colleague keeps private; copies of one
//! message once), and the list ordered by last activity.
//!
//! Counts are read for the rows of one page only, each from the record's own link index and
//! at most [`COUNT_CAP`] links deep. The order by last activity is a walk of the
//! organization's mail newest first (`emails (organization_id, received_at, id)`, then each
//! email's links by their unique index), taking each record at its first visible link, the
//! way a timeline takes each thread: the cursor is that link's `(time, email id, record id)`,
//! and a later page leaves out records with a visible link at or above its cursor (an earlier
//! page showed them). A page reads at most [`order::MAX_WALK`] links, so a page may come back short
//! with "Load more"; records without visible mail follow, by name.
use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbErr};

mod order;

pub use order::{by_activity, ActivityCursor, ActivityPage, Position};

use super::{fetch, tables, RecordRow};
use crate::db::timeline::sql::Sql;
use crate::db::timeline::Reader;
use crate::domain::records::RecordKind;

/// Links read at most per record to count its threads and messages.
pub const COUNT_CAP: i64 = 1_000;

/// A record's mail as the reader's timeline shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Activity {
    /// The latest visible message's time; None without visible mail.
    pub last_at: Option<DateTime<Utc>>,
    pub threads: u64,
    pub messages: u64,
    /// More than [`COUNT_CAP`] links: the counts are "at least".
    pub capped: bool,
}

/// What decides which links a reader sees (the timeline's rules).
#[derive(Debug, Clone, Copy)]
pub struct Sight {
    reader: Reader,
    hide_bulk: bool,
    /// Some mailbox is below `full` or some thread private: each link's level is checked.
    restricted: bool,
}

/// The organization's rules for `reader` (one statement).
pub async fn sight(db: &impl ConnectionTrait, reader: Reader) -> Result<Sight, DbErr> {
    let mut sql = Sql::default();
    sql.push(&format!(
        "SELECT CASE WHEN o.hide_bulk THEN 1 ELSE 0 END AS bulk, CASE WHEN {} THEN 1 ELSE 0 \
         END AS restricted FROM organizations o WHERE o.id = ",
        crate::db::visibility::restricted_sql("o.id")
    ))
    .bind(reader.organization_id);
    let row = fetch(db, sql).await?;
    let flag = |name: &str| -> Result<bool, DbErr> {
        Ok(match row.first() {
            Some(r) => r.try_get::<i32>("", name)? == 1,
            None => false,
        })
    };
    Ok(Sight {
        reader,
        hide_bulk: flag("bulk")?,
        restricted: flag("restricted")?,
    })
}

/// ` AND ` the link `l` is live and its email is in the reader's sight.
fn visible_sql(sql: &mut Sql, s: Sight) {
    sql.push(" AND l.organization_id = ")
        .bind(s.reader.organization_id)
        .push(" AND l.tombstone = ")
        .bind(false)
        .push(" AND l.soft_deleted = ")
        .bind(false);
    if s.hide_bulk {
        sql.push(" AND l.is_bulk = ").bind(false);
    }
    if s.restricted {
        let (rank, values) = crate::db::visibility::rank_sql(s.reader.user_id, "l.email_id");
        sql.push(" AND ").splice(&rank, values).push(" > 0");
    }
}

/// Fill in each row's [`Activity`]: one statement for the page, each row's part reading at
/// most [`COUNT_CAP`] + 1 of its links, newest first, from its link index.
pub async fn fill(
    db: &impl ConnectionTrait,
    s: Sight,
    kind: RecordKind,
    rows: &mut [RecordRow],
) -> Result<(), DbErr> {
    if rows.is_empty() {
        return Ok(());
    }
    let owner = tables(kind).owner;
    let mut sql = Sql::default();
    for (i, row) in rows.iter().enumerate() {
        if i > 0 {
            sql.push(" UNION ALL ");
        }
        sql.push("SELECT CAST(")
            .bind(row.id)
            .push(
                " AS BIGINT) AS rid, COUNT(*) AS n, COUNT(DISTINCT x.message_key) AS m, \
                 COUNT(DISTINCT x.thread_key) AS t, MAX(x.received_at) AS at FROM \
                 (SELECT l.message_key, l.thread_key, l.received_at FROM email_links l WHERE l.",
            )
            .push(owner)
            .push(" = ")
            .bind(row.id);
        visible_sql(&mut sql, s);
        sql.push(" ORDER BY l.received_at DESC, l.email_id DESC LIMIT ")
            .bind(COUNT_CAP + 1)
            .push(") x");
    }
    let mut found: HashMap<i64, Activity> = HashMap::new();
    for r in fetch(db, sql).await? {
        let count = |name: &str| -> Result<u64, DbErr> {
            Ok(u64::try_from(r.try_get::<i64>("", name)?).unwrap_or_default())
        };
        let activity = Activity {
            last_at: r.try_get("", "at")?,
            threads: count("t")?,
            messages: count("m")?,
            capped: r.try_get::<i64>("", "n")? > COUNT_CAP,
        };
        found.insert(r.try_get("", "rid")?, activity);
    }
    for row in rows {
        row.activity = found.remove(&row.id).unwrap_or_default();
    }
    Ok(())
}
