//! Keeping the Gmail watch: renewed once it is a day old, off (and stopped) when push is not
//! configured, failing with the operator's fix when Gmail may not publish to the topic, and
//! kept for a Workspace mailbox through domain-wide delegation (`users/{address}`).
use std::time::Duration;

use reqwest::StatusCode;
use threadline::db::{jobs, push};
use threadline_emulator::google::gmail::watch::Topic;

use threadline::db::{mail_accounts, organizations};
use threadline::sync::{worker, SyncOptions};

use super::{
    expiration, job_woken, linked, linked_with, post_push, push_app, push_body, row, run_due,
    signer, topic_for, until, woken, AUDIENCE, CONFIGURED, MAILBOX, PUSHER, TOPIC,
};
use crate::org::setup::{self, GMAIL_READONLY};
use crate::support::{client, TestApp};

#[tokio::test]
async fn the_watch_is_renewed_once_it_is_a_day_old_and_when_the_labels_change() {
    let l = linked().await;
    run_due(&l).await;
    let first = row(&l).await;
    let watched = expiration(&l).await;
    // A pass within the day keeps the watch as it is.
    jobs::run_now(&l.app.db, jobs::SYNC_ACCOUNT, l.account_id)
        .await
        .unwrap();
    assert_eq!(run_due(&l).await, 1);
    assert_eq!(row(&l).await.renewed_at, first.renewed_at);
    assert_eq!(expiration(&l).await, watched);
    // A day later the next pass renews it.
    let mut aged = row(&l).await;
    aged.renewed_at = Some(threadline::db::now() - chrono::Duration::hours(25));
    push::save(&l.app.db, aged).await.unwrap();
    jobs::run_now(&l.app.db, jobs::SYNC_ACCOUNT, l.account_id)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(5)).await;
    assert_eq!(run_due(&l).await, 1);
    let renewed = row(&l).await;
    assert_eq!(renewed.state, push::ACTIVE);
    assert!(renewed.renewed_at > first.renewed_at);
    assert!(expiration(&l).await > watched, "Gmail was asked again");
    // New labels in the mailbox's settings: the next pass watches those.
    let labels = threadline::domain::stored::SyncSettings {
        since: None,
        labels: vec!["INBOX".into()],
    };
    threadline::db::sync_status::save_settings(&l.app.db, l.account_id, &labels, 300, true)
        .await
        .unwrap();
    jobs::run_now(&l.app.db, jobs::SYNC_ACCOUNT, l.account_id)
        .await
        .unwrap();
    while worker::sync_next_due(&l.app.deps, "w")
        .await
        .unwrap()
        .is_some()
    {}
    let overview = l.app.emulator_client().push_state().await.unwrap();
    assert_eq!(overview.watches[MAILBOX.address].label_ids, ["INBOX"]);
    assert_eq!(row(&l).await.state, push::ACTIVE);
}

#[tokio::test]
async fn without_a_topic_gmail_polls_and_says_why() {
    let l = linked_with(&["--google-pubsub-service-account", PUSHER], topic_for).await;
    run_due(&l).await;
    let r = row(&l).await;
    assert_eq!(r.state, push::OFF);
    assert!(
        r.reason
            .as_deref()
            .is_some_and(|m| m.contains("GOOGLE_PUBSUB_TOPIC")),
        "{:?}",
        r.reason
    );
    assert!(l
        .app
        .emulator_client()
        .push_state()
        .await
        .unwrap()
        .watches
        .is_empty());
    let token = signer(&l).push_token(AUDIENCE, PUSHER);
    let body = push_body(MAILBOX.address, 99_999_999);
    assert_eq!(
        post_push(&l, Some(&token), &body).await,
        StatusCode::NOT_FOUND
    );
    assert!(!woken(&l).await);
}

#[tokio::test]
async fn a_topic_gmail_may_not_publish_to_leaves_push_failing_with_the_fix() {
    let l = linked_with(&CONFIGURED, |app| Topic {
        gmail_may_publish: false,
        ..topic_for(app)
    })
    .await;
    run_due(&l).await;
    let r = row(&l).await;
    assert_eq!(r.state, push::FAILING);
    assert!(
        r.reason
            .as_deref()
            .is_some_and(|m| m.contains("gmail-api-push@system.gserviceaccount.com")),
        "{:?}",
        r.reason
    );
    assert!(l
        .app
        .emulator_client()
        .push_state()
        .await
        .unwrap()
        .watches
        .is_empty());
}

#[tokio::test]
async fn turning_push_off_stops_the_watch_and_the_endpoint() {
    let l = linked().await;
    run_due(&l).await;
    assert_eq!(row(&l).await.state, push::ACTIVE);
    // The operator restarts with push off (another instance on the same database).
    let off = TestApp::spawn_full(
        l.app.test_db.clone(),
        client(),
        l.app.emulator.clone(),
        &["--push", "off"],
    )
    .await;
    jobs::run_now(&off.db, jobs::SYNC_ACCOUNT, l.account_id)
        .await
        .unwrap();
    assert!(worker::sync_next_due(&off.deps, "off-w")
        .await
        .unwrap()
        .is_some());
    let r = row(&l).await;
    assert_eq!(r.state, push::OFF);
    assert!(
        r.reason
            .as_deref()
            .is_some_and(|m| m.contains("THREADLINE_PUSH=off")),
        "{r:?}"
    );
    let overview = l.app.emulator_client().push_state().await.unwrap();
    assert!(overview.watches.is_empty(), "users.stop was called");
    let token = signer(&l).push_token(AUDIENCE, PUSHER);
    let res = off
        .client
        .post(off.url("/push/gmail"))
        .bearer_auth(token)
        .json(&push_body(MAILBOX.address, 99_999_999))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_workspace_mailbox_is_watched_through_domain_wide_delegation() {
    const ANN: &str = "ann@northwind.test";
    const ADMIN: &str = "it@northwind.test";
    let app = push_app(&CONFIGURED).await;
    app.setup_admin().await;
    let org = organizations::first(&app.db)
        .await
        .unwrap()
        .expect("org")
        .id;
    let users = [(ANN, true, false), (ADMIN, true, false)];
    let w = setup::workspace(&app, "northwind.test", &users, &[GMAIL_READONLY]).await;
    let conn = w.connect(&app, org, "northwind", ADMIN).await;
    setup::fill_gmail(&app, ANN, "Pat <pat@buyer.example>", 3).await;
    let id = w.mailbox(&app, &conn, ANN).await;
    app.emulator_client()
        .add_topic(&topic_for(&app))
        .await
        .unwrap();
    let account = mail_accounts::find(&app.db, id).await.unwrap().unwrap();
    let options = SyncOptions::for_deps(&app.deps);
    let lease = Duration::from_secs(20);
    worker::sync_mailbox_now(&app.deps, &account, "org-w", lease, &options)
        .await
        .unwrap()
        .expect("the pass ran");
    let r = push::find(&app.db, id).await.unwrap().expect("push row");
    assert_eq!(r.state, push::ACTIVE, "{:?}", r.reason);
    let overview = app.emulator_client().push_state().await.unwrap();
    assert_eq!(overview.watches[ANN].topic, TOPIC);
    assert_eq!(overview.watches[ANN].label_ids, ["INBOX", "SENT"]);
    assert!(!job_woken(&app, id).await);
    setup::fill_gmail(&app, ANN, "Pat <pat@buyer.example>", 1).await;
    let pushed = || async {
        let sent = app.emulator_client().push_state().await.unwrap().sent;
        sent.iter().any(|s| s.status == Some(204))
    };
    until("the emulator pushes", pushed).await;
    assert!(job_woken(&app, id).await, "the delegated mailbox was woken");
}
