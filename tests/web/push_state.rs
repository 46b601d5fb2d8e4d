//! Push where people look (issue 22): the mailbox list and page and the admin console say
//! whether the provider pushes changes, why a mailbox polls instead, and the poll interval in
//! effect (the one the worker uses); `threadline stats --json` carries a `push` object.
//! Push rows are written through `db::push`, as the upkeep does.
use chrono::Duration;
use threadline::db::entities::mail_accounts::Model as MailAccount;
use threadline::db::{self, push};
use threadline::sync::push::next_poll_secs;

use crate::mailbox_console::{cell, find, row};
use crate::mailbox_fixtures::{linked_app, outlook_app, GMAIL, OUTLOOK};
use crate::support::TestApp;

/// Give mailbox `account` a push row in `state` (created through `db::push::ensure`).
async fn set_push(
    app: &TestApp,
    account: &MailAccount,
    change: impl FnOnce(&mut threadline::db::entities::mailbox_push::Model),
) {
    let provider = account.provider.as_str();
    let mut row = push::ensure(&app.db, account.organization_id, account.id, provider)
        .await
        .unwrap();
    change(&mut row);
    push::save(&app.db, row).await.unwrap();
}

/// The push line of mailbox `id` on the owner's mailboxes list, as text.
async fn list_line(app: &TestApp, id: i64) -> String {
    let html = app.get_html("/mailboxes").await;
    let r = row(&html, id);
    let start = r
        .find("push-line")
        .unwrap_or_else(|| panic!("no push line: {r}"));
    text(&r[start..r[start..].find("</div>").unwrap() + start])
}

fn text(html: &str) -> String {
    let mut out = String::new();
    let mut tag = false;
    for c in html.chars() {
        match c {
            '<' => tag = true,
            '>' => tag = false,
            c if !tag => out.push(c),
            _ => {}
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

async fn console_status(app: &TestApp, id: i64) -> String {
    let html = app.get_html("/admin/mailboxes").await;
    cell(&row(&html, id), "status")
}

#[tokio::test]
async fn gmail_mailbox_shows_why_it_polls_then_push_being_set_up_active_and_failing() {
    let app = linked_app().await;
    let account = find(&app, GMAIL).await.expect("mailbox");
    // No push row yet, no https public URL: the reason is said, and it polls at its interval.
    let line = list_line(&app, account.id).await;
    assert!(
        line.contains("Polling every 5 min: no public https URL"),
        "{line}"
    );
    assert!(line.contains("Polls every 5 min"), "{line}");
    let page = text(&app.get_html(&format!("/mailboxes/{}", account.id)).await);
    assert!(
        page.contains("Polling every 5 min: no public https URL"),
        "{page}"
    );

    set_push(&app, &account, |_| {}).await;
    let line = list_line(&app, account.id).await;
    assert!(line.contains("Push being set up (Gmail watch)"), "{line}");
    assert!(
        line.contains("polling every 5 min until it is active"),
        "{line}"
    );

    let now = db::now();
    set_push(&app, &account, |r| {
        r.state = push::ACTIVE.into();
        r.subscription_id = Some("projects/p/topics/gmail".into());
        r.expires_at = Some(now + Duration::days(2) + Duration::minutes(5));
        r.last_notification_at = Some(now - Duration::minutes(3));
        r.notifications = 42;
    })
    .await;
    let line = list_line(&app, account.id).await;
    assert!(
        line.contains("Push active (Gmail watch, renews in 2 days; last notification 3 min ago)"),
        "{line}"
    );
    assert!(
        line.contains("Polls every 1 h (safety net); 42 notifications received"),
        "{line}"
    );
    let account = find(&app, GMAIL).await.expect("mailbox");
    assert_eq!(
        next_poll_secs(&app.deps, &account).await.unwrap(),
        3600,
        "the worker polls at the interval the page shows"
    );
    let console = console_status(&app, account.id).await;
    assert!(console.contains("Push active (Gmail watch"), "{console}");
    assert!(
        console.contains("Polls every 1 h (safety net)"),
        "{console}"
    );

    set_push(&app, &account, |r| {
        r.state = push::FAILING.into();
        r.reason = Some("the Pub/Sub topic does not exist (404)".into());
    })
    .await;
    let line = list_line(&app, account.id).await;
    assert!(
        line.contains("Push failing: the Pub/Sub topic does not exist (404); polling every 5 min"),
        "{line}"
    );
    assert_eq!(next_poll_secs(&app.deps, &account).await.unwrap(), 300);
    let console = console_status(&app, account.id).await;
    assert!(
        console.contains("Push failing: the Pub/Sub topic"),
        "{console}"
    );

    let report = threadline::sync::stats::collect(&app.db).await.unwrap();
    let json = serde_json::to_value(&report).unwrap();
    let mine = json["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["address"] == GMAIL)
        .cloned()
        .expect("stats of the mailbox");
    assert_eq!(mine["push"]["state"], "failing");
    assert_eq!(
        mine["push"]["reason"],
        "the Pub/Sub topic does not exist (404)"
    );
    assert_eq!(mine["push"]["notifications"], 42);
    assert!(mine["push"]["expires_at"].is_string());
    assert!(mine["push"]["last_notification_at"].is_string());
}

#[tokio::test]
async fn outlook_mailbox_in_the_console_shows_its_graph_subscription_and_push_turned_off() {
    let app = outlook_app().await;
    let account = find(&app, OUTLOOK).await.expect("mailbox");
    let stats =
        serde_json::to_value(threadline::sync::stats::collect(&app.db).await.unwrap()).unwrap();
    assert_eq!(stats["accounts"][0]["push"]["state"], "none", "{stats}");

    let now = db::now();
    set_push(&app, &account, |r| {
        r.state = push::ACTIVE.into();
        r.subscription_id = Some("sub-1".into());
        r.expires_at = Some(now + Duration::hours(50));
    })
    .await;
    let console = console_status(&app, account.id).await;
    assert!(
        console.contains("Push active (Graph subscription, renews in 2 days; no notification yet)"),
        "{console}"
    );

    // Expired without renewal: no longer trusted, so it polls at its own interval again.
    set_push(&app, &account, |r| {
        r.expires_at = Some(now - Duration::minutes(1));
    })
    .await;
    let console = console_status(&app, account.id).await;
    assert!(
        console.contains("Push lapsed: the Graph subscription expired; polling every 5 min"),
        "{console}"
    );
    assert_eq!(next_poll_secs(&app.deps, &account).await.unwrap(), 300);

    set_push(&app, &account, |r| {
        r.state = push::OFF.into();
        r.reason = Some("push is turned off (THREADLINE_PUSH=off); polling".into());
    })
    .await;
    let console = console_status(&app, account.id).await;
    assert!(
        console.contains("Polling every 5 min: push is turned off (THREADLINE_PUSH=off)"),
        "{console}"
    );
    let line = list_line(&app, account.id).await;
    assert!(
        line.contains("Polling every 5 min: push is turned off"),
        "{line}"
    );
}
