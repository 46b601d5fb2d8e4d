//! Change-notification subscriptions against a local receiver.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Query, State};
use axum::routing::post;
use axum::Router;
use parking_lot::Mutex;
use serde_json::{json, Value};
use threadline_emulator::Quota;

use crate::graph::support::{code, emulator, raw, Emu, ME, TENANT};
use crate::support::serve;

/// How the receiver answers validation requests.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Echo,
    WrongEcho,
    Slow,
}

#[derive(Clone)]
pub struct Receiver {
    pub url: String,
    pub seen: Arc<Mutex<Vec<Value>>>,
}

async fn receive(
    State((mode, seen)): State<(Mode, Arc<Mutex<Vec<Value>>>)>,
    Query(q): Query<std::collections::HashMap<String, String>>,
    body: axum::body::Bytes,
) -> axum::response::Response {
    use axum::response::IntoResponse as _;
    if let Some(token) = q.get("validationToken") {
        return match mode {
            Mode::Echo => ([("content-type", "text/plain")], token.clone()).into_response(),
            Mode::WrongEcho => {
                ([("content-type", "text/plain")], "nope".to_string()).into_response()
            }
            Mode::Slow => {
                tokio::time::sleep(Duration::from_millis(1500)).await;
                ([("content-type", "text/plain")], token.clone()).into_response()
            }
        };
    }
    if let Ok(v) = serde_json::from_slice::<Value>(&body) {
        seen.lock().push(v);
    }
    axum::http::StatusCode::ACCEPTED.into_response()
}

pub async fn receiver(mode: Mode) -> Receiver {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let app = Router::new()
        .route("/hook", post(receive))
        .with_state((mode, seen.clone()));
    let addr = serve(app).await;
    Receiver {
        url: format!("http://{addr}/hook"),
        seen,
    }
}

fn in_minutes(m: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::minutes(m))
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

async fn subscribe(
    emu: &Emu,
    token: &str,
    url: &str,
    resource: &str,
    minutes: i64,
) -> (u16, Value) {
    let body = json!({"changeType": "created,updated,deleted", "notificationUrl": url, "lifecycleNotificationUrl": url, "resource": resource, "expirationDateTime": in_minutes(minutes), "clientState": "s3cret"});
    let (status, _, body) = emu
        .send_json(reqwest::Method::POST, token, "/v1.0/subscriptions", &body)
        .await;
    (status, body)
}

async fn wait_for(rx: &Receiver, n: usize) -> Vec<Value> {
    for _ in 0..50 {
        let items: Vec<Value> = rx
            .seen
            .lock()
            .iter()
            .flat_map(|b| b["value"].as_array().cloned().unwrap_or_default())
            .collect();
        if items.len() >= n {
            return items;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    rx.seen.lock().clone()
}

#[tokio::test]
async fn subscription_requires_the_validation_echo() {
    let emu = emulator(Quota::Off, true).await;
    let token = emu.user_token(ME).await;
    let good = receiver(Mode::Echo).await;
    let (status, sub) = subscribe(
        &emu,
        &token,
        &good.url,
        "/me/mailfolders('inbox')/messages",
        60,
    )
    .await;
    assert_eq!(status, 201, "{sub}");
    assert_eq!(sub["clientState"], "s3cret");
    assert_eq!(sub["applicationId"], "threadline-test-client");
    let wrong = receiver(Mode::WrongEcho).await;
    let (status, body) = subscribe(&emu, &token, &wrong.url, "/me/messages", 60).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(code(&body), "ValidationError");
    let (status, _) = subscribe(
        &emu,
        &token,
        "http://127.0.0.1:9/unreachable",
        "/me/messages",
        60,
    )
    .await;
    assert_eq!(status, 400);
    let (status, body) = subscribe(&emu, &token, &good.url, "/me/contacts", 60).await;
    assert_eq!(status, 400, "{body}");
}

#[tokio::test]
async fn lifetimes_are_capped_and_raised_to_45_minutes() {
    let emu = emulator(Quota::Off, true).await;
    let token = emu.user_token(ME).await;
    let rx = receiver(Mode::Echo).await;
    let (status, sub) = subscribe(&emu, &token, &rx.url, "/me/messages", 5).await;
    assert_eq!(status, 201);
    let expires = chrono::DateTime::parse_from_rfc3339(
        sub["expirationDateTime"].as_str().unwrap_or_default(),
    )
    .expect("date");
    assert!(
        expires > chrono::Utc::now() + chrono::Duration::minutes(44),
        "raised to 45 minutes"
    );
    let (status, body) = subscribe(&emu, &token, &rx.url, "/me/messages", 10_200).await;
    assert_eq!(status, 400, "{body}");
    let (status, _) = subscribe(&emu, &token, &rx.url, "/me/messages", 10_000).await;
    assert_eq!(status, 201, "under 10,080 minutes is accepted");
    let id = sub["id"].as_str().unwrap_or_default();
    let (status, _, renewed) = emu
        .send_json(
            reqwest::Method::PATCH,
            &token,
            &format!("/v1.0/subscriptions/{id}"),
            &json!({"expirationDateTime": in_minutes(3000)}),
        )
        .await;
    assert_eq!(status, 200, "{renewed}");
    assert_ne!(renewed["expirationDateTime"], sub["expirationDateTime"]);
    let r = emu
        .http
        .post(format!(
            "{}/v1.0/subscriptions/{id}/reauthorize",
            emu.base()
        ))
        .bearer_auth(&token)
        .send()
        .await
        .expect("reauthorize");
    assert_eq!(r.status().as_u16(), 204);
    let r = emu
        .http
        .delete(format!("{}/v1.0/subscriptions/{id}", emu.base()))
        .bearer_auth(&token)
        .send()
        .await
        .expect("delete");
    assert_eq!(r.status().as_u16(), 204);
    assert_eq!(
        emu.get(&token, &format!("/v1.0/subscriptions/{id}"))
            .await
            .0,
        404
    );
}

#[tokio::test]
async fn notifications_arrive_for_created_updated_deleted() {
    let emu = emulator(Quota::Off, true).await;
    let app = emu.app_token(TENANT).await;
    let rx = receiver(Mode::Echo).await;
    let (status, sub) = subscribe(
        &emu,
        &app,
        &rx.url,
        &format!("users/{ME}/mailFolders('inbox')/messages"),
        60,
    )
    .await;
    assert_eq!(status, 201, "{sub}");
    let id = emu.deliver(
        ME,
        raw("n@x", "Notify", "", "b"),
        "inbox",
        1_727_776_800_000,
    );
    emu.deliver(
        ME,
        raw("n2@x", "Elsewhere", "", "b"),
        "sentitems",
        1_727_776_800_000,
    );
    let mailbox = emu.emu.state.store.get(ME).expect("mailbox");
    mailbox.update_state(&id, |s| s.read = true);
    mailbox.delete(&id);
    let items = wait_for(&rx, 3).await;
    let kinds: Vec<&str> = items
        .iter()
        .filter_map(|i| i["changeType"].as_str())
        .collect();
    assert_eq!(kinds, ["created", "updated", "deleted"], "{items:#?}");
    for item in &items {
        assert_eq!(item["subscriptionId"], sub["id"]);
        assert_eq!(item["clientState"], "s3cret");
        assert_eq!(item["tenantId"], TENANT);
        assert_eq!(
            item["resourceData"]["@odata.type"],
            "#Microsoft.Graph.Message"
        );
        assert!(item["resource"]
            .as_str()
            .is_some_and(|r| r.starts_with("Users/")));
    }
    // Lifecycle events from the control plane.
    let r = emu
        .http
        .post(format!("{}/_emulator/mailboxes/{ME}/lifecycle", emu.base()))
        .json(&json!({"event": "subscriptionRemoved"}))
        .send()
        .await
        .expect("lifecycle");
    assert_eq!(r.status().as_u16(), 200);
    let all = wait_for(&rx, 4).await;
    assert!(all
        .iter()
        .any(|i| i["lifecycleEvent"] == "subscriptionRemoved"));
    assert_eq!(
        emu.get(
            &app,
            &format!(
                "/v1.0/subscriptions/{}",
                sub["id"].as_str().unwrap_or_default()
            )
        )
        .await
        .0,
        404
    );
}

#[tokio::test]
async fn five_in_flight_requests_on_one_mailbox_get_a_429() {
    let emu = emulator(Quota::Realistic, true).await;
    let app = emu.app_token(TENANT).await;
    let slow = receiver(Mode::Slow).await;
    // Each subscription create holds its slot while the slow receiver validates.
    let tasks: Vec<_> = (0..4)
        .map(|_| {
            let body = json!({"changeType": "created", "notificationUrl": slow.url, "resource": format!("/users/{ME}/messages"), "expirationDateTime": in_minutes(60)});
            let (http, url, app) = (emu.http.clone(), format!("{}/v1.0/subscriptions", emu.base()), app.clone());
            tokio::spawn(async move { http.post(url).bearer_auth(app).json(&body).send().await.map_or(0, |r| r.status().as_u16()) })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (status, headers, body) = emu
        .get_full(&app, &format!("/v1.0/users/{ME}/messages"), &[])
        .await;
    assert_eq!(status, 429, "{}", String::from_utf8_lossy(&body));
    assert!(headers.contains_key("retry-after"));
    for t in tasks {
        assert_eq!(t.await.unwrap_or(0), 201);
    }
    assert_eq!(
        emu.get(&app, &format!("/v1.0/users/{ME}/messages")).await.0,
        200
    );
}
