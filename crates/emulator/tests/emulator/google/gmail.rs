//! Gmail API responses: shapes validated against the discovery document, listing, paging,
//! queries, modify, history.

use serde_json::{json, Value};

use crate::google::schema::{assert_google_error, assert_valid};
use crate::google::support::{google_with, ids, simple, Emu, MODIFY, READONLY};

const ME: &str = "/gmail/v1/users/me";

fn multipart_with_attachment() -> Vec<u8> {
    b"From: \"Acme\" <a@acme.co.uk>\r\nTo: me@ourco.test\r\nSubject: =?utf-8?q?Pr=C3=A9sentation?= attached\r\nDate: Tue, 02 Jan 2024 10:00:00 +0000\r\nMessage-ID: <att-1@acme.co.uk>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"outer\"\r\n\r\n--outer\r\nContent-Type: multipart/alternative; boundary=\"inner\"\r\n\r\n--inner\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHello *there*\r\n--inner\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>Hello <b>there</b></p>\r\n--inner--\r\n--outer\r\nContent-Type: application/pdf; name=\"deck.pdf\"\r\nContent-Disposition: attachment; filename=\"deck.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQKJcTl8uXr\r\n--outer--\r\n".to_vec()
}

#[tokio::test]
async fn every_gmail_response_validates_against_the_discovery_document() {
    let (emu, token) = google_with(&[MODIFY]).await;
    let id = emu
        .deliver_me("labels=INBOX,UNREAD,Customers", multipart_with_attachment())
        .await;
    emu.deliver_simple("labels=SENT", "s1@ourco.test", "Sent one", "hi")
        .await;

    let (status, profile) = emu.get(&token, &format!("{ME}/profile")).await;
    assert_eq!(status, 200);
    assert_valid("Profile", &profile);
    assert_eq!(profile["messagesTotal"], 2);

    let (_, labels) = emu.get(&token, &format!("{ME}/labels")).await;
    assert_valid("ListLabelsResponse", &labels);
    let names: Vec<&str> = labels["labels"]
        .as_array()
        .expect("labels")
        .iter()
        .filter_map(|l| l["id"].as_str())
        .collect();
    for system in
        "INBOX SENT DRAFT SPAM TRASH UNREAD STARRED IMPORTANT CATEGORY_PERSONAL".split(' ')
    {
        assert!(names.contains(&system), "{system} listed");
    }
    let user = labels["labels"]
        .as_array()
        .expect("labels")
        .iter()
        .find(|l| l["name"] == "Customers")
        .expect("user label");
    let (_, label) = emu
        .get(
            &token,
            &format!("{ME}/labels/{}", user["id"].as_str().expect("id")),
        )
        .await;
    assert_valid("Label", &label);
    assert_eq!(label["messagesTotal"], 1);
    assert_eq!(label["messagesUnread"], 1);

    let (_, list) = emu.get(&token, &format!("{ME}/messages")).await;
    assert_valid("ListMessagesResponse", &list);
    for format in ["full", "metadata", "minimal", "raw"] {
        let (status, message) = emu
            .get(&token, &format!("{ME}/messages/{id}?format={format}"))
            .await;
        assert_eq!(status, 200, "{format}");
        assert_valid("Message", &message);
    }
    let (_, full) = emu.get(&token, &format!("{ME}/messages/{id}")).await;
    let attachment_id = full["payload"]["parts"][1]["body"]["attachmentId"]
        .as_str()
        .expect("attachment id");
    let (status, body) = emu
        .get(
            &token,
            &format!("{ME}/messages/{id}/attachments/{attachment_id}"),
        )
        .await;
    assert_eq!(status, 200);
    assert_valid("MessagePartBody", &body);

    let start = profile["historyId"]
        .as_str()
        .expect("historyId")
        .to_string();
    let (status, modified) = emu
        .post(
            &token,
            &format!("{ME}/messages/{id}/modify"),
            json!({"removeLabelIds": ["UNREAD"], "addLabelIds": ["STARRED"]}),
        )
        .await;
    assert_eq!(status, 200);
    assert_valid("Message", &modified);
    let (_, history) = emu
        .get(&token, &format!("{ME}/history?startHistoryId={start}"))
        .await;
    assert_valid("ListHistoryResponse", &history);
    let (_, trashed) = emu
        .post(&token, &format!("{ME}/messages/{id}/trash"), json!({}))
        .await;
    assert_valid("Message", &trashed);
    let (status, watch) = emu
        .post(
            &token,
            &format!("{ME}/watch"),
            json!({"topicName": "projects/p/topics/t", "labelIds": ["INBOX"]}),
        )
        .await;
    assert_eq!(status, 200);
    assert_valid("WatchResponse", &watch);
}

#[tokio::test]
async fn full_payload_rebuilds_the_mime_tree_with_decoded_headers() {
    let (emu, token) = google_with(&[READONLY]).await;
    let id = emu
        .deliver_me("labels=INBOX", multipart_with_attachment())
        .await;
    let (_, m) = emu.get(&token, &format!("{ME}/messages/{id}")).await;
    let p = &m["payload"];
    assert_eq!(p["partId"], "");
    assert_eq!(p["mimeType"], "multipart/mixed");
    assert_eq!(p["body"], json!({"size": 0}));
    let subject = p["headers"]
        .as_array()
        .expect("headers")
        .iter()
        .find(|h| h["name"] == "Subject")
        .expect("subject");
    assert_eq!(subject["value"], "Présentation attached");
    assert_eq!(p["parts"][0]["partId"], "0");
    assert_eq!(p["parts"][0]["mimeType"], "multipart/alternative");
    assert_eq!(p["parts"][0]["parts"][1]["partId"], "0.1");
    assert_eq!(p["parts"][0]["parts"][1]["mimeType"], "text/html");
    assert_eq!(
        p["parts"][0]["parts"][0]["body"]["data"],
        "SGVsbG8gKnRoZXJlKg=="
    );
    assert_eq!(p["parts"][1]["filename"], "deck.pdf");
    assert_eq!(p["parts"][1]["body"]["size"], 15);
    assert!(p["parts"][1]["body"].get("data").is_none());
    assert_eq!(m["snippet"], "Hello *there*");
}

#[tokio::test]
async fn list_is_newest_first_and_filters_by_labels_query_and_spam_trash() {
    let (emu, token) = google_with(&[READONLY]).await;
    let day = 86_400_000i64;
    let base = 1_704_067_200_000i64; // 2024-01-01
    let a = emu
        .deliver_simple(
            &format!("labels=INBOX,UNREAD&internal_date={base}"),
            "a@x",
            "Alpha",
            "one",
        )
        .await;
    let b = emu
        .deliver_simple(
            &format!("labels=INBOX&internal_date={}", base + 10 * day),
            "b@x",
            "Beta",
            "two",
        )
        .await;
    let c = emu
        .deliver_simple(
            &format!("labels=TRASH&internal_date={}", base + 20 * day),
            "c@x",
            "Gamma",
            "three",
        )
        .await;
    let d = emu
        .deliver_simple(
            &format!("labels=SPAM&internal_date={}", base + 30 * day),
            "d@x",
            "Delta",
            "four",
        )
        .await;
    let (_, all) = emu.get(&token, &format!("{ME}/messages")).await;
    assert_eq!(ids(&all), vec![b.clone(), a.clone()]);
    let (_, with) = emu
        .get(&token, &format!("{ME}/messages?includeSpamTrash=true"))
        .await;
    assert_eq!(ids(&with), vec![d.clone(), c.clone(), b.clone(), a.clone()]);
    let (_, unread) = emu
        .get(
            &token,
            &format!("{ME}/messages?labelIds=INBOX&labelIds=UNREAD"),
        )
        .await;
    assert_eq!(ids(&unread), vec![a.clone()]);
    let (_, after) = emu
        .get(&token, &format!("{ME}/messages?q=after:2024/01/05"))
        .await;
    assert_eq!(ids(&after), vec![b.clone()]);
    let (_, before) = emu
        .get(
            &token,
            &format!("{ME}/messages?q=before:2024/01/05%20from:acme.co.uk"),
        )
        .await;
    assert_eq!(ids(&before), vec![a.clone()]);
    let (_, trash) = emu.get(&token, &format!("{ME}/messages?q=in:trash")).await;
    assert_eq!(ids(&trash), vec![c.clone()]);
    let (_, anywhere) = emu
        .get(&token, &format!("{ME}/messages?q=in:anywhere%20-in:spam"))
        .await;
    assert_eq!(ids(&anywhere), vec![c, b, a]);
    let (_, none) = emu
        .get(&token, &format!("{ME}/messages?q=from:nobody@nowhere.test"))
        .await;
    assert_eq!(
        none,
        json!({"resultSizeEstimate": 0}),
        "empty arrays are omitted"
    );
}

#[tokio::test]
async fn paging_walks_every_message_exactly_once() {
    let (emu, token) = google_with(&[READONLY]).await;
    let mut delivered = Vec::new();
    for n in 0..7 {
        delivered.push(
            emu.deliver_me(
                &format!(
                    "labels=INBOX&internal_date={}",
                    1_700_000_000_000i64 + n * 1000
                ),
                simple(&format!("p{n}@x"), "Page", "", "x"),
            )
            .await,
        );
    }
    let mut seen = Vec::new();
    let mut token_param = String::new();
    for _ in 0..10 {
        let (status, page) = emu
            .get(&token, &format!("{ME}/messages?maxResults=3{token_param}"))
            .await;
        assert_eq!(status, 200);
        seen.extend(
            page["messages"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .iter()
                .filter_map(|m| m["id"].as_str().map(str::to_string)),
        );
        match page["nextPageToken"].as_str() {
            Some(t) => token_param = format!("&pageToken={t}"),
            None => break,
        }
    }
    delivered.reverse();
    assert_eq!(seen, delivered);
}

#[tokio::test]
async fn bad_parameters_get_google_400s_and_unknown_ids_404() {
    let (emu, token) = google_with(&[READONLY]).await;
    let (status, body) = emu
        .get(&token, &format!("{ME}/messages?maxResults=lots"))
        .await;
    assert_eq!(status, 400);
    assert_google_error(&body, 400, "invalidArgument");
    let (status, body) = emu
        .get(&token, &format!("{ME}/messages?pageToken=%%%"))
        .await;
    assert_eq!(status, 400);
    assert_google_error(&body, 400, "invalidArgument");
    let (status, body) = emu
        .get(&token, &format!("{ME}/messages/0123456789abcdef"))
        .await;
    assert_eq!(status, 404);
    assert_google_error(&body, 404, "notFound");
    let (status, body) = emu.get(&token, &format!("{ME}/messages/not-an-id!")).await;
    assert_eq!(status, 400);
    assert_google_error(&body, 400, "invalidArgument");
    let (status, body) = emu.get(&token, &format!("{ME}/history")).await;
    assert_eq!(status, 400);
    assert_google_error(&body, 400, "invalidArgument");
    let (status, body) = emu
        .get(
            &token,
            &format!("{ME}/messages/0123456789abcdef?format=everything"),
        )
        .await;
    assert_eq!(status, 400);
    assert_google_error(&body, 400, "invalidArgument");
    let (status, body) = emu
        .post(
            &token,
            &format!("{ME}/messages/0123456789abcdef/modify"),
            json!({"addLabelIds": ["STARRED"]}),
        )
        .await;
    assert_eq!(status, 403, "readonly cannot modify");
    assert_google_error(&body, 403, "insufficientPermissions");
    let (status, body) = emu
        .get(&token, "/gmail/v1/users/someone.else@ourco.test/profile")
        .await;
    assert_eq!(status, 403);
    assert_google_error(&body, 403, "forbidden");
}

#[tokio::test]
async fn a_fresh_emulator_with_no_token_answers_401_in_googles_shape() {
    let emu = Emu::start().await;
    let r = emu
        .http
        .get(emu.url(&format!("{ME}/profile")))
        .send()
        .await
        .expect("get");
    assert_eq!(r.status(), 401);
    assert!(r.headers().get("www-authenticate").is_some());
    let body: Value = r.json().await.expect("json");
    assert_google_error(&body, 401, "authError");
    assert_eq!(body["error"]["status"], "UNAUTHENTICATED");
    assert_eq!(body["error"]["errors"][0]["location"], "Authorization");
}

#[tokio::test]
async fn attached_messages_keep_an_attachment_body_and_expose_their_tree() {
    let (emu, token) = google_with(&[READONLY]).await;
    let inner = "From: x@y.test\r\nSubject: Inner\r\nContent-Type: multipart/alternative; boundary=i\r\n\r\n--i\r\nContent-Type: text/plain\r\n\r\ninner text\r\n--i\r\nContent-Type: text/html\r\n\r\n<p>inner</p>\r\n--i--\r\n";
    let raw = format!("From: a@b.test\r\nSubject: Fwd: Inner\r\nMessage-ID: <fwd@x>\r\nContent-Type: multipart/mixed; boundary=o\r\n\r\n--o\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n--o\r\nContent-Type: message/rfc822\r\nContent-Disposition: attachment; filename=\"inner.eml\"\r\n\r\n{inner}\r\n--o--\r\n");
    let id = emu.deliver_me("labels=INBOX", raw.into_bytes()).await;
    let (_, m) = emu.get(&token, &format!("{ME}/messages/{id}")).await;
    crate::google::schema::assert_valid("Message", &m);
    let attached = &m["payload"]["parts"][1];
    assert_eq!(attached["mimeType"], "message/rfc822");
    assert_eq!(attached["filename"], "inner.eml");
    assert!(attached["body"]["attachmentId"].is_string());
    assert_eq!(attached["parts"][0]["partId"], "1.0");
    assert_eq!(attached["parts"][0]["mimeType"], "multipart/alternative");
    assert_eq!(attached["parts"][0]["parts"][1]["partId"], "1.0.1");
    assert_eq!(
        m["snippet"], "see attached",
        "the snippet comes from the outer message"
    );
}
