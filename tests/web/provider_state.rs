//! The provider's state in Threadline (issue 24): the owner's own view follows read and starred
//! changes made in Gmail or Outlook unless they changed the mark in Threadline since (last
//! change wins), colleagues keep their own marks; mail deleted or binned in the provider is
//! marked and can be hidden; a business heading counts messages, not stored copies.
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{json, Value};
use threadline::db::entities::{emails, mail_accounts};
use threadline::sync::sync_account;
use threadline_emulator::control::{DeliverQuery, MessagePatch};

use crate::mailbox_fixtures::{all_accounts, GMAIL, OUTLOOK};
use crate::support::mail::approve;
use crate::support::{location, TestApp};
use crate::timeline::{globex, message};

const TENANT: &str = "0f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a";
const PASSWORD: &str = "a long enough password 3";

/// The admin with a Gmail and an Outlook mailbox of their own, and the business Globex.
async fn two_mailboxes() -> (TestApp, i64) {
    let app = TestApp::spawn_with_emulator().await;
    app.setup_admin().await;
    app.provider_mailbox("google", GMAIL, "Ada Admin").await;
    app.create_mailbox("microsoft", OUTLOOK, "Ada Admin", Some(TENANT))
        .await;
    for (provider, address) in [("google", GMAIL), ("microsoft", OUTLOOK)] {
        let res = app.connect(provider, approve(address)).await;
        assert_eq!(location(&res), "/mailboxes", "{provider}");
    }
    let business = globex(&app).await;
    (app, business)
}

/// Deliver a message from Bob of Globex, unread, into `mailbox`; its provider id.
async fn deliver(app: &TestApp, mailbox: &str, id: &str, subject: &str) -> String {
    let query = if mailbox == GMAIL {
        DeliverQuery {
            labels: Some("INBOX,UNREAD".into()),
            ..DeliverQuery::default()
        }
    } else {
        DeliverQuery {
            folder: Some("inbox".into()),
            read: Some(false),
            ..DeliverQuery::default()
        }
    };
    app.emulator_client()
        .deliver(mailbox, message(id, None, subject, 2, "Hello."), &query)
        .await
        .expect("delivered")
}

/// Change a message in the provider as its user would.
async fn patch(app: &TestApp, mailbox: &str, id: &str, change: Value) {
    let change: MessagePatch = serde_json::from_value(change).expect("a message patch");
    app.emulator_client()
        .patch_message(mailbox, id, &change)
        .await
        .expect("patched");
}

async fn sync_all(app: &TestApp) {
    for account in all_accounts(app).await {
        sync_account(&app.deps, account.id).await.unwrap();
    }
}

/// The stored copy of message `<id>` in `mailbox`.
async fn stored(app: &TestApp, mailbox: &str, id: &str) -> i64 {
    let account = mail_accounts::Entity::find()
        .filter(mail_accounts::Column::Address.eq(mailbox))
        .one(&app.db)
        .await
        .unwrap()
        .expect("a mailbox");
    emails::Entity::find()
        .filter(emails::Column::AccountId.eq(account.id))
        .filter(emails::Column::MessageId.eq(id))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("{id} stored in {mailbox}"))
        .id
}

/// The line of the thread whose latest message is `email` (from `<details` to `</details>`).
fn row(html: &str, email: i64) -> &str {
    let at = html
        .find(&format!("id=\"thread-{email}\""))
        .unwrap_or_else(|| panic!("thread-{email} listed: {html}"));
    let start = html[..at].rfind("<details").unwrap();
    let end = at + html[at..].find("</details>").unwrap();
    &html[start..end]
}

fn unread(html: &str, email: i64) -> bool {
    row(html, email).starts_with("<details class=\"thread unread\"")
}

fn starred(html: &str, email: i64) -> bool {
    row(html, email).contains("title=\"Starred\"")
}

/// The threads of a page by their handles, in order.
fn threads_in(html: &str) -> Vec<i64> {
    html.split("id=\"thread-")
        .skip(1)
        .map(|s| s[..s.find('"').unwrap()].parse().unwrap())
        .collect()
}

#[tokio::test]
async fn the_owners_view_follows_gmail_and_outlook_unless_changed_in_threadline_since() {
    let (app, business) = two_mailboxes().await;
    let g = deliver(&app, GMAIL, "g1@globex.test", "Gmail news").await;
    let o = deliver(&app, OUTLOOK, "o1@globex.test", "Outlook news").await;
    sync_all(&app).await;
    let (gid, oid) = (
        stored(&app, GMAIL, "g1@globex.test").await,
        stored(&app, OUTLOOK, "o1@globex.test").await,
    );
    let mail = app.get_html("/mail").await;
    for id in [gid, oid] {
        assert!(unread(&mail, id) && !starred(&mail, id), "{mail}");
    }

    // Read and starred in Gmail and in Outlook: so in the owner's own view after a sync.
    for (mailbox, id) in [(GMAIL, &g), (OUTLOOK, &o)] {
        patch(&app, mailbox, id, json!({"read": true, "starred": true})).await;
    }
    sync_all(&app).await;
    let mail = app.get_html("/mail").await;
    for id in [gid, oid] {
        assert!(!unread(&mail, id) && starred(&mail, id), "{id}: {mail}");
    }
    let page = app.get_html(&format!("/emails/{gid}")).await;
    assert!(page.contains("Mark unread") && page.contains("★ Starred"));

    // A colleague reading the same mail on the business page keeps their own marks.
    let bea = app.member_browser("bea@acme.test", PASSWORD).await;
    let theirs = bea.get_html(&format!("/businesses/{business}")).await;
    for id in [gid, oid] {
        assert!(unread(&theirs, id) && !starred(&theirs, id), "{theirs}");
    }

    // Changed in Threadline since: that stays while the provider does not change again.
    app.post_form(&format!("/emails/{gid}/read"), &[("value", "off")])
        .await;
    app.post_form(&format!("/emails/{oid}/star"), &[("value", "off")])
        .await;
    sync_all(&app).await;
    let mail = app.get_html("/mail").await;
    assert!(unread(&mail, gid) && starred(&mail, gid), "{mail}");
    assert!(!unread(&mail, oid) && !starred(&mail, oid), "{mail}");

    // The provider changes again, later: its change wins.
    patch(&app, GMAIL, &g, json!({"read": false})).await;
    patch(&app, OUTLOOK, &o, json!({"starred": false})).await;
    sync_all(&app).await;
    patch(&app, GMAIL, &g, json!({"read": true})).await;
    patch(&app, OUTLOOK, &o, json!({"starred": true})).await;
    sync_all(&app).await;
    let mail = app.get_html("/mail").await;
    for id in [gid, oid] {
        assert!(!unread(&mail, id) && starred(&mail, id), "{id}: {mail}");
    }
    let theirs = bea.get_html(&format!("/businesses/{business}")).await;
    assert!(unread(&theirs, gid) && !starred(&theirs, oid), "{theirs}");
}

#[tokio::test]
async fn mail_deleted_in_gmail_or_outlook_is_marked_and_a_filter_hides_it() {
    let (app, business) = two_mailboxes().await;
    let g = deliver(&app, GMAIL, "g2@globex.test", "Trashed in Gmail").await;
    let o = deliver(&app, OUTLOOK, "o2@globex.test", "Binned in Outlook").await;
    deliver(&app, GMAIL, "g3@globex.test", "Still here").await;
    sync_all(&app).await;
    patch(&app, GMAIL, &g, json!({"labels": ["TRASH"]})).await;
    patch(&app, OUTLOOK, &o, json!({"folder": "deleteditems"})).await;
    sync_all(&app).await;
    let gid = stored(&app, GMAIL, "g2@globex.test").await;
    let oid = stored(&app, OUTLOOK, "o2@globex.test").await;
    let live = stored(&app, GMAIL, "g3@globex.test").await;

    let bea = app.member_browser("bea@acme.test", PASSWORD).await;
    let business = format!("/businesses/{business}");
    let pages = [
        (&app, "/mail"),
        (&app, business.as_str()),
        (&bea, business.as_str()),
    ];
    for (reader, page) in pages {
        // Shown by default, marked with the provider and the day.
        let html = reader.get_html(page).await;
        assert!(row(&html, gid).contains("deleted in Gmail on 20"), "{html}");
        assert!(
            row(&html, oid).contains("deleted in Outlook on 20"),
            "{html}"
        );
        assert!(!row(&html, live).contains("deleted in"), "{html}");
        // The filter hides them, as a page and as the fragment htmx swaps in.
        let hidden = reader.get_html(&format!("{page}?hide_deleted=on")).await;
        assert_eq!(threads_in(&hidden), vec![live], "{page}: {hidden}");
        assert!(hidden.contains(r#"name="hide_deleted" value="on" checked"#));
        let fragment = reader
            .get_html(&format!("{page}/threads?hide_deleted=on"))
            .await;
        assert_eq!(threads_in(&fragment), vec![live], "{fragment}");
    }
    // The expanded thread and the email page say it too.
    let thread = app.get_html(&format!("/mail/threads/{oid}")).await;
    assert!(thread.contains("deleted in Outlook on 20"), "{thread}");
    let page = app.get_html(&format!("/emails/{gid}")).await;
    assert!(page.contains("deleted in Gmail on 20"), "{page}");

    // Back out of the bin: no longer marked, and listed under the filter again.
    patch(&app, GMAIL, &g, json!({"labels": ["INBOX"]})).await;
    sync_all(&app).await;
    let hidden = app.get_html("/mail?hide_deleted=on").await;
    assert!(threads_in(&hidden).contains(&gid), "{hidden}");
    assert!(!row(&hidden, gid).contains("deleted in"), "{hidden}");
}

#[tokio::test]
async fn a_business_heading_counts_messages_not_stored_copies() {
    let (app, business) = two_mailboxes().await;
    // One message in both mailboxes (two stored copies), one in Gmail only.
    deliver(&app, GMAIL, "both@globex.test", "To both").await;
    deliver(&app, OUTLOOK, "both@globex.test", "To both").await;
    deliver(&app, GMAIL, "one@globex.test", "To one").await;
    sync_all(&app).await;
    let copies = emails::Entity::find()
        .filter(emails::Column::MessageId.eq("both@globex.test"))
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(copies.len(), 2, "a copy in each mailbox");

    let page = app.get_html(&format!("/businesses/{business}")).await;
    assert_eq!(threads_in(&page).len(), 2, "{page}");
    assert!(!page.contains("class=\"count\""), "one message a thread");
    assert!(page.contains("(2 linked emails)"), "{page}");
}
