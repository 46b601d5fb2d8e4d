//! Auto-created contacts at ingest, by the organization's policy: `off` creates none, `sent`
//! only the recipients of mail the mailbox sent, `all` anyone; always only at a known business
//! domain (never free-mail, internal or unknown), never twice, and the email links the contact.
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use threadline::db::entities::{contact_addresses, contacts, email_links, emails};
use threadline::db::{directory, organizations};

use super::helpers::{deliver, linked, Linked, GMAIL};

fn message(tag: &str, from: &str, to: &str) -> String {
    format!(
        "Message-ID: <{tag}@mail.example.test>\r\nFrom: {from}\r\nTo: {to}\r\n\
         Cc: Zed <zed@gmail.com>, Col <col@gmail-sync.test>, Xi <xi@unknown.test>\r\n\
         Subject: {tag}\r\nDate: Mon, 16 Nov 2026 10:00:00 +0000\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\nHello.\r\n"
    )
}

/// A linked mailbox whose organization has the policy, internal domain gmail-sync.test and the
/// business Acme (acme.test); mail: one sent to Bob at Acme, one received from Ann at Acme.
async fn synced(policy: &str) -> (Linked, i64) {
    let l = linked(0).await;
    let org = organizations::first(&l.app.db).await.unwrap().unwrap().id;
    directory::add_internal_domain(&l.app.db, org, "gmail-sync.test")
        .await
        .unwrap();
    let acme = directory::create_business(&l.app.db, org, "Acme", &["acme.test".into()])
        .await
        .unwrap();
    let res = l
        .app
        .post_form("/settings/policies", &[("auto_create_contacts", policy)])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let me = format!("Sam <{GMAIL}>");
    deliver(
        &l.app,
        &message("sent", &me, "Bob Stone <bob@mail.acme.test>"),
        "SENT",
    )
    .await;
    deliver(
        &l.app,
        &message("recv", "\"Ann Lee\" <ann@acme.test>", &me),
        "INBOX",
    )
    .await;
    deliver(
        &l.app,
        &message("recv2", "Ann Lee <ann@acme.test>", &me),
        "INBOX",
    )
    .await;
    l.sync_ok().await;
    (l, acme.id)
}

/// `(name, address, business)` of every contact, by address.
async fn all_contacts(l: &Linked) -> Vec<(String, String, Option<i64>)> {
    let mut out = Vec::new();
    for a in contact_addresses::Entity::find()
        .all(&l.app.db)
        .await
        .unwrap()
    {
        let c = contacts::Entity::find_by_id(a.contact_id)
            .one(&l.app.db)
            .await
            .unwrap()
            .unwrap();
        out.push((c.name, a.address, c.business_id));
    }
    out.sort_by(|a, b| a.1.cmp(&b.1));
    out
}

async fn contact_links(l: &Linked, subject: &str) -> Vec<i64> {
    let email = emails::Entity::find()
        .filter(emails::Column::Subject.eq(subject))
        .one(&l.app.db)
        .await
        .unwrap()
        .expect("stored");
    email_links::Entity::find()
        .filter(email_links::Column::EmailId.eq(email.id))
        .all(&l.app.db)
        .await
        .unwrap()
        .into_iter()
        .filter_map(|l| l.contact_id)
        .collect()
}

#[tokio::test]
async fn off_creates_nothing() {
    let (l, _) = synced("off").await;
    assert!(all_contacts(&l).await.is_empty());
}

#[tokio::test]
async fn sent_creates_only_the_recipients_of_sent_mail() {
    let (l, acme) = synced("sent").await;
    let got = all_contacts(&l).await;
    assert_eq!(
        got,
        vec![("Bob Stone".into(), "bob@mail.acme.test".into(), Some(acme))]
    );
    assert_eq!(
        contact_links(&l, "sent").await.len(),
        1,
        "the email links the new contact"
    );
    assert!(contact_links(&l, "recv").await.is_empty());
    let audit = l.app.get_html("/admin/audit").await;
    assert!(audit.contains("contact.auto_create"), "{audit}");
}

#[tokio::test]
async fn all_creates_from_received_mail_too_and_never_twice() {
    let (l, acme) = synced("all").await;
    let got = all_contacts(&l).await;
    assert_eq!(
        got,
        vec![
            ("Ann Lee".into(), "ann@acme.test".into(), Some(acme)),
            ("Bob Stone".into(), "bob@mail.acme.test".into(), Some(acme)),
        ],
        "never free-mail (zed@gmail.com), internal (col@) or unknown (xi@unknown.test)"
    );
    let ann = contact_links(&l, "recv").await;
    assert_eq!(ann.len(), 1);
    assert_eq!(
        contact_links(&l, "recv2").await,
        ann,
        "the second email reuses the contact"
    );
    l.sync_ok().await;
    assert_eq!(all_contacts(&l).await.len(), 2);
}
