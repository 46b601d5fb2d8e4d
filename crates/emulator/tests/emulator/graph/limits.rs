//! Throttling per app + mailbox and injected faults, in Graph's error shape.

use serde_json::json;
use threadline_emulator::Quota;

use crate::graph::support::{code, emulator, COLLEAGUE, ME, TENANT};

#[tokio::test]
async fn fifth_concurrent_request_is_429_mailbox_concurrency() {
    let emu = emulator(Quota::Realistic, true).await;
    let app = emu.app_token(TENANT).await;
    // Four requests in flight for (app, ME): held through the quota service admission uses.
    let key = format!("graph:threadline-test-client:{ME}");
    let held: Vec<_> = (0..4).map(|_| emu.emu.state.quota.enter(&key, 4)).collect();
    assert!(held.iter().all(Result::is_ok));
    let (status, headers, body) = emu
        .get_full(&app, &format!("/v1.0/users/{ME}/messages"), &[])
        .await;
    assert_eq!(status, 429);
    assert!(headers.contains_key("retry-after"));
    let body: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    assert_eq!(code(&body), "ApplicationThrottled");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .contains("MailboxConcurrency"));
    // Another mailbox of the same app is not affected.
    assert_eq!(
        emu.get(&app, &format!("/v1.0/users/{COLLEAGUE}/messages"))
            .await
            .0,
        200
    );
    drop(held);
    assert_eq!(
        emu.get(&app, &format!("/v1.0/users/{ME}/messages")).await.0,
        200
    );
}

#[tokio::test]
async fn request_budget_per_window() {
    let emu = emulator(Quota::Realistic, true).await;
    let app = emu.app_token(TENANT).await;
    emu.http
        .patch(format!("{}/_emulator/microsoft/settings", emu.base()))
        .json(&json!({"requests_per_window": 3, "window_secs": 600}))
        .send()
        .await
        .expect("settings");
    for _ in 0..3 {
        assert_eq!(
            emu.get(&app, &format!("/v1.0/users/{ME}/mailFolders"))
                .await
                .0,
            200
        );
    }
    let (status, headers, _) = emu
        .get_full(&app, &format!("/v1.0/users/{ME}/mailFolders"), &[])
        .await;
    assert_eq!(status, 429);
    let wait: u64 = headers["retry-after"]
        .to_str()
        .unwrap_or("0")
        .parse()
        .unwrap_or(0);
    assert!(wait > 0 && wait <= 600);
    // Per app + mailbox: another mailbox still has its budget.
    assert_eq!(
        emu.get(&app, &format!("/v1.0/users/{COLLEAGUE}/mailFolders"))
            .await
            .0,
        200
    );
}

#[tokio::test]
async fn faults_give_503_with_retry_after() {
    let emu = emulator(Quota::Realistic, true).await;
    let token = emu.user_token(ME).await;
    emu.fault(
        json!({"mailbox": ME, "route": "/messages", "status": 503, "retry_after": 4, "count": 1}),
    )
    .await;
    let (status, headers, body) = emu.get_full(&token, "/v1.0/me/messages", &[]).await;
    assert_eq!(status, 503);
    assert_eq!(headers["retry-after"], "4");
    let body: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    assert!(body["error"]["code"].is_string() && body["error"]["innerError"]["date"].is_string());
    assert_eq!(
        emu.get(&token, "/v1.0/me/messages").await.0,
        200,
        "count-limited"
    );
    let report: serde_json::Value = emu
        .http
        .get(format!("{}/_emulator/stats", emu.base()))
        .send()
        .await
        .expect("stats")
        .json()
        .await
        .expect("json");
    assert!(report["total_errors"].as_u64().is_some_and(|e| e >= 1));
}

#[tokio::test]
async fn quota_off_disables_throttling() {
    let emu = emulator(Quota::Off, true).await;
    let app = emu.app_token(TENANT).await;
    emu.http
        .patch(format!("{}/_emulator/microsoft/settings", emu.base()))
        .json(&json!({"requests_per_window": 1}))
        .send()
        .await
        .expect("settings");
    let key = format!("graph:threadline-test-client:{ME}");
    let _held: Vec<_> = (0..10)
        .map(|_| emu.emu.state.quota.enter(&key, 4))
        .collect();
    for _ in 0..5 {
        assert_eq!(
            emu.get(&app, &format!("/v1.0/users/{ME}/mailFolders"))
                .await
                .0,
            200
        );
    }
}

#[tokio::test]
async fn token_endpoint_faults_are_aad_shaped() {
    let emu = emulator(Quota::Realistic, true).await;
    emu.fault(json!({"route": "/token", "status": 503, "retry_after": 2, "count": 1}))
        .await;
    let r = emu
        .http
        .post(format!("{}/{TENANT}/oauth2/v2.0/token", emu.base()))
        .form(&[
            ("client_id", "c"),
            ("client_secret", "s"),
            ("grant_type", "client_credentials"),
            ("scope", "https://graph.microsoft.com/.default"),
        ])
        .send()
        .await
        .expect("token");
    assert_eq!(r.status().as_u16(), 503);
    assert_eq!(r.headers()["retry-after"], "2");
    let body: serde_json::Value = r.json().await.unwrap_or_default();
    assert_eq!(body["error"], "temporarily_unavailable");
    assert_eq!(body["error_codes"][0], 90_033);
    emu.app_token(TENANT).await;
}
