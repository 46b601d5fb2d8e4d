//! The path a user walks, end to end in real Chromium and only through the pages: first-run
//! setup and sign-in, linking Gmail through the provider's consent page, Sync now, a business
//! and its timeline (order, Load more, filters, a thread opening in place), the email page's
//! star / read / delete / restore, linking a thread to a contact, and an admin's delete for
//! good with its audit entry. A screenshot per step goes to `target/browser-artifacts/flow-*`.
//! This file holds the harness and the test; the steps are in `flow_setup.rs` (1-3) and
//! `flow_mail.rs` (4-8).

use fantoccini::{Client, Locator};

use crate::driver::{self, Browser};
use crate::flow_mail::{
    delete_and_restore, delete_for_good, link_contact, star_and_read, timeline,
};
use crate::flow_setup::{create_business_and_sync, link_mailbox, setup_and_sign_in};
use crate::page::{attrs, click, eventually, press, ready, same_page, tag_page, texts};
use crate::page::{wait_count, wait_path, wait_text};
use crate::support::TestApp;

pub const SUBJECTS: &str = "#threads details.thread .subject";

pub struct Flow {
    pub app: TestApp,
    pub browser: Browser,
    shots: usize,
}

/// The id at the end of a path such as `/businesses/12`.
pub fn id_in(path: &str) -> i64 {
    path.rsplit('/').next().unwrap().parse().unwrap()
}

impl Flow {
    pub fn c(&self) -> &Client {
        &self.browser.client
    }

    pub async fn shot(&mut self, name: &str) {
        self.shots += 1;
        let name = format!("flow-{:02}-{name}", self.shots);
        self.browser.screenshot(&name).await;
    }

    /// Open a page through the main navigation.
    pub async fn nav(&self, label: &str, path: &str) {
        let link = format!("nav.nav a[href='{path}']");
        let c = self.c();
        c.find(Locator::Css(&link))
            .await
            .unwrap_or_else(|e| panic!("no {label} in the navigation: {e}"))
            .click()
            .await
            .unwrap();
        wait_path(c, path).await;
    }

    pub async fn open_business(&self, business: i64) {
        self.nav("Businesses", "/businesses").await;
        let href = format!("/businesses/{business}");
        click(self.c(), &format!("#business-rows a[href='{href}']")).await;
        wait_path(self.c(), &href).await;
    }

    /// The `<details>` id of the listed thread with this subject.
    pub async fn thread_id(&self, subject: &str) -> String {
        let c = self.c();
        let subjects = texts(c, SUBJECTS).await;
        let ids = attrs(c, "#threads details.thread", "id").await;
        let at = subjects
            .iter()
            .position(|s| s == subject)
            .unwrap_or_else(|| panic!("no thread {subject:?} in {subjects:?}"));
        ids[at].clone()
    }

    /// Click a thread's summary and wait for htmx to put its messages inside; returns the
    /// messages' email ids, in the order shown.
    pub async fn expand(&self, subject: &str, messages: usize) -> (String, Vec<i64>) {
        let c = self.c();
        let id = self.thread_id(subject).await;
        tag_page(c, "expand").await;
        click(c, &format!("#{id} > summary")).await;
        let items = format!("#{id} li.message");
        wait_count(c, &items, messages).await;
        assert!(same_page(c, "expand").await, "the thread opened in place");
        let ids = attrs(c, &items, "id").await;
        let ids = ids.iter().map(|s| id_in(&s.replace('-', "/"))).collect();
        (id, ids)
    }

    /// From an expanded thread, open one message's email page.
    pub async fn open_email(&self, email: i64) {
        click(self.c(), &format!("#message-{email} a.message-snippet")).await;
        wait_path(self.c(), &format!("/emails/{email}")).await;
    }

    /// Wait until a form's redirect lands on a record's page (`{prefix}{id}`); returns the id.
    pub async fn wait_record_page(&self, prefix: &str) -> i64 {
        let c = self.c();
        let id = eventually(&format!("a page {prefix}<id>"), || async move {
            let p = crate::page::path(c).await;
            match p.strip_prefix(prefix).map(str::parse::<i64>) {
                Some(Ok(id)) => Ok(id),
                _ => Err(p),
            }
        })
        .await;
        ready(c).await;
        id
    }

    /// Press an email-page action and wait for htmx to swap the buttons in place.
    pub async fn action(&self, label: &str, then: &str) {
        let c = self.c();
        tag_page(c, label).await;
        press(c, "#email-actions", label).await;
        wait_text(c, "#email-actions", then).await;
        assert!(same_page(c, label).await, "{label} swapped in place");
    }
}

async fn start() -> Option<Flow> {
    let browser = driver::start().await?;
    // A real sync worker, as `serve` runs it: "Sync now" must be enough.
    let app = TestApp::spawn_with_emulator_args(&["--sync-workers", "1"]).await;
    browser.client.set_window_size(1280, 1400).await.unwrap();
    Some(Flow {
        app,
        browser,
        shots: 0,
    })
}

#[tokio::test]
async fn a_user_links_gmail_and_works_a_customer_timeline_end_to_end() {
    let Some(mut f) = start().await else {
        return;
    };
    setup_and_sign_in(&mut f).await;
    let mailbox = link_mailbox(&mut f).await;
    let business = create_business_and_sync(&mut f, mailbox).await;
    let renewal = timeline(&mut f, business).await;
    star_and_read(&mut f, business, &renewal).await;
    delete_and_restore(&mut f, business).await;
    link_contact(&mut f, business, &renewal).await;
    delete_for_good(&mut f, business, &renewal).await;
    f.browser.close().await;
}
