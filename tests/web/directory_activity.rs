//! The businesses and contacts lists as a CRM user scans them: last activity, thread and
//! message counts as the reader's timelines show them (copies of a message once, a colleague's
//! private mailbox never), and the order by last activity with "Load more".
use sea_orm::{ConnectionTrait, DatabaseConnection};
use threadline::db::batch::statement;

use crate::directory_lists_support::{fragment_more, ids_in, row_of};
use crate::support::{TestApp, ADMIN_EMAIL};
use crate::visibility::PASSWORD;
use crate::visibility_world::{self as world, exec, Mail};

pub async fn org_and_admin(db: &DatabaseConnection) -> (i64, i64) {
    let row = db
        .query_one(statement(
            db.get_database_backend(),
            "SELECT organization_id, id FROM users WHERE email = ?",
            vec![ADMIN_EMAIL.into()],
        ))
        .await
        .unwrap()
        .unwrap();
    (
        row.try_get_by_index(0).unwrap(),
        row.try_get_by_index(1).unwrap(),
    )
}

/// Store one copy of a message in `account` at `minute` and link it to `business`.
async fn mail(
    db: &DatabaseConnection,
    org: i64,
    account: i64,
    (key, thread, minute): (&str, &str, i64),
    business: i64,
) -> i64 {
    let m = Mail {
        account,
        message_key: key,
        thread_key: thread,
        subject: "zsubj",
        body: "zbody",
        minute,
    };
    let id = world::email(db, org, "ivy@initech.test", &m).await;
    world::link(db, org, id, business).await;
    id
}

#[tokio::test]
async fn lists_count_messages_once_and_sort_by_last_activity() {
    let app = TestApp::spawn_admin().await;
    let db = &app.db;
    let (org, admin) = org_and_admin(db).await;
    let mine = world::mailbox(db, org, Some(admin), "ada-box@acme.test", "full").await;
    let other = world::mailbox(db, org, None, "sales@acme.test", "full").await;
    let alpha = world::business(db, org, "Alpha", "alpha.test").await;
    let beta = world::business(db, org, "Beta", "beta.test").await;
    let gamma = world::business(db, org, "Gamma", "gamma.test").await;
    let idle = world::business(db, org, "Idle", "idle.test").await;
    // Alpha: one thread of two messages, the second also in another mailbox (one message).
    mail(db, org, mine, ("a1", "ta", 1), alpha).await;
    mail(db, org, mine, ("a2", "ta", 5), alpha).await;
    mail(db, org, other, ("a2", "ta", 5), alpha).await;
    // Beta: three messages in two threads, the latest of all.
    mail(db, org, mine, ("b1", "tb1", 2), beta).await;
    mail(db, org, mine, ("b2", "tb2", 7), beta).await;
    mail(db, org, mine, ("b3", "tb1", 10), beta).await;
    mail(db, org, mine, ("g1", "tg", 3), gamma).await;
    // A soft-deleted message and an unlinked one count nowhere.
    let gone = mail(db, org, mine, ("g2", "tg2", 20), gamma).await;
    exec(
        db,
        "UPDATE emails SET soft_deleted_at = received_at WHERE id = ?",
        vec![gone.into()],
    )
    .await;

    let html = app.get_html("/businesses").await;
    assert_eq!(ids_in(&html), vec![alpha, beta, gamma, idle], "by name");
    assert_eq!(
        row_of(&html, alpha),
        ("2026-11-01 09:05".into(), "1".into(), "2".into())
    );
    assert_eq!(
        row_of(&html, beta),
        ("2026-11-01 09:10".into(), "2".into(), "3".into())
    );
    assert_eq!(
        row_of(&html, gamma),
        ("2026-11-01 09:03".into(), "1".into(), "1".into())
    );
    assert_eq!(row_of(&html, idle), (String::new(), "0".into(), "0".into()));
    assert!(html.contains("/businesses?sort=activity"), "the sort link");

    let by_activity = app.get_html("/businesses?sort=activity").await;
    assert_eq!(ids_in(&by_activity), vec![beta, alpha, gamma, idle]);
    // The search keeps the order.
    let searched = app.get_html("/businesses?sort=activity&q=a").await;
    assert_eq!(ids_in(&searched), vec![beta, alpha, gamma]);
    assert!(fragment_more(&app, "/businesses?sort=activity")
        .await
        .1
        .is_none());

    // Contacts alike, from their own links.
    let ann = threadline::db::directory::create_contact(
        db,
        org,
        Some(beta),
        "Ann",
        &["ann@beta.test".to_string()],
    )
    .await
    .unwrap()
    .id;
    exec(
        db,
        "INSERT INTO email_links (organization_id, email_id, contact_id, source, reason, \
         tombstone, received_at, created_at) SELECT organization_id, email_id, ?, source, \
         reason, tombstone, received_at, created_at FROM email_links WHERE business_id = ?",
        vec![ann.into(), beta.into()],
    )
    .await;
    let contacts = app.get_html("/contacts?sort=activity").await;
    assert_eq!(
        row_of(&contacts, ann),
        ("2026-11-01 09:10".into(), "2".into(), "3".into())
    );
}

#[tokio::test]
async fn paging_by_last_activity_breaks_ties_by_id_and_ends_with_idle_records() {
    let app = TestApp::spawn_admin().await;
    let db = &app.db;
    let (org, admin) = org_and_admin(db).await;
    let mine = world::mailbox(db, org, Some(admin), "ada-box@acme.test", "full").await;
    // 34 businesses over 3 pages of 25 / 9: many share a minute, and pairs share one email
    // (a message linked to two businesses); four have no mail.
    let mut expected: Vec<(i64, i64, i64)> = Vec::new(); // (minute, email id, business id)
    let mut idle: Vec<i64> = Vec::new();
    let mut businesses = Vec::new();
    for n in 0..34 {
        let id = world::business(db, org, &format!("B{n:02}"), &format!("b{n}.test")).await;
        businesses.push(id);
    }
    for (n, pair) in businesses[..30].chunks(2).enumerate() {
        let minute = i64::try_from(n % 4).unwrap();
        let key = format!("p{n}");
        let email = mail(db, org, mine, (&key, &key, minute), pair[0]).await;
        world::link(db, org, email, pair[1]).await;
        // An older message of the first one never moves it.
        mail(db, org, mine, (&format!("old{n}"), &key, -5), pair[0]).await;
        expected.extend(pair.iter().map(|&b| (minute, email, b)));
    }
    idle.extend(&businesses[30..]);
    expected.sort_by(|a, b| b.cmp(a));
    let mut want: Vec<i64> = expected.iter().map(|e| e.2).collect();
    want.extend(idle);

    let first = app.get_html("/businesses?sort=activity").await;
    let mut got = ids_in(&first);
    assert_eq!(got.len(), 25);
    let mut more = crate::directory_lists_support::more_url(&first);
    while let Some(url) = more {
        let (rows, next) = fragment_more(&app, &url).await;
        got.extend(rows);
        more = next;
    }
    assert_eq!(got, want);
}

#[tokio::test]
async fn a_colleagues_private_mailbox_adds_no_counts_or_dates() {
    let app = TestApp::spawn_admin().await;
    let db = &app.db;
    let (org, _) = org_and_admin(db).await;
    let owen_id = app.create_user("owen@acme.test", PASSWORD, false).await;
    let owen = app.other_browser();
    owen.sign_in("owen@acme.test", PASSWORD).await;
    let private = world::mailbox(db, org, Some(owen_id), "owen-p@acme.test", "private").await;
    let shared = world::mailbox(db, org, Some(owen_id), "owen-f@acme.test", "full").await;
    let globex = world::business(db, org, "Globex", "globex.test").await;
    let umbrella = world::business(db, org, "Umbrella", "umbrella.test").await;
    mail(db, org, shared, ("g1", "tg1", 1), globex).await;
    mail(db, org, private, ("g2", "tg2", 30), globex).await;
    mail(db, org, private, ("u1", "tu1", 40), umbrella).await;
    mail(db, org, shared, ("x1", "tx1", 2), umbrella).await;
    // A thread Owen marked private is hidden too.
    mail(db, org, shared, ("x2", "tx2", 20), umbrella).await;
    world::private_thread(db, org, owen_id, "tx2").await;

    // The admin, a colleague: only the shared mailbox's messages, dated by them.
    let html = app.get_html("/businesses").await;
    assert_eq!(
        row_of(&html, globex),
        ("2026-11-01 09:01".into(), "1".into(), "1".into())
    );
    assert_eq!(
        row_of(&html, umbrella),
        ("2026-11-01 09:02".into(), "1".into(), "1".into())
    );
    let by_activity = app.get_html("/businesses?sort=activity").await;
    assert_eq!(ids_in(&by_activity), vec![umbrella, globex]);
    // Owen sees all of his own mail.
    let html = owen.get_html("/businesses").await;
    assert_eq!(
        row_of(&html, globex),
        ("2026-11-01 09:30".into(), "2".into(), "2".into())
    );
    assert_eq!(
        row_of(&html, umbrella),
        ("2026-11-01 09:40".into(), "3".into(), "3".into())
    );
    let by_activity = owen.get_html("/businesses?sort=activity").await;
    assert_eq!(ids_in(&by_activity), vec![umbrella, globex]);
    // A shared message newer than Umbrella's visible ones moves Globex up for the admin.
    mail(db, org, shared, ("g3", "tg1", 3), globex).await;
    let by_activity = app.get_html("/businesses?sort=activity").await;
    assert_eq!(ids_in(&by_activity), vec![globex, umbrella]);
}
