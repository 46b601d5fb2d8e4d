//! Every Graph response type Threadline uses, validated against the official descriptions
//! (Mail.yml, ChangeNotifications.yml, the v1.0 CSDL), plus proof the validator can fail.

use std::sync::OnceLock;

use serde_json::{json, Value};
use threadline_emulator::Quota;

use crate::graph::attachments::with_attachments;
use crate::graph::mail::html_message;
use crate::graph::schema::Doc;
use crate::graph::support::{emulator, raw, ME, TENANT};

fn mail() -> &'static Doc {
    static DOC: OnceLock<Doc> = OnceLock::new();
    DOC.get_or_init(|| Doc::openapi("graph-mail.v1.0.yml"))
}

fn csdl() -> &'static Doc {
    static DOC: OnceLock<Doc> = OnceLock::new();
    DOC.get_or_init(Doc::csdl)
}

fn notifications() -> &'static Doc {
    static DOC: OnceLock<Doc> = OnceLock::new();
    DOC.get_or_init(|| Doc::openapi("graph-change-notifications.v1.0.yml"))
}

fn collection_of(item: &str) -> Value {
    json!({"type": "object", "properties": {
        "value": {"type": "array", "items": Doc::reference(item)},
        "@odata.nextLink": {"type": "string", "nullable": true},
        "@odata.deltaLink": {"type": "string", "nullable": true},
    }})
}

fn valid_message() -> Value {
    json!({"@odata.etag": "W/\"CQAAABYAAAA\"", "id": "AAMk", "subject": "s", "isRead": false,
           "receivedDateTime": "2024-10-01T10:00:00Z", "importance": "normal",
           "from": {"emailAddress": {"name": "a", "address": "a@b.test"}}, "toRecipients": [],
           "body": {"contentType": "html", "content": "<p/>"}, "flag": {"flagStatus": "flagged"}})
}

#[test]
fn the_validator_rejects_wrong_types_unknown_fields_bad_enums_nulls_and_dates() {
    let doc = mail();
    assert!(
        doc.check("microsoft.graph.message", &valid_message())
            .is_empty(),
        "{:?}",
        doc.check("microsoft.graph.message", &valid_message())
    );
    let cases = [
        ("isRead", json!("yes")),
        ("inventedField", json!(1)),
        ("importance", json!("urgent")),
        ("id", Value::Null),
        ("receivedDateTime", json!("2024-10-01 10:00")),
        ("toRecipients", json!([{"emailAddress": {"address": 5}}])),
        ("body", json!({"contentType": "markdown", "content": "x"})),
        ("flag", json!({"flagStatus": "maybe"})),
        ("conversationIndex", json!("not base64!")),
    ];
    for (key, bad) in cases {
        let mut m = valid_message();
        m[key] = bad.clone();
        assert!(
            !doc.check("microsoft.graph.message", &m).is_empty(),
            "{key}={bad} was accepted"
        );
    }
    assert!(!doc
        .check(
            "microsoft.graph.ODataErrors.ODataError",
            &json!({"error": {"message": "no code"}})
        )
        .is_empty());
    let mut file = json!({"@odata.type": "#microsoft.graph.fileAttachment", "id": "a", "name": "n", "size": 1, "isInline": false, "contentBytes": "AA=="});
    assert!(csdl().check("microsoft.graph.attachment", &file).is_empty());
    file["contentBytes"] = json!(17);
    assert!(
        !csdl().check("microsoft.graph.attachment", &file).is_empty(),
        "derived type checked via @odata.type"
    );
}

#[tokio::test]
async fn messages_folders_and_collections_match_mail_yml() {
    let emu = emulator(Quota::Off, true).await;
    emu.deliver(ME, html_message("h@x"), "inbox", 1_727_776_800_000);
    emu.deliver(ME, with_attachments("a@x"), "inbox", 1_727_776_900_000);
    emu.deliver(
        ME,
        raw(
            "p@x",
            "Plain",
            "Thread-Index: AQHUB4xaSbeRy6FCK0ihQhAnxLN9AQ==\r\n",
            "plain",
        ),
        "inbox/Clients",
        1_727_777_000_000,
    );
    emu.deliver(
        ME,
        b"garbage without headers".to_vec(),
        "inbox",
        1_727_777_100_000,
    );
    let token = emu.user_token(ME).await;
    let (status, list) = emu.get(&token, "/v1.0/me/messages?$top=50").await;
    assert_eq!(status, 200);
    mail().assert_valid("microsoft.graph.messageCollectionResponse", &list);
    for m in list["value"].as_array().into_iter().flatten() {
        let id = m["id"].as_str().unwrap_or_default();
        let (_, one) = emu.get(&token, &format!("/v1.0/me/messages/{id}?$select=internetMessageHeaders,uniqueBody,subject,body,from")).await;
        mail().assert_valid("microsoft.graph.message", &one);
        let (_, full) = emu
            .get_with(
                &token,
                &format!("/v1.0/me/messages/{id}"),
                &[("Prefer", "outlook.body-content-type=\"text\"")],
            )
            .await;
        mail().assert_valid("microsoft.graph.message", &full);
    }
    let (_, folders) = emu.get(&token, "/v1.0/me/mailFolders?$top=50").await;
    mail().assert_valid("microsoft.graph.mailFolderCollectionResponse", &folders);
    let (_, inbox) = emu.get(&token, "/v1.0/me/mailFolders/inbox").await;
    mail().assert_valid("microsoft.graph.mailFolder", &inbox);
    let (_, children) = emu
        .get(&token, "/v1.0/me/mailFolders/inbox/childFolders")
        .await;
    mail().assert_valid("microsoft.graph.mailFolderCollectionResponse", &children);
}

#[tokio::test]
async fn attachments_match_the_csdl_and_mail_yml() {
    let emu = emulator(Quota::Off, true).await;
    let id = emu.deliver(ME, with_attachments("a@x"), "inbox", 1_727_776_800_000);
    let token = emu.user_token(ME).await;
    let (_, list) = emu
        .get(&token, &format!("/v1.0/me/messages/{id}/attachments"))
        .await;
    assert!(
        csdl()
            .check_schema(&collection_of("microsoft.graph.attachment"), &list)
            .is_empty(),
        "{:?}",
        csdl().check_schema(&collection_of("microsoft.graph.attachment"), &list)
    );
    for a in list["value"].as_array().into_iter().flatten() {
        let aid = a["id"].as_str().unwrap_or_default();
        let (_, one) = emu
            .get(&token, &format!("/v1.0/me/messages/{id}/attachments/{aid}"))
            .await;
        let ty = one["@odata.type"]
            .as_str()
            .unwrap_or_default()
            .trim_start_matches('#')
            .to_string();
        csdl().assert_valid(&ty, &one);
    }
    let (_, selected) = emu
        .get(
            &token,
            &format!(
                "/v1.0/me/messages/{id}/attachments?$select=id,name,size,contentType,isInline"
            ),
        )
        .await;
    let plain: Vec<Value> = selected["value"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|a| {
            let mut a = a.clone();
            if let Some(o) = a.as_object_mut() {
                o.remove("@odata.type");
            }
            a
        })
        .collect();
    mail().assert_valid(
        "microsoft.graph.attachmentCollectionResponse",
        &json!({"value": plain}),
    );
}

#[tokio::test]
async fn users_match_the_csdl() {
    let emu = emulator(Quota::Off, true).await;
    let token = emu.user_token(ME).await;
    let (_, me) = emu.get(&token, "/v1.0/me").await;
    csdl().assert_valid("microsoft.graph.user", &me);
    let app = emu.app_token(TENANT).await;
    let (_, users) = emu.get(&app, "/v1.0/users?$top=1").await;
    let errors = csdl().check_schema(&collection_of("microsoft.graph.user"), &users);
    assert!(errors.is_empty(), "{errors:?}");
    let personal = emu.user_token("pat@outlook.test").await;
    let (_, pat) = emu.get(&personal, "/v1.0/me").await;
    csdl().assert_valid("microsoft.graph.user", &pat);
}

#[tokio::test]
async fn delta_pages_match_the_message_schema() {
    let emu = emulator(Quota::Off, true).await;
    let a = emu.deliver(ME, html_message("d1@x"), "inbox", 1_727_776_800_000);
    emu.deliver(ME, raw("d2@x", "two", "", "b"), "inbox", 1_727_776_900_000);
    let token = emu.user_token(ME).await;
    let (_, first) = emu
        .get_with(
            &token,
            "/v1.0/me/mailFolders/inbox/messages/delta",
            &[("Prefer", "odata.maxpagesize=1")],
        )
        .await;
    assert!(first["@odata.nextLink"].is_string() ^ first["@odata.deltaLink"].is_string());
    let errors = mail().check_schema(&collection_of("microsoft.graph.message"), &first);
    assert!(errors.is_empty(), "{errors:?}");
    let (_, last) = emu
        .all_pages(&token, "/v1.0/me/mailFolders/inbox/messages/delta", &[])
        .await;
    emu.emu.state.store.get(ME).expect("mailbox").delete(&a);
    let (_, changes) = emu
        .get(
            &token,
            last["@odata.deltaLink"].as_str().unwrap_or_default(),
        )
        .await;
    assert!(changes["value"][0]["@removed"].is_object(), "{changes}");
    let errors = mail().check_schema(&collection_of("microsoft.graph.message"), &changes);
    assert!(errors.is_empty(), "{errors:?}");
}

#[tokio::test]
async fn subscriptions_match_change_notifications_yml() {
    let emu = emulator(Quota::Off, true).await;
    let token = emu.user_token(ME).await;
    let rx = crate::graph::subscriptions::receiver(crate::graph::subscriptions::Mode::Echo).await;
    let body = json!({"changeType": "created", "notificationUrl": rx.url, "resource": "/me/messages", "expirationDateTime": (chrono::Utc::now() + chrono::Duration::hours(2)).to_rfc3339()});
    let (status, _, sub) = emu
        .send_json(reqwest::Method::POST, &token, "/v1.0/subscriptions", &body)
        .await;
    assert_eq!(status, 201);
    notifications().assert_valid("microsoft.graph.subscription", &sub);
    let (_, err) = emu.get(&token, "/v1.0/subscriptions/nope").await;
    mail().assert_valid("microsoft.graph.ODataErrors.ODataError", &err);
}

#[tokio::test]
async fn error_bodies_match_odata_error() {
    let emu = emulator(Quota::Realistic, true).await;
    let token = emu.user_token(ME).await;
    let app = emu.app_token(TENANT).await;
    let mut bodies = vec![
        emu.get("bogus", "/v1.0/me").await.1,
        emu.get(&token, "/v1.0/me/messages/AAMkAAAbnope").await.1,
        emu.get(&token, "/v1.0/me/messages?$top=0").await.1,
        emu.get(&app, "/v1.0/me").await.1,
        emu.get(&token, "/v1.0/users/bob@ourco.test/messages")
            .await
            .1,
        emu.get(
            &token,
            "/v1.0/me/mailFolders/inbox/messages/delta?$deltatoken=x",
        )
        .await
        .1,
    ];
    emu.fault(json!({"status": 429, "retry_after": 1, "count": 1}))
        .await;
    bodies.push(emu.get(&token, "/v1.0/me/messages").await.1);
    for body in bodies {
        assert!(body["error"]["code"].is_string(), "{body}");
        mail().assert_valid("microsoft.graph.ODataErrors.ODataError", &body);
    }
}
