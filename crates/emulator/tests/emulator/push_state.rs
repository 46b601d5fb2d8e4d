//! `GET /_emulator/mailboxes/{address}/push` through the typed client: what a client set up
//! (Graph subscriptions, Gmail watch) and every delivery attempt with its answer; Graph
//! notifications a receiver refuses or answers too slowly are delivered again with backoff.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Query, State};
use axum::routing::post;
use axum::Router;
use parking_lot::Mutex;
use serde_json::json;
use threadline_emulator::{EmulatorClient, Quota};

use crate::google::support::{google_with, READONLY};
use crate::graph::support::{emulator, raw, ME, TENANT};
use crate::support::serve;

/// A Graph receiver that echoes validation tokens and answers notifications with the
/// statuses in `answers` in turn (the last one from then on); 0 means "sleep 3.5 s, then 202".
async fn graph_receiver(answers: Vec<u16>) -> String {
    type Shared = (Arc<Vec<u16>>, Arc<Mutex<usize>>);
    async fn receive(
        State((answers, seen)): State<Shared>,
        Query(q): Query<std::collections::HashMap<String, String>>,
    ) -> axum::response::Response {
        use axum::response::IntoResponse as _;
        if let Some(token) = q.get("validationToken") {
            return ([("content-type", "text/plain")], token.clone()).into_response();
        }
        let n = {
            let mut seen = seen.lock();
            *seen += 1;
            *seen
        };
        let answer = answers[(n - 1).min(answers.len() - 1)];
        if answer == 0 {
            tokio::time::sleep(Duration::from_millis(3500)).await;
            return axum::http::StatusCode::ACCEPTED.into_response();
        }
        axum::http::StatusCode::from_u16(answer)
            .unwrap_or(axum::http::StatusCode::ACCEPTED)
            .into_response()
    }
    let app = Router::new()
        .route("/hook", post(receive))
        .with_state((Arc::new(answers), Arc::new(Mutex::new(0))));
    format!("http://{}/hook", serve(app).await)
}

#[tokio::test]
async fn graph_subscription_shows_its_deliveries_and_refused_ones_are_retried_with_backoff() {
    let emu = emulator(Quota::Off, true).await;
    let client = EmulatorClient::new(emu.base());
    let app = emu.app_token(TENANT).await;
    // 503, then too slow (over 3 s), then accepted.
    let url = graph_receiver(vec![503, 0, 202]).await;
    let expires = (chrono::Utc::now() + chrono::Duration::minutes(60))
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let resource = format!("users/{ME}/messages");
    let body = json!({"changeType": "created,updated,deleted", "notificationUrl": url,
        "lifecycleNotificationUrl": url, "resource": resource, "expirationDateTime": expires,
        "clientState": "s3cret"});
    let (status, _, sub) = emu
        .send_json(reqwest::Method::POST, &app, "/v1.0/subscriptions", &body)
        .await;
    assert_eq!(status, 201, "{sub}");
    let before = client.mailbox_push(ME).await.expect("push state");
    assert_eq!(before.graph_subscriptions.len(), 1);
    let shown = &before.graph_subscriptions[0];
    assert_eq!(shown.id, sub["id"].as_str().unwrap_or_default());
    assert_eq!(shown.resource, resource);
    assert_eq!(shown.change_type, "created,updated,deleted");
    assert_eq!(shown.notification_url, url);
    assert_eq!(
        shown.lifecycle_notification_url.as_deref(),
        Some(url.as_str())
    );
    assert!(shown.deliveries.is_empty(), "nothing delivered yet");
    assert!(before.gmail_watch.is_none());

    emu.deliver(
        ME,
        raw("p@x", "Pushed", "", "b"),
        "inbox",
        1_727_776_800_000,
    );
    let mut attempts = Vec::new();
    for _ in 0..100 {
        let state = client.mailbox_push(ME).await.expect("push state");
        attempts = state.graph_subscriptions[0].deliveries.clone();
        if attempts.len() >= 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(attempts.len(), 3, "{attempts:#?}");
    assert_eq!(
        attempts.iter().map(|a| a.attempt).collect::<Vec<_>>(),
        [1, 2, 3]
    );
    assert_eq!(attempts[0].status, Some(503));
    assert_eq!(attempts[1].status, None, "no answer within 3 s");
    assert!(attempts[1]
        .error
        .as_deref()
        .is_some_and(|e| e.contains("timed out")));
    assert!(attempts[1].latency_ms >= 2900, "{:?}", attempts[1]);
    assert_eq!(attempts[2].status, Some(202));
    assert!(attempts
        .iter()
        .all(|a| a.kind == "notification" && a.url == url && a.items == 1));
    let gap = |a: usize, b: usize| (attempts[b].at - attempts[a].at).num_milliseconds();
    assert!(gap(0, 1) >= 1000, "first retry after 1 s");
    assert!(
        gap(1, 2) >= 3000 + 2000,
        "second retry 2 s after the 3 s timeout"
    );
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let after = client.mailbox_push(ME).await.expect("push state");
    assert_eq!(
        after.graph_subscriptions[0].deliveries.len(),
        3,
        "no retry after 202"
    );
    assert_eq!(after.delivered(), 1);

    // A lifecycle event is recorded too, and stays visible after the subscription is removed.
    let removed = client
        .lifecycle(
            ME,
            &threadline_emulator::microsoft::notify::LifecycleRequest {
                event: "subscriptionRemoved".into(),
                subscription_id: None,
            },
        )
        .await
        .expect("lifecycle");
    assert_eq!(removed.subscriptions, 1);
    let gone = client.mailbox_push(ME).await.expect("push state");
    assert!(gone.graph_subscriptions.is_empty());
    assert_eq!(gone.graph_earlier_deliveries.len(), 4);
    assert_eq!(gone.graph_earlier_deliveries[3].kind, "lifecycle");
    let missing = client.mailbox_push("nobody@ourco.test").await;
    assert!(missing.is_err(), "unknown mailbox is 404");
}

#[tokio::test]
async fn gmail_watch_shows_topic_labels_expiry_and_each_push_with_its_answer() {
    let (received, url) = crate::google::batch_watch::push_receiver().await;
    let (emu, token) = google_with(&[READONLY]).await;
    let client = EmulatorClient::new(emu.url(""));
    client
        .add_topic(&threadline_emulator::google::gmail::watch::Topic::new(
            "projects/crm/topics/gmail",
            url.clone(),
        ))
        .await
        .expect("topic");
    let (status, watch) = emu
        .post(
            &token,
            "/gmail/v1/users/me/watch",
            json!({"topicName": "projects/crm/topics/gmail", "labelIds": ["INBOX"]}),
        )
        .await;
    assert_eq!(status, 200, "{watch}");
    emu.deliver_simple("labels=INBOX", "g@x", "Watched", "x")
        .await;
    let mut state = client.mailbox_push("me@ourco.test").await.expect("state");
    for _ in 0..30 {
        if !state.gmail_deliveries.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        state = client.mailbox_push("me@ourco.test").await.expect("state");
    }
    let shown = state.gmail_watch.clone().expect("watch shown");
    assert_eq!(shown.topic, "projects/crm/topics/gmail");
    assert_eq!(shown.label_ids, ["INBOX"]);
    assert_eq!(
        shown.expiration.timestamp_millis().to_string(),
        watch["expiration"].as_str().unwrap_or_default()
    );
    assert!(state.graph_subscriptions.is_empty());
    assert_eq!(state.gmail_deliveries.len(), 1, "{state:#?}");
    let push = &state.gmail_deliveries[0];
    assert_eq!(push.url, url);
    assert_eq!(push.status, Some(204));
    assert!(push.at.is_some() && push.latency_ms.is_some());
    assert_eq!(received.lock().expect("lock").len(), 1);
}
