//! `EmulatorClient` against a running emulator: every call of the control plane, typed.

use reqwest::StatusCode;
use serde_json::json;
use threadline_emulator::control::{CreateMailbox, DeliverQuery, MessagePatch};
use threadline_emulator::faults::FaultRule;
use threadline_emulator::store::Provider;
use threadline_emulator::{ClientError, EmulatorClient, EmulatorConfig, Quota, RunningEmulator};

async fn started() -> (RunningEmulator, EmulatorClient) {
    let config = EmulatorConfig {
        quota: Quota::Off,
        ..EmulatorConfig::default()
    };
    let running = crate::support::start(config).await;
    let client = running.client();
    (running, client)
}

fn mailbox(provider: Provider, address: &str) -> CreateMailbox {
    CreateMailbox {
        provider,
        address: address.into(),
        display_name: None,
        tenant: None,
    }
}

fn raw(message_id: &str, subject: &str) -> Vec<u8> {
    format!(
        "From: Oliver Smith <oliver@acme.test>\r\nTo: me@ourco.test\r\nSubject: {subject}\r\n\
         Date: Mon, 01 Jan 2024 10:00:00 +0000\r\nMessage-ID: <{message_id}>\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\nHello\r\n"
    )
    .into_bytes()
}

#[tokio::test]
async fn mailboxes_messages_and_ground_truth_round_trip() {
    let (running, client) = started().await;
    let created = client
        .create_mailbox(&mailbox(Provider::Google, "Me@Gmail.test"))
        .await
        .expect("create");
    assert_eq!(created.address, "me@gmail.test");
    assert_eq!(created.messages, 0);
    let query = DeliverQuery {
        labels: Some("INBOX,UNREAD,STARRED".into()),
        ..DeliverQuery::default()
    };
    let id = client
        .deliver("me@gmail.test", raw("a@acme.test", "First"), &query)
        .await
        .expect("deliver");
    let truth = client.truth("me@gmail.test").await.expect("truth");
    assert_eq!(truth.len(), 1);
    assert_eq!(truth[0].id, id);
    assert_eq!(
        truth[0].internet_message_id.as_deref(),
        Some("<a@acme.test>")
    );
    assert!(!truth[0].read && truth[0].starred);
    assert_eq!(truth[0].labels.as_deref(), Some(&["INBOX".to_string()][..]));

    let patch = MessagePatch {
        read: Some(true),
        ..MessagePatch::default()
    };
    let patched = client
        .patch_message("me@gmail.test", &id, &patch)
        .await
        .expect("patch");
    assert!(patched.read);
    let listed = client.mailboxes().await.expect("mailboxes");
    assert_eq!((listed.len(), listed[0].unread), (1, 0));

    client
        .expire_cursors("me@gmail.test")
        .await
        .expect("expire");
    assert_eq!(client.mailboxes().await.expect("list")[0].cursor_epoch, 1);
    client
        .delete_message("me@gmail.test", &id)
        .await
        .expect("delete");
    assert!(client
        .truth("me@gmail.test")
        .await
        .expect("truth")
        .is_empty());
    running.shutdown().await;
}

#[tokio::test]
async fn outlook_deliveries_take_a_folder_and_read_state() {
    let (running, client) = started().await;
    client
        .create_mailbox(&mailbox(Provider::Microsoft, "me@outlook.test"))
        .await
        .expect("create");
    let query = DeliverQuery {
        folder: Some("archive".into()),
        read: Some(true),
        ..DeliverQuery::default()
    };
    client
        .deliver("me@outlook.test", raw("b@acme.test", "Second"), &query)
        .await
        .expect("deliver");
    let truth = client.truth("me@outlook.test").await.expect("truth");
    assert_eq!(truth[0].folder.as_deref(), Some("archive"));
    assert!(truth[0].read && truth[0].labels.is_none());
    running.shutdown().await;
}

#[tokio::test]
async fn a_refusal_carries_its_status_and_body() {
    let (running, client) = started().await;
    let err = client.truth("nobody@gmail.test").await.expect_err("404");
    let ClientError::Status { status, body } = err else {
        panic!("expected a status error, got {err}");
    };
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body.contains("no such mailbox"), "{body}");
    let conflict = async {
        let new = mailbox(Provider::Google, "twice@gmail.test");
        client.create_mailbox(&new).await.expect("first");
        client.create_mailbox(&new).await
    };
    assert!(matches!(
        conflict.await,
        Err(ClientError::Status {
            status: StatusCode::CONFLICT,
            ..
        })
    ));
    running.shutdown().await;
}

#[tokio::test]
async fn faults_settings_stats_and_tokens() {
    let (running, client) = started().await;
    let rule = FaultRule {
        route: Some("/gmail/v1/users/{userId}/messages".into()),
        retry_after: Some(3),
        ..FaultRule::status(503)
    };
    client.inject_fault(&rule).await.expect("inject");
    let faults = client.faults().await.expect("faults");
    assert_eq!((faults.len(), faults[0].status), (1, 503));
    client.clear_faults().await.expect("clear");
    assert!(client.faults().await.expect("faults").is_empty());

    let before = client.settings().await.expect("settings");
    let tuned = client
        .tune(&json!({ "access_token_ttl_secs": 5 }))
        .await
        .expect("tune");
    assert_eq!(tuned.access_token_ttl_secs, 5);
    assert_eq!(tuned.code_ttl_secs, before.code_ttl_secs);
    let graph = client
        .tune_microsoft(&json!({ "concurrency": 2 }))
        .await
        .expect("tune microsoft");
    assert_eq!(graph.concurrency, 2);
    assert_eq!(
        client.microsoft_settings().await.expect("get").concurrency,
        2
    );
    assert!(client.tune(&json!({ "code_ttl_secs": "x" })).await.is_err());

    assert!(client.tokens().await.expect("tokens").is_empty());
    let stats = client.stats().await.expect("stats");
    assert!(stats.total_requests >= 1);
    assert!(stats
        .requests
        .iter()
        .any(|r| r.route == "/_emulator/faults" && r.stats.requests >= 3));
    assert!(client.push_state().await.expect("push").watches.is_empty());
    running.shutdown().await;
}
