//! The home page's recent threads on the reader's businesses: the latest threads of the
//! reader's own mailboxes that are linked to a business, each thread once, newest first.
use std::collections::HashSet;

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbErr};

use crate::db::timeline::sql::Sql;

/// Linked emails read per mailbox (a thread shows up once per message it has).
const PER_MAILBOX: usize = 100;

/// A thread at its latest linked message.
#[derive(Debug, Clone)]
pub struct RecentThread {
    pub email_id: i64,
    pub subject: String,
    pub at: DateTime<Utc>,
    pub business_id: i64,
    pub business: String,
}

/// Up to `limit` threads of the reader's own mailboxes (an organization mailbox at their
/// address included) linked to a business: soft-deleted mail never, bulk mail not when the
/// organization hides it. One walk of each mailbox's time index, at most [`PER_MAILBOX`]
/// linked emails deep.
pub async fn threads(
    db: &impl ConnectionTrait,
    org_id: i64,
    user_id: i64,
    limit: usize,
) -> Result<Vec<RecentThread>, DbErr> {
    let backend = db.get_database_backend();
    let mut sql = Sql::default();
    sql.push(
        "SELECT a.id, CASE WHEN o.hide_bulk THEN 1 ELSE 0 END FROM mail_accounts a \
         JOIN organizations o ON o.id = a.organization_id WHERE a.organization_id = ",
    )
    .bind(org_id)
    .push(" AND ")
    .splice(
        &crate::db::visibility::own_sql("a"),
        crate::db::visibility::own_values(user_id).to_vec(),
    );
    let mut mailboxes = Vec::new();
    let mut hide_bulk = false;
    for row in db.query_all(sql.build(backend)).await? {
        mailboxes.push(row.try_get_by_index::<i64>(0)?);
        hide_bulk = row.try_get_by_index::<i32>(1)? == 1;
    }
    let mut found: Vec<(RecentThread, String)> = Vec::new();
    for account in mailboxes {
        let mut sql = Sql::default();
        sql.push(
            "SELECT e.id, e.thread_key, e.subject, e.received_at, b.id, b.name FROM emails e \
             CROSS JOIN email_links l CROSS JOIN businesses b WHERE e.account_id = ",
        )
        .bind(account)
        .push(" AND e.organization_id = ")
        .bind(org_id)
        .push(" AND e.soft_deleted_at IS NULL");
        if hide_bulk {
            sql.push(" AND e.is_bulk = ").bind(false);
        }
        sql.push(" AND l.email_id = e.id AND l.business_id IS NOT NULL AND l.organization_id = ")
            .bind(org_id)
            .push(" AND l.tombstone = ")
            .bind(false)
            .push(" AND b.id = l.business_id ORDER BY e.received_at DESC, e.id DESC LIMIT ")
            .bind(i64::try_from(PER_MAILBOX).unwrap_or(i64::MAX));
        for row in db.query_all(sql.build(backend)).await? {
            let thread = RecentThread {
                email_id: row.try_get_by_index(0)?,
                subject: row.try_get_by_index(2)?,
                at: row.try_get_by_index(3)?,
                business_id: row.try_get_by_index(4)?,
                business: row.try_get_by_index(5)?,
            };
            found.push((thread, row.try_get_by_index(1)?));
        }
    }
    found.sort_by_key(|(t, _)| std::cmp::Reverse((t.at, t.email_id)));
    let mut seen = HashSet::new();
    Ok(found
        .into_iter()
        .filter(|(_, key)| seen.insert(key.clone()))
        .map(|(t, _)| t)
        .take(limit)
        .collect())
}
