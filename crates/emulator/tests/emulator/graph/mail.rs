//! Folders and messages: well-known folders and counts, listing, paging, `$select`,
//! `$filter`/`$orderby`, body preferences, ids across moves, PATCH, `$value`.

use serde_json::{json, Value};
use threadline_emulator::Quota;

use crate::graph::support::{code, emulator, raw, Emu, ME};

const DAY: i64 = 86_400_000;
const T0: i64 = 1_727_776_800_000; // 2024-10-01T10:00:00Z

pub fn html_message(id: &str) -> Vec<u8> {
    format!(
        "From: Carol <carol@client.test>\r\nTo: {ME}\r\nCc: Dan <dan@client.test>\r\nSubject: Quote\r\nMessage-ID: <{id}>\r\nDate: Tue, 01 Oct 2024 12:00:00 +0200\r\nImportance: high\r\nDisposition-Notification-To: carol@client.test\r\nMIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHello plain\r\n--b\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>Hello <b>html</b></p>\r\n--b--\r\n"
    )
    .into_bytes()
}

async fn seeded() -> (Emu, String) {
    let emu = emulator(Quota::Off, true).await;
    for i in 0..25 {
        emu.deliver(
            ME,
            raw(&format!("m{i}@x"), &format!("Message {i}"), "", "body"),
            "inbox",
            T0 + i * DAY,
        );
    }
    emu.deliver(ME, raw("s1@x", "Sent one", "", "body"), "sentitems", T0);
    emu.deliver(
        ME,
        raw("c1@x", "In a child", "", "body"),
        "inbox/Clients",
        T0,
    );
    let token = emu.user_token(ME).await;
    (emu, token)
}

#[tokio::test]
async fn well_known_folders_have_counts_and_children() {
    let (emu, token) = seeded().await;
    let (status, page) = emu.get(&token, "/v1.0/me/mailFolders?$top=20").await;
    assert_eq!(status, 200, "{page}");
    let names: Vec<&str> = page["value"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f["displayName"].as_str())
        .collect();
    for n in [
        "Inbox",
        "Sent Items",
        "Drafts",
        "Deleted Items",
        "Junk Email",
        "Archive",
    ] {
        assert!(names.contains(&n), "{n} missing from {names:?}");
    }
    let (_, inbox) = emu.get(&token, "/v1.0/me/mailFolders/Inbox").await;
    assert_eq!(inbox["totalItemCount"], 25);
    assert_eq!(inbox["unreadItemCount"], 25);
    assert_eq!(inbox["childFolderCount"], 1);
    let (_, by_id) = emu
        .get(
            &token,
            &format!(
                "/v1.0/me/mailFolders/{}",
                inbox["id"].as_str().unwrap_or_default()
            ),
        )
        .await;
    assert_eq!(by_id["id"], inbox["id"]);
    let (_, children) = emu
        .get(&token, "/v1.0/me/mailFolders/inbox/childFolders")
        .await;
    assert_eq!(children["value"][0]["displayName"], "Clients");
    assert_eq!(children["value"][0]["parentFolderId"], inbox["id"]);
    let (_, root) = emu.get(&token, "/v1.0/me/mailFolders/msgfolderroot").await;
    assert_eq!(inbox["parentFolderId"], root["id"]);
    // Default page of folders is 10.
    let (_, page) = emu.get(&token, "/v1.0/me/mailFolders").await;
    assert!(page["value"].as_array().is_some_and(|v| v.len() <= 10));
    let (_, selected) = emu
        .get(&token, "/v1.0/me/mailFolders/inbox?$select=displayName")
        .await;
    assert!(selected.get("totalItemCount").is_none() && selected["displayName"] == "Inbox");
    assert_eq!(
        emu.get(&token, "/v1.0/me/mailFolders?$select=nope").await.0,
        400
    );
    let (status, body) = emu.get(&token, "/v1.0/me/mailFolders/AAMkADbogus").await;
    assert_eq!(status, 400, "{body}");
    let (status, _) = emu
        .get(
            &token,
            "/v1.0/me/mailFolders/AAMkADAAAAAAAAAAAAFub3BlZm9sZGVy",
        )
        .await;
    assert!(status == 400 || status == 404);
}

#[tokio::test]
async fn message_list_pages_by_ten_and_caps_top_at_1000() {
    let (emu, token) = seeded().await;
    let (status, page) = emu.get(&token, "/v1.0/me/mailFolders/inbox/messages").await;
    assert_eq!(status, 200);
    assert_eq!(
        page["value"].as_array().map(Vec::len),
        Some(10),
        "default page size is 10"
    );
    assert!(page["@odata.nextLink"].is_string());
    let (all, last) = emu
        .all_pages(
            &token,
            "/v1.0/me/mailFolders/inbox/messages?$select=subject,receivedDateTime",
            &[],
        )
        .await;
    assert_eq!(all.len(), 25);
    assert!(last.get("@odata.nextLink").is_none());
    let dates: Vec<&str> = all
        .iter()
        .filter_map(|m| m["receivedDateTime"].as_str())
        .collect();
    assert!(
        dates.windows(2).all(|w| w[0] >= w[1]),
        "newest first by default"
    );
    let (all_mail, _) = emu.all_pages(&token, "/v1.0/me/messages?$top=7", &[]).await;
    assert_eq!(all_mail.len(), 27, "/me/messages spans every folder");
    assert_eq!(emu.get(&token, "/v1.0/me/messages?$top=1000").await.0, 200);
    let (status, body) = emu.get(&token, "/v1.0/me/messages?$top=1001").await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(emu.get(&token, "/v1.0/me/messages?$top=abc").await.0, 400);
}

#[tokio::test]
async fn filter_and_orderby_on_received_date_time() {
    let (emu, token) = seeded().await;
    let since = "2024-10-20T10:00:00Z";
    let (all, _) = emu.all_pages(&token, &format!("/v1.0/me/mailFolders/inbox/messages?$filter=receivedDateTime ge {since}&$orderby=receivedDateTime asc"), &[]).await;
    assert_eq!(all.len(), 6, "days 19..=24");
    let dates: Vec<&str> = all
        .iter()
        .filter_map(|m| m["receivedDateTime"].as_str())
        .collect();
    assert!(dates.windows(2).all(|w| w[0] <= w[1]), "ascending");
    assert!(dates.iter().all(|d| *d >= since));
    let (all, _) = emu.all_pages(&token, "/v1.0/me/mailFolders/inbox/messages?$filter=receivedDateTime lt 2024-10-03T00:00:00Z or receivedDateTime gt 2024-10-24T00:00:00Z", &[]).await;
    assert_eq!(all.len(), 4);
    let (status, body) = emu
        .get(
            &token,
            "/v1.0/me/messages?$filter=isRead eq false&$orderby=receivedDateTime desc",
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(code(&body), "InefficientFilter");
    for bad in [
        "receivedDateTime ge",
        "receivedDateTime ge '2024-01-01T00:00:00Z'",
        "nope eq 1",
        "(receivedDateTime ge 2024-01-01T00:00:00Z",
    ] {
        let (status, body) = emu
            .get(&token, &format!("/v1.0/me/messages?$filter={bad}"))
            .await;
        assert_eq!(status, 400, "{bad}: {body}");
        assert!(body["error"]["innerError"]["request-id"].is_string());
    }
    assert_eq!(
        emu.get(&token, "/v1.0/me/messages?$orderby=subject")
            .await
            .0,
        400
    );
    assert_eq!(
        emu.get(&token, "/v1.0/me/messages?$select=nope").await.0,
        400
    );
}

#[tokio::test]
async fn internet_message_headers_only_when_selected() {
    let (emu, token) = seeded().await;
    let (_, page) = emu.get(&token, "/v1.0/me/messages?$top=1").await;
    let message = &page["value"][0];
    assert!(message.get("internetMessageHeaders").is_none());
    assert!(message["body"].is_object() && message["@odata.etag"].is_string());
    let id = message["id"].as_str().unwrap_or_default();
    let (_, selected) = emu
        .get(
            &token,
            &format!("/v1.0/me/messages/{id}?$select=internetMessageHeaders,subject"),
        )
        .await;
    let headers = selected["internetMessageHeaders"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        headers.iter().any(|h| h["name"] == "Message-ID"),
        "{selected}"
    );
    let keys: Vec<&String> = selected
        .as_object()
        .map(|o| o.keys().collect())
        .unwrap_or_default();
    assert!(
        keys.iter().all(
            |k| ["id", "subject", "internetMessageHeaders"].contains(&k.as_str())
                || k.starts_with('@')
        ),
        "{keys:?}"
    );
}

#[tokio::test]
async fn body_is_html_or_text_as_preferred_and_fields_come_from_the_raw_message() {
    let emu = emulator(Quota::Off, true).await;
    let id = emu.deliver(ME, html_message("h@x"), "inbox", T0);
    let token = emu.user_token(ME).await;
    let path = format!("/v1.0/me/messages/{id}");
    let (_, m) = emu
        .get_with(&token, &path, &[("Prefer", "IdType=\"ImmutableId\"")])
        .await;
    assert_eq!(m["body"]["contentType"], "html");
    assert!(m["body"]["content"]
        .as_str()
        .unwrap_or_default()
        .contains("<b>html</b>"));
    assert_eq!(m["bodyPreview"], "Hello plain");
    assert_eq!(m["importance"], "high");
    assert_eq!(m["isReadReceiptRequested"], true);
    assert_eq!(m["internetMessageId"], "<h@x>");
    assert_eq!(m["from"]["emailAddress"]["address"], "carol@client.test");
    assert_eq!(m["ccRecipients"][0]["emailAddress"]["name"], "Dan");
    assert_eq!(m["sentDateTime"], "2024-10-01T10:00:00Z");
    assert_eq!(m["flag"]["flagStatus"], "notFlagged");
    let (_, h, body) = emu
        .get_full(
            &token,
            &path,
            &[
                ("Prefer", "outlook.body-content-type=\"text\""),
                ("Prefer", "IdType=\"ImmutableId\""),
            ],
        )
        .await;
    let m: Value = serde_json::from_slice(&body).unwrap_or_default();
    assert_eq!(m["body"]["contentType"], "text");
    assert!(m["body"]["content"]
        .as_str()
        .unwrap_or_default()
        .contains("Hello plain"));
    assert!(h["preference-applied"]
        .to_str()
        .unwrap_or_default()
        .contains("outlook.body-content-type"));
    assert!(h.contains_key("request-id") && h.contains_key("client-request-id"));
}

#[tokio::test]
async fn regular_ids_change_on_move_immutable_ids_do_not() {
    let emu = emulator(Quota::Off, true).await;
    let store_id = emu.deliver(ME, raw("mv@x", "Move me", "", "b"), "inbox", T0);
    let token = emu.user_token(ME).await;
    let immutable = [("Prefer", "IdType=\"ImmutableId\"")];
    let (_, before) = emu.get(&token, "/v1.0/me/mailFolders/inbox/messages").await;
    let regular = before["value"][0]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let (_, before_imm) = emu
        .get_with(&token, "/v1.0/me/mailFolders/inbox/messages", &immutable)
        .await;
    let stable = before_imm["value"][0]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert_ne!(regular, stable);
    emu.move_to(ME, &store_id, "archive");
    let (status, _) = emu
        .get(&token, &format!("/v1.0/me/messages/{regular}"))
        .await;
    assert_eq!(status, 404, "the old regular id dies with the move");
    let (_, after) = emu
        .get(&token, "/v1.0/me/mailFolders/archive/messages")
        .await;
    let moved = after["value"][0]["id"].as_str().unwrap_or_default();
    assert_ne!(moved, regular);
    let (status, m) = emu
        .get_with(&token, &format!("/v1.0/me/messages/{stable}"), &immutable)
        .await;
    assert_eq!(status, 200);
    assert_eq!(m["id"], stable.as_str());
    assert_eq!(m["parentFolderId"], after["value"][0]["parentFolderId"]);
    // internetMessageId is the same; conversationId is stable.
    assert_eq!(m["internetMessageId"], "<mv@x>");
    assert_eq!(m["conversationId"], before["value"][0]["conversationId"]);
}

#[tokio::test]
async fn patch_updates_read_and_flag_and_returns_the_message() {
    let emu = emulator(Quota::Off, true).await;
    let id = emu.deliver(ME, raw("p@x", "Patch", "", "b"), "inbox", T0);
    let token = emu.user_token(ME).await;
    let (_, before) = emu.get(&token, &format!("/v1.0/me/messages/{id}")).await;
    let (status, _, after) = emu
        .send_json(
            reqwest::Method::PATCH,
            &token,
            &format!("/v1.0/me/messages/{id}"),
            &json!({"isRead": true, "flag": {"flagStatus": "flagged"}}),
        )
        .await;
    assert_eq!(status, 200, "{after}");
    assert_eq!(after["isRead"], true);
    assert_eq!(after["flag"]["flagStatus"], "flagged");
    assert_ne!(after["changeKey"], before["changeKey"]);
    assert_ne!(after["@odata.etag"], before["@odata.etag"]);
    let truth: Value = emu
        .http
        .get(format!("{}/_emulator/mailboxes/{ME}/messages", emu.base()))
        .send()
        .await
        .expect("truth")
        .json()
        .await
        .expect("json");
    assert_eq!(truth[0]["read"], true);
    assert_eq!(truth[0]["starred"], true);
    let (status, _, body) = emu
        .send_json(
            reqwest::Method::PATCH,
            &token,
            &format!("/v1.0/me/messages/{id}"),
            &json!({"subject": "new"}),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    let read_only = emu.delegated(ME, "User.Read Mail.Read").await;
    let (status, _, _) = emu
        .send_json(
            reqwest::Method::PATCH,
            read_only["access_token"].as_str().unwrap_or_default(),
            &format!("/v1.0/me/messages/{id}"),
            &json!({"isRead": false}),
        )
        .await;
    assert_eq!(status, 403);
    let (status, _, _) = emu
        .send_json(
            reqwest::Method::PATCH,
            &token,
            "/v1.0/me/messages/AAMkAAAbnope",
            &json!({"isRead": false}),
        )
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn value_is_the_mime_text() {
    let emu = emulator(Quota::Off, true).await;
    let raw_bytes = html_message("v@x");
    let id = emu.deliver(ME, raw_bytes.clone(), "inbox", T0);
    let token = emu.user_token(ME).await;
    let (status, _, body) = emu
        .get_full(&token, &format!("/v1.0/me/messages/{id}/$value"), &[])
        .await;
    assert_eq!(status, 200);
    assert_eq!(body, raw_bytes);
}

#[tokio::test]
async fn dates_are_utc_z() {
    let (emu, token) = seeded().await;
    let (_, page) = emu.get(&token, "/v1.0/me/messages?$top=50").await;
    for m in page["value"].as_array().into_iter().flatten() {
        for key in [
            "receivedDateTime",
            "sentDateTime",
            "createdDateTime",
            "lastModifiedDateTime",
        ] {
            let value = m[key].as_str().unwrap_or_default();
            assert!(
                value.ends_with('Z') && chrono::DateTime::parse_from_rfc3339(value).is_ok(),
                "{key}={value}"
            );
        }
    }
}
