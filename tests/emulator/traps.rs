//! One named test per Gmail / Google OAuth fidelity trap of provider-apis.md §F (1-12).
//! Traps 13-26 are Microsoft-only (refresh-token rotation, per-folder delta, Graph ids,
//! $batch, Graph throttling, subscriptions, Graph date/base64 rules) and belong to the
//! Microsoft side of the emulator.

use std::time::Duration;

use base64::Engine as _;
use serde_json::{json, Value};
use threadline::emulator::{EmulatorConfig, Quota, Tunables};

use crate::schema::{assert_google_error, assert_valid};
use crate::support::{config, google_with, simple, Emu, METADATA, MODIFY, READONLY};

const ME: &str = "/gmail/v1/users/me";

fn ids(v: &Value) -> Vec<String> {
    v["messages"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|m| m["id"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn trap01_history_404_after_expire_cursors_means_full_resync() {
    let (emu, token) = google_with(&[READONLY]).await;
    let (_, profile) = emu.get(&token, &format!("{ME}/profile")).await;
    let old = profile["historyId"]
        .as_str()
        .expect("historyId")
        .to_string();
    emu.deliver(
        "me@ourco.test",
        "labels=INBOX",
        simple("t1@x", "One", "", "x"),
    )
    .await;
    assert_eq!(
        emu.get(&token, &format!("{ME}/history?startHistoryId={old}"))
            .await
            .0,
        200
    );
    let (status, _) = emu
        .control(
            reqwest::Method::POST,
            "/_emulator/mailboxes/me@ourco.test/expire-cursors",
            None,
        )
        .await;
    assert_eq!(status, 204);
    let (status, body) = emu
        .get(&token, &format!("{ME}/history?startHistoryId={old}"))
        .await;
    assert_eq!(status, 404);
    assert_google_error(&body, 404, "notFound");
    assert_eq!(body["error"]["message"], "Requested entity was not found.");
    // A fresh cursor (getProfile before the full sync) works again.
    let (_, profile) = emu.get(&token, &format!("{ME}/profile")).await;
    let fresh = profile["historyId"].as_str().expect("historyId");
    assert!(fresh.parse::<u64>().expect("n") > old.parse::<u64>().expect("n"));
    assert_eq!(
        emu.get(&token, &format!("{ME}/history?startHistoryId={fresh}"))
            .await
            .0,
        200
    );
}

#[tokio::test]
async fn trap02_push_carries_the_new_head_and_bursts_are_coalesced() {
    let (received, url) = crate::batch_watch::push_receiver().await;
    let (emu, token) = google_with(&[READONLY]).await;
    let (_, watch) = emu
        .post(&token, &format!("{ME}/watch"), json!({"topicName": url}))
        .await;
    let start = watch["historyId"].as_str().expect("historyId").to_string();
    for n in 0..5 {
        emu.deliver(
            "me@ourco.test",
            "labels=INBOX",
            simple(&format!("burst{n}@x"), "Burst", "", "x"),
        )
        .await;
    }
    tokio::time::sleep(Duration::from_millis(700)).await;
    let (_, profile) = emu.get(&token, &format!("{ME}/profile")).await;
    let pushes = received.lock().expect("lock").clone();
    assert_eq!(
        pushes.len(),
        1,
        "five changes within a second give one push: {pushes:?}"
    );
    let data = base64::engine::general_purpose::STANDARD
        .decode(pushes[0]["message"]["data"].as_str().expect("data"))
        .expect("base64");
    let payload: Value = serde_json::from_slice(&data).expect("json");
    assert_eq!(payload["emailAddress"], "me@ourco.test");
    assert_eq!(
        payload["historyId"].as_u64().map(|h| h.to_string()),
        profile["historyId"].as_str().map(str::to_string),
        "the new head, not the watch's start"
    );
    assert_ne!(
        payload["historyId"]
            .as_u64()
            .map(|h| h.to_string())
            .as_deref(),
        Some(start.as_str())
    );
    let (_, history) = emu
        .get(&token, &format!("{ME}/history?startHistoryId={start}"))
        .await;
    assert_eq!(
        history["history"].as_array().map(Vec::len),
        Some(5),
        "history from the stored cursor has every change"
    );
}

#[tokio::test]
async fn trap03_trash_is_a_label_not_a_delete_and_list_hides_trash() {
    let (emu, token) = google_with(&[MODIFY]).await;
    let (_, profile) = emu.get(&token, &format!("{ME}/profile")).await;
    let start = profile["historyId"].as_str().expect("h").to_string();
    let id = emu
        .deliver(
            "me@ourco.test",
            "labels=INBOX",
            simple("tr@x", "Trash me", "", "x"),
        )
        .await;
    let (status, m) = emu
        .post(&token, &format!("{ME}/messages/{id}/trash"), json!({}))
        .await;
    assert_eq!(status, 200);
    assert!(m["labelIds"]
        .as_array()
        .expect("labels")
        .contains(&json!("TRASH")));
    let (_, history) = emu
        .get(&token, &format!("{ME}/history?startHistoryId={start}"))
        .await;
    let records = history["history"].as_array().expect("records");
    assert!(records.iter().any(|r| r["labelsAdded"][0]["labelIds"]
        .as_array()
        .is_some_and(|l| l.contains(&json!("TRASH")))));
    assert!(
        records.iter().all(|r| r.get("messagesDeleted").is_none()),
        "trash is not a delete"
    );
    let (_, list) = emu.get(&token, &format!("{ME}/messages")).await;
    assert!(ids(&list).is_empty());
    let (_, list) = emu
        .get(&token, &format!("{ME}/messages?includeSpamTrash=true"))
        .await;
    assert_eq!(ids(&list), vec![id.clone()]);
    assert_eq!(
        emu.get(&token, &format!("{ME}/messages/{id}")).await.0,
        200,
        "still fetchable"
    );
}

#[tokio::test]
async fn trap04_int64_fields_are_strings_and_empty_arrays_are_omitted() {
    let (emu, token) = google_with(&[READONLY]).await;
    let id = emu
        .deliver(
            "me@ourco.test",
            "labels=",
            simple("i64@x", "No labels", "", "x"),
        )
        .await;
    let (_, m) = emu
        .get(&token, &format!("{ME}/messages/{id}?format=minimal"))
        .await;
    assert!(m["historyId"].is_string() && m["internalDate"].is_string());
    assert!(m["sizeEstimate"].is_u64());
    assert!(
        m.get("labelIds").is_none(),
        "no labels: labelIds omitted, not []: {m}"
    );
    let (_, full) = emu.get(&token, &format!("{ME}/messages/{id}")).await;
    assert!(
        full["payload"].get("parts").is_none(),
        "leaf payload has no parts key"
    );
    let (_, profile) = emu.get(&token, &format!("{ME}/profile")).await;
    assert!(profile["historyId"].is_string());
    let (_, list) = emu
        .get(&token, &format!("{ME}/messages?labelIds=STARRED"))
        .await;
    assert_eq!(list, json!({"resultSizeEstimate": 0}));
    assert_valid("Message", &m);
}

#[tokio::test]
async fn trap05_body_data_is_padded_base64url_of_transfer_decoded_bytes_in_the_part_charset() {
    let (emu, token) = google_with(&[READONLY]).await;
    let raw = b"From: a@b.de\r\nSubject: =?ISO-8859-1?Q?Gr=FC=DFe?=\r\nMessage-ID: <latin@x>\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nGr=FC=DFe =3F>>>\r\n".to_vec();
    let id = emu.deliver("me@ourco.test", "labels=INBOX", raw).await;
    let (_, m) = emu.get(&token, &format!("{ME}/messages/{id}")).await;
    let data = m["payload"]["body"]["data"].as_str().expect("data");
    let bytes = base64::engine::general_purpose::URL_SAFE
        .decode(data)
        .expect("padded base64url");
    assert_eq!(
        bytes, b"Gr\xfc\xdfe ?>>>\r\n",
        "QP decoded, still ISO-8859-1, not UTF-8"
    );
    assert!(
        !data.contains('+') && !data.contains('/'),
        "url-safe alphabet"
    );
    assert!(data.len() % 4 == 0, "padded");
    assert_eq!(m["payload"]["body"]["size"], bytes.len());
    let header = m["payload"]["headers"]
        .as_array()
        .expect("h")
        .iter()
        .find(|h| h["name"] == "Content-Type")
        .expect("ct")
        .clone();
    assert_eq!(header["value"], "text/plain; charset=iso-8859-1");
    let (_, raw) = emu
        .get(&token, &format!("{ME}/messages/{id}?format=raw"))
        .await;
    let decoded = base64::engine::general_purpose::URL_SAFE
        .decode(raw["raw"].as_str().expect("raw"))
        .expect("raw base64url");
    assert!(decoded.starts_with(b"From: a@b.de\r\n"));
}

#[tokio::test]
async fn trap06_attachment_ids_change_between_gets_yet_recent_ones_work() {
    let (emu, token) = google_with(&[READONLY]).await;
    let raw = b"From: a@b\r\nSubject: att\r\nMessage-ID: <att@x>\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nsee file\r\n--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"a.bin\"\r\nContent-Transfer-Encoding: base64\r\n\r\nAAECAwQF\r\n--b--\r\n".to_vec();
    let id = emu.deliver("me@ourco.test", "labels=INBOX", raw).await;
    let (_, first) = emu.get(&token, &format!("{ME}/messages/{id}")).await;
    let (_, second) = emu.get(&token, &format!("{ME}/messages/{id}")).await;
    let a1 = first["payload"]["parts"][1]["body"]["attachmentId"]
        .as_str()
        .expect("a1")
        .to_string();
    let a2 = second["payload"]["parts"][1]["body"]["attachmentId"]
        .as_str()
        .expect("a2")
        .to_string();
    assert_ne!(a1, a2, "ephemeral ids");
    assert_eq!(
        first["payload"]["parts"][1]["partId"], second["payload"]["parts"][1]["partId"],
        "partId is the stable key"
    );
    for a in [&a1, &a2] {
        let (status, body) = emu
            .get(&token, &format!("{ME}/messages/{id}/attachments/{a}"))
            .await;
        assert_eq!(status, 200);
        assert_eq!(body["data"], "AAECAwQF");
        assert_eq!(body["size"], 6);
    }
    let (status, body) = emu
        .get(
            &token,
            &format!("{ME}/messages/{id}/attachments/ANGjdJmadeup"),
        )
        .await;
    assert_eq!(status, 400);
    assert_google_error(&body, 400, "invalidArgument");
}

#[tokio::test]
async fn trap07_internal_date_is_receipt_time_and_headers_keep_case_order_and_duplicates() {
    let (emu, token) = google_with(&[READONLY]).await;
    let raw = b"Received: from a by b; Mon, 1 Jan 2024 10:00:05 +0000\r\nreceived: from c by d; Mon, 1 Jan 2024 10:00:01 +0000\r\nFROM: a@b\r\nX-Custom-HEADER: one\r\nSubject: dup\r\nX-Custom-HEADER: two\r\nDate: Mon, 01 Jan 2024 10:00:00 +0000\r\nMessage-ID: <dup@x>\r\n\r\nbody\r\n".to_vec();
    let id = emu
        .deliver(
            "me@ourco.test",
            "labels=INBOX&internal_date=1717000000000",
            raw,
        )
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
        .deliver(
            "me@ourco.test",
            "labels=INBOX",
            simple("meta@x", "Meta", "", "x"),
        )
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
    let emu = Emu::with(EmulatorConfig {
        quota: Quota::Realistic,
        tunables,
        ..config()
    })
    .await;
    emu.mailbox("google", "me@ourco.test").await;
    let token = emu.token("me@ourco.test", &[READONLY]).await;
    let id = emu
        .deliver(
            "me@ourco.test",
            "labels=INBOX",
            simple("q@x", "Quota", "", "x"),
        )
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
        emu.deliver(
            "me@ourco.test",
            "labels=INBOX",
            simple(&format!("e{n}@x"), "E", "", "x"),
        )
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
        let code = crate::support::query(&redirect, "code").expect("code");
        let (_, t) = emu
            .exchange(&code, crate::support::VERIFIER, crate::support::REDIRECT)
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
        .deliver(
            "me@ourco.test",
            "labels=INBOX&internal_date=1700000000000",
            simple("root@x", "Quote 7", "", "x"),
        )
        .await;
    let reply = emu
        .deliver(
            "me@ourco.test",
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
        .deliver(
            "me@ourco.test",
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
