//! Batch requests and watch / Pub/Sub push.

use std::fmt::Write as _;
use std::sync::{Arc, Mutex};

use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};

use crate::google::schema::{assert_google_error, assert_valid};
use crate::google::support::{google_with, Emu, READONLY};
use crate::support::serve;

pub type Received = Arc<Mutex<Vec<Value>>>;

/// A local HTTP endpoint recording every JSON POST; returns its URL.
pub async fn push_receiver() -> (Received, String) {
    let received: Received = Arc::default();
    let sink = received.clone();
    let app = Router::new().route(
        "/push",
        post(move |Json(body): Json<Value>| {
            let sink = sink.clone();
            async move {
                sink.lock().expect("lock").push(body);
                axum::http::StatusCode::NO_CONTENT
            }
        }),
    );
    let addr = serve(app).await;
    (received, format!("http://{addr}/push"))
}

fn batch_body(boundary: &str, parts: &[String]) -> String {
    let mut body = String::new();
    for (n, p) in parts.iter().enumerate() {
        let _ = write!(
            body,
            "--{boundary}\r\nContent-Type: application/http\r\nContent-ID: <item{}>\r\n\r\n{p}\r\n",
            n + 1
        );
    }
    let _ = write!(body, "--{boundary}--\r\n");
    body
}

fn parse_batch(ct: &str, body: &str) -> Vec<(String, u16, Value)> {
    let boundary = ct
        .split("boundary=")
        .nth(1)
        .expect("boundary")
        .trim_matches('"');
    body.split(&format!("--{boundary}"))
        .filter(|c| !c.trim().is_empty() && !c.starts_with("--"))
        .map(|chunk| {
            let cid = chunk
                .split("Content-ID: <")
                .nth(1)
                .and_then(|s| s.split('>').next())
                .unwrap_or("")
                .to_string();
            let status: u16 = chunk
                .split("HTTP/1.1 ")
                .nth(1)
                .and_then(|s| s.get(..3))
                .and_then(|s| s.parse().ok())
                .expect("status");
            let json_start = chunk.find('{').expect("json body");
            let value: Value = serde_json::from_str(chunk[json_start..].trim()).expect("json part");
            (cid, status, value)
        })
        .collect()
}

/// `POST /batch/gmail/v1` of `parts` as multipart/mixed; `boundary` as the header writes it
/// (perhaps quoted).
pub async fn post_parts(
    emu: &Emu,
    token: &str,
    boundary: &str,
    parts: &[String],
) -> reqwest::Response {
    let content_type = format!("multipart/mixed; boundary={boundary}");
    let body = batch_body(boundary.trim_matches('"'), parts);
    post_batch(emu, token, &content_type, body).await
}

/// The content type of a batch answer and its parts (id, status, JSON body).
pub async fn batch_results(r: reqwest::Response) -> (String, Vec<(String, u16, Value)>) {
    let ct = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .expect("ct")
        .to_string();
    let results = parse_batch(&ct, &r.text().await.expect("body"));
    (ct, results)
}

/// `POST /batch/gmail/v1` with this content type and body.
async fn post_batch(
    emu: &Emu,
    token: &str,
    content_type: &str,
    body: impl Into<reqwest::Body>,
) -> reqwest::Response {
    emu.http
        .post(emu.url("/batch/gmail/v1"))
        .bearer_auth(token)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .expect("batch")
}

#[tokio::test]
async fn batch_parts_run_in_order_and_fail_independently() {
    let (emu, token) = google_with(&[READONLY]).await;
    let id = emu
        .deliver_simple("labels=INBOX", "b@x", "Batch", "x")
        .await;
    let parts = vec![
        format!("GET /gmail/v1/users/me/messages/{id}?format=metadata&metadataHeaders=Subject"),
        "GET /gmail/v1/users/me/messages/0123456789abcdef".to_string(),
        "GET /gmail/v1/users/me/profile HTTP/1.1\r\nAuthorization: Bearer not-a-token".to_string(),
        format!("GET https://gmail.googleapis.com/gmail/v1/users/me/messages/{id}?format=minimal"),
    ];
    let r = post_parts(&emu, &token, "xyz", &parts).await;
    assert_eq!(r.status(), 200);
    let (ct, results) = batch_results(r).await;
    assert!(ct.starts_with("multipart/mixed; boundary="));
    assert_eq!(results.len(), 4);
    assert_eq!(results[0].0, "response-item1");
    assert_eq!(results[0].1, 200);
    assert_valid("Message", &results[0].2);
    assert_eq!(results[1].1, 404);
    assert_google_error(&results[1].2, 404, "notFound");
    assert_eq!(
        results[2].1, 401,
        "a part's own Authorization overrides the outer one"
    );
    assert_eq!(results[3].1, 200);
    let (_, stats) = emu.control_get("/_emulator/stats").await;
    let units = stats["quota_units"]["me@ourco.test"]
        .as_u64()
        .expect("units");
    assert!(units >= 15, "each part is charged: {units}");
}

#[tokio::test]
async fn batches_over_100_parts_and_non_multipart_bodies_are_rejected() {
    let (emu, token) = google_with(&[READONLY]).await;
    let parts: Vec<String> = (0..101)
        .map(|_| "GET /gmail/v1/users/me/profile".to_string())
        .collect();
    let r = post_parts(&emu, &token, "q", &parts).await;
    assert_eq!(r.status(), 400);
    let r = post_batch(&emu, &token, "application/json", "{}").await;
    assert_eq!(r.status(), 400);
    assert_google_error(&r.json().await.expect("json"), 400, "invalidArgument");
}

#[tokio::test]
async fn watch_via_a_registered_topic_pushes_pubsub_shaped_messages_and_stop_ends_them() {
    let (received, url) = push_receiver().await;
    let (emu, token) = google_with(&[READONLY]).await;
    let (status, _) = emu.control(reqwest::Method::POST, "/_emulator/pubsub/topics", Some(json!({"topic": "projects/crm/topics/gmail", "push_endpoint": url, "subscription": "projects/crm/subscriptions/push"}))).await;
    assert_eq!(status, 201);
    let (status, watch) = emu.post(&token, "/gmail/v1/users/me/watch", json!({"topicName": "projects/crm/topics/gmail", "labelIds": ["INBOX"], "labelFilterBehavior": "include"})).await;
    assert_eq!(status, 200);
    assert!(watch["expiration"]
        .as_str()
        .is_some_and(|e| e.parse::<i64>().is_ok()));
    emu.deliver_simple("labels=INBOX", "w@x", "Watch", "x")
        .await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let pushes = received.lock().expect("lock").clone();
    assert_eq!(pushes.len(), 1);
    assert_eq!(pushes[0]["subscription"], "projects/crm/subscriptions/push");
    assert!(
        pushes[0]["message"]["messageId"].is_string()
            && pushes[0]["message"]["publishTime"].is_string()
    );
    let r = emu
        .http
        .post(emu.url("/gmail/v1/users/me/stop"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("stop");
    assert_eq!(r.status(), 204);
    emu.deliver_simple("labels=INBOX", "w2@x", "Watch 2", "x")
        .await;
    tokio::time::sleep(std::time::Duration::from_millis(1300)).await;
    assert_eq!(
        received.lock().expect("lock").len(),
        1,
        "no push after stop"
    );
    let (status, body) = emu
        .post(
            &token,
            "/gmail/v1/users/me/watch",
            json!({"topicName": "not a topic"}),
        )
        .await;
    assert_eq!(status, 400);
    assert_google_error(&body, 400, "invalidArgument");
}

#[tokio::test]
async fn batch_parts_can_modify_with_json_bodies() {
    let (emu, token) = crate::google::support::google_with(&[crate::google::support::MODIFY]).await;
    let id = emu
        .deliver_simple("labels=INBOX,UNREAD", "bm@x", "Batch modify", "x")
        .await;
    let body = r#"{"removeLabelIds":["UNREAD"]}"#;
    let part = format!("POST /gmail/v1/users/me/messages/{id}/modify HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}", body.len() + 7);
    let r = post_parts(&emu, &token, "\"==b==\"", &[part]).await;
    let (_, results) = batch_results(r).await;
    assert_eq!(results[0].1, 200);
    assert_eq!(results[0].2["labelIds"], json!(["INBOX"]));
}

#[tokio::test]
async fn failed_pushes_are_redelivered_until_acknowledged() {
    let attempts: Received = Arc::default();
    let sink = attempts.clone();
    let app = Router::new().route(
        "/flaky",
        post(move |Json(body): Json<Value>| {
            let sink = sink.clone();
            async move {
                let mut seen = sink.lock().expect("lock");
                seen.push(body);
                if seen.len() < 3 {
                    axum::http::StatusCode::SERVICE_UNAVAILABLE
                } else {
                    axum::http::StatusCode::OK
                }
            }
        }),
    );
    let url = format!("http://{}/flaky", serve(app).await);
    let (emu, token) = google_with(&[READONLY]).await;
    emu.post(
        &token,
        "/gmail/v1/users/me/watch",
        json!({"topicName": url}),
    )
    .await;
    emu.deliver_simple("labels=INBOX", "flaky@x", "Flaky", "x")
        .await;
    tokio::time::sleep(std::time::Duration::from_millis(2200)).await;
    assert_eq!(
        attempts.lock().expect("lock").len(),
        3,
        "503, 503, then 200 stops the retries"
    );
    let (_, overview) = emu.control_get("/_emulator/pubsub").await;
    let statuses: Vec<u64> = overview["sent"]
        .as_array()
        .expect("sent")
        .iter()
        .filter_map(|s| s["status"].as_u64())
        .collect();
    assert_eq!(statuses, vec![503, 503, 200]);
}
