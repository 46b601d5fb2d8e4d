//! A freshly linked Outlook mailbox shows its newest mail before any MIME text arrives: the
//! first commit holds messages stored from their Graph fields (timeline and email page show
//! them, the page says the body is still being fetched), and a pass stopped while their MIME
//! texts are being filled in leaves a mailbox that the next passes bring to exactly what a
//! MIME-only sync stores: same bodies, attachments, participants and threads, no duplicates.
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use sea_orm::{ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Statement};
use serde_json::{json, Value};
use threadline::db::entities::{attachments, email_bodies, email_participants, emails};
use threadline::sync::SyncOptions;

use super::helpers::{
    assert_matches_truth, deliver, emulator_stats, fault, linked, options, raw, Linked, OUTLOOK,
};
use crate::common::{assert_no_duplicates, clear_faults};

/// `$value` answers the emulator gave (200s), on any mailbox.
fn mime_texts_served(stats: &Value) -> u64 {
    stats["requests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| {
            let route = r["route"].as_str().unwrap_or_default();
            route.ends_with("/$value") && !route.contains("attachments")
        })
        .map(|r| r["statuses"]["200"].as_u64().unwrap_or(0))
        .sum()
}

async fn scalar(l: &Linked, sql: &str) -> i64 {
    let db = &l.app.db;
    let backend = db.get_database_backend();
    let row = db
        .query_one(Statement::from_string(backend, sql.to_string()))
        .await
        .unwrap()
        .expect("a row");
    row.try_get_by_index::<i64>(0).unwrap()
}

async fn pending(l: &Linked) -> i64 {
    let sql = format!(
        "SELECT COUNT(*) FROM mime_pending WHERE account_id = {}",
        l.account_id
    );
    scalar(l, &sql).await
}

async fn wait_for(what: &str, mut done: impl AsyncFnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while !done().await {
        assert!(tokio::time::Instant::now() < deadline, "waited for {what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Everything a stored message's content and thread is made of, by provider id, plus the
/// threads as sets of provider ids.
#[derive(Debug, PartialEq, Eq)]
struct Content {
    messages: BTreeMap<String, Vec<String>>,
    threads: BTreeSet<BTreeSet<String>>,
}

async fn content(l: &Linked) -> Content {
    let db = &l.app.db;
    let rows = emails::Entity::find()
        .filter(sea_orm::ColumnTrait::eq(
            &emails::Column::AccountId,
            l.account_id,
        ))
        .all(db)
        .await
        .unwrap();
    let mut messages = BTreeMap::new();
    let mut threads: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for e in rows {
        let body = email_bodies::Entity::find_by_id(e.id)
            .one(db)
            .await
            .unwrap()
            .expect("a body row");
        let people = email_participants::Entity::find()
            .filter(sea_orm::ColumnTrait::eq(
                &email_participants::Column::EmailId,
                e.id,
            ))
            .order_by_asc(email_participants::Column::Id)
            .all(db)
            .await
            .unwrap();
        let files = attachments::Entity::find()
            .filter(sea_orm::ColumnTrait::eq(
                &attachments::Column::EmailId,
                e.id,
            ))
            .order_by_asc(attachments::Column::PartKey)
            .all(db)
            .await
            .unwrap();
        let mut fields = vec![
            format!("{:?}", (&e.subject, &e.snippet, e.sent_at, e.received_at)),
            format!(
                "{:?}",
                (&e.message_id, &e.in_reply_to, &e.references, &e.message_key)
            ),
            format!("{:?}", (e.has_attachments, e.is_bulk, e.size_bytes)),
            format!("{:?}", (&e.sender_name, &e.sender_address, &e.folders)),
            format!("{:?}", (e.provider_read, e.provider_starred)),
            format!("{:?}", e.deleted_in_provider_at.is_some()),
            format!("{:?}", (&body.body_text, &body.body_html, body.truncated)),
        ];
        fields.extend(
            people
                .iter()
                .map(|p| format!("{:?}", (p.role, &p.address, &p.name, &p.registrable))),
        );
        fields.extend(files.iter().map(|a| {
            format!(
                "{:?}",
                (
                    &a.part_key,
                    &a.filename,
                    &a.content_type,
                    a.size_bytes,
                    &a.content_id,
                    a.is_inline
                )
            )
        }));
        threads
            .entry(e.thread_key.clone())
            .or_default()
            .insert(e.provider_message_id.clone());
        messages.insert(e.provider_message_id, fields);
    }
    Content {
        messages,
        threads: threads.into_values().collect(),
    }
}

/// Forget the mailbox's mail and cursors, as if it had just been linked.
async fn forget_mail(l: &Linked) {
    let db = &l.app.db;
    for table in ["emails", "sync_cursors", "sync_ledger"] {
        let sql = format!("DELETE FROM {table} WHERE account_id = {}", l.account_id);
        db.execute(Statement::from_string(db.get_database_backend(), sql))
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn newest_mail_shows_before_its_mime_text_and_a_stopped_fill_ends_at_the_truth() {
    let l = linked(40).await;
    let newest = deliver(
        &l.app,
        &raw("fresh-1", "Fresh pricing question", true),
        "inbox",
        false,
    )
    .await;
    // Every MIME text takes 3 s: the first commit cannot wait for one.
    fault(
        &l.app,
        json!({"mailbox": OUTLOOK, "route": "/$value", "status": 500, "rate": 0.0, "latency_ms": 3000}),
    )
    .await;
    let opts = SyncOptions {
        commit_every: Duration::from_millis(200),
        ..options()
    };
    let pass = l.spawn_pass(opts.clone());
    wait_for("the first commit", async || pending(&l).await > 0).await;
    assert_eq!(mime_texts_served(&emulator_stats(&l.app).await), 0);
    let marked = pending(&l).await;
    let stored = scalar(
        &l,
        &format!(
            "SELECT COUNT(*) FROM emails WHERE account_id = {}",
            l.account_id
        ),
    )
    .await;
    assert_eq!(
        marked, stored,
        "everything stored so far waits for its MIME text"
    );
    assert!(
        stored > 40,
        "the newest mail across Inbox and Sent Items: {stored}"
    );

    let timeline = l.app.get_html("/mail").await;
    assert!(timeline.contains("Fresh pricing question"), "{timeline}");
    let id = scalar(
        &l,
        &format!("SELECT id FROM emails WHERE provider_message_id = '{newest}'"),
    )
    .await;
    let page = l.app.get_html(&format!("/emails/{id}")).await;
    assert!(page.contains("still being fetched"), "{page}");
    assert!(page.contains("Pat Buyer") && page.contains("Fresh pricing question"));

    // Stopped once some MIME texts are filled in, others not.
    wait_for("a filled chunk", async || pending(&l).await < marked).await;
    pass.abort();
    let _ = pass.await;
    assert!(pending(&l).await > 0, "stopped in the middle of the fill");

    clear_faults(&l.app).await;
    l.sync_with(&opts).await.expect("the next pass succeeds");
    let next = l.sync_with(&opts).await.expect("an incremental pass");
    assert_eq!(next.kind.as_str(), "incremental");
    assert_eq!(pending(&l).await, 0);
    assert_matches_truth(&l).await;
    assert_no_duplicates(&l).await;
    let page = l.app.get_html(&format!("/emails/{id}")).await;
    assert!(!page.contains("still being fetched") && page.contains("quote.pdf"));
    let early = content(&l).await;

    // The same mailbox synced MIME first: the same end state.
    forget_mail(&l).await;
    let mime_only = SyncOptions {
        newest_first: 0,
        ..opts
    };
    l.sync_with(&mime_only).await.expect("a MIME-only pass");
    let reference = content(&l).await;
    assert_eq!(early.threads, reference.threads);
    assert_eq!(early.messages.len(), reference.messages.len());
    for (id, fields) in &reference.messages {
        assert_eq!(early.messages.get(id), Some(fields), "message {id}");
    }
}
