//! Bad and large input: Google's error shape, never a panic; quota error variants; watch
//! label filters.

use std::time::Duration;

use serde_json::{json, Value};
use threadline_emulator::Tunables;

use crate::google::schema::assert_google_error;
use crate::google::support::{google_throttled, google_with, simple, MODIFY, READONLY};

const ME: &str = "/gmail/v1/users/me";

#[tokio::test]
async fn extractor_rejections_come_back_in_googles_shape() {
    let (emu, token) = google_with(&[MODIFY]).await;
    let id = emu.deliver_simple("labels=INBOX", "r@x", "R", "x").await;
    let r = emu
        .http
        .put(emu.url(&format!("{ME}/messages/{id}")))
        .bearer_auth(&token)
        .send()
        .await
        .expect("put");
    assert_eq!(r.status(), 405);
    assert_google_error(&r.json().await.expect("json"), 405, "httpMethodNotAllowed");
    let huge = vec![b'x'; 3 * 1024 * 1024];
    let r = emu
        .http
        .post(emu.url(&format!("{ME}/messages/{id}/modify")))
        .bearer_auth(&token)
        .body(huge)
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 413);
    assert_google_error(&r.json().await.expect("json"), 413, "badRequest");
    let r = emu
        .http
        .post(emu.url(&format!("{ME}/messages/{id}/modify")))
        .bearer_auth(&token)
        .body("{not json")
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 400);
    assert_google_error(&r.json().await.expect("json"), 400, "invalidArgument");
    let r = emu
        .http
        .post(emu.url(&format!("{ME}/messages/{id}/modify")))
        .bearer_auth(&token)
        .body(vec![0xff, 0xfe])
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 400);
    assert_google_error(&r.json().await.expect("json"), 400, "invalidArgument");
}

#[tokio::test]
async fn large_and_binary_garbage_messages_are_delivered_and_served() {
    let (emu, token) = google_with(&[READONLY]).await;
    let mut big = simple("big@x", "Big", "", "");
    big.extend(std::iter::repeat_n(b"0123456789abcdef\r\n".as_slice(), 200_000).flatten());
    let id = emu.deliver_me("labels=INBOX", big).await;
    let (status, m) = emu
        .get(&token, &format!("{ME}/messages/{id}?format=minimal"))
        .await;
    assert_eq!(status, 200);
    assert!(m["sizeEstimate"].as_u64().is_some_and(|n| n > 3_000_000));
    let garbage: Vec<u8> = (0..5000u32)
        .map(|i| u8::try_from(i.wrapping_mul(2_654_435_761) >> 24).unwrap_or(0))
        .collect();
    let id = emu.deliver_me("labels=INBOX", garbage).await;
    for format in ["full", "metadata", "minimal", "raw"] {
        let (status, m) = emu
            .get(&token, &format!("{ME}/messages/{id}?format={format}"))
            .await;
        assert_eq!(status, 200, "{format}");
        crate::google::schema::assert_valid("Message", &m);
    }
}

#[tokio::test]
async fn the_403_quota_error_forms_can_be_selected() {
    for (form, reason) in [
        ("403", "rateLimitExceeded"),
        ("403-legacy", "userRateLimitExceeded"),
    ] {
        let tunables = Tunables {
            gmail_units_per_minute: 1,
            gmail_quota_error: form.into(),
            ..Tunables::default()
        };
        let (emu, token) = google_throttled(tunables, &[READONLY]).await;
        assert_eq!(emu.get(&token, &format!("{ME}/profile")).await.0, 200);
        let r = emu
            .http
            .get(emu.url(&format!("{ME}/profile")))
            .bearer_auth(&token)
            .send()
            .await
            .expect("get");
        assert_eq!(r.status(), 403);
        assert!(r.headers().get("retry-after").is_some());
        let body: Value = r.json().await.expect("json");
        assert_google_error(&body, 403, reason);
        assert_eq!(body["error"]["errors"][0]["domain"], "usageLimits");
    }
}

#[tokio::test]
async fn watch_label_filters_skip_changes_to_other_labels() {
    let (received, url) = crate::google::batch_watch::push_receiver().await;
    let (emu, token) = google_with(&[READONLY]).await;
    let (status, _) = emu
        .post(
            &token,
            &format!("{ME}/watch"),
            json!({"topicName": url, "labelIds": ["INBOX"], "labelFilterBehavior": "include"}),
        )
        .await;
    assert_eq!(status, 200);
    emu.deliver_simple("labels=SENT", "sent@x", "Sent", "x")
        .await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(
        received.lock().expect("lock").is_empty(),
        "a SENT-only message is filtered out"
    );
    emu.deliver_simple("labels=INBOX", "in@x", "In", "x").await;
    tokio::time::sleep(Duration::from_millis(1300)).await;
    assert_eq!(received.lock().expect("lock").len(), 1);
}

#[tokio::test]
async fn history_label_filter_keeps_records_of_messages_with_that_label() {
    let (emu, token) = google_with(&[READONLY]).await;
    let (_, profile) = emu.get(&token, &format!("{ME}/profile")).await;
    let start = profile["historyId"].as_str().expect("h").to_string();
    emu.deliver_simple("labels=INBOX", "f1@x", "In", "x").await;
    emu.deliver_simple("labels=SENT", "f2@x", "Out", "x").await;
    let (_, sent) = emu
        .get(
            &token,
            &format!("{ME}/history?startHistoryId={start}&labelId=SENT"),
        )
        .await;
    let records = sent["history"].as_array().expect("records");
    assert_eq!(records.len(), 1);
    assert_eq!(
        records[0]["messagesAdded"][0]["message"]["labelIds"],
        json!(["SENT"])
    );
}

#[tokio::test]
async fn unknown_gmail_paths_get_googles_404() {
    let (emu, token) = google_with(&[READONLY]).await;
    let (status, body) = emu.get(&token, "/gmail/v1/users/me/nothing-here").await;
    assert_eq!(status, 404);
    assert_google_error(&body, 404, "notFound");
}

#[tokio::test]
async fn the_fields_parameter_gives_partial_responses() {
    let (emu, token) = google_with(&[READONLY]).await;
    let id = emu
        .deliver_simple("labels=INBOX", "fields@x", "Fields", "x")
        .await;
    let (_, list) = emu
        .get(
            &token,
            &format!("{ME}/messages?fields=messages(id),nextPageToken"),
        )
        .await;
    assert_eq!(list, json!({"messages": [{"id": id}]}));
    let (_, m) = emu
        .get(
            &token,
            &format!("{ME}/messages/{id}?format=metadata&fields=id,payload/headers"),
        )
        .await;
    assert_eq!(
        m.as_object().map(|o| o.keys().cloned().collect::<Vec<_>>()),
        Some(vec!["id".to_string(), "payload".to_string()])
    );
    assert!(m["payload"]["headers"].is_array() && m["payload"].get("mimeType").is_none());
    let (status, body) = emu
        .get(&token, &format!("{ME}/messages?fields=messages(id"))
        .await;
    assert_eq!(status, 400);
    assert_google_error(&body, 400, "invalidArgument");
}

#[tokio::test]
async fn truncated_messages_and_odd_queries_never_break_the_api() {
    let (emu, token) = google_with(&[READONLY]).await;
    let owner = threadline_emulator::corpus::mailbox_info(0);
    let samples = threadline_emulator::corpus::generate(5, 0, &owner, 25);
    for (n, sample) in samples.iter().enumerate() {
        for cut in [7usize, 61, 199, 401, 997] {
            let end = (sample.raw.len() * cut / 1000).max(1);
            let id = emu
                .deliver_me("labels=INBOX", sample.raw[..end].to_vec())
                .await;
            let (status, m) = emu.get(&token, &format!("{ME}/messages/{id}")).await;
            assert_eq!(status, 200, "sample {n} cut at {end}");
            crate::google::schema::assert_valid("Message", &m);
        }
    }
    for q in [
        "after:",
        "before:2024/13/45",
        "from:",
        "\"unbalanced",
        "-",
        "in:",
        "label:",
        "newer_than:99999999999999y",
        "older_than:-5d",
        "subject:(a OR b)",
        "{x y}",
        "rfc822msgid:<>",
        "日本語",
        "%00",
        "a:b:c",
    ] {
        let url = format!("{ME}/messages?q={}", crate::google::support::urlencode(q));
        let (status, body) = emu.get(&token, &url).await;
        assert!(status == 200 || status == 400, "q={q}: {status} {body}");
    }
    for extra in [
        "labelIds=",
        "labelIds=%FF",
        "maxResults=-1",
        "maxResults=99999999999",
        "includeSpamTrash=maybe",
        "pageToken=AAAA",
        "pageToken=OjpkZWY",
    ] {
        let (status, body) = emu.get(&token, &format!("{ME}/messages?{extra}")).await;
        assert!(status == 200 || status == 400, "{extra}: {status} {body}");
        if status == 400 {
            assert_google_error(&body, 400, "invalidArgument");
        }
    }
}
