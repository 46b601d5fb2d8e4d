//! A live business timeline in real Chromium: with a thread expanded and the page scrolled,
//! new mail synced for the business appears without a reload, the expanded thread stays
//! expanded and stays where it was on screen, and a mark read made in another session shows.
use chrono::Utc;
use fantoccini::{Client, Locator};
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;
use threadline::db::entities::{businesses, emails, mail_accounts};

use crate::driver;
use crate::flow::SUBJECTS;
use crate::page::{attrs, eventually, goto, same_page, sign_in, tag_page, wait_count};
use crate::support::mail::approve;
use crate::support::TestApp;

const MAILBOX: &str = "ada@gmail-user.test";
const THREADS: usize = 30;

fn mail(id: &str, parent: Option<&str>, subject: &str, body: &str) -> String {
    let thread = parent
        .map(|p| format!("In-Reply-To: <{p}>\r\nReferences: <{p}>\r\n"))
        .unwrap_or_default();
    format!(
        "From: Bob Stone <bob@globex.test>\r\nTo: {MAILBOX}\r\nSubject: {subject}\r\n\
         Message-ID: <{id}>\r\n{thread}Date: Thu, 01 Oct 2026 10:00:00 +0000\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    )
}

async fn sync(app: &TestApp) {
    let account = mail_accounts::Entity::find()
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    threadline::sync::sync_account(&app.deps, account.id)
        .await
        .unwrap();
}

/// Where `#id` is on screen (px from the viewport's top).
async fn top(c: &Client, id: &str) -> f64 {
    c.execute(
        "return document.getElementById(arguments[0]).getBoundingClientRect().top",
        vec![json!(id)],
    )
    .await
    .unwrap()
    .as_f64()
    .unwrap()
}

async fn js(c: &Client, script: &str) -> serde_json::Value {
    c.execute(script, vec![]).await.unwrap()
}

/// A business with [`THREADS`] threads, one of them ("Topic 20") with a reply.
async fn business_with_mail() -> (TestApp, i64) {
    let app = TestApp::spawn_with_emulator().await;
    app.setup_admin().await;
    app.provider_mailbox("google", MAILBOX, "Ada Admin").await;
    assert!(app
        .connect("google", approve(MAILBOX))
        .await
        .status()
        .is_redirection());
    let res = app
        .post_form(
            "/businesses",
            &[("name", "Globex"), ("domains", "globex.test")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    // 2026-10-01 plus an hour per thread: "Topic 30" is the newest.
    let at = |i: usize| 1_790_848_800_000 + i64::try_from(i).unwrap() * 3_600_000;
    for i in 1..=THREADS {
        let raw = mail(
            &format!("t{i}@globex.test"),
            None,
            &format!("Topic {i}"),
            "Hello.",
        );
        app.deliver_gmail(MAILBOX, raw, "INBOX,UNREAD", Some(at(i)))
            .await;
    }
    let reply = mail(
        "r20@globex.test",
        Some("t20@globex.test"),
        "Re: Topic 20",
        "Agreed.",
    );
    app.deliver_gmail(MAILBOX, reply, "INBOX,UNREAD", Some(at(20) + 60_000))
        .await;
    sync(&app).await;
    let business = businesses::Entity::find()
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    (app, business.id)
}

#[tokio::test]
async fn a_live_timeline_takes_new_mail_and_marks_without_moving_the_reader() {
    let Some(browser) = driver::start().await else {
        return;
    };
    let (app, business) = business_with_mail().await;
    let c = &browser.client;
    sign_in(c, &app).await;
    goto(c, &app.url(&format!("/businesses/{business}"))).await;
    wait_count(c, SUBJECTS, 25).await;

    // The reader expands "Topic 20" and scrolls it to 250 px below the top of the window.
    let subjects = crate::page::texts(c, SUBJECTS).await;
    let ids = attrs(c, "#threads details.thread", "id").await;
    let at = subjects.iter().position(|s| s == "Topic 20").unwrap();
    let expanded = ids[at].clone();
    // Clicked as a person would; retried while the page is still settling.
    let summary = format!("#{expanded} > summary");
    eventually("the thread's summary to take the click", || {
        let summary = summary.clone();
        async move {
            let found = c
                .find(Locator::Css(&summary))
                .await
                .map_err(|e| e.to_string())?;
            found.click().await.map_err(|e| e.to_string())
        }
    })
    .await;
    wait_count(c, &format!("#{expanded} li.message"), 2).await;
    c.execute(
        "const el = document.getElementById(arguments[0]); \
         window.scrollTo(0, el.getBoundingClientRect().top + window.scrollY - 250)",
        vec![json!(expanded)],
    )
    .await
    .unwrap();
    let before = top(c, &expanded).await;
    let scrolled = js(c, "return window.scrollY").await.as_f64().unwrap();
    assert!(scrolled > 100.0, "the page scrolled ({scrolled})");
    tag_page(c, "live").await;

    // New mail for the business arrives and a sync pass stores it.
    let now = Utc::now().timestamp_millis();
    let raw = mail("fresh@globex.test", None, "Fresh news", "Just in.");
    app.deliver_gmail(MAILBOX, raw, "INBOX,UNREAD", Some(now))
        .await;
    sync(&app).await;
    let stored = std::time::Instant::now();
    let first = eventually("the new thread at the top of the list", || async move {
        let s = crate::page::texts(c, SUBJECTS).await;
        match s.first() {
            Some(f) if f == "Fresh news" => Ok(s.len()),
            _ => Err(format!("{:?}", s.first())),
        }
    })
    .await;
    assert_eq!(first, 26, "one thread more, none lost");
    eprintln!("stored -> on screen: {} ms", stored.elapsed().as_millis());
    browser.screenshot("live-new-thread").await;
    assert!(same_page(c, "live").await, "no reload");
    let open = js(
        c,
        &format!("return document.getElementById('{expanded}').open"),
    )
    .await;
    assert_eq!(open, json!(true), "the expanded thread is still expanded");
    wait_count(c, &format!("#{expanded} li.message"), 2).await;
    let after = top(c, &expanded).await;
    assert!(
        (after - before).abs() < 1.0,
        "the expanded thread moved on screen: {before} -> {after}"
    );
    // Above the window, the new thread is announced instead of pushing the page down.
    let notice = js(
        c,
        "const n = document.querySelector('.live-new'); \
                        return n && !n.hidden ? n.textContent : null",
    )
    .await;
    assert_eq!(notice, json!("1 new thread above ↑"));

    // In another session (the test's own client), the reader marks "Topic 19" read.
    let next = ids[at + 1].clone();
    assert_eq!(subjects[at + 1], "Topic 19");
    let unread = attrs(c, &format!("#{next}"), "class").await;
    assert!(unread[0].contains("unread"), "{unread:?}");
    let email = emails::Entity::find()
        .filter(emails::Column::MessageId.contains("t19@globex.test"))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap()
        .id;
    let res = app
        .post_form(&format!("/emails/{email}/read"), &[("value", "on")])
        .await;
    assert!(res.status().is_success() || res.status().is_redirection());
    eventually("Topic 19 shown as read", || async move {
        let classes = js(
            c,
            "return [...document.querySelectorAll('#threads details.thread')] \
             .filter(d => d.querySelector('.subject').textContent === 'Topic 19') \
             .map(d => d.className)",
        )
        .await;
        match classes.as_array().map(Vec::as_slice) {
            Some([one]) if !one.as_str().unwrap_or("").contains("unread") => Ok(()),
            _ => Err(classes.to_string()),
        }
    })
    .await;
    browser.screenshot("live-marked-read").await;
    assert!(same_page(c, "live").await, "no reload");
    let open = js(
        c,
        &format!("return document.getElementById('{expanded}').open"),
    )
    .await;
    assert_eq!(open, json!(true));
    let last = top(c, &expanded).await;
    assert!((last - before).abs() < 1.0, "moved: {before} -> {last}");

    // The announcement takes the reader to the new thread.
    js(c, "document.querySelector('.live-new').click()").await;
    eventually("the new thread in view", || async move {
        let seen = js(
            c,
            "const r = document.querySelector('#threads details.thread'); \
             return [r.querySelector('.subject').textContent, \
                     Math.round(r.getBoundingClientRect().top), \
                     document.querySelector('.live-new').hidden]",
        )
        .await;
        let top = seen[1].as_i64().unwrap_or(-1);
        if seen[0] == json!("Fresh news") && (0..300).contains(&top) && seen[2] == json!(true) {
            Ok(())
        } else {
            Err(seen.to_string())
        }
    })
    .await;
    browser.close().await;
}
