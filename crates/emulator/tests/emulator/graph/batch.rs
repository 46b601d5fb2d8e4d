//! JSON batching.

use serde_json::{json, Value};
use threadline_emulator::Quota;

use crate::graph::support::{batch_item, emulator, raw, ME};

#[tokio::test]
async fn batch_runs_each_request_and_answers_in_any_order_with_inner_statuses() {
    let emu = emulator(Quota::Off, true).await;
    let id = emu.deliver(ME, raw("b@x", "Batch", "", "b"), "inbox", 1_727_776_800_000);
    let token = emu.user_token(ME).await;
    let body = json!({"requests": [
        {"id": "1", "method": "GET", "url": "/me/messages?$select=subject"},
        {"id": "2", "method": "GET", "url": "me/messages/AAMkAAAbnope"},
        {"id": "3", "method": "PATCH", "url": format!("/me/messages/{id}"), "headers": {"Content-Type": "application/json"}, "body": {"isRead": true}},
        {"id": "4", "method": "GET", "url": "/me/mailFolders/inbox"},
    ]});
    let (status, out) = emu.batch(&token, &body).await;
    assert_eq!(status, 200, "{out}");
    let responses = out["responses"].as_array().cloned().unwrap_or_default();
    assert_eq!(responses.len(), 4);
    let by_id = |id: &str| batch_item(&out, id);
    assert_eq!(by_id("1")["status"], 200);
    assert_eq!(by_id("1")["body"]["value"][0]["subject"], "Batch");
    assert_eq!(by_id("2")["status"], 404);
    assert_eq!(by_id("2")["body"]["error"]["code"], "ErrorItemNotFound");
    assert_eq!(by_id("3")["status"], 200);
    assert_eq!(by_id("3")["body"]["isRead"], true);
    assert!(by_id("4")["headers"]["Content-Type"]
        .as_str()
        .is_some_and(|c| c.starts_with("application/json")));
    // dependsOn: a failed dependency yields 424.
    let body = json!({"requests": [
        {"id": "a", "method": "GET", "url": "/me/messages/AAMkAAAbnope"},
        {"id": "b", "method": "GET", "url": "/me", "dependsOn": ["a"]},
    ]});
    let (_, out) = emu.batch(&token, &body).await;
    assert_eq!(batch_item(&out, "b")["status"], 424);
    // Duplicate ids.
    let body = json!({"requests": [{"id": "1", "method": "GET", "url": "/me"}, {"id": "1", "method": "GET", "url": "/me"}]});
    assert_eq!(emu.batch(&token, &body).await.0, 400);
}

#[tokio::test]
async fn batch_of_more_than_20_is_400() {
    let emu = emulator(Quota::Off, true).await;
    let token = emu.user_token(ME).await;
    let requests: Vec<Value> = (0..21)
        .map(|i| json!({"id": i.to_string(), "method": "GET", "url": "/me"}))
        .collect();
    let (status, body) = emu.batch(&token, &json!({"requests": requests})).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["code"], "BadRequest");
    let requests: Vec<Value> = (0..20)
        .map(|i| json!({"id": i.to_string(), "method": "GET", "url": "/me"}))
        .collect();
    assert_eq!(
        emu.batch(&token, &json!({"requests": requests})).await.0,
        200
    );
}

/// Arm `fault` (plus `mailbox: ME, route: /mailFolders`), then batch a folders and a
/// messages request; the `$batch` answer (itself a 200).
async fn batch_with_folders_fault(quota: Quota, mut fault: Value) -> Value {
    let emu = emulator(quota, true).await;
    let token = emu.user_token(ME).await;
    fault["mailbox"] = json!(ME);
    fault["route"] = json!("/mailFolders");
    assert_eq!(emu.fault(fault).await, 201);
    let body = json!({"requests": [
        {"id": "1", "method": "GET", "url": "/me/mailFolders"},
        {"id": "2", "method": "GET", "url": "/me/messages"},
    ]});
    let (status, out) = emu.batch(&token, &body).await;
    assert_eq!(status, 200);
    out
}

#[tokio::test]
async fn batch_items_are_throttled_on_their_own() {
    let out =
        batch_with_folders_fault(Quota::Realistic, json!({"status": 429, "retry_after": 7})).await;
    let throttled = batch_item(&out, "1");
    assert_eq!(throttled["status"], 429);
    assert_eq!(throttled["headers"]["Retry-After"], "7");
    assert_eq!(batch_item(&out, "2")["status"], 200);
}

#[tokio::test]
async fn a_dropped_batch_item_is_a_gateway_timeout() {
    let out = batch_with_folders_fault(Quota::Off, json!({"status": 503, "drop": true})).await;
    assert_eq!(batch_item(&out, "1")["status"], 504);
    assert_eq!(batch_item(&out, "2")["status"], 200);
}
