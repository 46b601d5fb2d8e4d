//! Thread keys at ingest: a reply that names only its parent joins the root's thread; a later
//! message that bridges two stored threads merges them; arrival order does not split a thread.
use std::collections::BTreeMap;

use sea_orm::EntityTrait;
use threadline::db::entities::emails;

use crate::helpers::{deliver, linked, GMAIL};

fn message(id: &str, minute: u32, headers: &str) -> String {
    format!(
        "Message-ID: <{id}@t.test>\r\nFrom: Pat <pat@buyer.example>\r\nTo: {GMAIL}\r\n\
         Subject: Order\r\nDate: Mon, 16 Nov 2026 10:{minute:02}:00 +0000\r\n{headers}\
         Content-Type: text/plain\r\n\r\nbody {id}\r\n"
    )
}

/// message id (without brackets) -> thread key.
async fn threads(l: &crate::helpers::Linked) -> BTreeMap<String, String> {
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
