//! Unlinks stick through sync: a tombstoned link is not recreated by re-association, by a full
//! resync (cursors forgotten), nor when the email row itself is purged and synced again.
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use threadline::db::directory::businesses::BusinessInput;
use threadline::db::entities::{email_links, emails, sync_cursors, users};
use threadline::db::links::manual::{self, Scope};
use threadline::db::organizations;
use threadline::domain::association::Target;
use threadline::domain::domains::Domain;
use threadline::reassociation::{self, Edit, Subject};

use super::helpers::{deliver, linked, Linked, GMAIL};

fn message(tag: &str, from: &str) -> String {
    format!(
        "Message-ID: <{tag}@mail.example.test>\r\nFrom: {from}\r\nTo: {GMAIL}\r\n\
         Subject: {tag}\r\nDate: Mon, 16 Nov 2026 10:00:00 +0000\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\nHello.\r\n"
    )
}

async fn email(l: &Linked, provider_id: &str) -> emails::Model {
    emails::Entity::find()
        .filter(emails::Column::ProviderMessageId.eq(provider_id))
        .one(&l.app.db)
        .await
        .unwrap()
        .expect("stored")
}

/// `(source, tombstone)` of the email's links to `business`.
async fn links(l: &Linked, provider_id: &str, business: i64) -> Vec<(String, bool)> {
    let e = email(l, provider_id).await;
    email_links::Entity::find()
        .filter(email_links::Column::EmailId.eq(e.id))
        .filter(email_links::Column::BusinessId.eq(business))
        .all(&l.app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.source.to_string(), r.tombstone))
        .collect()
}

async fn full_resync(l: &Linked) {
    sync_cursors::Entity::delete_many()
        .filter(sync_cursors::Column::AccountId.eq(l.account_id))
        .exec(&l.app.db)
        .await
        .unwrap();
    l.sync_ok().await;
}

#[tokio::test]
async fn an_unlink_survives_reassociation_resync_and_a_purged_row() {
    let l = linked(0).await;
    let db = &l.app.db;
    let org = organizations::first(db).await.unwrap().unwrap().id;
    let admin = users::Entity::find().one(db).await.unwrap().unwrap().id;
    let mut input = BusinessInput {
        name: "Acme".into(),
        notes: String::new(),
        domains: vec![Domain::parse("acme.co.uk").unwrap()],
    };
    let saved = reassociation::save(db, org, admin, Edit::CreateBusiness(&input))
        .await
        .unwrap();
    let Subject::Business(acme) = saved.subject else {
        panic!("a business")
    };
    let undone = deliver(
        &l.app,
        &message("undone", "Bob <bob@mail.acme.co.uk>"),
        "INBOX",
    )
    .await;
    let kept = deliver(&l.app, &message("kept", "Cy <cy@acme.co.uk>"), "INBOX").await;
    l.sync_ok().await;
    let auto = vec![("auto".to_string(), false)];
    let tomb = vec![("auto".to_string(), true)];
    assert_eq!(links(&l, &undone, acme).await, auto);

    let e = email(&l, &undone).await;
    let link = email_links::Entity::find()
        .filter(email_links::Column::EmailId.eq(e.id))
        .one(db)
        .await
        .unwrap()
        .unwrap();
    let target = manual::unlink(db, org, admin, e.id, link.id).await.unwrap();
    assert_eq!(target, Target::Business(acme));
    assert_eq!(links(&l, &undone, acme).await, tomb);

    input.domains.push(Domain::parse("acme.com").unwrap());
    reassociation::save(db, org, admin, Edit::UpdateBusiness(acme, &input))
        .await
        .unwrap();
    assert_eq!(links(&l, &undone, acme).await, tomb, "re-association");
    assert_eq!(links(&l, &kept, acme).await, auto);

    full_resync(&l).await;
    assert_eq!(links(&l, &undone, acme).await, tomb, "full resync");
    assert_eq!(links(&l, &kept, acme).await, auto);

    // The row itself goes (a purged mailbox, say): synced again, the unlink still holds.
    emails::Entity::delete_by_id(e.id).exec(db).await.unwrap();
    full_resync(&l).await;
    assert_ne!(email(&l, &undone).await.id, e.id, "stored afresh");
    assert_eq!(
        links(&l, &undone, acme).await,
        tomb,
        "purged and synced again"
    );

    // Linking by hand lifts it for good.
    let again = email(&l, &undone).await.id;
    manual::link(db, org, admin, again, Target::Business(acme), Scope::Thread)
        .await
        .unwrap();
    assert_eq!(
        links(&l, &undone, acme).await,
        vec![("manual".to_string(), false)]
    );
    emails::Entity::delete_by_id(again).exec(db).await.unwrap();
    full_resync(&l).await;
    assert_eq!(links(&l, &undone, acme).await, auto);
}
