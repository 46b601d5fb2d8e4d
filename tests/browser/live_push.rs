//! Push to the screen in real Chromium: an Outlook mailbox synced by a background worker with
//! push on; once its Graph subscription is active and its next poll is far off, a message
//! delivered to the emulator reaches an open business timeline without a reload and without
//! anyone running a pass: Graph notifies, the notification wakes the mailbox, the worker's
//! delta pass stores the message, and the live page shows it.
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use threadline::db::entities::{businesses, jobs, mail_accounts};
use threadline::db::{self, push};
use threadline_emulator::control::DeliverQuery;

use crate::driver;
use crate::flow::SUBJECTS;
use crate::page::{eventually, goto, same_page, sign_in, tag_page, wait_count};
use crate::support::mail::approve;
use crate::support::TestApp;

const MAILBOX: &str = "olga@outlook-user.test";

fn mail(id: &str, subject: &str) -> String {
    format!(
        "From: Bob Stone <bob@globex.test>\r\nTo: {MAILBOX}\r\nSubject: {subject}\r\n\
         Message-ID: <{id}>\r\nDate: {}\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\nHello.\r\n",
        chrono::Utc::now().to_rfc2822()
    )
}

async fn deliver(app: &TestApp, id: &str, subject: &str) {
    let query = DeliverQuery {
        folder: Some("inbox".into()),
        ..DeliverQuery::default()
    };
    app.emulator_client()
        .deliver(MAILBOX, mail(id, subject), &query)
        .await
        .expect("delivered");
}

/// Wait until the mailbox's push is active and its sync job rests until its next poll (so
/// only a wake can bring a pass sooner).
async fn push_active_and_idle(app: &TestApp, account: i64) {
    let until = Instant::now() + Duration::from_secs(60);
    loop {
        let row = push::find(&app.db, account).await.unwrap();
        let job = jobs::Entity::find()
            .filter(jobs::Column::Kind.eq(threadline::db::jobs::SYNC_ACCOUNT))
            .filter(jobs::Column::SubjectId.eq(account))
            .one(&app.db)
            .await
            .unwrap();
        let active = row.as_ref().is_some_and(|r| r.state == push::ACTIVE);
        let resting = job.as_ref().is_some_and(|j| {
            j.state == threadline::db::jobs::QUEUED
                && j.run_at > db::now() + chrono::Duration::minutes(1)
        });
        if active && resting {
            return;
        }
        assert!(
            Instant::now() < until,
            "push never became active with the mailbox resting: {row:?} {job:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn mail_pushed_by_graph_appears_on_an_open_timeline_with_nobody_syncing() {
    let Some(browser) = driver::start().await else {
        return;
    };
    let mut app = TestApp::spawn_with_emulator_args(&["--push", "on", "--sync-workers", "1"]).await;
    app.setup_admin().await;
    app.provider_mailbox("microsoft", MAILBOX, "Olga Admin")
        .await;
    let res = app
        .post_form(
            "/businesses",
            &[("name", "Globex"), ("domains", "globex.test")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    deliver(&app, "first@globex.test", "First contact").await;
    assert!(app
        .connect("microsoft", approve(MAILBOX))
        .await
        .status()
        .is_redirection());
    let account = mail_accounts::Entity::find()
        .one(&app.db)
        .await
        .unwrap()
        .expect("linked")
        .id;
    push_active_and_idle(&app, account).await;
    let business = businesses::Entity::find()
        .one(&app.db)
        .await
        .unwrap()
        .unwrap()
        .id;

    let c = &browser.client;
    sign_in(c, &app).await;
    goto(c, &app.url(&format!("/businesses/{business}"))).await;
    wait_count(c, SUBJECTS, 1).await;
    tag_page(c, "pushed").await;

    let delivered = Instant::now();
    deliver(&app, "pushed@globex.test", "Pushed reply").await;
    eventually(
        "the pushed thread at the top of the open timeline",
        || async move {
            let s = crate::page::texts(c, SUBJECTS).await;
            match s.first() {
                Some(f) if f == "Pushed reply" => Ok(()),
                _ => Err(format!("{s:?}")),
            }
        },
    )
    .await;
    eprintln!(
        "delivered in the emulator -> on screen: {} ms",
        delivered.elapsed().as_millis()
    );
    assert!(same_page(c, "pushed").await, "no reload");
    let row = push::find(&app.db, account).await.unwrap().unwrap();
    assert!(row.notifications >= 1, "the wake came from a notification");
    browser.screenshot("live-pushed").await;
    app.stop().await;
}
