//! Gmail writes: modify, batchModify, permanent delete, and their history records.

use serde_json::json;

use crate::google::schema::assert_google_error;
use crate::google::support::{google_with, simple, Emu, MODIFY};

const ME: &str = "/gmail/v1/users/me";

#[tokio::test]
async fn modify_and_control_plane_changes_show_up_in_history() {
    let (emu, token) = google_with(&[MODIFY]).await;
    let (_, profile) = emu.get(&token, &format!("{ME}/profile")).await;
    let start = profile["historyId"].as_str().expect("history").to_string();
    let id = emu
        .deliver_simple("labels=INBOX,UNREAD", "h1@x", "History", "x")
        .await;
    let (status, _) = emu
        .post(
            &token,
            &format!("{ME}/messages/{id}/modify"),
            json!({"removeLabelIds": ["UNREAD"]}),
        )
        .await;
    assert_eq!(status, 200);
    let (status, _) = emu
        .control(
            reqwest::Method::PATCH,
            &format!("/_emulator/mailboxes/me@ourco.test/messages/{id}"),
            Some(json!({"starred": true})),
        )
        .await;
    assert_eq!(status, 200);
    let (status, _) = emu
        .control_delete(&format!("/_emulator/mailboxes/me@ourco.test/messages/{id}"))
        .await;
    assert_eq!(status, 204);
    let (_, history) = emu
        .get(&token, &format!("{ME}/history?startHistoryId={start}"))
        .await;
    let records = history["history"].as_array().expect("records");
    assert_eq!(records.len(), 4);
    assert_eq!(
        records[0]["messagesAdded"][0]["message"]["labelIds"],
        json!(["INBOX", "UNREAD"])
    );
    assert_eq!(
        records[1]["labelsRemoved"][0]["labelIds"],
        json!(["UNREAD"])
    );
    assert_eq!(records[2]["labelsAdded"][0]["labelIds"], json!(["STARRED"]));
    assert_eq!(records[3]["messagesDeleted"][0]["message"]["id"], json!(id));
    let ids: Vec<u64> = records
        .iter()
        .map(|r| r["id"].as_str().and_then(|s| s.parse().ok()).expect("id"))
        .collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "increasing ids");
    let (_, only_deleted) = emu
        .get(
            &token,
            &format!("{ME}/history?startHistoryId={start}&historyTypes=messageDeleted"),
        )
        .await;
    assert_eq!(only_deleted["history"].as_array().map(Vec::len), Some(1));
    let (_, paged) = emu
        .get(
            &token,
            &format!("{ME}/history?startHistoryId={start}&maxResults=3"),
        )
        .await;
    assert_eq!(paged["history"].as_array().map(Vec::len), Some(3));
    let next = paged["nextPageToken"].as_str().expect("next page");
    let (_, rest) = emu
        .get(
            &token,
            &format!("{ME}/history?startHistoryId={start}&maxResults=3&pageToken={next}"),
        )
        .await;
    assert_eq!(rest["history"].as_array().map(Vec::len), Some(1));
    assert!(rest.get("nextPageToken").is_none());
    let head = history["historyId"].as_str().expect("head");
    let (_, nothing) = emu
        .get(&token, &format!("{ME}/history?startHistoryId={head}"))
        .await;
    assert_eq!(nothing, json!({"historyId": head}));
}

#[tokio::test]
async fn batch_modify_changes_many_and_returns_204() {
    let (emu, token) = google_with(&[MODIFY]).await;
    let a = emu
        .deliver_simple("labels=INBOX,UNREAD", "bm1@x", "One", "x")
        .await;
    let b = emu
        .deliver_simple("labels=INBOX,UNREAD", "bm2@x", "Two", "x")
        .await;
    let r = emu
        .http
        .post(emu.url(&format!("{ME}/messages/batchModify")))
        .bearer_auth(&token)
        .json(&json!({"ids": [a, b], "removeLabelIds": ["UNREAD"]}))
        .send()
        .await
        .expect("batchModify");
    assert_eq!(r.status(), 204);
    assert!(r.text().await.expect("body").is_empty());
    let (_, truth) = emu
        .control_get("/_emulator/mailboxes/me@ourco.test/messages")
        .await;
    assert!(truth
        .as_array()
        .expect("truth")
        .iter()
        .all(|m| m["read"] == true));
    let (status, body) = emu
        .post(
            &token,
            &format!("{ME}/messages/batchModify"),
            json!({"ids": ["abc"], "addLabelIds": ["Label_404"]}),
        )
        .await;
    assert_eq!(status, 400);
    assert_google_error(&body, 400, "invalidArgument");
}

#[tokio::test]
async fn permanent_delete_needs_the_full_mail_scope() {
    let emu = Emu::start().await;
    emu.mailbox("google", "me@ourco.test").await;
    let modify = emu.token("me@ourco.test", &[MODIFY]).await;
    let full = emu
        .token("me@ourco.test", &[crate::google::support::FULL])
        .await;
    let id = emu
        .deliver_simple("labels=INBOX", "del@x", "Delete", "x")
        .await;
    let r = emu
        .http
        .delete(emu.url(&format!("{ME}/messages/{id}")))
        .bearer_auth(&modify)
        .send()
        .await
        .expect("delete");
    assert_eq!(r.status(), 403);
    assert_google_error(
        &r.json().await.expect("json"),
        403,
        "insufficientPermissions",
    );
    let r = emu
        .http
        .delete(emu.url(&format!("{ME}/messages/{id}")))
        .bearer_auth(&full)
        .send()
        .await
        .expect("delete");
    assert_eq!(r.status(), 204);
    assert_eq!(emu.get(&full, &format!("{ME}/messages/{id}")).await.0, 404);
}

#[tokio::test]
async fn threads_group_replies_and_validate_against_the_discovery_document() {
    let (emu, token) = google_with(&[MODIFY]).await;
    let root = emu
        .deliver_simple(
            "labels=INBOX&internal_date=1700000000000",
            "th1@x",
            "Offer",
            "a",
        )
        .await;
    emu.deliver_me(
        "labels=INBOX&internal_date=1700000500000",
        simple("th2@x", "Re: Offer", "In-Reply-To: <th1@x>\r\n", "b"),
    )
    .await;
    let other = emu
        .deliver_simple(
            "labels=INBOX&internal_date=1700000100000",
            "th3@x",
            "Other",
            "c",
        )
        .await;
    let (status, list) = emu.get(&token, &format!("{ME}/threads")).await;
    assert_eq!(status, 200);
    crate::google::schema::assert_valid("ListThreadsResponse", &list);
    let ids: Vec<&str> = list["threads"]
        .as_array()
        .expect("threads")
        .iter()
        .filter_map(|t| t["id"].as_str())
        .collect();
    assert_eq!(
        ids,
        vec![root.as_str(), other.as_str()],
        "ordered by newest message"
    );
    let (status, thread) = emu.get(&token, &format!("{ME}/threads/{root}")).await;
    assert_eq!(status, 200);
    crate::google::schema::assert_valid("Thread", &thread);
    assert_eq!(thread["messages"].as_array().map(Vec::len), Some(2));
    assert_eq!(thread["messages"][0]["id"], json!(root), "oldest first");
    let (status, body) = emu
        .get(&token, &format!("{ME}/threads/0123456789abcdef"))
        .await;
    assert_eq!(status, 404);
    assert_google_error(&body, 404, "notFound");
}
