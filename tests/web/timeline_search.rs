//! Searching a timeline against a plain model, paging three threads at a time: a word common in
//! the business, a word in three of its emails only, a word rare in the business but in hundreds
//! of another business's emails, a prefix and two words together, alone and with the starred
//! filter, on a business and on My mail. On PostgreSQL these take the three paths of
//! `db::timeline::search_walk` (the walk; the walk cut at its budget, then the organization's
//! matching emails; the walk cut, too many matching emails, the walk again); each must list
//! every matching thread exactly once, ordered by its latest matching message.
use chrono::{DateTime, Duration, Utc};
use sea_orm::EntityTrait;
use threadline::db::entities::businesses;
use threadline::db::timeline::{Filters, Scope};
use threadline::domain::search::{SearchDocument, SearchQuery};

use crate::support::inspect::execute;
use crate::support::timeline_model::{admin_reader, latest_first, paged, two_mailboxes, Lcg};
use crate::support::TestApp;

#[derive(Debug, Clone)]
struct Row {
    id: i64,
    thread: String,
    at: DateTime<Utc>,
    deleted: bool,
    starred: bool,
    mine: bool,
    globex: bool,
    words: String,
}

impl Row {
    /// Every term is a prefix of one of the row's words.
    fn matches(&self, query: &str) -> bool {
        query
            .split(' ')
            .all(|term| self.words.split(' ').any(|word| word.starts_with(term)))
    }
}

fn expected(rows: &[Row], keep: impl Fn(&Row) -> bool) -> Vec<String> {
    let kept = rows.iter().filter(|r| !r.deleted && keep(r));
    latest_first(kept.map(|r| (r.thread.as_str(), r.at, r.id)))
}

/// 600 emails of Globex in 150 threads (few distinct times, so many ties; some soft-deleted;
/// three in four in the reader's mailbox) and 400 of Initech, all with "acme".
fn rows() -> Vec<Row> {
    let base: DateTime<Utc> = "2026-01-01T00:00:00+00:00".parse().unwrap();
    let mut rng = Lcg(7);
    let mut rows = Vec::new();
    for n in 0..1000i64 {
        let globex = n < 600;
        let mut words = vec!["hello"];
        if rng.next(3) == 0 || n == 300 {
            words.push("invoice");
        }
        if globex && [5, 300, 590].contains(&n) {
            words.push("zebra");
        }
        if !globex || [40, 41, 420].contains(&n) {
            words.push("acme");
        }
        rows.push(Row {
            id: n + 1,
            thread: if globex {
                format!("<g{}@t>", rng.next(150))
            } else {
                format!("<i{}@t>", rng.next(100))
            },
            at: base + Duration::minutes(i64::try_from(rng.next(40)).unwrap()),
            deleted: rng.next(8) == 0,
            starred: rng.next(5) == 0,
            mine: globex && n % 4 != 0,
            globex,
            words: words.join(" "),
        });
    }
    rows
}

async fn store(app: &TestApp, org: i64, user: i64, rows: &[Row]) {
    let at = "2026-01-01T00:00:00+00:00";
    two_mailboxes(&app.db, org, user).await;
    for name in ["Globex", "Initech"] {
        execute(
            &app.db,
            &format!(
                "INSERT INTO businesses (organization_id, name, notes, created_at, updated_at) \
                 VALUES ({org}, '{name}', '', '{at}', '{at}')"
            ),
        )
        .await;
    }
    for chunk in rows.chunks(100) {
        let values: Vec<String> = chunk
            .iter()
            .map(|r| {
                let when = r.at.to_rfc3339();
                let deleted = if r.deleted {
                    format!("'{when}'")
                } else {
                    "NULL".into()
                };
                let box_n = if r.mine { 1 } else { 2 };
                format!(
                    "({id}, {org}, (SELECT id FROM mail_accounts WHERE address = \
                     'box{box_n}@acme.test'), 'p{id}', '<m{id}@t>', '{thread}', '{when}', \
                     {deleted}, '{when}', '{when}')",
                    id = r.id,
                    thread = r.thread
                )
            })
            .collect();
        execute(
            &app.db,
            &format!(
                "INSERT INTO emails (id, organization_id, account_id, provider_message_id, \
                 message_key, thread_key, received_at, soft_deleted_at, created_at, updated_at) \
                 VALUES {}",
                values.join(", ")
            ),
        )
        .await;
        for (name, globex) in [("Globex", true), ("Initech", false)] {
            let ids: Vec<String> = chunk
                .iter()
                .filter(|r| r.globex == globex)
                .map(|r| r.id.to_string())
                .collect();
            if ids.is_empty() {
                continue;
            }
            execute(
                &app.db,
                &format!(
                    "INSERT INTO email_links (organization_id, email_id, business_id, source, \
                     reason, tombstone, received_at, created_at) SELECT {org}, e.id, b.id, \
                     'auto', 'domain', false, e.received_at, e.received_at FROM emails e, \
                     businesses b WHERE b.name = '{name}' AND e.id IN ({})",
                    ids.join(", ")
                ),
            )
            .await;
        }
        // The words as the body: every mailbox here is at the full level, so all fields match.
        let docs: Vec<(i64, SearchDocument)> = chunk
            .iter()
            .map(|r| {
                let doc = SearchDocument {
                    people: String::new(),
                    subject: String::new(),
                    body: r.words.clone(),
                };
                (r.id, doc)
            })
            .collect();
        threadline::db::search::index(&app.db, org, &docs)
            .await
            .unwrap();
        let stars: Vec<String> = chunk
            .iter()
            .filter(|r| r.starred)
            .map(|r| format!("({org}, {user}, '<m{}@t>', '{at}')", r.id))
            .collect();
        if !stars.is_empty() {
            execute(
                &app.db,
                &format!(
                    "INSERT INTO user_email_states (organization_id, user_id, message_key, \
                     starred_at) VALUES {}",
                    stars.join(", ")
                ),
            )
            .await;
        }
    }
}

#[tokio::test]
async fn search_pages_list_every_matching_thread_once_in_order() {
    let app = TestApp::spawn_admin().await;
    let reader = admin_reader(&app.db).await;
    let (org, user) = (reader.organization_id, reader.user_id);
    let rows = rows();
    store(&app, org, user, &rows).await;
    let globex = businesses::Entity::find()
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .find(|b| b.name == "Globex")
        .unwrap()
        .id;
    let business = Scope::Business(globex);
    for query in [
        "invoice",
        "zebra",
        "acme",
        "invo",
        "zebra invoice",
        "acme hello",
    ] {
        let search = Filters {
            search: SearchQuery::parse(query),
            ..Filters::default()
        };
        let want = expected(&rows, |r| r.globex && r.matches(query));
        assert!(!want.is_empty(), "{query}: the model has matches");
        assert_eq!(
            paged(&app.db, reader, business, &search).await,
            want,
            "business, {query}"
        );
        let starred = Filters {
            starred: true,
            ..search.clone()
        };
        assert_eq!(
            paged(&app.db, reader, business, &starred).await,
            expected(&rows, |r| r.globex && r.starred && r.matches(query)),
            "business, starred, {query}"
        );
        assert_eq!(
            paged(&app.db, reader, Scope::Mine, &search).await,
            expected(&rows, |r| r.mine && r.matches(query)),
            "my mail, {query}"
        );
    }
    // A word nobody wrote: nothing, on every path.
    let none = Filters {
        search: SearchQuery::parse("quokka"),
        ..Filters::default()
    };
    assert!(paged(&app.db, reader, business, &none).await.is_empty());
}
