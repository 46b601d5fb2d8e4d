//! Live pages: the changes fragment lists only the threads changed since the page's cursor, as
//! the reader may see them under the page's filters; the event stream needs a session, tells
//! of a commit (also one made through another instance on the same database) and never of
//! another organization's.
use std::time::Duration;

use chrono::Utc;
use reqwest::{Response, StatusCode};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use threadline::db::entities::{contacts, emails, mail_accounts};
use threadline::web::timeline_views::live_id;

use crate::isolation_world::{deliver_and_sync, two_organizations, A_MAILBOX, B_MAILBOX};
use crate::mailbox_fixtures::linked_app;
use crate::support::{client, location, TestApp, ADMIN_EMAIL, ADMIN_PASSWORD};
use crate::timeline::{deliver, email_id, globex, message, sync};
use crate::visibility::matrix;

/// Everything stored so far changed an hour ago (the page's cursor is after it, with room for
/// the overlap the changes endpoint re-reads).
async fn settle(app: &TestApp) {
    emails::Entity::update_many()
        .col_expr(
            emails::Column::UpdatedAt,
            Expr::value(Utc::now() - chrono::Duration::hours(1)),
        )
        .exec(&app.db)
        .await
        .unwrap();
}

/// The live cursor of a timeline page.
async fn cursor(app: &TestApp, page: &str) -> String {
    let html = app.get_html(page).await;
    let at = html.find("data-cursor=\"").expect("a live timeline") + 13;
    html[at..at + html[at..].find('"').unwrap()].to_string()
}

/// The changes fragment of a timeline (`base` is the page) since `cursor`, with `filters`.
async fn changes(app: &TestApp, base: &str, cursor: &str, filters: &str) -> String {
    app.get_html(&format!("{base}/threads/changes?live={cursor}{filters}"))
        .await
}

/// The live ids of the thread rows of a fragment, in order.
fn rows(html: &str) -> Vec<String> {
    html.split("data-thread=\"")
        .skip(1)
        .map(|s| s[..s.find('"').unwrap()].to_string())
        .collect()
}

fn gone(html: &str) -> Vec<String> {
    html.split("data-gone=\"")
        .skip(1)
        .map(|s| s[..s.find('"').unwrap()].to_string())
        .collect()
}

/// The thread key of a stored message.
async fn thread_of(app: &TestApp, message_id: &str) -> String {
    let id = email_id(app, message_id).await;
    emails::Entity::find_by_id(id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap()
        .thread_key
}

#[tokio::test]
async fn changes_list_only_threads_changed_since_the_cursor_under_the_filters() {
    let app = linked_app().await;
    let b = globex(&app).await;
    let res = app
        .post_form(
            "/contacts",
            &[("name", "Bob Stone"), ("addresses", "bob@globex.test")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let bob = contacts::Entity::find()
        .one(&app.db)
        .await
        .unwrap()
        .expect("Bob's contact")
        .id;
    deliver(
        &app,
        message("c1@globex.test", None, "Contract", 1, "Draft."),
    )
    .await;
    deliver(
        &app,
        message("p1@globex.test", None, "Pricing", 3, "Prices."),
    )
    .await;
    deliver(&app, message("s1@globex.test", None, "Support", 5, "Help.")).await;
    sync(&app).await;
    settle(&app).await;
    let base = format!("/businesses/{b}");
    let since = cursor(&app, &base).await;
    assert!(rows(&changes(&app, &base, &since, "").await).is_empty());
    let bob_page = format!("/contacts/{bob}");
    let bob_since = cursor(&app, &bob_page).await;

    // A reply to the contract arrives; the pricing mail is read somewhere else.
    let reply = message(
        "c2@globex.test",
        Some("c1@globex.test"),
        "Re: Contract",
        6,
        "Signed.",
    );
    deliver(&app, reply).await;
    sync(&app).await;
    let pricing = email_id(&app, "p1@globex.test").await;
    let res = app
        .post_form(&format!("/emails/{pricing}/read"), &[("value", "on")])
        .await;
    assert!(res.status().is_success() || res.status().is_redirection());
    let contract = live_id(&thread_of(&app, "c1@globex.test").await);
    let pricing_thread = live_id(&thread_of(&app, "p1@globex.test").await);

    let all = changes(&app, &base, &since, "").await;
    assert_eq!(
        rows(&all),
        [contract.clone(), pricing_thread.clone()],
        "{all}"
    );
    assert!(all.contains("Signed.") && all.contains("<span class=\"count\">2</span>"));
    assert!(
        !all.contains("Support"),
        "an unchanged thread is not sent: {all}"
    );
    // The contact's timeline sees the same changes.
    let bobs = changes(&app, &bob_page, &bob_since, "").await;
    assert_eq!(rows(&bobs), rows(&all), "{bobs}");
    // The read thread's row carries no unread mark any more.
    let pricing_row = &all[all
        .find(&format!("data-thread=\"{pricing_thread}\""))
        .unwrap()..];
    assert!(!pricing_row[..pricing_row.find("</details>").unwrap()].contains("title=\"Unread\""));

    // Under a filter, only what matches: the read thread leaves an unread-only list.
    let unread = changes(&app, &base, &since, "&unread=on").await;
    assert_eq!(rows(&unread), vec![contract.clone()], "{unread}");
    assert_eq!(gone(&unread), vec![pricing_thread.clone()]);
    let search = changes(&app, &base, &since, "&q=prices").await;
    assert_eq!(rows(&search), vec![pricing_thread.clone()], "{search}");

    // A newer cursor has nothing; a deleted thread is gone.
    let later = cursor(&app, &base).await;
    settle(&app).await;
    assert!(rows(&changes(&app, &base, &later, "").await).is_empty());
    let res = app
        .post_form(&format!("/emails/{pricing}/delete"), &[])
        .await;
    assert!(res.status().is_success() || res.status().is_redirection());
    let deleted = changes(&app, &base, &later, "").await;
    assert!(
        rows(&deleted).is_empty() && gone(&deleted) == [pricing_thread],
        "{deleted}"
    );

    // My mail has its own endpoint and sees the same.
    let mine = changes(&app, "/mail", &later, "").await;
    assert!(
        rows(&mine).is_empty() && gone(&mine) == gone(&deleted),
        "{mine}"
    );
    // A bad cursor or another business is refused.
    let res = app.get(&format!("{base}/threads/changes?live=soon")).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = app
        .get(&format!("/businesses/{}/threads/changes?live=1", b + 99))
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn changes_show_a_colleague_only_what_their_level_shows() {
    let m = matrix().await;
    settle(&m.app).await;
    let base = format!("/businesses/{}", m.business);
    let since = cursor(&m.bea, &base).await;
    // Owen touches every one of his threads (a star each), then marks one thread private.
    for (_, id, _) in &m.emails {
        let res = m
            .owen
            .post_form(&format!("/emails/{id}/star"), &[("value", "on")])
            .await;
        assert!(res.status().is_success() || res.status().is_redirection());
    }
    let (_, full, _) = m.emails[3];
    let res = m
        .owen
        .post_form(&format!("/emails/{full}/private"), &[("private", "on")])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);

    let bea = changes(&m.bea, &base, &since, "").await;
    for hidden in ["zsubjprivate", "zbodyprivate", "zsubjfull", "zbodyfull"] {
        assert!(!bea.contains(hidden), "{hidden} reached a colleague: {bea}");
    }
    assert!(gone(&bea).contains(&live_id("m-full")), "{bea}");
    assert!(gone(&bea).contains(&live_id("m-private")), "{bea}");
    assert!(
        !bea.contains("title=\"Starred\""),
        "Owen's stars are his: {bea}"
    );
    let owen = changes(&m.owen, &base, &since, "").await;
    assert!(
        owen.contains("zsubjprivate") && owen.contains("zbodyfull"),
        "{owen}"
    );
    assert!(owen.contains("title=\"Starred\""));
}

/// Read the stream until a `change` event, or None after `wait`.
async fn next_change(stream: &mut Response, wait: Duration) -> Option<String> {
    let deadline = tokio::time::Instant::now() + wait;
    let mut seen = String::new();
    loop {
        match tokio::time::timeout_at(deadline, stream.chunk()).await {
            Ok(Ok(Some(bytes))) => {
                seen.push_str(&String::from_utf8_lossy(&bytes));
                if seen.contains("event: change") {
                    return Some(seen);
                }
            }
            _ => return None,
        }
    }
}

/// Open the event stream and give the watcher time to read the markers it starts from.
async fn listen(app: &TestApp) -> Response {
    let res = app.get("/live/events").await;
    assert_eq!(res.status(), StatusCode::OK);
    let kind = res.headers()["content-type"].to_str().unwrap().to_string();
    assert!(kind.starts_with("text/event-stream"), "{kind}");
    tokio::time::sleep(Duration::from_millis(1200)).await;
    res
}

const WAIT: Duration = Duration::from_secs(5);

#[tokio::test]
async fn the_event_stream_needs_a_session_and_tells_of_each_commit() {
    let mut app = linked_app().await;
    let stranger = app.other_browser();
    let res = stranger.get("/live/events").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(location(&res).starts_with("/login"));

    let mut stream = listen(&app).await;
    deliver(&app, message("n1@globex.test", None, "New", 2, "Fresh.")).await;
    sync(&app).await;
    assert!(
        next_change(&mut stream, WAIT).await.is_some(),
        "new mail told"
    );
    let id = email_id(&app, "n1@globex.test").await;
    app.post_form(&format!("/emails/{id}/star"), &[("value", "on")])
        .await;
    assert!(
        next_change(&mut stream, WAIT).await.is_some(),
        "a star told"
    );

    // A session holds a few streams at most; a closed one frees its place.
    let mut more = Vec::new();
    for _ in 1..threadline::web::live_hub::STREAMS_PER_SESSION {
        more.push(app.get("/live/events").await);
    }
    assert!(more.iter().all(|r| r.status() == StatusCode::OK));
    let res = app.get("/live/events").await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    drop(more.pop());
    let mut freed = None;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let res = app.get("/live/events").await;
        if res.status() == StatusCode::OK {
            freed = Some(res);
            break;
        }
    }
    assert!(freed.is_some(), "a closed stream gives its place back");
    // Open streams do not hold the server up when it stops.
    tokio::time::timeout(Duration::from_secs(10), app.stop())
        .await
        .expect("the server stops with streams open");
    assert!(next_change(&mut stream, Duration::from_secs(1))
        .await
        .is_none());
}

#[tokio::test]
async fn another_organizations_mail_never_reaches_a_stream() {
    let w = two_organizations().await;
    let mut acme = listen(&w.app).await;
    let mut bravo = listen(&w.bravo).await;
    settle(&w.app).await;
    let since = cursor(&w.app, "/mail").await;
    let raw = format!(
        "From: Cara <cara@client-b.test>\r\nTo: {B_MAILBOX}\r\nSubject: Bravo only\r\n\
         Message-ID: <bravo-2@client-b.test>\r\nDate: Sat, 21 Nov 2026 10:00:00 +0000\r\n\r\n\
         Secret.\r\n"
    );
    deliver_and_sync(&w.app, B_MAILBOX, raw, "bravo-2@").await;
    assert!(
        next_change(&mut bravo, WAIT).await.is_some(),
        "Bravo is told"
    );
    assert!(
        next_change(&mut acme, Duration::from_secs(2))
            .await
            .is_none(),
        "Acme is not told of Bravo's mail"
    );
    let mine = changes(&w.app, "/mail", &since, "").await;
    assert!(rows(&mine).is_empty() && !mine.contains("Bravo"), "{mine}");

    // Acme's own mail reaches Acme.
    let raw = format!(
        "From: Zed <zed@prospect-a.test>\r\nTo: {A_MAILBOX}\r\nSubject: Acme again\r\n\
         Message-ID: <question-2@prospect-a.test>\r\nDate: Sat, 21 Nov 2026 11:00:00 +0000\r\n\r\n\
         Again.\r\n"
    );
    deliver_and_sync(&w.app, A_MAILBOX, raw, "question-2@").await;
    assert!(next_change(&mut acme, WAIT).await.is_some(), "Acme is told");
    let mine = changes(&w.app, "/mail", &since, "").await;
    assert!(
        mine.contains("Acme again") && !mine.contains("Bravo"),
        "{mine}"
    );
}

#[tokio::test]
async fn a_commit_through_another_instance_reaches_the_stream() {
    let app = linked_app().await;
    let mut stream = listen(&app).await;
    let other = TestApp::spawn_full(app.test_db.clone(), client(), app.emulator.clone(), &[]).await;
    let res = other.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(location(&res), "/");
    deliver(
        &app,
        message("o1@globex.test", None, "Elsewhere", 2, "Far."),
    )
    .await;
    let account = mail_accounts::Entity::find()
        .one(&other.db)
        .await
        .unwrap()
        .unwrap();
    threadline::sync::sync_account(&other.deps, account.id)
        .await
        .unwrap();
    assert!(
        next_change(&mut stream, WAIT).await.is_some(),
        "new mail told"
    );
    // A mark made on the other instance too.
    let id = emails::Entity::find()
        .filter(emails::Column::MessageId.contains("o1@globex.test"))
        .one(&other.db)
        .await
        .unwrap()
        .unwrap()
        .id;
    let res = other
        .post_form(&format!("/emails/{id}/read"), &[("value", "on")])
        .await;
    assert!(res.status().is_success() || res.status().is_redirection());
    assert!(
        next_change(&mut stream, WAIT).await.is_some(),
        "the mark told"
    );
}
