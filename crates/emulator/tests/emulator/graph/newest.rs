//! The mailbox-wide listing Threadline asks first for a freshly linked mailbox
//! (`GET /me/messages?$select=...,internetMessageHeaders&$orderby=receivedDateTime desc&$top=N`
//! with `Prefer: IdType="ImmutableId"`): newest first across every folder (Junk Email and
//! Deleted Items included, each item naming its `parentFolderId`), `$top` honoured, the selected
//! fields only, the internet headers as the message carries them, and the ids `$value` takes.
use std::collections::HashSet;

use threadline_emulator::Quota;

use crate::graph::support::{emulator, raw, ME};

const DAY: i64 = 86_400_000;
const T0: i64 = 1_727_776_800_000; // 2024-10-01T10:00:00Z
const SELECT: &str = "id,isRead,flag,parentFolderId,receivedDateTime,internetMessageId,\
                      conversationId,subject,bodyPreview,internetMessageHeaders";

#[tokio::test]
async fn the_newest_messages_of_every_folder_come_first_with_their_headers() {
    let emu = emulator(Quota::Off, true).await;
    for i in 0..6 {
        let refs = format!(
            "In-Reply-To: <m{}@x>\r\nReferences: <m0@x> <m{}@x>\r\n",
            i.max(1) - 1,
            i.max(1) - 1
        );
        emu.deliver(
            ME,
            raw(
                &format!("m{i}@x"),
                &format!("Message {i}"),
                &refs,
                &format!("body {i}"),
            ),
            "inbox",
            T0 + i * DAY,
        );
    }
    emu.deliver(
        ME,
        raw("s1@x", "Sent one", "", "body"),
        "sentitems",
        T0 + 10 * DAY,
    );
    emu.deliver(
        ME,
        raw("j1@x", "Junk one", "", "body"),
        "junkemail",
        T0 + 11 * DAY,
    );
    emu.deliver(ME, raw("old@x", "Old one", "", "body"), "inbox", T0 - DAY);
    let token = emu.user_token(ME).await;
    let path =
        format!("/v1.0/me/messages?$select={SELECT}&$orderby=receivedDateTime%20desc&$top=4");
    let immutable = [("Prefer", "IdType=\"ImmutableId\"")];
    let (status, page) = emu.get_with(&token, &path, &immutable).await;
    assert_eq!(status, 200, "{page}");
    let items = page["value"].as_array().cloned().unwrap_or_default();
    let subjects: Vec<&str> = items.iter().filter_map(|m| m["subject"].as_str()).collect();
    assert_eq!(subjects, ["Junk one", "Sent one", "Message 5", "Message 4"]);
    assert!(page["@odata.nextLink"].is_string(), "more than $top");
    let folders: HashSet<&str> = items
        .iter()
        .filter_map(|m| m["parentFolderId"].as_str())
        .collect();
    assert_eq!(folders.len(), 3, "junk, sent items and inbox: {folders:?}");
    let fourth = &items[3];
    assert_eq!(fourth["bodyPreview"], "body 4");
    assert!(
        fourth.get("body").is_none() && fourth.get("from").is_none(),
        "only $select"
    );
    let headers = fourth["internetMessageHeaders"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let header = |name: &str| {
        headers
            .iter()
            .find(|h| {
                h["name"]
                    .as_str()
                    .is_some_and(|n| n.eq_ignore_ascii_case(name))
            })
            .and_then(|h| h["value"].as_str())
            .map(str::to_string)
    };
    assert_eq!(header("Message-ID").as_deref(), Some("<m4@x>"));
    assert_eq!(header("References").as_deref(), Some("<m0@x> <m3@x>"));
    assert_eq!(
        header("From").as_deref(),
        Some("Carol Client <carol@client.test>")
    );
    // The listed id is the one `$value` answers for, with the message's MIME text.
    let id = fourth["id"].as_str().unwrap_or_default();
    let (status, _, mime) = emu
        .get_full(
            &token,
            &format!("/v1.0/me/messages/{id}/$value"),
            &immutable,
        )
        .await;
    assert_eq!(status, 200);
    assert!(String::from_utf8_lossy(&mime).contains("Message-ID: <m4@x>"));
}
