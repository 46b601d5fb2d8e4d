//! Timelines through the browser's eyes: a business's threads newest first by their latest
//! message, expanded in place, paged with "Load more", filtered and searched, with copies of one
//! message shown once and soft-deleted mail left out; "my mail"; 404s for what is not ours.
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use threadline::db::entities::{businesses, emails};
use threadline::sync::sync_account;

use crate::mailbox_fixtures::{all_accounts, linked_app, GMAIL};
use crate::support::inspect::execute;
use crate::support::{location, TestApp};

/// One RFC 822 message from a Globex person to the mailbox.
pub fn message(id: &str, parent: Option<&str>, subject: &str, day: u32, body: &str) -> String {
    let thread = parent
        .map(|p| format!("In-Reply-To: <{p}>\r\nReferences: <{p}>\r\n"))
        .unwrap_or_default();
    format!(
        "From: Bob Stone <bob@globex.test>\r\nTo: {GMAIL}\r\nSubject: {subject}\r\n\
         Message-ID: <{id}>\r\n{thread}Date: {day:02} Oct 2026 10:00:00 +0000\r\n\
         MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    )
}

/// Deliver `raw`, received on October `day` (ties on purpose when days repeat).
pub async fn deliver(app: &TestApp, raw: String) {
    let day: i64 = raw
        .split("Date: ")
        .nth(1)
        .and_then(|d| d[..2].parse().ok())
        .expect("a Date header");
    // 2026-10-01T10:00:00Z plus whole days.
    let received = 1_790_848_800_000 + (day - 1) * 86_400_000;
    // Unread in Gmail: the owner's marks start as the provider's.
    app.deliver_gmail(GMAIL, raw, "INBOX,UNREAD", Some(received))
        .await;
}

pub async fn sync(app: &TestApp) {
    let account = all_accounts(app).await.remove(0);
    sync_account(&app.deps, account.id).await.unwrap();
}

pub async fn globex(app: &TestApp) -> i64 {
    let res = app
        .post_form(
            "/businesses",
            &[("name", "Globex"), ("domains", "globex.test")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "{}", location(&res));
    businesses::Entity::find()
        .filter(businesses::Column::Name.eq("Globex"))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap()
        .id
}

pub async fn email_id(app: &TestApp, message_id: &str) -> i64 {
    emails::Entity::find()
        .filter(emails::Column::MessageId.eq(message_id))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("{message_id} stored"))
        .id
}

/// The thread ids (`thread-N`) of a page, in order.
fn threads_in(html: &str) -> Vec<i64> {
    html.split("id=\"thread-")
        .skip(1)
        .map(|s| s[..s.find('"').unwrap()].parse().unwrap())
        .collect()
}

/// Three Globex threads and one unrelated email: the contract thread started first but got the
/// latest reply, so it leads.
async fn three_threads() -> (TestApp, i64) {
    let app = linked_app().await;
    let business = globex(&app).await;
    deliver(
        &app,
        message("c1@globex.test", None, "Contract", 1, "Draft attached."),
    )
    .await;
    deliver(
        &app,
        message("p1@globex.test", None, "Pricing", 3, "Our price list."),
    )
    .await;
    deliver(
        &app,
        message(
            "c2@globex.test",
            Some("c1@globex.test"),
            "Re: Contract",
            4,
            "Signed.",
        ),
    )
    .await;
    deliver(
        &app,
        message(
            "s1@globex.test",
            None,
            "Support ticket",
            5,
            "The invoice is wrong.",
        ),
    )
    .await;
    deliver(
        &app,
        message(
            "c3@globex.test",
            Some("c2@globex.test"),
            "Re: Contract",
            6,
            "Countersigned.",
        ),
    )
    .await;
    let unrelated = message("x1@initech.test", None, "Unrelated", 7, "Hello")
        .replace("bob@globex.test", "peter@initech.test");
    deliver(&app, unrelated).await;
    sync(&app).await;
    (app, business)
}

#[tokio::test]
async fn a_business_timeline_lists_threads_by_latest_message_and_expands_them() {
    let (app, business) = three_threads().await;
    let page = app.get_html(&format!("/businesses/{business}")).await;
    let contract = email_id(&app, "c3@globex.test").await;
    let support = email_id(&app, "s1@globex.test").await;
    let pricing = email_id(&app, "p1@globex.test").await;
    assert_eq!(
        threads_in(&page),
        vec![contract, support, pricing],
        "{page}"
    );
    assert!(page.contains("Contract"), "the first message's subject");
    assert!(
        page.contains("Countersigned."),
        "the latest message's snippet"
    );
    assert!(
        !page.contains("Unrelated"),
        "mail of other domains stays out"
    );
    assert!(page.contains(r#"<span class="count">3</span>"#), "{page}");

    let expanded = app
        .get_html(&format!("/businesses/{business}/threads/{contract}"))
        .await;
    let (a, b, c) = (
        expanded.find("Draft attached.").expect("first"),
        expanded.find("Signed.").expect("second"),
        expanded.find("Countersigned.").expect("third"),
    );
    assert!(a < b && b < c, "oldest first: {expanded}");
    assert!(
        expanded.contains("Unlink"),
        "each message can be unlinked here"
    );

    // An email of the thread that is not in this timeline, or a business that is not ours.
    let unrelated = email_id(&app, "x1@initech.test").await;
    for path in [
        format!("/businesses/{business}/threads/{unrelated}"),
        format!("/businesses/{}/threads/{contract}", business + 1000),
        format!("/businesses/{}/threads", business + 1000),
        format!("/contacts/{}/threads", business + 1000),
    ] {
        assert_eq!(
            app.get(&path).await.status(),
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }

    // "My mail" holds everything in the reader's mailboxes.
    let mine = app.get_html("/mail").await;
    assert_eq!(threads_in(&mine).len(), 4, "{mine}");
    assert!(mine.contains("Unrelated"));
}

#[tokio::test]
async fn copies_show_once_and_soft_deleted_mail_is_hidden() {
    let (app, business) = three_threads().await;
    let account = all_accounts(&app).await.remove(0);
    let org = account.organization_id;
    // A colleague's mailbox holds a copy of the support ticket, linked like the original.
    execute(
        &app.db,
        &format!(
            "INSERT INTO mail_accounts (organization_id, provider, address, created_at, updated_at) \
             VALUES ({org}, 'google', 'colleague@acme.test', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')"
        ),
    )
    .await;
    let colleague = all_accounts(&app)
        .await
        .into_iter()
        .find(|a| a.address == "colleague@acme.test")
        .unwrap()
        .id;
    let support = email_id(&app, "s1@globex.test").await;
    execute(
        &app.db,
        &format!(
            "INSERT INTO emails (organization_id, account_id, provider_message_id, message_id, \
             message_key, thread_key, subject, snippet, received_at, created_at, updated_at, \
             sender_name, sender_address) \
             SELECT organization_id, {colleague}, 'copy-1', message_id, message_key, thread_key, \
             subject, snippet, received_at, created_at, updated_at, sender_name, sender_address \
             FROM emails WHERE id = {support}"
        ),
    )
    .await;
    let copy = emails::Entity::find()
        .filter(emails::Column::ProviderMessageId.eq("copy-1"))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap()
        .id;
    execute(
        &app.db,
        &format!(
            "INSERT INTO email_links (organization_id, email_id, business_id, source, reason, \
             tombstone, received_at, created_at) SELECT organization_id, {copy}, business_id, \
             source, reason, tombstone, received_at, created_at FROM email_links \
             WHERE email_id = {support} AND business_id = {business}"
        ),
    )
    .await;
    let page = app.get_html(&format!("/businesses/{business}")).await;
    assert_eq!(
        threads_in(&page).len(),
        3,
        "the copy does not add a thread: {page}"
    );
    assert_eq!(page.matches("The invoice is wrong.").count(), 1, "{page}");

    // Soft-deleting the pricing email (every copy) removes its thread from the timeline.
    let pricing = email_id(&app, "p1@globex.test").await;
    let res = app
        .post_form(&format!("/emails/{pricing}/delete"), &[])
        .await;
    assert!(res.status().is_redirection() || res.status().is_success());
    let page = app.get_html(&format!("/businesses/{business}")).await;
    assert_eq!(threads_in(&page).len(), 2, "{page}");
    assert!(!page.contains("Our price list."));
}

#[tokio::test]
async fn filters_and_search_narrow_the_threads() {
    let (app, business) = three_threads().await;
    let base = format!("/businesses/{business}");
    let contract = email_id(&app, "c3@globex.test").await;
    let support = email_id(&app, "s1@globex.test").await;
    let pricing = email_id(&app, "p1@globex.test").await;

    // Search covers bodies, subjects and people, by word prefix.
    let found = app.get_html(&format!("{base}?q=invoi")).await;
    assert_eq!(threads_in(&found), vec![support], "{found}");
    let found = app.get_html(&format!("{base}/threads?q=price+list")).await;
    assert_eq!(threads_in(&found), vec![pricing]);
    let found = app.get_html(&format!("{base}?q=bob+stone")).await;
    assert_eq!(threads_in(&found).len(), 3);
    let found = app.get_html(&format!("{base}?q=%22%29%28*+OR")).await;
    assert!(
        found.contains("No threads match"),
        "operators are plain words"
    );

    // Dates: the contract thread is listed by its message of Oct 1 when only that day matches.
    let found = app
        .get_html(&format!("{base}?since=2026-10-01&until=2026-10-02"))
        .await;
    assert_eq!(threads_in(&found), vec![contract]);
    let bad = app.get_html(&format!("{base}?since=yesterday")).await;
    assert!(bad.contains("is not a date"), "{bad}");

    // Unread and starred are the reader's own marks.
    // What the email page posts once it has loaded (a GET changes nothing).
    app.post_form(&format!("/emails/{pricing}/read"), &[("value", "on")])
        .await;
    let unread = app.get_html(&format!("{base}?unread=on")).await;
    assert_eq!(threads_in(&unread), vec![contract, support]);
    let res = app
        .post_form(&format!("/emails/{support}/star"), &[("value", "on")])
        .await;
    assert!(res.status().is_redirection() || res.status().is_success());
    let starred = app.get_html(&format!("{base}?starred=on")).await;
    assert_eq!(threads_in(&starred), vec![support]);
    assert!(starred.contains("title=\"Starred\""));

    // The htmx request gets the list alone and moves the address bar to the filtered page.
    let res = app
        .client
        .get(app.url(&format!("{base}/threads?starred=on")))
        .header("HX-Request", "true")
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.headers()["HX-Push-Url"],
        format!("{base}?starred=on").as_str()
    );
    let fragment = res.text().await.unwrap();
    assert!(!fragment.contains("<html"), "a fragment");
    assert_eq!(threads_in(&fragment), vec![support]);
}

#[tokio::test]
async fn load_more_pages_through_every_thread_once() {
    let app = linked_app().await;
    let business = globex(&app).await;
    for i in 0..30u32 {
        let id = format!("t{i}@globex.test");
        deliver(
            &app,
            message(&id, None, &format!("Topic {i}"), 1 + i % 28, "Hi"),
        )
        .await;
    }
    // A late reply lifts the oldest topic to the top.
    deliver(
        &app,
        message(
            "r0@globex.test",
            Some("t0@globex.test"),
            "Re: Topic 0",
            29,
            "Late",
        ),
    )
    .await;
    sync(&app).await;

    let first = app.get_html(&format!("/businesses/{business}")).await;
    let mut seen = threads_in(&first);
    assert_eq!(seen.len(), 25);
    assert_eq!(seen[0], email_id(&app, "r0@globex.test").await);
    let more = first
        .split("hx-get=\"")
        .filter_map(|s| s.split('"').next())
        .find(|u| u.contains("/threads?after="))
        .expect("a Load more link")
        .replace("&amp;", "&");
    let rest = app.get_html(&more).await;
    assert!(!rest.contains("Load more"), "the last page: {rest}");
    seen.extend(threads_in(&rest));
    let mut unique = seen.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(
        (seen.len(), unique.len()),
        (30, 30),
        "every thread once: {seen:?}"
    );
}

#[tokio::test]
async fn my_mail_hides_internal_only_threads_when_the_organization_says_so() {
    let (app, _) = three_threads().await;
    let res = app
        .post_form(
            "/settings/internal-domains",
            &[("domain", "gmail-user.test")],
        )
        .await;
    assert!(res.status().is_redirection(), "{}", res.status());
    let internal = message("i1@gmail-user.test", None, "Lunch?", 8, "Pizza at noon")
        .replace("Bob Stone <bob@globex.test>", "Cy <cy@gmail-user.test>");
    deliver(&app, internal).await;
    sync(&app).await;

    // Hidden by default (the setting starts on).
    let mine = app.get_html("/mail").await;
    assert!(!mine.contains("Lunch?"), "{mine}");
    assert_eq!(threads_in(&mine).len(), 4);

    let res = app
        .post_form("/settings/policies", &[("auto_create_contacts", "off")])
        .await;
    assert!(res.status().is_redirection(), "{}", res.status());
    let mine = app.get_html("/mail").await;
    assert!(mine.contains("Lunch?"), "shown once the switch is off");
    assert_eq!(threads_in(&mine).len(), 5);
}
