//! Reference rules: an admin adds a rule after mail is stored (members 403; an invalid pattern
//! is refused with a form error), previews how many stored emails mention it, applies it; the
//! email page links the reference (to its timeline and, through the URL template, to the
//! system that owns it), `/references/{name}/{value}` lists the threads that mention it, mail
//! synced afterwards is matched at ingest, and deleting the rule removes its references. A
//! colleague whose level hides the body where a reference is found never learns of that email,
//! on the reference's page nor in search.
use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, Statement};
use threadline::sync::sync_account;

use crate::mailbox_fixtures::{all_accounts, linked_app, GMAIL};
use crate::support::{assert_form_error, location, TestApp};
use crate::visibility_world::{self as world, Mail};

const PATTERN: &str = r"WO-\d{5}";
const TEMPLATE: &str = "https://erp.example.com/wo/{value}";

fn raw(tag: &str, subject: &str, body: &str) -> String {
    format!(
        "From: Carl <carl@customer.test>\r\nTo: Ada <{GMAIL}>\r\nSubject: {subject}\r\n\
         Message-ID: <{tag}@test>\r\nDate: Fri, 20 Nov 2026 10:00:00 +0000\r\n\r\n{body}\r\n"
    )
}

async fn deliver_and_sync(app: &TestApp, tag: &str, subject: &str, body: &str) {
    app.deliver_gmail(GMAIL, raw(tag, subject, body), "INBOX", None)
        .await;
    for account in all_accounts(app).await {
        sync_account(&app.deps, account.id).await.unwrap();
    }
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    let backend = app.db.get_database_backend();
    app.db
        .query_one(Statement::from_string(backend, sql.to_string()))
        .await
        .unwrap()
        .unwrap()
        .try_get_by_index::<i64>(0)
        .unwrap()
}

async fn email_with_subject(app: &TestApp, subject: &str) -> i64 {
    count(
        app,
        &format!("SELECT MIN(id) FROM emails WHERE subject = '{subject}'"),
    )
    .await
}

fn rule_form(name: &str, pattern: &str) -> Vec<(&'static str, String)> {
    vec![
        ("name", name.to_string()),
        ("pattern", pattern.to_string()),
        ("url", TEMPLATE.to_string()),
    ]
}

fn preview_path(name: &str, pattern: &str) -> String {
    let q = serde_urlencoded::to_string(rule_form(name, pattern)).unwrap();
    format!("/admin/references/preview?{q}")
}

/// Save and apply the rule as the preview page's form does; the rule's id.
async fn apply(app: &TestApp, name: &str, pattern: &str) -> i64 {
    let form = rule_form(name, pattern);
    let fields: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let res = app.post_form("/admin/references", &fields).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), format!("/admin/references?saved={name}"));
    count(
        app,
        &format!("SELECT id FROM reference_rules WHERE name = '{name}'"),
    )
    .await
}

#[tokio::test]
async fn a_rule_applies_to_stored_mail_then_to_new_mail_and_goes_with_its_references() {
    let app = linked_app().await;
    deliver_and_sync(
        &app,
        "a",
        "WO-00042 pump broken",
        "Please send a technician.",
    )
    .await;
    deliver_and_sync(&app, "b", "Zinvoice", "This is about WO-00042 as well.").await;
    deliver_and_sync(
        &app,
        "c",
        "Zlunch",
        "No reference here, WO-123 is too short.",
    )
    .await;

    // Members never reach the rules.
    let bea = app.member_browser("bea@acme.test", "bea password 1").await;
    assert_eq!(
        bea.get("/admin/references").await.status(),
        StatusCode::FORBIDDEN
    );
    let res = bea
        .post_form("/admin/references", &[("name", "wo"), ("pattern", PATTERN)])
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);

    // A pattern that is not one, or that matches nothing at all, is refused with the reason.
    assert!(app
        .get_html("/admin/users")
        .await
        .contains("/admin/references"));
    let res = app.get(&preview_path("wo", r"WO-(\d")).await;
    assert_form_error(res, "not a valid regular expression").await;
    let res = app.get(&preview_path("wo", r"\d*")).await;
    assert_form_error(res, "matches the empty string").await;
    let res = app.get(&preview_path("w o", PATTERN)).await;
    assert_form_error(res, "Give the rule a name").await;

    // The preview counts the stored mail that mentions it, and writes nothing.
    let page = app.get_html(&preview_path("wo", PATTERN)).await;
    assert!(page.contains("<strong>2</strong> stored emails"), "{page}");
    assert_eq!(count(&app, "SELECT COUNT(*) FROM reference_rules").await, 0);

    let rule = apply(&app, "wo", PATTERN).await;
    let list = app.get_html("/admin/references?saved=wo").await;
    assert!(list.contains("Reference rule wo saved"), "{list}");
    assert!(list.contains("2 matches"), "{list}");

    // The email page links the reference to its timeline and to the ERP.
    let first = email_with_subject(&app, "WO-00042 pump broken").await;
    let page = app.get_html(&format!("/emails/{first}")).await;
    assert!(page.contains("href=\"/references/wo/WO-00042\""), "{page}");
    assert!(
        page.contains("https://erp.example.com/wo/WO-00042"),
        "{page}"
    );
    let lunch = email_with_subject(&app, "Zlunch").await;
    let page = app.get_html(&format!("/emails/{lunch}")).await;
    assert!(!page.contains("/references/wo/"), "{page}");

    // Its timeline lists both threads, with the reference on their lines.
    let timeline = app.get_html("/references/wo/wo-00042").await;
    assert!(timeline.contains("WO-00042 pump broken"), "{timeline}");
    assert!(timeline.contains("Zinvoice"), "{timeline}");
    assert!(!timeline.contains("Zlunch"), "{timeline}");
    assert!(timeline.contains("thread-references"), "{timeline}");

    // Mail synced afterwards is matched as it is stored.
    deliver_and_sync(&app, "d", "Zstatusmail", "Work order WO-00077 is done.").await;
    let timeline = app.get_html("/references/wo/WO-00077").await;
    assert!(timeline.contains("Zstatusmail"), "{timeline}");
    let status = email_with_subject(&app, "Zstatusmail").await;
    let page = app.get_html(&format!("/emails/{status}")).await;
    assert!(
        page.contains("https://erp.example.com/wo/WO-00077"),
        "{page}"
    );

    // Editing the rule re-applies it: a narrower pattern drops what it no longer matches.
    let form = rule_form("wo", r"WO-0004\d");
    let fields: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let res = app
        .post_form(&format!("/admin/references/{rule}"), &fields)
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let timeline = app.get_html("/references/wo/WO-00077").await;
    assert!(!timeline.contains("Zstatusmail"), "{timeline}");
    assert!(app
        .get_html("/references/wo/WO-00042")
        .await
        .contains("Zinvoice"));

    // Deleting the rule removes its references.
    let res = app
        .post_form(&format!("/admin/references/{rule}/delete"), &[])
        .await;
    assert_eq!(location(&res), "/admin/references?removed=wo");
    assert_eq!(
        app.get("/references/wo/WO-00042").await.status(),
        StatusCode::NOT_FOUND
    );
    let page = app.get_html(&format!("/emails/{first}")).await;
    assert!(!page.contains("/references/wo/"), "{page}");
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM email_references").await,
        0
    );
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM reference_values").await,
        0
    );
}

const OWEN: &str = "owen@acme.test";
const PASSWORD: &str = "a long enough password 1";

#[tokio::test]
async fn a_reference_in_a_body_the_readers_level_hides_reveals_nothing() {
    let app = TestApp::spawn_admin().await;
    let owen_id = app.create_user(OWEN, PASSWORD, false).await;
    let owen = app.other_browser();
    owen.sign_in(OWEN, PASSWORD).await;
    let bea = app.member_browser("bea@acme.test", PASSWORD).await;
    let org = threadline::db::organizations::first(&app.db)
        .await
        .unwrap()
        .unwrap()
        .id;
    let business = world::business(&app.db, org, "Globex", "globex.test").await;
    let subject_box = world::mailbox(&app.db, org, Some(owen_id), "o-s@acme.test", "subject").await;
    let full_box = world::mailbox(&app.db, org, Some(owen_id), "o-f@acme.test", "full").await;
    // Owen's mail, linked to Globex: the reference in the body of a subject-level copy, in the
    // subject of another, and in the body of a full-level copy.
    for (account, key, subject, body, minute) in [
        (subject_box, "m1", "Hiddenbody", "WO-12345", 1),
        (subject_box, "m2", "WO-22222 Shownsubject", "nothing", 2),
        (full_box, "m3", "Fullcopy", "WO-12345", 3),
    ] {
        let m = Mail {
            account,
            message_key: key,
            thread_key: key,
            subject,
            body,
            minute,
        };
        let id = world::email(&app.db, org, OWEN, &m).await;
        world::link(&app.db, org, id, business).await;
    }

    // The admin is a colleague too: the preview counts what the admin may see.
    let page = app.get_html(&preview_path("wo", PATTERN)).await;
    assert!(page.contains("<strong>2</strong> stored emails"), "{page}");
    apply(&app, "wo", PATTERN).await;

    for colleague in [&bea, &app] {
        let page = colleague.get_html("/references/wo/WO-12345").await;
        assert!(page.contains("Fullcopy"), "{page}");
        assert!(!page.contains("Hiddenbody"), "{page}");
        let page = colleague.get_html("/references/wo/WO-22222").await;
        assert!(page.contains("Shownsubject"), "{page}");
        // Searching for the reference finds the same, no more.
        let found = colleague
            .get_html(&format!("/businesses/{business}/threads?q=WO-12345"))
            .await;
        assert!(found.contains("Fullcopy"), "{found}");
        assert!(!found.contains("Hiddenbody"), "{found}");
        let found = colleague
            .get_html("/references/wo/WO-12345/threads?q=WO-12345")
            .await;
        assert!(!found.contains("Hiddenbody"), "{found}");
    }
    // The owner sees every copy.
    let page = owen.get_html("/references/wo/WO-12345").await;
    assert!(
        page.contains("Fullcopy") && page.contains("Hiddenbody"),
        "{page}"
    );
}
