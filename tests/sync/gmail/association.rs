//! Links are written at ingest, in the same transaction as the email: businesses by domain
//! (never free-mail), contacts by exact address, a contact's business too.
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use threadline::db::entities::{email_links, emails};
use threadline::db::{directory, organizations};

use super::helpers::{deliver, linked, GMAIL};
use crate::support::inspect::Link;

fn message(tag: &str, from: &str) -> String {
    format!(
        "Message-ID: <{tag}@mail.example.test>\r\nFrom: {from}\r\nTo: {GMAIL}\r\n\
         Subject: {tag}\r\nDate: Mon, 16 Nov 2026 10:00:00 +0000\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\nHello.\r\n"
    )
}

async fn links_of(app: &crate::support::TestApp, provider_id: &str) -> Vec<Link> {
    let email = emails::Entity::find()
        .filter(emails::Column::ProviderMessageId.eq(provider_id))
        .one(&app.db)
        .await
        .unwrap()
        .expect("stored");
    crate::support::inspect::email_links_of(&app.db, email.id, false).await
}

#[tokio::test]
async fn synced_mail_is_linked_to_its_businesses_and_contacts() {
    let l = linked(0).await;
    let org = organizations::first(&l.app.db).await.unwrap().unwrap().id;
    let acme = directory::create_business(&l.app.db, org, "Acme", &["acme.co.uk".into()])
        .await
        .unwrap();
    let ann = directory::create_contact(
        &l.app.db,
        org,
        Some(acme.id),
        "Ann",
        &["ann@gmail.com".into()],
    )
    .await
    .unwrap();
    let by_domain = deliver(&l.app, &message("d", "Bob <bob@mail.acme.co.uk>"), "INBOX").await;
    let by_contact = deliver(&l.app, &message("c", "Ann <ann@gmail.com>"), "INBOX").await;
    let free = deliver(&l.app, &message("f", "Zed <zed@gmail.com>"), "INBOX").await;
    l.sync_ok().await;

    assert_eq!(
        links_of(&l.app, &by_domain).await,
        vec![Link::business(acme.id, "domain")]
    );
    assert_eq!(
        links_of(&l.app, &by_contact).await,
        vec![
            Link::contact(ann.id, "address"),
            Link::business(acme.id, "contact_business")
        ]
    );
    assert!(
        links_of(&l.app, &free).await.is_empty(),
        "free-mail never makes a business link"
    );
    // A second pass writes nothing twice.
    l.sync_ok().await;
    assert_eq!(
        email_links::Entity::find()
            .all(&l.app.db)
            .await
            .unwrap()
            .len(),
        3
    );
}
