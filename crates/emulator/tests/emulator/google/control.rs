//! The control plane: mailboxes, delivery, ground truth, faults, stats, tokens, seeding.

use serde_json::{json, Value};
use threadline_emulator::corpus;
use threadline_emulator::EmulatorConfig;

use crate::google::schema::assert_google_error;
use crate::google::support::{config, google_with, simple, Emu, READONLY};

#[tokio::test]
async fn mailboxes_are_created_listed_with_counts_and_duplicates_conflict() {
    let emu = Emu::start().await;
    emu.mailbox("google", "g@ourco.test").await;
    let (status, _) = emu
        .control(
            reqwest::Method::POST,
            "/_emulator/mailboxes",
            Some(json!({"provider": "microsoft", "address": "M@OurCo.test", "tenant": "t-1"})),
        )
        .await;
    assert_eq!(status, 201);
    let (status, _) = emu
        .control(
            reqwest::Method::POST,
            "/_emulator/mailboxes",
            Some(json!({"provider": "google", "address": "g@ourco.test"})),
        )
        .await;
    assert_eq!(status, 409);
    emu.deliver(
        "m@ourco.test",
        "folder=inbox&read=false",
        simple("m1@x", "Hi", "", "x"),
    )
    .await;
    let (_, list) = emu.control_get("/_emulator/mailboxes").await;
    let list = list.as_array().expect("array").clone();
    assert_eq!(list.len(), 2);
    let m = list
        .iter()
        .find(|m| m["address"] == "m@ourco.test")
        .expect("lowercased");
    assert_eq!(
        (
            m["provider"].as_str(),
            m["messages"].as_u64(),
            m["tenant"].as_str()
        ),
        (Some("microsoft"), Some(1), Some("t-1"))
    );
    let (_, truth) = emu
        .control_get("/_emulator/mailboxes/m@ourco.test/messages")
        .await;
    assert_eq!(truth[0]["folder"], "inbox");
    assert_eq!(truth[0]["read"], false);
    assert_eq!(truth[0]["internet_message_id"], "<m1@x>");
    assert!(truth[0].get("labels").is_none());
}

#[tokio::test]
async fn ground_truth_follows_patches_and_deletes() {
    let emu = Emu::start().await;
    emu.mailbox("google", "g@ourco.test").await;
    let id = emu
        .deliver(
            "g@ourco.test",
            "labels=INBOX,UNREAD,Projects/Acme",
            simple("p@x", "Patch", "", "x"),
        )
        .await;
    let (_, truth) = emu
        .control_get("/_emulator/mailboxes/g@ourco.test/messages")
        .await;
    assert_eq!(truth[0]["read"], false);
    assert_eq!(truth[0]["labels"], json!(["INBOX", "Label_1"]));
    let (status, patched) = emu
        .control(
            reqwest::Method::PATCH,
            &format!("/_emulator/mailboxes/g@ourco.test/messages/{id}"),
            Some(json!({"read": true, "starred": true, "labels": ["INBOX", "IMPORTANT"]})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        (patched["read"].as_bool(), patched["starred"].as_bool()),
        (Some(true), Some(true))
    );
    assert_eq!(patched["labels"], json!(["IMPORTANT", "INBOX"]));
    assert_eq!(
        emu.control_delete(&format!("/_emulator/mailboxes/g@ourco.test/messages/{id}"))
            .await
            .0,
        204
    );
    assert_eq!(
        emu.control_delete(&format!("/_emulator/mailboxes/g@ourco.test/messages/{id}"))
            .await
            .0,
        404
    );
    let (_, truth) = emu
        .control_get("/_emulator/mailboxes/g@ourco.test/messages")
        .await;
    assert_eq!(truth, json!([]));
    let r = emu
        .http
        .post(emu.url("/_emulator/mailboxes/nobody@x.test/messages"))
        .body("x")
        .send()
        .await
        .expect("deliver");
    assert_eq!(r.status(), 404);
    let r = emu
        .http
        .post(emu.url("/_emulator/mailboxes/g@ourco.test/messages"))
        .body("")
        .send()
        .await
        .expect("deliver");
    assert_eq!(r.status(), 400);
}

#[tokio::test]
async fn faults_hit_the_named_route_count_times_with_retry_after_then_clear() {
    let (emu, token) = google_with(&[READONLY]).await;
    let (status, _) = emu.control(reqwest::Method::POST, "/_emulator/faults", Some(json!({"mailbox": "me@ourco.test", "route": "/messages", "status": 503, "retry_after": 7, "count": 2}))).await;
    assert_eq!(status, 201);
    assert_eq!(
        emu.get(&token, "/gmail/v1/users/me/profile").await.0,
        200,
        "other routes unaffected"
    );
    for _ in 0..2 {
        let r = emu
            .http
            .get(emu.url("/gmail/v1/users/me/messages"))
            .bearer_auth(&token)
            .send()
            .await
            .expect("list");
        assert_eq!(r.status(), 503);
        assert_eq!(
            r.headers().get("retry-after").and_then(|v| v.to_str().ok()),
            Some("7")
        );
        assert_google_error(&r.json().await.expect("json"), 503, "backendError");
    }
    assert_eq!(emu.get(&token, "/gmail/v1/users/me/messages").await.0, 200);
    emu.control(
        reqwest::Method::POST,
        "/_emulator/faults",
        Some(json!({"status": 429})),
    )
    .await;
    let (status, body) = emu.get(&token, "/gmail/v1/users/me/labels").await;
    assert_eq!(status, 429);
    assert_google_error(&body, 429, "rateLimitExceeded");
    assert_eq!(emu.control_delete("/_emulator/faults").await.0, 204);
    assert_eq!(emu.get(&token, "/gmail/v1/users/me/labels").await.0, 200);
    let (status, _) = emu
        .control(
            reqwest::Method::POST,
            "/_emulator/faults",
            Some(json!({"status": 404})),
        )
        .await;
    assert_eq!(status, 400, "only 429/5xx faults");
}

#[tokio::test]
async fn stats_count_requests_errors_and_units_and_tokens_are_listed() {
    let (emu, token) = google_with(&[READONLY]).await;
    emu.get(&token, "/gmail/v1/users/me/profile").await;
    emu.get(&token, "/gmail/v1/users/me/messages/0123456789abcdef")
        .await;
    let (_, stats) = emu.control_get("/_emulator/stats").await;
    let rows = stats["requests"].as_array().expect("rows");
    let get = rows
        .iter()
        .find(|r| {
            r["route"] == "/gmail/v1/users/{userId}/messages/{id}"
                && r["mailbox"] == "me@ourco.test"
        })
        .expect("row");
    assert_eq!(
        (get["requests"].as_u64(), get["errors"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(get["statuses"]["404"], 1);
    assert_eq!(stats["quota_units"]["me@ourco.test"], 6);
    let (_, tokens) = emu.control_get("/_emulator/tokens").await;
    let tokens: Vec<Value> = tokens.as_array().expect("tokens").clone();
    assert!(tokens.iter().any(|t| t["token"] == token
        && t["kind"] == "access"
        && t["mailbox"] == "me@ourco.test"
        && t["expires_at"].is_string()));
    assert!(tokens.iter().any(|t| t["kind"] == "refresh"));
}

#[tokio::test]
async fn seeded_emulators_have_deterministic_mailboxes_on_both_providers() {
    let emu = Emu::with(EmulatorConfig {
        seed: 3,
        mailboxes: 3,
        messages: 120,
        ..config()
    })
    .await;
    let (_, list) = emu.control_get("/_emulator/mailboxes").await;
    let list = list.as_array().expect("list").clone();
    assert_eq!(list.len(), 3);
    assert!(list.iter().all(|m| m["messages"] == 120));
    let providers: Vec<&str> = list.iter().filter_map(|m| m["provider"].as_str()).collect();
    assert!(providers.contains(&"google") && providers.contains(&"microsoft"));
    let address = corpus::mailbox_info(0).address;
    let (_, a) = emu
        .control_get(&format!("/_emulator/mailboxes/{address}/messages"))
        .await;
    let again = Emu::with(EmulatorConfig {
        seed: 3,
        mailboxes: 1,
        messages: 120,
        ..config()
    })
    .await;
    let (_, b) = again
        .control_get(&format!("/_emulator/mailboxes/{address}/messages"))
        .await;
    assert_eq!(a, b, "same seed, same mailbox");
    let threads: std::collections::HashSet<&str> = a
        .as_array()
        .expect("a")
        .iter()
        .filter_map(|m| m["thread_id"].as_str())
        .collect();
    assert!(threads.len() < 120, "replies are threaded");
}

#[tokio::test]
async fn the_generated_corpus_reads_cleanly_through_the_gmail_api() {
    let emu = Emu::with(EmulatorConfig {
        seed: 11,
        mailboxes: 1,
        messages: 150,
        ..config()
    })
    .await;
    let address = corpus::mailbox_info(0).address;
    let token = emu.token(&address, &[READONLY]).await;
    let mut page_token = String::new();
    let mut seen = 0;
    loop {
        let (status, page) = emu
            .get(
                &token,
                &format!(
                    "/gmail/v1/users/me/messages?maxResults=100&includeSpamTrash=true{page_token}"
                ),
            )
            .await;
        assert_eq!(status, 200);
        for m in page["messages"].as_array().cloned().unwrap_or_default() {
            let (status, full) = emu
                .get(
                    &token,
                    &format!(
                        "/gmail/v1/users/me/messages/{}",
                        m["id"].as_str().expect("id")
                    ),
                )
                .await;
            assert_eq!(status, 200);
            crate::google::schema::assert_valid("Message", &full);
            seen += 1;
        }
        match page["nextPageToken"].as_str() {
            Some(t) => page_token = format!("&pageToken={t}"),
            None => break,
        }
    }
    assert_eq!(seen, 150);
}

#[tokio::test]
async fn mbox_and_eml_folders_import_through_the_delivery_path() {
    let dir = std::env::temp_dir().join(format!("tl-import-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::write(dir.join("a.eml"), simple("imp1@x", "Imported one", "", "x")).expect("write");
    std::fs::write(dir.join("b.eml"), simple("imp2@x", "Imported two", "", "y")).expect("write");
    let emu = Emu::start().await;
    emu.mailbox("google", "me@ourco.test").await;
    let mailbox = emu.stored_mailbox("me@ourco.test");
    assert_eq!(
        corpus::import::import_path(&mailbox, &dir).expect("import"),
        2
    );
    let mbox = dir.join("box.mbox");
    let mut text = b"From a@b Mon Jan  1 00:00:00 2024\n".to_vec();
    text.extend(simple("imp3@x", "From the mbox", "", "From here on\n"));
    std::fs::write(&mbox, text).expect("write");
    assert_eq!(
        corpus::import::import_path(&mailbox, &mbox).expect("import"),
        1
    );
    let (_, truth) = emu
        .control_get("/_emulator/mailboxes/me@ourco.test/messages")
        .await;
    assert_eq!(truth.as_array().map(Vec::len), Some(3));
    let _ = std::fs::remove_dir_all(&dir);
}
