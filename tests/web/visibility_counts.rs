//! Counts of mail under visibility levels: a directory edit's preview counts only the emails
//! the reader may see now or once linked (their own, and colleagues' copies above `private`),
//! never a colleague's private mailbox or private thread, nor unlinked mail that stays so.
use reqwest::StatusCode;

use crate::support::TestApp;
use crate::visibility::PASSWORD;
use crate::visibility_world::{self as world, Mail};

const BEA: &str = "bea@acme.test";

/// The preview page's `(gain, lose, involved)` figures.
fn figures(html: &str) -> (u64, u64, u64) {
    let grab = |id: &str| -> u64 {
        let start = html.find(&format!("id=\"{id}\">")).expect(id) + id.len() + 6;
        let end = start + html[start..].find('<').unwrap();
        html[start..end].parse().unwrap()
    };
    let involved = html
        .split("stored emails involve")
        .next()
        .and_then(|head| head.rsplit('>').next())
        .and_then(|n| n.trim().parse().ok())
        .expect("the involved count");
    (grab("preview-gain"), grab("preview-lose"), involved)
}

async fn preview(who: &TestApp, business: i64, name: &str, domain: &str) -> (u64, u64, u64) {
    let res = who
        .post_form(
            &format!("/businesses/{business}/preview"),
            &[("name", name), ("domains", domain), ("notes", "")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    figures(&res.text().await.unwrap())
}

#[tokio::test]
async fn a_preview_counts_only_mail_the_reader_may_see() {
    let app = TestApp::spawn_admin().await;
    let db = &app.db;
    let org = threadline::db::organizations::first(db)
        .await
        .unwrap()
        .unwrap()
        .id;
    let owen = app.create_user("owen@acme.test", PASSWORD, false).await;
    let bea_id = app.create_user(BEA, PASSWORD, false).await;
    let bea = app.other_browser();
    bea.sign_in(BEA, PASSWORD).await;
    let globex = world::business(db, org, "Globex", "globex.test").await;
    let initech = world::business(db, org, "Initech", "initech-old.test").await;
    let private = world::mailbox(db, org, Some(owen), "owen-p@acme.test", "private").await;
    let full = world::mailbox(db, org, Some(owen), "owen-f@acme.test", "full").await;
    let meta = world::mailbox(db, org, Some(owen), "owen-m@acme.test", "metadata").await;
    // Bea's own mailbox: private to colleagues, all hers.
    let bea_box = world::mailbox(db, org, Some(bea_id), "bea-b@acme.test", "private").await;
    // Every email is from Globex to Initech; all but one are linked to Globex.
    let mut n = 0;
    for (account, thread, linked) in [
        (private, "t-p", true),
        (full, "t-private", true),
        (full, "t-f", true),
        (meta, "t-m", true),
        (full, "t-unlinked", false),
        (bea_box, "t-b", true),
    ] {
        n += 1;
        let key = format!("m{n}");
        let mail = Mail {
            account,
            message_key: &key,
            thread_key: thread,
            subject: "zsubj",
            body: "zbody",
            minute: n,
        };
        let id = world::email(db, org, "ivy@initech.test", &mail).await;
        if linked {
            world::link(db, org, id, globex).await;
        }
    }
    world::private_thread(db, org, owen, "t-private").await;

    // Globex loses its domain: Bea counts her own, the full and the metadata ones; the admin
    // (a colleague of both) the full and the metadata ones.
    assert_eq!(
        preview(&bea, globex, "Globex", "other.test").await,
        (0, 3, 3)
    );
    assert_eq!(
        preview(&app, globex, "Globex", "other.test").await,
        (0, 2, 2)
    );
    // Initech gains its domain: the unlinked full-level email counts too (linked, Bea will
    // see it), the private mailbox's and the private thread's never.
    assert_eq!(
        preview(&bea, initech, "Initech", "initech.test").await,
        (4, 0, 4)
    );
    assert_eq!(
        preview(&app, initech, "Initech", "initech.test").await,
        (3, 0, 3)
    );
    // Owen, who owns the hidden ones, counts all of his.
    let owen_browser = app.other_browser();
    owen_browser.sign_in("owen@acme.test", PASSWORD).await;
    assert_eq!(
        preview(&owen_browser, initech, "Initech", "initech.test").await,
        (5, 0, 5)
    );
}
