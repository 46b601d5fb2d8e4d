//! The endpoints Graph calls: the validation handshake, notifications waking the mailbox's
//! pass, forged and unknown ones waking nothing, bursts coalesced into one pass.
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;

use super::helpers::{
    deliver, drain, due, job, linked_with, post, row, runs, subs, wait_for, PUSH_ON,
};
use crate::common;
use crate::support::TestApp;

#[tokio::test]
async fn validation_tokens_are_echoed_decoded_as_plain_text() {
    let app = TestApp::spawn().await;
    let http = reqwest::Client::new();
    for path in ["/push/graph", "/push/graph/lifecycle"] {
        let url = app.url(&format!(
            "{path}?validationToken=Validation%3A%20Testing+client%20%26%20%3Cok%3E"
        ));
        let res = http
            .post(url)
            .header("content-type", "text/plain; charset=utf-8")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        let content_type = res.headers()["content-type"].to_str().unwrap().to_string();
        assert!(content_type.starts_with("text/plain"), "{content_type}");
        assert_eq!(
            res.text().await.unwrap(),
            "Validation: Testing client & <ok>"
        );
        let malformed = http
            .post(app.url(path))
            .body("{\"value\": [")
            .send()
            .await
            .unwrap();
        assert_eq!(malformed.status(), StatusCode::BAD_REQUEST, "{path}");
        assert_eq!(
            post(&app, path, &json!({"value": []})).await,
            StatusCode::ACCEPTED
        );
    }
}

#[tokio::test]
async fn a_delivered_message_wakes_the_pass_that_stores_it() {
    let l = linked_with(PUSH_ON).await;
    drain(&l.app).await;
    assert!(!due(&l).await);
    let id = deliver(&l.app, "fresh", "Your quote").await;
    wait_for("the notification to wake the mailbox", || due(&l)).await;
    let r = row(&l.app, l.account_id).await;
    assert!(r.notifications >= 1 && r.last_notification_at.is_some());
    assert_eq!(r.rejected, 0);
    assert_eq!(drain(&l.app).await, 1);
    assert!(common::stored(&l).await.live.contains_key(&id));
}

#[tokio::test]
async fn forged_and_unknown_notifications_wake_nothing() {
    let l = linked_with(PUSH_ON).await;
    drain(&l.app).await;
    let sub = subs(&l.app).remove(0);
    let secret = sub.client_state.clone().unwrap();
    let before = job(&l).await;
    let forged = json!({"value": [
        {"subscriptionId": sub.id, "clientState": "not-the-secret", "changeType": "created",
         "resource": "Users/x/Messages/y"},
        {"subscriptionId": sub.id, "changeType": "created"},
        {"subscriptionId": "5a2f8a51-0000-4000-8000-000000000000", "clientState": secret,
         "changeType": "created"},
    ]});
    assert_eq!(
        post(&l.app, "/push/graph", &forged).await,
        StatusCode::ACCEPTED
    );
    let lifecycle = json!({"value": [
        {"subscriptionId": sub.id, "clientState": secret.to_uppercase(),
         "lifecycleEvent": "subscriptionRemoved"},
    ]});
    assert_eq!(
        post(&l.app, "/push/graph/lifecycle", &lifecycle).await,
        StatusCode::ACCEPTED
    );
    let after = job(&l).await;
    assert_eq!(after.run_at, before.run_at, "nothing woken");
    assert_eq!(after.woken_at, before.woken_at);
    let r = row(&l.app, l.account_id).await;
    assert_eq!((r.rejected, r.notifications), (3, 0));
    assert_eq!(r.pending_event, None);

    // The real secret is accepted.
    let genuine = json!({"value": [{"subscriptionId": sub.id, "clientState": secret,
                                    "changeType": "updated"}]});
    assert_eq!(
        post(&l.app, "/push/graph", &genuine).await,
        StatusCode::ACCEPTED
    );
    assert!(due(&l).await);
    assert_eq!(row(&l.app, l.account_id).await.notifications, 1);

    // 500 items in one POST: answered well inside Graph's 3 s, one pass.
    drain(&l.app).await;
    let item = json!({"subscriptionId": sub.id, "clientState": secret, "changeType": "updated"});
    let batch = json!({ "value": vec![item; 500] });
    let started = std::time::Instant::now();
    assert_eq!(
        post(&l.app, "/push/graph", &batch).await,
        StatusCode::ACCEPTED
    );
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(row(&l.app, l.account_id).await.notifications, 501);
    assert_eq!(drain(&l.app).await, 1);
}

#[tokio::test]
async fn a_burst_of_notifications_is_one_pass() {
    let l = linked_with(PUSH_ON).await;
    drain(&l.app).await;
    let runs_before = runs(&l).await;
    let mut ids = Vec::new();
    for i in 0..200 {
        ids.push(deliver(&l.app, &format!("burst-{i}"), &format!("Order {i}")).await);
    }
    let (app, account) = (&l.app, l.account_id);
    wait_for("200 notifications", || async move {
        row(app, account).await.notifications >= 200
    })
    .await;
    assert_eq!(drain(&l.app).await, 1);
    assert_eq!(runs(&l).await - runs_before, 1);
    let stored = common::stored(&l).await;
    assert!(ids.iter().all(|id| stored.live.contains_key(id)));
}
