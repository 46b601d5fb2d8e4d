//! One named test per Gmail / Google OAuth fidelity trap of provider-apis.md §F: traps 1-6
//! here, 7-12 in `traps_7_12.rs`.
//!
//! Traps 13-26 do not apply to Google; they are Microsoft identity / Graph behaviour for the
//! Microsoft side of the emulator: 13 refresh-token rotation (Google does not rotate: trap 11
//! tests the absence), 14 per-folder delta and moves (Gmail has labels and one mailbox-wide
//! history), 15 Graph ids changing on move / `ImmutableId` (Gmail ids never change), 16
//! duplicates in delta pages, 17 410 `SyncStateNotFound` (Gmail uses 404, trap 1), 18
//! `$select`-only fields and `$top`, 19 `$batch` JSON semantics (Gmail batch is multipart,
//! tested in `batch_watch.rs`), 20 per app+mailbox throttling with 4 concurrent requests, 21-23
//! Graph change-notification subscriptions, validation and lifetimes (Gmail uses Pub/Sub
//! push, trap 2), 24 `/me` vs `/users/{id}` with app-only tokens (Gmail has no app-only mail
//! access here), 25 opaque tokens with 60-90 min lifetimes, 26 Graph UTC dates and standard
//! base64 `contentBytes` (Gmail's base64url is trap 5).

use std::time::Duration;

use base64::Engine as _;
use serde_json::{json, Value};

use crate::google::schema::{assert_google_error, assert_valid};
use crate::google::support::{google_with, ids, simple, MODIFY, READONLY};

const ME: &str = "/gmail/v1/users/me";

#[tokio::test]
async fn trap01_history_404_after_expire_cursors_means_full_resync() {
    let (emu, token) = google_with(&[READONLY]).await;
    let (_, profile) = emu.get(&token, &format!("{ME}/profile")).await;
    let old = profile["historyId"]
        .as_str()
        .expect("historyId")
        .to_string();
    emu.deliver_simple("labels=INBOX", "t1@x", "One", "x").await;
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
    // So does the historyId of a message fetched during the resync.
    let (_, list) = emu.get(&token, &format!("{ME}/messages")).await;
    let newest = list["messages"][0]["id"].as_str().expect("id").to_string();
    let (_, m) = emu
        .get(&token, &format!("{ME}/messages/{newest}?format=minimal"))
        .await;
    let from_message = m["historyId"].as_str().expect("historyId");
    assert_eq!(
        emu.get(
            &token,
            &format!("{ME}/history?startHistoryId={from_message}")
        )
        .await
        .0,
        200
    );
}

#[tokio::test]
async fn trap02_push_carries_the_new_head_and_bursts_are_coalesced() {
    let (received, url) = crate::google::batch_watch::push_receiver().await;
    let (emu, token) = google_with(&[READONLY]).await;
    let (_, watch) = emu
        .post(&token, &format!("{ME}/watch"), json!({"topicName": url}))
        .await;
    let start = watch["historyId"].as_str().expect("historyId").to_string();
    for n in 0..5 {
        emu.deliver_me(
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
        .deliver_simple("labels=INBOX", "tr@x", "Trash me", "x")
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
        .deliver_simple("labels=", "i64@x", "No labels", "x")
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
    let id = emu.deliver_me("labels=INBOX", raw).await;
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
    let id = emu.deliver_me("labels=INBOX", raw).await;
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
