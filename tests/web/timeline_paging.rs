//! Keyset paging of timelines against a plain model: random threads with tied times, copies
//! in two mailboxes, soft-deleted messages and filters; paging three threads at a time must list
//! every matching thread exactly once, ordered by its latest matching message.
use chrono::{DateTime, Duration, Utc};
use sea_orm::EntityTrait;
use threadline::db::timeline::{Filters, Scope, ThreadSummary};

use crate::support::inspect::execute;
use crate::support::timeline_model::{
    admin_reader, latest_first, paged, summaries, two_mailboxes, Lcg,
};
use crate::support::TestApp;

#[derive(Debug, Clone)]
struct Row {
    id: i64,
    thread: String,
    at: DateTime<Utc>,
    deleted: bool,
    attachments: bool,
    starred: bool,
    /// In the reader's own mailbox (originals), not the shared one (copies).
    mine: bool,
}

fn expected(rows: &[Row], keep: impl Fn(&Row) -> bool) -> Vec<String> {
    let kept = rows.iter().filter(|r| !r.deleted && keep(r));
    latest_first(kept.map(|r| (r.thread.as_str(), r.at, r.id)))
}

#[tokio::test]
async fn paging_lists_every_matching_thread_once_in_order() {
    let app = TestApp::spawn_admin().await;
    let reader = admin_reader(&app.db).await;
    let (org, user) = (reader.organization_id, reader.user_id);
    let at = "2026-01-01T00:00:00+00:00";
    two_mailboxes(&app.db, org, user).await;
    execute(
        &app.db,
        &format!("INSERT INTO businesses (organization_id, name, notes, created_at, updated_at) VALUES ({org}, 'Globex', '', '{at}', '{at}')"),
    )
    .await;
    let base: DateTime<Utc> = at.parse().unwrap();
    let mut next_id = 1;
    for seed in 1..=12u64 {
        execute(&app.db, "DELETE FROM email_links").await;
        execute(&app.db, "DELETE FROM user_email_states").await;
        execute(&app.db, "DELETE FROM emails").await;
        let mut rng = Lcg(seed);
        let mut rows = Vec::new();
        for m in 0..(20 + rng.next(30)) {
            let row = Row {
                id: next_id,
                thread: format!("<t{}@s{seed}>", rng.next(12)),
                // Few distinct times: many ties.
                at: base + Duration::minutes(i64::try_from(rng.next(8)).unwrap()),
                deleted: rng.next(6) == 0,
                attachments: rng.next(3) == 0,
                starred: rng.next(4) == 0,
                mine: true,
            };
            next_id += 1;
            // Every fourth message also sits in the second mailbox (same message key).
            let copies = if m % 4 == 0 { 2 } else { 1 };
            for copy in 0..copies {
                let id = if copy == 0 { row.id } else { next_id };
                if copy == 1 {
                    next_id += 1;
                }
                let sql_at = row.at.to_rfc3339();
                let deleted = if row.deleted {
                    format!("'{sql_at}'")
                } else {
                    "NULL".into()
                };
                execute(
                    &app.db,
                    &format!(
                        "INSERT INTO emails (id, organization_id, account_id, provider_message_id, \
                         message_key, thread_key, received_at, has_attachments, soft_deleted_at, \
                         created_at, updated_at) SELECT {id}, {org}, a.id, 'p{id}', '<m{}@s{seed}>', \
                         '{}', '{sql_at}', {}, {deleted}, '{sql_at}', '{sql_at}' FROM mail_accounts a \
                         WHERE a.address = 'box{}@acme.test'",
                        row.id,
                        row.thread,
                        row.attachments,
                        copy + 1
                    ),
                )
                .await;
                execute(
                    &app.db,
                    &format!(
                        "INSERT INTO email_links (organization_id, email_id, business_id, source, \
                         reason, tombstone, received_at, created_at) SELECT {org}, {id}, b.id, \
                         'auto', 'domain', false, '{sql_at}', '{sql_at}' FROM businesses b"
                    ),
                )
                .await;
                if copy == 1 {
                    // The copy shares the message; the model only needs the original.
                    rows.push(Row {
                        id,
                        mine: false,
                        ..row.clone()
                    });
                }
            }
            if row.starred {
                execute(
                    &app.db,
                    &format!(
                        "INSERT INTO user_email_states (organization_id, user_id, message_key, \
                         starred_at) VALUES ({org}, {user}, '<m{}@s{seed}>', '{at}')",
                        row.id
                    ),
                )
                .await;
            }
            rows.push(row);
        }
        let business = Scope::Business(
            threadline::db::entities::businesses::Entity::find()
                .one(&app.db)
                .await
                .unwrap()
                .unwrap()
                .id,
        );
        let all = Filters::default();
        assert_eq!(
            paged(&app.db, reader, business, &all).await,
            expected(&rows, |_| true),
            "seed {seed}"
        );
        // One page of every thread reads the whole scope in its walk and the messages by id;
        // pages after a cursor read them by thread: the thread lines must not differ.
        let line = |t: &ThreadSummary| {
            format!(
                "{} {} {:?} {} {} {} {} {} {}",
                t.key,
                t.handle,
                t.people,
                t.messages,
                t.unread,
                t.starred,
                t.attachments,
                t.latest_at,
                t.subject
            )
        };
        for scope in [business, Scope::Mine] {
            let one: Vec<String> = summaries(&app.db, reader, scope, &all, 100)
                .await
                .iter()
                .map(line)
                .collect();
            let many: Vec<String> = summaries(&app.db, reader, scope, &all, 3)
                .await
                .iter()
                .map(line)
                .collect();
            assert_eq!(one, many, "seed {seed}, {scope:?}, thread lines");
        }
        let attachments = Filters {
            attachments: true,
            ..Filters::default()
        };
        assert_eq!(
            paged(&app.db, reader, business, &attachments).await,
            expected(&rows, |r| r.attachments),
            "seed {seed}, attachments"
        );
        let starred = Filters {
            starred: true,
            ..Filters::default()
        };
        assert_eq!(
            paged(&app.db, reader, business, &starred).await,
            expected(&rows, |r| r.starred),
            "seed {seed}, starred"
        );
        // My mail: the reader owns only the first mailbox.
        assert_eq!(
            paged(&app.db, reader, Scope::Mine, &all).await,
            expected(&rows, |r| r.mine),
            "seed {seed}, my mail"
        );
    }
}
