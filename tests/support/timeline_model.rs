//! The plain model timeline paging is checked against (`timeline_paging.rs`,
//! `timeline_search.rs`): a seeded generator, the two mailboxes the generated mail sits in, the
//! threads a model expects in order, and a timeline read page by page.
use chrono::{DateTime, Utc};
use sea_orm::{DatabaseConnection, EntityTrait};
use std::collections::HashMap;
use threadline::db::entities::users;
use threadline::db::organizations;
use threadline::db::timeline::{self, Filters, Reader, Scope, ThreadSummary};

use super::inspect::execute;

/// A tiny deterministic generator (no shared state between seeds).
pub struct Lcg(pub u64);

impl Lcg {
    /// The next number below `n`.
    pub fn next(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }
}

/// The organization's first user (its admin) as a timeline reader.
pub async fn admin_reader(db: &DatabaseConnection) -> Reader {
    let organization_id = organizations::first(db).await.unwrap().unwrap().id;
    let user = users::Entity::find()
        .one(db)
        .await
        .unwrap()
        .expect("a user");
    Reader {
        organization_id,
        user_id: user.id,
    }
}

/// Mailbox `box1@acme.test`, the reader's (`user`), and `box2@acme.test`, the organization's.
pub async fn two_mailboxes(db: &DatabaseConnection, org: i64, user: i64) {
    let at = "2026-01-01T00:00:00+00:00";
    for (n, owner) in [(1, user.to_string()), (2, "NULL".to_string())] {
        execute(
            db,
            &format!(
                "INSERT INTO mail_accounts (organization_id, owner_user_id, provider, address, \
                 created_at, updated_at) VALUES ({org}, {owner}, 'google', 'box{n}@acme.test', \
                 '{at}', '{at}')"
            ),
        )
        .await;
    }
}

/// The threads of `messages` (`(thread key, time, id)`), ordered by their latest message,
/// newest first (ties by id).
pub fn latest_first<'a>(
    messages: impl IntoIterator<Item = (&'a str, DateTime<Utc>, i64)>,
) -> Vec<String> {
    let mut latest: HashMap<&str, (DateTime<Utc>, i64)> = HashMap::new();
    for (thread, at, id) in messages {
        let e = latest.entry(thread).or_insert((at, id));
        *e = (*e).max((at, id));
    }
    let mut threads: Vec<(&str, (DateTime<Utc>, i64))> = latest.into_iter().collect();
    threads.sort_by_key(|t| std::cmp::Reverse(t.1));
    threads.into_iter().map(|(k, _)| k.to_string()).collect()
}

/// Every page's thread lines, `limit` threads a page.
pub async fn summaries(
    db: &DatabaseConnection,
    reader: Reader,
    scope: Scope,
    filters: &Filters,
    limit: usize,
) -> Vec<ThreadSummary> {
    let mut out = Vec::new();
    let mut after = None;
    for _ in 0..200 {
        let ctx = timeline::context(db, reader, scope).await.unwrap();
        let page = timeline::page(db, ctx, reader, scope, filters, after, limit)
            .await
            .unwrap();
        out.extend(page.threads);
        match page.next {
            Some(next) => after = Some(next),
            None => return out,
        }
    }
    panic!("paging did not end");
}

/// The thread keys of every page, three threads a page.
pub async fn paged(
    db: &DatabaseConnection,
    reader: Reader,
    scope: Scope,
    filters: &Filters,
) -> Vec<String> {
    summaries(db, reader, scope, filters, 3)
        .await
        .into_iter()
        .map(|t| t.key)
        .collect()
}
