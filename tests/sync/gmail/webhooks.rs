//! Webhooks from sync: `email.received` is written with the page that stores and associates the
//! mail (carrying the business it was linked to, never the body), not for mail of a mailbox at
//! the `metadata` level; a mailbox's status change announces `mailbox.status_changed`.
use chrono::Utc;
use reqwest::StatusCode;
use threadline::db::{directory, organizations};
use threadline::domain::mailbox::MailboxStatus;
use threadline::webhooks::deliver::deliver_due;
use threadline::webhooks::WebhookDeps;

use super::helpers::{deliver, linked, GMAIL};
use crate::support::webhooks::{secret_in, verify, Receiver};

fn message(tag: &str, from: &str) -> String {
    format!(
        "Message-ID: <{tag}@mail.example.test>\r\nFrom: {from}\r\nTo: {GMAIL}\r\n\
         Subject: Quote {tag}\r\nDate: Mon, 16 Nov 2026 10:00:00 +0000\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\nThe secret body {tag}.\r\n"
    )
}

#[tokio::test]
async fn synced_mail_announces_email_received_with_its_business() {
    let l = linked(0).await;
    let org = organizations::first(&l.app.db).await.unwrap().unwrap().id;
    let acme = directory::create_business(&l.app.db, org, "Acme", &["acme.co.uk".into()])
        .await
        .unwrap();
    let receiver = Receiver::start(&[]).await;
    let fields = [
        ("url", receiver.url.as_str()),
        ("event", "email.received"),
        ("event", "mailbox.status_changed"),
    ];
    let res = l.app.post_form("/admin/webhooks", &fields).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let secret = secret_in(&res.text().await.unwrap());
    deliver(&l.app, &message("a1", "Bob <bob@mail.acme.co.uk>"), "INBOX").await;
    deliver(&l.app, &message("f1", "Zed <zed@gmail.com>"), "INBOX").await;
    l.sync_ok().await;
    let deps = WebhookDeps::new(l.app.db.clone(), l.app.deps.keys.clone(), true);
    deliver_due(&deps, "w", Utc::now()).await.unwrap();
    let hits = receiver.hits();
    assert_eq!(hits.len(), 1, "only associated mail is announced: {hits:?}");
    assert!(verify(&secret, &hits[0]));
    let body = hits[0].json();
    assert_eq!(body["type"], "email.received");
    let data = &body["data"];
    assert_eq!(data["business_ids"], serde_json::json!([acme.id]));
    assert_eq!(data["subject"], "Quote a1");
    assert_eq!(data["from"], "bob@mail.acme.co.uk");
    assert_eq!(data["message_id"], "a1@mail.example.test");
    assert!(!hits[0].body.contains("secret body"), "never the body");

    // A mailbox at the `metadata` level announces none of its mail.
    let path = format!("/mailboxes/{}/visibility", l.account_id);
    let res = l.app.post_form(&path, &[("level", "metadata")]).await;
    assert!(res.status().is_redirection() || res.status().is_success());
    deliver(&l.app, &message("a2", "Bob <bob@mail.acme.co.uk>"), "INBOX").await;
    l.sync_ok().await;
    deliver_due(&deps, "w", Utc::now()).await.unwrap();
    assert_eq!(receiver.hits().len(), 1, "{:?}", receiver.hits());

    // Any status change of the mailbox is announced (a database trigger catches every path).
    threadline::db::mail_accounts::set_status(&l.app.db, l.account_id, MailboxStatus::Paused, None)
        .await
        .unwrap();
    deliver_due(&deps, "w", Utc::now()).await.unwrap();
    let hit = receiver.hits().pop().unwrap();
    assert!(verify(&secret, &hit));
    let body = hit.json();
    assert_eq!(body["type"], "mailbox.status_changed");
    assert_eq!(body["data"]["mailbox_id"], l.account_id);
    assert_eq!(body["data"]["from"], "active");
    assert_eq!(body["data"]["to"], "paused");
}
