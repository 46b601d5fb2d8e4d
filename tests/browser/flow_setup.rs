//! Steps 1-3 of the browser flow (see `flow.rs`): first-run setup and sign-in, linking Gmail
//! through the emulator's consent page, and mail arriving for a business made in the browser.
use fantoccini::Locator;

use crate::corpus::{self, MAILBOX, NOTES};
use crate::flow::{id_in, Flow};
use crate::page::{attrs, click, eventually, fill, follow, goto, press, sign_in, texts};
use crate::page::{wait_path, wait_text};
use crate::support::{ADMIN_EMAIL, ADMIN_PASSWORD};

/// Step 1: the first visit leads to setup; then sign out and in again through the forms.
pub async fn setup_and_sign_in(f: &mut Flow) {
    let c = f.c();
    goto(c, &f.app.url("/")).await;
    wait_path(c, "/setup").await;
    fill(c, "input[name=organization]", "Acme").await;
    fill(c, "input[name=name]", "Ada Admin").await;
    fill(c, "input[name=email]", ADMIN_EMAIL).await;
    fill(c, "input[name=password]", ADMIN_PASSWORD).await;
    fill(c, "input[name=password_confirm]", ADMIN_PASSWORD).await;
    press(c, "main", "Create organization").await;
    wait_text(c, "main h1", "Acme").await;
    f.shot("home-after-setup").await;
    let c = f.c();
    press(c, "header", "Sign out").await;
    wait_path(c, "/login").await;
    sign_in(c, &f.app).await;
    wait_text(c, "main", "Signed in as Ada Admin").await;
}

/// Step 2: Connect Gmail, answer the emulator's consent page, wait for the first sync (the
/// mailboxes table refreshes itself meanwhile). Returns the mailbox's id.
pub async fn link_mailbox(f: &mut Flow) -> i64 {
    f.app.provider_mailbox("google", MAILBOX, "Ada Admin").await;
    f.nav("Mailboxes", "/mailboxes").await;
    press(f.c(), "main", "Connect Gmail").await;
    let c = f.c();
    c.wait()
        .for_element(Locator::Css("#approve"))
        .await
        .unwrap();
    let consent = c.current_url().await.unwrap();
    let emulator = f.app.emulator.as_ref().unwrap().base_url.clone();
    assert!(consent.as_str().starts_with(&emulator), "{consent}");
    click(c, &format!("input[name=mailbox][value='{MAILBOX}']")).await;
    f.shot("consent").await;
    let c = f.c();
    click(c, "#approve").await;
    wait_path(c, "/mailboxes").await;
    assert!(c
        .current_url()
        .await
        .unwrap()
        .as_str()
        .starts_with(&f.app.base));
    wait_text(c, "#mailbox-rows", MAILBOX).await;
    wait_text(c, "#mailbox-rows", "Up to date").await;
    f.shot("mailbox-linked").await;
    let row = attrs(f.c(), "#mailbox-rows tr", "id").await;
    id_in(&row[0].replace('-', "/"))
}

/// Step 3: mail arrives at the provider, Globex is created in the browser, and "Sync now"
/// brings the mail in. Returns Globex's id.
pub async fn create_business_and_sync(f: &mut Flow, mailbox: i64) -> i64 {
    corpus::deliver_all(&f.app).await;
    f.nav("Businesses", "/businesses").await;
    let c = f.c();
    follow(c, "New business").await;
    wait_path(c, "/businesses/new").await;
    fill(c, "input[name=name]", "Globex").await;
    fill(c, "textarea[name=domains]", "globex.test").await;
    press(c, "main form.stack-form", "Save").await;
    let business = f.wait_record_page("/businesses/").await;
    wait_text(f.c(), "#threads", "No mail here yet.").await;
    f.shot("business-before-sync").await;

    f.nav("Mailboxes", "/mailboxes").await;
    press(f.c(), &format!("#mailbox-{mailbox}"), "Sync now").await;
    let c = f.c();
    wait_text(c, "main .notice", "Sync of").await;
    let want = format!("{} messages", NOTES + 4);
    let url = f.app.url("/mailboxes");
    let (c, url, want) = (f.c(), url.as_str(), want.as_str());
    eventually("the synced mail on Mailboxes", || async move {
        goto(c, url).await;
        let row = texts(c, "#mailbox-rows").await.join(" ");
        if row.contains(want) && row.contains("Up to date") {
            Ok(())
        } else {
            Err(row)
        }
    })
    .await;
    f.shot("mailbox-synced").await;
    business
}
