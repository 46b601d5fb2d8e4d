//! Fidelity traps 7-12 of provider-apis.md §F (see traps.rs for 1-6 and the traps that do not
//! apply to Google).
//! Traps 13-26 are Microsoft-only (refresh-token rotation, per-folder delta, Graph ids,
//! $batch, Graph throttling, subscriptions, Graph date/base64 rules) and belong to the
//! Microsoft side of the emulator.

use std::time::Duration;

use serde_json::{json, Value};
use threadline_emulator::Tunables;

use crate::google::schema::assert_google_error;
use crate::google::support::{
    google_throttled, google_with, ids, simple, Emu, METADATA, MODIFY, READONLY,
};

const ME: &str = "/gmail/v1/users/me";

#[tokio::test]
async fn trap07_internal_date_is_receipt_time_and_headers_keep_case_order_and_duplicates() {
    let (emu, token) = google_with(&[READONLY]).await;
    let raw = b"Received: from a by b; Mon, 1 Jan 2024 10:00:05 +0000\r\nreceived: from c by d; Mon, 1 Jan 2024 10:00:01 +0000\r\nFROM: a@b\r\nX-Custom-HEADER: one\r\nSubject: dup\r\nX-Custom-HEADER: two\r\nDate: Mon, 01 Jan 2024 10:00:00 +0000\r\nMessage-ID: <dup@x>\r\n\r\nbody\r\n".to_vec();
    let id = emu
        .deliver_me("labels=INBOX&internal_date=1717000000000", raw)
        .await;
    let (_, m) = emu
        .get(&token, &format!("{ME}/messages/{id}?format=metadata"))
        .await;
    assert_eq!(
        m["internalDate"], "1717000000000",
        "receipt time, not the Date header (1704103200000)"
    );
    let names: Vec<&str> = m["payload"]["headers"]
        .as_array()
        .expect("h")
        .iter()
        .filter_map(|h| h["name"].as_str())
        .collect();
    assert_eq!(
        names,
        vec![
            "Received",
            "received",
            "FROM",
            "X-Custom-HEADER",
            "Subject",
            "X-Custom-HEADER",
            "Date",
            "Message-ID"
        ]
    );
    let (_, only) = emu.get(&token, &format!("{ME}/messages/{id}?format=metadata&metadataHeaders=x-custom-header&metadataHeaders=Subject")).await;
    let values: Vec<&str> = only["payload"]["headers"]
        .as_array()
        .expect("h")
        .iter()
        .filter_map(|h| h["value"].as_str())
        .collect();
    assert_eq!(values, vec!["one", "dup", "two"]);
}

#[tokio::test]
async fn trap08_metadata_scope_even_beside_readonly_forbids_q_and_full_format() {
    let (emu, token) = google_with(&[METADATA, READONLY]).await;
    let id = emu
        .deliver_simple("labels=INBOX", "meta@x", "Meta", "x")
        .await;
    let (status, body) = emu.get(&token, &format!("{ME}/messages?q=from:acme")).await;
    assert_eq!(status, 403);
    assert_google_error(&body, 403, "forbidden");
    assert_eq!(
        body["error"]["message"],
        "Metadata scope does not support 'q' parameter"
    );
    let (status, body) = emu.get(&token, &format!("{ME}/messages/{id}")).await;
    assert_eq!(status, 403, "no format = FULL");
    assert_eq!(
        body["error"]["message"],
        "Metadata scope doesn't allow format FULL"
    );
    assert_eq!(
        emu.get(&token, &format!("{ME}/messages/{id}?format=raw"))
            .await
            .0,
        403
    );
    assert_eq!(
        emu.get(&token, &format!("{ME}/messages/{id}?format=metadata"))
            .await
            .0,
        200
    );
    assert_eq!(emu.get(&token, &format!("{ME}/messages")).await.0, 200);
}

#[tokio::test]
async fn trap09_quota_exhaustion_and_concurrency_are_retryable_429s() {
    let tunables = Tunables {
        gmail_units_per_minute: 12,
        gmail_concurrency: 1,
        ..Tunables::default()
    };
    let (emu, token) = google_throttled(tunables, &[READONLY]).await;
    let id = emu
        .deliver_simple("labels=INBOX", "q@x", "Quota", "x")
        .await;
    assert_eq!(emu.get(&token, &format!("{ME}/messages/{id}")).await.0, 200);
    assert_eq!(emu.get(&token, &format!("{ME}/messages/{id}")).await.0, 200);
    let r = emu
        .http
        .get(emu.url(&format!("{ME}/messages/{id}")))
        .bearer_auth(&token)
        .send()
        .await
        .expect("get");
    assert_eq!(r.status(), 429, "12 units per minute allow two gets of 5");
    let retry: u64 = r
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("Retry-After");
    assert!((1..=60).contains(&retry));
    let body: Value = r.json().await.expect("json");
    assert_google_error(&body, 429, "rateLimitExceeded");
    assert_eq!(body["error"]["errors"][0]["domain"], "usageLimits");

    let (status, _) = emu
        .control(
            reqwest::Method::PATCH,
            "/_emulator/settings",
            Some(json!({"gmail_units_per_minute": 100_000})),
        )
        .await;
    assert_eq!(status, 200);
    emu.control(
        reqwest::Method::POST,
        "/_emulator/faults",
        Some(json!({"route": "/profile", "status": 503, "rate": 0.0, "latency_ms": 400})),
    )
    .await;
    let profile_path = format!("{ME}/profile");
    let slow = emu.get(&token, &profile_path);
    let fast = async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        emu.get(&token, &format!("{ME}/labels")).await
    };
    let ((slow_status, _), (fast_status, body)) = tokio::join!(slow, fast);
    assert_eq!(slow_status, 200);
    assert_eq!(fast_status, 429);
    assert_eq!(
        body["error"]["message"],
        "Too many concurrent requests for user"
    );
}

#[tokio::test]
async fn trap10_a_next_page_token_may_lead_to_an_empty_page() {
    let (emu, token) = google_with(&[READONLY]).await;
    for n in 0..2 {
        emu.deliver_me("labels=INBOX", simple(&format!("e{n}@x"), "E", "", "x"))
            .await;
    }
    let (_, first) = emu
        .get(&token, &format!("{ME}/messages?maxResults=2"))
        .await;
    assert_eq!(ids(&first).len(), 2);
    let next = first["nextPageToken"]
        .as_str()
        .expect("a full page carries a token");
    let (status, empty) = emu
        .get(
            &token,
            &format!("{ME}/messages?maxResults=2&pageToken={next}"),
        )
        .await;
    assert_eq!(status, 200);
    assert!(ids(&empty).is_empty());
    assert!(
        empty.get("nextPageToken").is_none(),
        "the loop ends when the token is absent"
    );
}

#[tokio::test]
async fn trap11_refresh_has_no_refresh_token_the_101st_kills_the_oldest_and_scope_may_shrink() {
    let emu = Emu::start().await;
    emu.mailbox("google", "me@ourco.test").await;
    emu.control(
        reqwest::Method::PATCH,
        "/_emulator/settings",
        Some(json!({"refresh_token_cap": 2})),
    )
    .await;
    let mut rts = Vec::new();
    for _ in 0..3 {
        let r = emu
            .authorize(
                "me@ourco.test",
                &[READONLY, MODIFY],
                "&access_type=offline&prompt=consent",
            )
            .await;
        let page = r.text().await.expect("page");
        let redirect = emu
            .consent(&page, "me@ourco.test", Some(&[READONLY]), "approve")
            .await;
        let code = crate::google::support::query(&redirect, "code").expect("code");
        let (_, t) = emu
            .exchange(
                &code,
                crate::google::support::VERIFIER,
                crate::google::support::REDIRECT,
            )
            .await;
        assert_eq!(t["scope"], READONLY, "granted subset");
        rts.push(t["refresh_token"].as_str().expect("rt").to_string());
    }
    let (status, body) = emu.refresh(&rts[0]).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "oldest died silently"
    );
    let (status, body) = emu.refresh(&rts[2]).await;
    assert_eq!(status, 200);
    assert!(body.get("refresh_token").is_none());
}

#[tokio::test]
async fn trap12_ids_are_hex_and_thread_id_is_the_first_messages_id() {
    let (emu, token) = google_with(&[READONLY]).await;
    let first = emu
        .deliver_simple(
            "labels=INBOX&internal_date=1700000000000",
            "root@x",
            "Quote 7",
            "x",
        )
        .await;
    let reply = emu
        .deliver_me(
            "labels=INBOX&internal_date=1700000100000",
            simple(
                "r1@x",
                "RE: Quote 7",
                "In-Reply-To: <root@x>\r\nReferences: <root@x>\r\n",
                "y",
            ),
        )
        .await;
    let unrelated = emu
        .deliver_me(
            "labels=INBOX&internal_date=1700000200000",
            simple("r2@x", "Something else", "References: <root@x>\r\n", "z"),
        )
        .await;
    for id in [&first, &reply, &unrelated] {
        assert_eq!(id.len(), 16);
        assert!(id
            .chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
    }
    let (_, r) = emu
        .get(&token, &format!("{ME}/messages/{reply}?format=minimal"))
        .await;
    assert_eq!(r["threadId"], json!(first));
    let (_, u) = emu
        .get(&token, &format!("{ME}/messages/{unrelated}?format=minimal"))
        .await;
    assert_eq!(
        u["threadId"],
        json!(unrelated),
        "a reference with another subject starts a new thread"
    );
    let (_, profile) = emu.get(&token, &format!("{ME}/profile")).await;
    assert_eq!(profile["threadsTotal"], 2);
}
