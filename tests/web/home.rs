//! The home page: recent threads on the reader's businesses (their own mail only), and what
//! needs attention: mailboxes to reconnect, unmatched correspondents.
use crate::directory_activity::org_and_admin;
use crate::support::TestApp;
use crate::visibility::PASSWORD;
use crate::visibility_world::{self as world, exec, Mail};

fn section<'a>(html: &'a str, id: &str) -> &'a str {
    let Some(start) = html.find(&format!("id=\"{id}\"")) else {
        return "";
    };
    let end = html[start..]
        .find("</section>")
        .map_or(html.len(), |e| start + e);
    &html[start..end]
}

#[tokio::test]
async fn home_shows_recent_threads_and_what_needs_attention() {
    let app = TestApp::spawn_admin().await;
    let db = &app.db;
    let (org, admin) = org_and_admin(db).await;
    let owen = app.create_user("owen@acme.test", PASSWORD, false).await;
    let mine = world::mailbox(db, org, Some(admin), "ada-box@acme.test", "full").await;
    let owens = world::mailbox(db, org, Some(owen), "owen-box@acme.test", "full").await;
    let globex = world::business(db, org, "Globex", "globex.test").await;

    let empty = app.get_html("/").await;
    assert!(section(&empty, "recent-threads").contains("No mail of yours is linked"));
    assert!(
        section(&empty, "attention").is_empty(),
        "nothing needs attention"
    );

    for (account, key, thread, subject, minute, linked) in [
        (mine, "m1", "t1", "Pricing", 1, true),
        (mine, "m2", "t1", "Re: Pricing", 5, true),
        (mine, "m3", "t3", "Renewal", 3, true),
        (owens, "m4", "t4", "Owens deal", 9, true),
        (mine, "m5", "t5", "Hello there", 2, false),
    ] {
        let m = Mail {
            account,
            message_key: key,
            thread_key: thread,
            subject,
            body: "zbody",
            minute,
        };
        let to = if linked {
            "ivy@initech.test"
        } else {
            "zed@zenith.test"
        };
        let id = world::email(db, org, to, &m).await;
        if linked {
            world::link(db, org, id, globex).await;
        }
    }
    let html = app.get_html("/").await;
    let recent = section(&html, "recent-threads");
    // Each thread once, at its latest message, newest first; a colleague's mail is not "mine".
    let re = recent.find("Re: Pricing").expect("the Pricing thread");
    let renewal = recent.find("Renewal").expect("the Renewal thread");
    assert!(re < renewal, "newest first");
    assert!(!recent.contains(">Pricing<"), "a thread once");
    assert!(!recent.contains("Owens deal"));
    assert!(recent.contains(&format!("/businesses/{globex}\">Globex")));
    // The unlinked email's correspondent needs attention.
    let attention = section(&html, "attention");
    assert!(attention.contains("zed@zenith.test"), "{attention}");
    assert!(attention.contains("Hello there"));
    assert!(!attention.contains("needs reconnecting"));

    exec(
        db,
        "UPDATE mail_accounts SET status = 'needs_reconnect' WHERE id = ?",
        vec![mine.into()],
    )
    .await;
    let html = app.get_html("/").await;
    let attention = section(&html, "attention");
    assert!(
        attention.contains(&format!(
            "/mailboxes/{mine}\">Gmail mailbox ada-box@acme.test"
        )),
        "{attention}"
    );
    // Owen's page: his own thread, none of the admin's, and no reconnect of hers.
    let owen_browser = app.other_browser();
    owen_browser.sign_in("owen@acme.test", PASSWORD).await;
    let html = owen_browser.get_html("/").await;
    let recent = section(&html, "recent-threads");
    assert!(recent.contains("Owens deal"));
    assert!(!recent.contains("Pricing"));
    assert!(!section(&html, "attention").contains("ada-box@acme.test"));
}
