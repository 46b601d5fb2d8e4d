//! `users.labels.get` counts what Threadline reconciles against: a message in two labels counts
//! once in each, a label removed or a message deleted leaves the totals at once.

use serde_json::json;

use crate::google::support::{google_with, MODIFY};

const ME: &str = "/gmail/v1/users/me";

async fn total(emu: &crate::google::support::Emu, token: &str, label: &str) -> u64 {
    let (status, body) = emu.get(token, &format!("{ME}/labels/{label}")).await;
    assert_eq!(status, 200, "{body}");
    body["messagesTotal"].as_u64().expect("messagesTotal")
}

#[tokio::test]
async fn label_totals_count_each_label_and_follow_changes() {
    let (emu, token) = google_with(&[MODIFY]).await;
    let both = emu
        .deliver_simple("labels=INBOX,SENT", "t1@x", "Both", "x")
        .await;
    let inbox = emu
        .deliver_simple("labels=INBOX,UNREAD", "t2@x", "Inbox", "x")
        .await;
    assert_eq!(total(&emu, &token, "INBOX").await, 2);
    assert_eq!(total(&emu, &token, "SENT").await, 1);

    let (status, _) = emu
        .post(
            &token,
            &format!("{ME}/messages/{both}/modify"),
            json!({"removeLabelIds": ["INBOX"]}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(total(&emu, &token, "INBOX").await, 1);
    assert_eq!(total(&emu, &token, "SENT").await, 1);

    let (status, _) = emu
        .control_delete(&format!(
            "/_emulator/mailboxes/me@ourco.test/messages/{inbox}"
        ))
        .await;
    assert_eq!(status, 204);
    assert_eq!(total(&emu, &token, "INBOX").await, 0);
    let (status, _) = emu.get(&token, &format!("{ME}/labels/Label_none")).await;
    assert_eq!(status, 404);
}
