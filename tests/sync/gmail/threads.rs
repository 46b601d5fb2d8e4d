//! Thread keys at ingest: a reply that names only its parent joins the root's thread; a later
//! message that bridges two stored threads merges them; arrival order does not split a thread;
//! links keep their copies of the thread key and soft deletion in step with their email.
use std::collections::BTreeMap;

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use threadline::db::entities::{email_links, emails};
use threadline::db::{directory, email_actions, organizations, users};

use super::helpers::{deliver, linked, GMAIL};

fn message(id: &str, minute: u32, headers: &str) -> String {
    format!(
        "Message-ID: <{id}@t.test>\r\nFrom: Pat <pat@buyer.example>\r\nTo: {GMAIL}\r\n\
         Subject: Order\r\nDate: Mon, 16 Nov 2026 10:{minute:02}:00 +0000\r\n{headers}\
         Content-Type: text/plain\r\n\r\nbody {id}\r\n"
    )
}

/// message id (without brackets) -> thread key.
async fn threads(l: &super::helpers::Linked) -> BTreeMap<String, String> {
    emails::Entity::find()
        .all(&l.app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|e| {
            let id = e
                .message_key
                .trim_matches(['<', '>'])
                .replace("@t.test", "");
            (id, e.thread_key)
        })
        .collect()
}

#[tokio::test]
async fn replies_naming_only_their_parent_join_the_root_thread() {
    let l = linked(0).await;
    deliver(&l.app, &message("root", 0, ""), "INBOX").await;
    deliver(
        &l.app,
        &message(
            "a",
            1,
            "In-Reply-To: <root@t.test>\r\nReferences: <root@t.test>\r\n",
        ),
        "INBOX",
    )
    .await;
    l.sync_ok().await;
    // An Outlook-style reply: In-Reply-To only, no References.
    deliver(
        &l.app,
        &message("b", 2, "In-Reply-To: <a@t.test>\r\n"),
        "INBOX",
    )
    .await;
    l.sync_ok().await;
    let t = threads(&l).await;
    assert_eq!(t["a"], t["root"]);
    assert_eq!(t["b"], t["root"], "{t:?}");
}

#[tokio::test]
async fn a_message_bridging_two_threads_merges_them() {
    let l = linked(0).await;
    // Two replies whose common parent is not stored yet, each naming only its own parent.
    deliver(
        &l.app,
        &message("x1", 1, "In-Reply-To: <x0@t.test>\r\n"),
        "INBOX",
    )
    .await;
    deliver(
        &l.app,
        &message("y1", 2, "In-Reply-To: <y0@t.test>\r\n"),
        "INBOX",
    )
    .await;
    l.sync_ok().await;
    let t = threads(&l).await;
    assert_ne!(t["x1"], t["y1"]);
    // y0 turns out to be a reply to x0: the two threads are one conversation.
    deliver(
        &l.app,
        &message(
            "y0",
            3,
            "In-Reply-To: <x0@t.test>\r\nReferences: <x0@t.test>\r\n",
        ),
        "INBOX",
    )
    .await;
    l.sync_ok().await;
    let t = threads(&l).await;
    assert_eq!(t["y0"], t["x1"], "{t:?}");
    assert_eq!(t["y1"], t["x1"], "stored thread merged: {t:?}");
}

/// `(thread key, soft deleted)` of every link as the link copies it and as its email has it
/// (and the copy of the message key checked on the way).
async fn link_copies(l: &super::helpers::Linked) -> Vec<((String, bool), (String, bool))> {
    let emails: BTreeMap<i64, emails::Model> = emails::Entity::find()
        .all(&l.app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.id, e))
        .collect();
    email_links::Entity::find()
        .all(&l.app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|link| {
            let e = &emails[&link.email_id];
            // The message key is copied once and never changes with the email.
            assert_eq!(link.message_key, e.message_key, "link {}", link.id);
            (
                (link.thread_key, link.soft_deleted),
                (e.thread_key.clone(), e.soft_deleted_at.is_some()),
            )
        })
        .collect()
}

/// A linked mailbox whose organization has the business of `buyer.example` (the sender of
/// [`message`]), so its mail gets links; with the organization's id.
async fn linked_to_buyer() -> (super::helpers::Linked, i64) {
    let l = linked(0).await;
    let org = organizations::first(&l.app.db).await.unwrap().unwrap().id;
    directory::create_business(&l.app.db, org, "Buyer", &["buyer.example".into()])
        .await
        .unwrap();
    (l, org)
}

/// A business timeline walks its links alone, so the links' copies of the thread key and the
/// soft deletion must follow the email through a merge, a soft delete and a restore.
#[tokio::test]
async fn links_follow_their_email_through_a_merge_and_soft_deletion() {
    let (l, org) = linked_to_buyer().await;
    for (id, minute, headers) in [
        ("x1", 1, "In-Reply-To: <x0@t.test>\r\n"),
        ("y1", 2, "In-Reply-To: <y0@t.test>\r\n"),
    ] {
        deliver(&l.app, &message(id, minute, headers), "INBOX").await;
    }
    l.sync_ok().await;
    let before = link_copies(&l).await;
    assert_eq!(before.len(), 2, "both emails linked to the business");
    assert_ne!(before[0].0 .0, before[1].0 .0, "two threads so far");
    let bridge = "In-Reply-To: <x0@t.test>\r\nReferences: <x0@t.test>\r\n";
    deliver(&l.app, &message("y0", 3, bridge), "INBOX").await;
    l.sync_ok().await;
    let merged = link_copies(&l).await;
    assert_eq!(merged.len(), 3);
    for (copy, email) in &merged {
        assert_eq!(copy, email, "{merged:?}");
        assert_eq!(
            copy.0, merged[0].0 .0,
            "one thread after the merge: {merged:?}"
        );
    }

    let y1 = emails::Entity::find()
        .filter(emails::Column::MessageKey.eq("<y1@t.test>"))
        .one(&l.app.db)
        .await
        .unwrap()
        .unwrap();
    let user = users::list_in_org(&l.app.db, org).await.unwrap()[0].id;
    for deleted in [true, false] {
        assert!(
            email_actions::set_deleted(&l.app.db, org, user, &y1, deleted)
                .await
                .unwrap()
        );
        let copies = link_copies(&l).await;
        for (copy, email) in &copies {
            assert_eq!(copy, email, "{copies:?}");
        }
        let hidden = copies.iter().filter(|(c, _)| c.1).count();
        assert_eq!(hidden, usize::from(deleted), "{copies:?}");
    }
}

/// The migration that added the copies rolls back and forward on stored mail: its down()
/// removes them, its up() fills them again from the emails (senders too) and the triggers keep
/// them from then on. (The migrations after it, covering link indexes and the link's message
/// key, roll back and forward too.)
#[tokio::test]
async fn the_copies_migration_rolls_back_and_fills_again() {
    use migration::{Migrator, MigratorTrait};
    let (l, _) = linked_to_buyer().await;
    deliver(&l.app, &message("r0", 1, ""), "INBOX").await;
    l.sync_ok().await;
    // Every migration from the copies one on, however many come after it.
    let all = Migrator::migrations();
    let copies_at = all
        .iter()
        .position(|m| m.name() == "m20261206_000060_timeline_copies")
        .expect("the copies migration is listed");
    let steps = u32::try_from(all.len() - copies_at).unwrap();
    Migrator::down(&l.app.db, Some(steps)).await.unwrap();
    let columns = sender_columns(&l).await;
    assert_eq!(columns, 0, "down() removed the sender columns");
    Migrator::up(&l.app.db, None).await.unwrap();
    let copies = link_copies(&l).await;
    assert_eq!(copies.len(), 1);
    assert_eq!(copies[0].0, copies[0].1, "refilled: {copies:?}");
    let email = emails::Entity::find()
        .one(&l.app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (email.sender_name.as_str(), email.sender_address.as_str()),
        ("Pat", "pat@buyer.example")
    );
    // The triggers are back: a reply merges into the thread and its link follows.
    let reply = "In-Reply-To: <r0@t.test>\r\nReferences: <r0@t.test>\r\n";
    deliver(&l.app, &message("r1", 2, reply), "INBOX").await;
    l.sync_ok().await;
    for (copy, email) in link_copies(&l).await {
        assert_eq!(copy, email);
    }
    // The same links again (a sync run twice) are refused by the rebuilt unique indexes.
    let again = l
        .app
        .db
        .execute_unprepared(
            "INSERT INTO email_links (organization_id, email_id, business_id, contact_id, \
             source, reason, tombstone, received_at, created_by, created_at, thread_key, \
             is_bulk, soft_deleted) SELECT organization_id, email_id, business_id, contact_id, \
             source, reason, tombstone, received_at, created_by, created_at, thread_key, \
             is_bulk, soft_deleted FROM email_links",
        )
        .await;
    assert!(again.is_err(), "duplicate links were stored");
}

/// How many of the sender copy columns `emails` has.
async fn sender_columns(l: &super::helpers::Linked) -> usize {
    let sql = if l.app.db.get_database_backend() == sea_orm::DbBackend::Postgres {
        "SELECT count(*) AS n FROM information_schema.columns WHERE table_name = 'emails' \
         AND column_name IN ('sender_name', 'sender_address')"
    } else {
        "SELECT count(*) AS n FROM pragma_table_info('emails') \
         WHERE name IN ('sender_name', 'sender_address')"
    };
    let row = l
        .app
        .db
        .query_one(sea_orm::Statement::from_string(
            l.app.db.get_database_backend(),
            sql,
        ))
        .await
        .unwrap()
        .unwrap();
    usize::try_from(row.try_get::<i64>("", "n").unwrap()).unwrap()
}
