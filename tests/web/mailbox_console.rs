//! Admin → Mailboxes, the console: its columns and pages, and Sync now with its refusals and its
//! audit entry (actor and mailbox); the shared setup of the console's tests. Transfer and
//! disconnect are in `mailbox_console_actions.rs`, pause / resume and offboarding in
//! `offboarding.rs`, another organization's ids in `isolation.rs`.
use chrono::Duration;
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};
use threadline::db::entities::{audit_log, emails, jobs as job_rows, mail_accounts};
use threadline::db::entities::{sync_runs, users};
use threadline::db::{self, jobs, mail_accounts as accounts};
use threadline::domain::provider::Provider;
use threadline::sync::worker::{sync_next_due, sync_next_due_with};
use threadline::sync::SyncOptions;

use crate::mailbox_fixtures::{linked_app, GMAIL};
use crate::support::location;
use crate::support::mail::approve;
use crate::support::{TestApp, ADMIN_EMAIL};

pub const BEA: &str = "bea@acme.test";
pub const CY: &str = "cy@acme.test";
pub const PASSWORD: &str = "long enough password";
pub const BEA_MAILBOX: &str = "other@gmail-user.test";

pub fn message(tag: &str) -> String {
    format!(
        "From: Val <val@vendor.test>\r\nTo: Bea <{BEA_MAILBOX}>\r\nSubject: Console {tag}\r\n\
         Message-ID: <{tag}@vendor.test>\r\nDate: Fri, 20 Nov 2026 10:00:00 +0000\r\n\r\nHi.\r\n"
    )
}

/// Run the worker's step until nothing is due; the mailboxes it ran passes for.
pub async fn drain(app: &TestApp) -> Vec<i64> {
    let mut ran = Vec::new();
    for _ in 0..50 {
        match sync_next_due(&app.deps, "console-test").await {
            Ok(Some(report)) => ran.push(report.account_id),
            Ok(None) => return ran,
            Err(e) => panic!("sync step failed: {e}"),
        }
    }
    panic!("the worker never ran out of due mailboxes");
}

pub async fn find(app: &TestApp, address: &str) -> Option<mail_accounts::Model> {
    mail_accounts::Entity::find()
        .filter(mail_accounts::Column::Address.eq(address))
        .one(&app.db)
        .await
        .unwrap()
}

pub async fn stored(app: &TestApp, id: i64) -> u64 {
    emails::Entity::find()
        .filter(emails::Column::AccountId.eq(id))
        .count(&app.db)
        .await
        .unwrap()
}

pub async fn runs(app: &TestApp, id: i64) -> u64 {
    sync_runs::Entity::find()
        .filter(sync_runs::Column::AccountId.eq(id))
        .count(&app.db)
        .await
        .unwrap()
}

pub async fn user_id(app: &TestApp, email: &str) -> i64 {
    users::Entity::find()
        .filter(users::Column::Email.eq(email))
        .one(&app.db)
        .await
        .unwrap()
        .expect("user")
        .id
}

/// The newest audit entry of `action`: `(actor, subject id, detail)`.
pub async fn audited(app: &TestApp, action: &str) -> Option<(Option<i64>, Option<i64>, String)> {
    audit_log::Entity::find()
        .filter(audit_log::Column::Action.eq(action))
        .order_by_desc(audit_log::Column::Id)
        .one(&app.db)
        .await
        .unwrap()
        .map(|e| (e.actor_user_id, e.subject_id, e.detail))
}

/// The admin's app with Bea (a member) whose Gmail mailbox is linked and synced with two
/// messages; Bea's own browser; her mailbox.
pub async fn bea_linked() -> (TestApp, TestApp, mail_accounts::Model) {
    let app = linked_app().await;
    let bea = app.member_browser(BEA, PASSWORD).await;
    assert_eq!(
        location(&bea.connect("google", approve(BEA_MAILBOX)).await),
        "/mailboxes"
    );
    for tag in ["one", "two"] {
        app.deliver_gmail(BEA_MAILBOX, message(tag), "INBOX", None)
            .await;
    }
    let account = find(&app, BEA_MAILBOX).await.expect("Bea's mailbox");
    assert!(drain(&app).await.contains(&account.id));
    assert_eq!(stored(&app, account.id).await, 2);
    let account = find(&app, BEA_MAILBOX).await.expect("Bea's mailbox");
    (app, bea, account)
}

/// The sync job of mailbox `id`.
pub async fn sync_job(app: &TestApp, id: i64) -> job_rows::Model {
    job_rows::Entity::find()
        .filter(job_rows::Column::SubjectId.eq(id))
        .one(&app.db)
        .await
        .unwrap()
        .expect("sync job")
}

/// The `<tr>` of mailbox `id` in the console's HTML.
pub fn row(html: &str, id: i64) -> String {
    let start = html
        .find(&format!("<tr id=\"mailbox-{id}\">"))
        .unwrap_or_else(|| panic!("no row for mailbox {id}: {html}"));
    let end = html[start..].find("</tr>").expect("row end") + start;
    html[start..end].to_string()
}

/// The text of the cell of `class` in a row.
pub fn cell(row: &str, class: &str) -> String {
    let marker = format!("<td class=\"{class}");
    let start = row
        .find(&marker)
        .unwrap_or_else(|| panic!("no {class} cell: {row}"));
    let open = row[start..].find('>').unwrap() + start + 1;
    let end = row[open..].find("</td>").unwrap() + open;
    let mut text = String::new();
    let mut tag = false;
    for c in row[open..end].chars() {
        match c {
            '<' => tag = true,
            '>' => tag = false,
            c if !tag => text.push(c),
            _ => {}
        }
    }
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    text.replace("&#60;", "<")
        .replace("&#62;", ">")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
}

#[tokio::test]
async fn the_console_lists_owner_status_sync_lag_messages_and_errors_by_page() {
    let (app, _bea, account) = bea_linked().await;
    let html = app.get_html("/admin/mailboxes").await;
    let bea_row = row(&html, account.id);
    assert_eq!(cell(&bea_row, "mailbox"), format!("{BEA_MAILBOX} Gmail"));
    assert_eq!(cell(&bea_row, "owner"), format!("Test User <{BEA}>"));
    assert!(
        cell(&bea_row, "status").starts_with("Connected next "),
        "{bea_row}"
    );
    assert!(cell(&bea_row, "last-sync").ends_with(" UTC"), "{bea_row}");
    assert_eq!(cell(&bea_row, "lag"), "under a minute");
    assert_eq!(cell(&bea_row, "messages"), "2");
    assert_eq!(cell(&bea_row, "errors"), "");
    let ada = find(&app, GMAIL).await.unwrap();
    let ada_row = row(&html, ada.id);
    assert_eq!(
        cell(&ada_row, "owner"),
        format!("Ada Admin <{ADMIN_EMAIL}>")
    );
    assert_eq!(cell(&ada_row, "messages"), "0");

    // Two passes fail (the provider refuses), a day after the last success: the row says
    // how long it has lagged, that it is behind, the last error and since when it fails.
    app.emulator_client()
        .inject_fault(&threadline_emulator::faults::FaultRule {
            mailbox: Some(BEA_MAILBOX.into()),
            route: Some("/gmail/v1/".into()),
            ..threadline_emulator::faults::FaultRule::status(500)
        })
        .await
        .unwrap();
    mail_accounts::Entity::update_many()
        .col_expr(
            mail_accounts::Column::LastSuccessAt,
            sea_orm::sea_query::Expr::value(db::now() - Duration::days(1)),
        )
        .filter(mail_accounts::Column::Id.eq(account.id))
        .exec(&app.db)
        .await
        .unwrap();
    for _ in 0..2 {
        jobs::run_now(&app.db, jobs::SYNC_ACCOUNT, account.id)
            .await
            .unwrap();
        let quick = SyncOptions {
            backoff_base: std::time::Duration::from_millis(1),
            ..SyncOptions::for_deps(&app.deps)
        };
        let lease = std::time::Duration::from_secs(30);
        let failed = sync_next_due_with(&app.deps, "console-test", lease, &quick).await;
        assert!(failed.is_err(), "the pass fails: {failed:?}");
    }
    app.emulator_client().clear_faults().await.unwrap();
    let html = app.get_html("/admin/mailboxes").await;
    let bea_row = row(&html, account.id);
    assert_eq!(cell(&bea_row, "lag"), "24 h behind");
    let errors = cell(&bea_row, "errors");
    assert!(errors.contains("2 failed passes since"), "{errors}");
    assert!(errors.contains("500"), "the provider's answer: {errors}");
    assert_eq!(cell(&bea_row, "messages"), "2");

    // Sixty more mailboxes: pages of fifty, by address, each mailbox once.
    let org = account.organization_id;
    let owner = account.owner_user_id.unwrap();
    for n in 0..60 {
        let address = format!("zz{n:02}@bulk.test");
        let new = accounts::NewAccount {
            organization_id: org,
            owner_user_id: owner,
            provider: Provider::Microsoft,
            address: &address,
            display_name: "Bulk",
        };
        accounts::insert(&app.db, new).await.unwrap();
    }
    let first = app.get_html("/admin/mailboxes").await;
    assert_eq!(first.matches("<tr id=\"mailbox-").count(), 50);
    assert!(first.contains("Mailboxes 1–50 of 62."), "{first}");
    assert!(first.contains("href=\"/admin/mailboxes?page=2\" rel=\"next\""));
    assert!(first.contains(BEA_MAILBOX) && !first.contains("zz59@bulk.test"));
    let second = app.get_html("/admin/mailboxes?page=2").await;
    assert_eq!(second.matches("<tr id=\"mailbox-").count(), 12);
    assert!(second.contains("Mailboxes 51–62 of 62."), "{second}");
    assert!(second.contains("zz59@bulk.test") && !second.contains(BEA_MAILBOX));
    assert!(!second.contains("rel=\"next\""));
    let beyond = app.get_html("/admin/mailboxes?page=9").await;
    assert!(beyond.contains("No mailboxes on this page."), "{beyond}");
    let bulk = row(&second, find(&app, "zz59@bulk.test").await.unwrap().id);
    assert_eq!(cell(&bulk, "mailbox"), "zz59@bulk.test Outlook");
    assert_eq!(cell(&bulk, "messages"), "0");
    assert_eq!(cell(&bulk, "last-sync"), "never");
    assert_eq!(cell(&bulk, "lag"), "never synced");
    assert_eq!(cell(&bulk, "owner"), format!("Test User <{BEA}>"));
}

#[tokio::test]
async fn sync_now_makes_the_pass_due_for_a_worker_and_refuses_a_paused_mailbox() {
    let (app, bea, account) = bea_linked().await;
    let admin = user_id(&app, ADMIN_EMAIL).await;
    app.deliver_gmail(BEA_MAILBOX, message("three"), "INBOX", None)
        .await;
    let job = || sync_job(&app, account.id);
    assert!(job().await.run_at > db::now(), "not due after its pass");
    assert!(drain(&app).await.is_empty());
    let sync = format!("/admin/mailboxes/{}/sync", account.id);

    // Members have no such button; without the CSRF token nothing happens.
    assert_eq!(
        bea.post_form(&sync, &[]).await.status(),
        StatusCode::FORBIDDEN
    );
    let res = app.post_form_with(&sync, None, &[]).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(job().await.run_at > db::now());
    assert_eq!(audited(&app, "mailbox.sync_now").await, None);

    let passes = runs(&app, account.id).await;
    let res = app.post_form(&sync, &[]).await;
    assert_eq!(location(&res), "/admin/mailboxes");
    // Due now, and no pass ran in the request: a worker runs it.
    assert!(job().await.run_at <= db::now());
    assert_eq!(runs(&app, account.id).await, passes);
    assert_eq!(stored(&app, account.id).await, 2);
    let page = app.get_html("/admin/mailboxes").await;
    assert!(
        page.contains("Sync of other@gmail-user.test requested"),
        "{page}"
    );
    assert!(cell(&row(&page, account.id), "status").contains("due now"));
    assert_eq!(drain(&app).await, vec![account.id]);
    assert_eq!(stored(&app, account.id).await, 3);
    let (actor, subject, detail) = audited(&app, "mailbox.sync_now").await.unwrap();
    assert_eq!((actor, subject), (Some(admin), Some(account.id)));
    assert!(detail.contains(BEA_MAILBOX), "{detail}");

    // Paused: refused with a message, nothing becomes due.
    let res = app
        .post_form(&format!("/admin/mailboxes/{}/pause", account.id), &[])
        .await;
    assert_eq!(location(&res), "/admin/mailboxes");
    let before = job().await.run_at;
    let res = app.post_form(&sync, &[]).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = res.text().await.unwrap();
    assert!(body.contains("paused: resume it first"), "{body}");
    assert_eq!(job().await.run_at, before);
    let page = app.get_html("/admin/mailboxes").await;
    assert!(!page.contains(&sync), "no Sync now for a paused mailbox");
    assert_eq!(
        app.post_form("/admin/mailboxes/999999/sync", &[])
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn the_messages_column_counts_what_the_mailbox_holds_not_provider_deleted_rows() {
    let (app, _bea, account) = bea_linked().await;
    let gone = app
        .deliver_gmail(BEA_MAILBOX, message("gone"), "INBOX", None)
        .await;
    jobs::run_now(&app.db, jobs::SYNC_ACCOUNT, account.id)
        .await
        .unwrap();
    assert_eq!(drain(&app).await, vec![account.id]);
    let html = app.get_html("/admin/mailboxes").await;
    assert_eq!(cell(&row(&html, account.id), "messages"), "3");

    // Deleted in Gmail: the next pass marks its row deleted in the provider and keeps it.
    app.emulator_client()
        .delete_message(BEA_MAILBOX, &gone)
        .await
        .unwrap();
    jobs::run_now(&app.db, jobs::SYNC_ACCOUNT, account.id)
        .await
        .unwrap();
    assert_eq!(drain(&app).await, vec![account.id]);
    let marked = emails::Entity::find()
        .filter(emails::Column::AccountId.eq(account.id))
        .filter(emails::Column::DeletedInProviderAt.is_not_null())
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!((stored(&app, account.id).await, marked), (3, 1));
    let html = app.get_html("/admin/mailboxes").await;
    assert_eq!(cell(&row(&html, account.id), "messages"), "2");
}
