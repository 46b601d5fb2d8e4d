//! Property: for random mailboxes (owned by random users, or the organization's), levels,
//! private thread marks and messages stored in several mailboxes, each copy linked or not, no
//! colleague ever sees more than the rules allow, through the functions the pages use: the
//! email's level (email page, body, attachments), the business timeline's threads and their
//! messages (thread lines and the expanded thread), and search by a subject or body word.
use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use sea_orm::DatabaseConnection;
use threadline::db::email_view::visible_email_at;
use threadline::db::timeline::{self, Filters, Reader, Scope};
use threadline::domain::search::SearchQuery;
use threadline::domain::visibility::Level;

use crate::support::TestApp;
use crate::visibility_world::{self as world, Mail};

const USERS: usize = 3;

#[derive(Debug, Clone)]
struct Case {
    /// `(owner user index or the organization's, level)`.
    mailboxes: Vec<(Option<usize>, Level)>,
    /// Per message: its thread and its copies as `(mailbox index, linked)`.
    messages: Vec<(usize, Vec<(usize, bool)>)>,
    /// `(user index, thread)` marked private.
    private: Vec<(usize, usize)>,
}

fn level() -> impl Strategy<Value = Level> {
    (0..4i64).prop_map(Level::from_rank)
}

fn case() -> impl Strategy<Value = Case> {
    prop::collection::vec((prop::option::weighted(0.85, 0..USERS), level()), 1..5)
        .prop_flat_map(|mailboxes| {
            let n = mailboxes.len();
            let copies = prop::collection::vec((0..n, any::<bool>()), 1..4);
            (
                Just(mailboxes),
                prop::collection::vec((0..3usize, copies), 1..6),
                prop::collection::vec((0..USERS, 0..3usize), 0..3),
            )
        })
        .prop_map(|(mailboxes, messages, private)| Case {
            mailboxes,
            messages,
            private,
        })
}

/// One stored copy.
struct Copy {
    id: i64,
    message: usize,
    owner: Option<usize>,
    linked: bool,
}

/// The rank at which `reader` sees `copy` by the rules: everything of their own; nothing of a
/// private mailbox or a thread its owner marked private; else the mailbox's level.
fn rank(c: &Case, copy: &Copy, mailbox: usize, reader: usize) -> Level {
    let (owner, level) = c.mailboxes[mailbox];
    let thread = c.messages[copy.message].0;
    if owner == Some(reader) {
        Level::Full
    } else if owner.is_some_and(|o| c.private.contains(&(o, thread))) {
        Level::Private
    } else {
        level
    }
}

static ORGS: AtomicUsize = AtomicUsize::new(0);

async fn check(db: &DatabaseConnection, case: Case) -> Result<(), TestCaseError> {
    let c = &case;
    let serial = ORGS.fetch_add(1, Ordering::SeqCst);
    let org = world::organization(db, &format!("Org {serial}")).await;
    let mut users = Vec::new();
    for u in 0..USERS {
        users.push(world::user(db, org, &format!("u{u}@org{serial}.test")).await);
    }
    let business = world::business(db, org, "Globex", "globex.test").await;
    let mut accounts = Vec::new();
    for (i, (owner, level)) in c.mailboxes.iter().enumerate() {
        let owner = owner.map(|o| users[o]);
        accounts.push(
            world::mailbox(
                db,
                org,
                owner,
                &format!("m{i}@org{serial}.test"),
                level.as_str(),
            )
            .await,
        );
    }
    for (u, t) in &c.private {
        world::private_thread(db, org, users[*u], &format!("t{t}")).await;
    }
    let mut copies: Vec<(Copy, usize)> = Vec::new();
    for (k, (thread, placed)) in c.messages.iter().enumerate() {
        let mut used = BTreeSet::new();
        for (j, &(mailbox, linked)) in placed.iter().enumerate() {
            if !used.insert(mailbox) {
                continue;
            }
            let id = world::email(
                db,
                org,
                "someone@org.test",
                &Mail {
                    account: accounts[mailbox],
                    message_key: &format!("k{k}"),
                    thread_key: &format!("t{thread}"),
                    subject: &format!("sub{k}x"),
                    body: &format!("bod{k}x"),
                    minute: i64::try_from(k * 5 + j).unwrap(),
                },
            )
            .await;
            if linked {
                world::link(db, org, id, business).await;
            }
            let owner = c.mailboxes[mailbox].0;
            copies.push((
                Copy {
                    id,
                    message: k,
                    owner,
                    linked,
                },
                mailbox,
            ));
        }
    }
    for (reader, &user_id) in users.iter().enumerate() {
        let r = Reader {
            organization_id: org,
            user_id,
        };
        // The email's level, copy by copy (the email page, its body and attachments).
        for (copy, mailbox) in &copies {
            let own = copy.owner == Some(reader);
            let this = rank(c, copy, *mailbox, reader);
            let expected = if !(own || copy.linked) || this == Level::Private {
                None
            } else {
                copies
                    .iter()
                    .filter(|(o, _)| o.message == copy.message)
                    .filter(|(o, _)| o.owner == Some(reader) || o.linked)
                    .map(|(o, m)| rank(c, o, *m, reader))
                    .max()
            };
            let got = visible_email_at(db, org, r.user_id, copy.id)
                .await
                .unwrap()
                .map(|(_, _, l)| l);
            prop_assert_eq!(
                got,
                expected,
                "reader {} copy {} in {:?}",
                reader,
                copy.id,
                c
            );
            if let Some(d) = threadline::db::email_view::load(db, org, r.user_id, copy.id)
                .await
                .unwrap()
            {
                let level = expected.unwrap_or(Level::Private);
                prop_assert_eq!(d.body.is_some(), level == Level::Full);
                prop_assert_eq!(d.attachments.is_empty(), level < Level::Full);
                prop_assert_eq!(d.email.subject.is_empty(), level < Level::Subject);
            }
        }
        // In the business timeline, a message is seen at its best linked copy.
        let mut in_scope: HashMap<usize, Level> = HashMap::new();
        for (copy, mailbox) in copies.iter().filter(|(o, _)| o.linked) {
            let seen = rank(c, copy, *mailbox, reader);
            if seen > Level::Private {
                let best = in_scope.entry(copy.message).or_insert(seen);
                *best = (*best).max(seen);
            }
        }
        let thread_of = |k: &usize| format!("t{}", c.messages[*k].0);
        let scope = Scope::Business(business);
        let listed = |q: Option<&str>| {
            let filters = Filters {
                search: q.and_then(SearchQuery::parse),
                ..Filters::default()
            };
            async move {
                let ctx = timeline::context(db, r, scope).await.unwrap();
                timeline::page(db, ctx, r, scope, &filters, None, 100)
                    .await
                    .unwrap()
                    .threads
            }
        };
        let threads = listed(None).await;
        let keys: BTreeSet<String> = threads.iter().map(|t| t.key.clone()).collect();
        let expected: BTreeSet<String> = in_scope.keys().map(thread_of).collect();
        prop_assert_eq!(&keys, &expected, "reader {} threads in {:?}", reader, c);
        for t in &threads {
            let ctx = timeline::context(db, r, scope).await.unwrap();
            let messages = timeline::thread(db, ctx, r, scope, t.handle)
                .await
                .unwrap()
                .expect("the thread's handle is in the scope");
            let mut best = Level::Private;
            for m in &messages {
                let k: usize = m.message_key[1..].parse().unwrap();
                let want = in_scope[&k];
                best = best.max(want);
                prop_assert_eq!(m.level, want, "reader {} message {} in {:?}", reader, k, c);
                prop_assert_eq!(m.subject.is_empty(), want < Level::Subject);
                prop_assert_eq!(m.snippet.is_empty(), want < Level::Full);
                prop_assert!(!m.attachments || want == Level::Full);
            }
            prop_assert!(t.subject.is_empty() || best >= Level::Subject);
            prop_assert!(t.snippet.is_empty() || best == Level::Full);
            prop_assert!(!t.attachments || best == Level::Full);
        }
        // Search: a body word finds a message only at full, a subject word from subject.
        for k in 0..c.messages.len() {
            let level = in_scope.get(&k).copied().unwrap_or(Level::Private);
            for (word, shown) in [
                (format!("bod{k}x"), level == Level::Full),
                (format!("sub{k}x"), level >= Level::Subject),
            ] {
                let found = listed(Some(&word)).await;
                let hit = found.iter().any(|t| t.key == thread_of(&k));
                prop_assert_eq!(hit, shown, "reader {} search {} in {:?}", reader, word, c);
            }
        }
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_colleague_ever_sees_more_than_the_levels_allow() {
    let app = TestApp::spawn().await;
    let db = app.db.clone();
    let mut runner = TestRunner::new(Config {
        cases: 24,
        failure_persistence: None,
        ..Config::default()
    });
    let handle = tokio::runtime::Handle::current();
    runner
        .run(&case(), |c| {
            tokio::task::block_in_place(|| handle.block_on(check(&db, c)))
        })
        .unwrap();
}
