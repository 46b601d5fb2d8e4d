//! Sync as the owner sees it on the mailboxes pages: progress that refreshes itself while a
//! first sync is unfinished, the runs and skipped messages of a mailbox, and its settings.
use reqwest::StatusCode;
use threadline::db::emails::{record_skipped, Owner};
use threadline::db::entities::sync_cursors;
use threadline::sync::sync_account;

use sea_orm::EntityTrait;

use crate::mailbox_fixtures::{all_accounts, linked_app, GMAIL};

const MESSAGE: &str = "From: Bo <bo@customer.test>\r\nTo: ada@gmail-user.test\r\n\
Subject: Renewal\r\nMessage-ID: <renewal-1@customer.test>\r\n\
Date: Fri, 20 Nov 2026 10:00:00 +0000\r\n\r\nShall we renew?\r\n";

async fn deliver(app: &crate::support::TestApp) {
    app.deliver_gmail(GMAIL, MESSAGE, "INBOX,UNREAD", None)
        .await;
}

#[tokio::test]
async fn the_mailboxes_table_refreshes_itself_until_the_first_sync_is_done() {
    let app = linked_app().await;
    deliver(&app).await;
    let account = all_accounts(&app).await.remove(0);

    let page = app.get_html("/mailboxes").await;
    assert!(
        page.contains("First sync: waiting for a sync worker"),
        "{page}"
    );
    assert!(page.contains(r#"hx-get="/mailboxes/rows" hx-trigger="every 2s""#));

    sync_account(&app.deps, account.id).await.unwrap();
    let rows = app.get_html("/mailboxes/rows").await;
    assert!(rows.starts_with(r#"<tbody id="mailbox-rows">"#), "{rows}");
    assert!(rows.contains("Up to date"), "{rows}");
    assert!(rows.contains("1 message;"), "{rows}");
    assert!(
        !rows.contains("hx-trigger"),
        "no refresh once synced: {rows}"
    );
    assert!(!rows.contains("<html"), "a fragment, not a page");
}

#[tokio::test]
async fn a_mailbox_page_shows_its_runs_and_why_messages_were_not_stored() {
    let app = linked_app().await;
    deliver(&app).await;
    let account = all_accounts(&app).await.remove(0);
    sync_account(&app.deps, account.id).await.unwrap();
    let owner = Owner {
        organization_id: account.organization_id,
        account_id: account.id,
    };
    record_skipped(&app.db, owner, "18c0ffee", "gone", "deleted before fetch")
        .await
        .unwrap();

    let page = app.get_html(&format!("/mailboxes/{}", account.id)).await;
    assert!(page.contains("initial"), "{page}");
    assert!(page.contains("succeeded"), "{page}");
    assert!(page.contains("1 listed, 1 fetched, 1 new"), "{page}");
    assert!(page.contains("18c0ffee"));
    assert!(page.contains("Deleted in the provider before it could be fetched"));
    assert!(page.contains("1 not stored (see details)"));
}

#[tokio::test]
async fn settings_are_validated_saved_and_restart_the_listing() {
    let app = linked_app().await;
    let account = all_accounts(&app).await.remove(0);
    sync_account(&app.deps, account.id).await.unwrap();
    assert!(!sync_cursors::Entity::find()
        .all(&app.db)
        .await
        .unwrap()
        .is_empty());
    let path = format!("/mailboxes/{}", account.id);
    let settings = format!("{path}/settings");

    let bad = app
        .post_form(
            &settings,
            &[
                ("interval_minutes", "7"),
                ("since", "2999-01-01"),
                ("folders", "INBOX, SPAM"),
            ],
        )
        .await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = bad.text().await.unwrap();
    assert!(body.contains("Choose one of the offered intervals."));
    assert!(body.contains("The start date cannot be in the future."));
    assert!(body.contains("SPAM is never synced"));
    assert!(
        body.contains(r#"value="INBOX, SPAM""#),
        "what was typed is kept"
    );

    let ok = app
        .post_form(
            &settings,
            &[
                ("interval_minutes", "15"),
                ("since", "2026-01-01"),
                ("folders", "INBOX, Label_9"),
            ],
        )
        .await;
    assert_eq!(ok.status(), StatusCode::SEE_OTHER);
    let stored = all_accounts(&app).await.remove(0);
    assert_eq!(stored.sync_interval_secs, 900);
    assert_eq!(
        stored.sync_settings.to_json(),
        r#"{"since":"2026-01-01","labels":["INBOX","Label_9"]}"#
    );
    assert!(
        sync_cursors::Entity::find()
            .all(&app.db)
            .await
            .unwrap()
            .is_empty(),
        "new folders: the next pass lists afresh"
    );
    let page = app.get_html(&path).await;
    assert!(page.contains("Settings saved. The mailbox is listed again"));
    assert!(page.contains(r#"<option value="15" selected>"#), "{page}");

    // Someone else's mailbox does not exist, whatever the id.
    let other = app.other_browser();
    app.create_user("bea@acme.test", "a long enough password 1", false)
        .await;
    other
        .sign_in("bea@acme.test", "a long enough password 1")
        .await;
    assert_eq!(other.get(&path).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        other
            .get(&format!("/mailboxes/{}", account.id + 1000))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn a_pass_whose_holder_died_shows_as_interrupted() {
    use threadline::db::{jobs, sync_runs};
    use threadline::domain::sync_run::RunKind;

    let app = linked_app().await;
    let account = all_accounts(&app).await.remove(0);
    let owner = Owner {
        organization_id: account.organization_id,
        account_id: account.id,
    };
    // A worker of an instance that crashed mid-listing, its lease released at its restart.
    sync_runs::start_run(&app.db, owner, RunKind::Initial, Some("gone-sync-0"))
        .await
        .unwrap();
    let page = app.get_html(&format!("/mailboxes/{}", account.id)).await;
    assert!(page.contains("running"), "{page}");
    jobs::release_all(&app.db, "gone-sync-0").await.unwrap();
    let closed = sync_runs::interrupt_orphans(&app.db, threadline::db::now())
        .await
        .unwrap();
    assert_eq!(closed, 1);

    let page = app.get_html(&format!("/mailboxes/{}", account.id)).await;
    assert!(page.contains(">interrupted</span>"), "{page}");
    assert!(page.contains("initial"), "{page}");
}

#[tokio::test]
async fn the_owners_sync_now_queues_a_pass_but_refuses_a_paused_mailbox() {
    use crate::mailbox_console::{bea_linked, drain, sync_job};
    use crate::support::location;

    let (app, bea, account) = bea_linked().await;
    let job = || sync_job(&app, account.id);
    let sync = format!("/mailboxes/{}/sync", account.id);
    // Connected: the pass is due at once, for a worker.
    assert!(job().await.run_at > threadline::db::now());
    assert_eq!(location(&bea.post_form(&sync, &[]).await), "/mailboxes");
    assert!(job().await.run_at <= threadline::db::now());
    assert!(bea
        .get_html("/mailboxes")
        .await
        .contains("Sync of other@gmail-user.test requested"));
    assert_eq!(drain(&app).await, vec![account.id]);

    // Paused by an admin: the owner's Sync now says so and queues nothing.
    let res = app
        .post_form(&format!("/admin/mailboxes/{}/pause", account.id), &[])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let before = job().await.run_at;
    assert!(before > threadline::db::now());
    let res = bea.post_form(&sync, &[]).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = res.text().await.unwrap();
    assert!(body.contains("This mailbox is paused"), "{body}");
    assert_eq!(job().await.run_at, before, "nothing queued");
    let list = bea.get_html("/mailboxes").await;
    assert!(!list.contains("requested"), "{list}");
    assert!(!list.contains(&format!("action=\"{sync}\"")), "{list}");
    // Another user's mailbox is not theirs to sync.
    let res = app.post_form(&sync, &[]).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}
