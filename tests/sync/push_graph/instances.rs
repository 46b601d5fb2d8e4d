//! Several instances on one database: a notification wakes the mailbox through the database,
//! whichever instance receives it, and exactly one worker of all instances runs the pass; a
//! wake received before a restart is still due after it.
use std::time::Duration;

use serde_json::json;

use super::helpers::{deliver, drain, due, linked_with, post, runs, subs, wait_for, PUSH_ON};
use crate::common::{self, Linked};
use crate::support::{client, TestApp};

#[tokio::test]
async fn two_instances_run_one_pass_per_notification() {
    let l = linked_with(PUSH_ON).await;
    drain(&l.app).await;
    let spawn = || {
        TestApp::spawn_full(
            l.app.test_db.clone(),
            client(),
            l.app.emulator.clone(),
            &["--push", "on", "--sync-workers", "2"],
        )
    };
    let (mut one, mut two) = (spawn().await, spawn().await);
    let before = runs(&l).await;

    // Graph notifies the instance that subscribed; one of the four workers runs one pass.
    let id = deliver(&l.app, "two", "Two instances").await;
    let (linked, id) = (&l, &id);
    wait_for("the new message stored", || async move {
        common::stored(linked).await.live.contains_key(id)
    })
    .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(runs(&l).await, before + 1);

    // A notification that reaches another instance wakes the mailbox just the same.
    let sub = subs(&l.app).remove(0);
    let genuine = json!({"value": [{"subscriptionId": sub.id, "clientState": sub.client_state,
                                    "changeType": "updated"}]});
    assert_eq!(
        post(&two, "/push/graph", &genuine).await,
        reqwest::StatusCode::ACCEPTED
    );
    wait_for("a second pass", || async move {
        runs(linked).await > before + 1
    })
    .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(runs(&l).await, before + 2);
    one.stop().await;
    two.stop().await;
}

#[tokio::test]
async fn a_wake_received_before_a_restart_is_still_due_after_it() {
    let mut l = linked_with(PUSH_ON).await;
    drain(&l.app).await;
    let id = deliver(&l.app, "restart", "Before the restart").await;
    let linked = &l;
    wait_for("the mailbox woken", || due(linked)).await;
    l.app.stop().await;
    let app = TestApp::spawn_full(
        l.app.test_db.clone(),
        client(),
        l.app.emulator.clone(),
        PUSH_ON,
    )
    .await;
    let l = Linked {
        app,
        account_id: l.account_id,
    };
    assert_eq!(drain(&l.app).await, 1);
    assert!(common::stored(&l).await.live.contains_key(&id));
}
