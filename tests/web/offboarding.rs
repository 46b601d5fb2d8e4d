//! Offboarding: disabling a user pauses their mailboxes at once (audited); no sync pass runs
//! for them afterwards, re-enabling resumes nothing, and the owner's reconnect resumes one.
//! Admins see every mailbox of the organization and pause / resume any (audited).
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use threadline::db::entities::{emails, mail_accounts, sync_runs};
use threadline::db::jobs;
use threadline::sync::worker::sync_next_due;

use crate::mailbox_fixtures::linked_app;
use crate::support::location;
use crate::support::mail::approve;
use crate::support::TestApp;

const BEA: &str = "bea@acme.test";
const BEA_PASSWORD: &str = "bea password 1";
const BEA_MAILBOX: &str = "other@gmail-user.test";

fn message(tag: &str) -> String {
    format!(
        "From: Cy <cy@vendor.test>\r\nTo: Bea <{BEA_MAILBOX}>\r\nSubject: {tag}\r\n\
         Message-ID: <{tag}@vendor.test>\r\nDate: Fri, 20 Nov 2026 10:00:00 +0000\r\n\r\nHi.\r\n"
    )
}

/// Run the worker's step until nothing is due; the mailboxes it ran passes for.
async fn drain(app: &TestApp) -> Vec<i64> {
    let mut ran = Vec::new();
    for _ in 0..50 {
        match sync_next_due(&app.deps, "offboarding-test").await {
            Ok(Some(report)) => ran.push(report.account_id),
            Ok(None) => return ran,
            Err(e) => panic!("sync step failed: {e}"),
        }
    }
    panic!("the worker never ran out of due mailboxes");
}

async fn mailbox(app: &TestApp) -> mail_accounts::Model {
    mail_accounts::Entity::find()
        .filter(mail_accounts::Column::Address.eq(BEA_MAILBOX))
        .one(&app.db)
        .await
        .unwrap()
        .expect("Bea's mailbox")
}

async fn stored(app: &TestApp, id: i64) -> u64 {
    emails::Entity::find()
        .filter(emails::Column::AccountId.eq(id))
        .count(&app.db)
        .await
        .unwrap()
}

async fn runs(app: &TestApp, id: i64) -> u64 {
    sync_runs::Entity::find()
        .filter(sync_runs::Column::AccountId.eq(id))
        .count(&app.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn disabling_a_user_pauses_their_mailboxes_until_they_reconnect() {
    let app = linked_app().await;
    let bea = app.member_browser(BEA, BEA_PASSWORD).await;
    assert_eq!(
        location(&bea.connect("google", approve(BEA_MAILBOX)).await),
        "/mailboxes"
    );
    app.deliver_gmail(BEA_MAILBOX, message("before"), "INBOX", None)
        .await;
    let account = mailbox(&app).await;
    assert!(drain(&app).await.contains(&account.id));
    assert_eq!(stored(&app, account.id).await, 1);

    // New mail waits, and the mailbox is due now; then an admin disables Bea.
    app.deliver_gmail(BEA_MAILBOX, message("after"), "INBOX", None)
        .await;
    jobs::run_now(&app.db, jobs::SYNC_ACCOUNT, account.id)
        .await
        .unwrap();
    let bea_id = account.owner_user_id.unwrap();
    let res = app
        .post_form(
            &format!("/admin/users/{bea_id}/disabled"),
            &[("disabled", "true")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let paused = mailbox(&app).await;
    assert_eq!(paused.status.as_str(), "paused");
    assert!(paused.last_error.unwrap().contains("owner was disabled"));
    let audit = app.get_html("/admin/audit").await;
    assert!(audit.contains("mailbox.pause"), "{audit}");
    assert!(audit.contains(BEA_MAILBOX), "{audit}");

    // No pass runs for it: the worker finds nothing of hers due, nothing more is stored.
    let passes = runs(&app, account.id).await;
    assert!(!drain(&app).await.contains(&account.id));
    assert_eq!(runs(&app, account.id).await, passes);
    assert_eq!(stored(&app, account.id).await, 1);

    // Re-enabling resumes nothing.
    let res = app
        .post_form(
            &format!("/admin/users/{bea_id}/disabled"),
            &[("disabled", "false")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    jobs::run_now(&app.db, jobs::SYNC_ACCOUNT, account.id)
        .await
        .unwrap();
    assert!(!drain(&app).await.contains(&account.id));
    assert_eq!(mailbox(&app).await.status.as_str(), "paused");

    // Bea, signed in again, sees why and reconnects: it syncs again.
    assert_eq!(
        bea.sign_in(BEA, BEA_PASSWORD).await.status(),
        StatusCode::SEE_OTHER
    );
    let list = bea.get_html("/mailboxes").await;
    assert!(list.contains("Paused by the organization"), "{list}");
    let res = bea.reconnect(account.id, approve(BEA_MAILBOX)).await;
    assert_eq!(location(&res), "/mailboxes");
    assert_eq!(mailbox(&app).await.status.as_str(), "active");
    assert!(drain(&app).await.contains(&account.id));
    assert_eq!(stored(&app, account.id).await, 2);
}

#[tokio::test]
async fn admins_pause_and_resume_any_mailbox_of_the_organization() {
    let app = linked_app().await;
    let bea = app.member_browser(BEA, BEA_PASSWORD).await;
    assert_eq!(
        location(&bea.connect("google", approve(BEA_MAILBOX)).await),
        "/mailboxes"
    );
    let account = mailbox(&app).await;
    drain(&app).await;

    let page = app.get_html("/admin/mailboxes").await;
    assert!(
        page.contains(BEA_MAILBOX) && page.contains("ada@gmail-user.test"),
        "{page}"
    );
    assert!(page.contains(&format!("/admin/mailboxes/{}/pause", account.id)));
    // Members have no console.
    assert_eq!(
        bea.get("/admin/mailboxes").await.status(),
        StatusCode::FORBIDDEN
    );
    let res = bea
        .post_form(&format!("/admin/mailboxes/{}/pause", account.id), &[])
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(mailbox(&app).await.status.as_str(), "active");

    let res = app
        .post_form(&format!("/admin/mailboxes/{}/pause", account.id), &[])
        .await;
    assert_eq!(location(&res), "/admin/mailboxes");
    assert_eq!(mailbox(&app).await.status.as_str(), "paused");
    app.deliver_gmail(BEA_MAILBOX, message("while-paused"), "INBOX", None)
        .await;
    jobs::run_now(&app.db, jobs::SYNC_ACCOUNT, account.id)
        .await
        .unwrap();
    assert!(!drain(&app).await.contains(&account.id));
    assert_eq!(stored(&app, account.id).await, 0);
    // Pausing twice is refused and changes nothing.
    let res = app
        .post_form(&format!("/admin/mailboxes/{}/pause", account.id), &[])
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // Not while its owner is disabled.
    let bea_id = account.owner_user_id.unwrap();
    for disabled in ["true", "false"] {
        let res = app
            .post_form(
                &format!("/admin/users/{bea_id}/disabled"),
                &[("disabled", disabled)],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        if disabled == "true" {
            let res = app
                .post_form(&format!("/admin/mailboxes/{}/resume", account.id), &[])
                .await;
            assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
            assert_eq!(mailbox(&app).await.status.as_str(), "paused");
        }
    }
    let res = app
        .post_form(&format!("/admin/mailboxes/{}/resume", account.id), &[])
        .await;
    assert_eq!(location(&res), "/admin/mailboxes");
    assert_eq!(mailbox(&app).await.status.as_str(), "active");
    assert!(drain(&app).await.contains(&account.id));
    assert_eq!(stored(&app, account.id).await, 1);

    // Disconnect, keeping its mail: the tokens are gone, no pass runs, the mail stays. (Bea,
    // signed out when she was disabled, signs in again: still no console for her.)
    assert_eq!(
        bea.sign_in(BEA, BEA_PASSWORD).await.status(),
        StatusCode::SEE_OTHER
    );
    let res = bea
        .post_form(&format!("/admin/mailboxes/{}/disconnect", account.id), &[])
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = app
        .post_form(&format!("/admin/mailboxes/{}/disconnect", account.id), &[])
        .await;
    assert_eq!(location(&res), "/admin/mailboxes");
    let gone = mailbox(&app).await;
    assert_eq!(gone.status.as_str(), "disconnected");
    assert!(gone.credentials.is_none());
    assert_eq!(stored(&app, account.id).await, 1);
    let page = app.get_html("/admin/mailboxes").await;
    // Disconnected: no more Pause or Sync now, only deleting its mail is offered.
    assert!(!page.contains(&format!("/admin/mailboxes/{}/pause", account.id)));
    assert!(!page.contains(&format!("/admin/mailboxes/{}/sync", account.id)));
    assert!(page.contains("Delete its mail…"), "{page}");

    let audit = app.get_html("/admin/audit").await;
    for action in ["mailbox.pause", "mailbox.resume", "mailbox.disconnect"] {
        assert!(audit.contains(action), "{action}: {audit}");
    }
    assert_eq!(
        app.post_form("/admin/mailboxes/999999/pause", &[])
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
}
