//! Real headless Chromium against the running app (see `browser/driver.rs`): what a reader sees
//! and, above all, what hostile email cannot do in their browser.
#[path = "../support/mod.rs"]
mod support;

mod corpus;
mod driver;
mod flow;
mod flow_mail;
mod flow_setup;
mod live;
mod live_push;
mod page;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use fantoccini::Locator;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use support::mail::approve;
use support::TestApp;

const MAILBOX: &str = "ada@gmail-user.test";

/// A web server that only counts the requests it gets: every remote load an email attempts.
async fn beacon() -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let mut buf = [0u8; 2048];
                let _ = socket.read(&mut buf).await;
                let _ = socket
                    .write_all(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
                    .await;
            });
        }
    });
    (base, hits)
}

fn hostile(b: &str) -> String {
    format!(
        "From: Eve <eve@evil.test>\r\nTo: {MAILBOX}\r\nSubject: Quarterly numbers\r\n\
         Message-ID: <q-1@evil.test>\r\nDate: Fri, 20 Nov 2026 10:00:00 +0000\r\n\
         MIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n\
         <p>Numbers inside</p>\
         <script>document.title='pwned';new Image().src='{b}/script'</script>\
         <img src=\"{b}/pixel.gif\" width=\"1\" height=\"1\">\
         <img src=\"x\" onerror=\"this.src='{b}/onerror'\">\
         <a href=\"javascript:fetch('{b}/js')\">open</a>\
         <div style=\"background:url({b}/css-bg)\">bg</div>\
         <div style=\"width:expression(fetch('{b}/expr'))\">expr</div>\
         <svg><image href=\"{b}/svg-image\"/><script>fetch('{b}/svg')</script></svg>\
         <form action=\"{b}/form\" method=\"post\"><input name=\"password\"><button>Go</button></form>\
         <meta http-equiv=\"refresh\" content=\"0;url={b}/refresh\">\
         <link rel=\"stylesheet\" href=\"{b}/css\"><iframe src=\"{b}/frame\"></iframe>\
         <video poster=\"{b}/poster\"></video><object data=\"{b}/object\"></object>\r\n"
    )
}

async fn app_with_hostile_email(beacon: &str) -> (TestApp, i64) {
    let app = TestApp::spawn_with_emulator().await;
    app.setup_admin().await;
    app.provider_mailbox("google", MAILBOX, "Ada Admin").await;
    assert!(app
        .connect("google", approve(MAILBOX))
        .await
        .status()
        .is_redirection());
    app.deliver_gmail(MAILBOX, hostile(beacon), "INBOX", None)
        .await;
    let id = app.sync_then_first_email().await;
    (app, id)
}

#[tokio::test]
async fn hostile_email_runs_nothing_and_loads_nothing_until_images_are_shown() {
    let Some(browser) = driver::start().await else {
        return;
    };
    let (beacon_url, hits) = beacon().await;
    let (app, id) = app_with_hostile_email(&beacon_url).await;
    page::sign_in(&browser.client, &app).await;
    let c = &browser.client;

    c.goto(&app.url(&format!("/emails/{id}"))).await.unwrap();
    let frame = c
        .wait()
        .for_element(Locator::Css("iframe.email-body"))
        .await
        .unwrap();
    frame.enter_frame().await.unwrap();
    let text = c
        .wait()
        .for_element(Locator::Css("body"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(text.contains("Numbers inside"), "{text}");
    for tag in [
        "script",
        "iframe",
        "form",
        "svg",
        "object",
        "meta[http-equiv]",
        "link",
        "video",
    ] {
        let found = c.find_all(Locator::Css(tag)).await.unwrap();
        assert!(found.is_empty(), "a <{tag}> reached the browser");
    }
    c.enter_parent_frame().await.unwrap();
    // Give refreshes, error handlers and lazy loads time to fire, if anything could.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    browser.screenshot("hostile-email").await;
    assert_eq!(
        hits.load(Ordering::SeqCst),
        0,
        "the email loaded something remote"
    );
    assert_ne!(c.title().await.unwrap(), "pwned");
    assert!(c
        .current_url()
        .await
        .unwrap()
        .path()
        .ends_with(&format!("/emails/{id}")));
    assert!(c.get_alert_text().await.is_err(), "no dialog opened");

    // The reader asks for images: the tracking pixel loads (so the counter above could see
    // loads), and still nothing runs.
    c.find(Locator::LinkText("Show images"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    for _ in 0..50 {
        if hits.load(Ordering::SeqCst) > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    browser.screenshot("hostile-email-images-shown").await;
    assert!(
        hits.load(Ordering::SeqCst) > 0,
        "the shown image was loaded"
    );
    assert_ne!(c.title().await.unwrap(), "pwned");
    browser.close().await;
}
