//! Write-back to Gmail against the emulator's ground truth: the owner's read and star marks
//! become batchModify calls on UNREAD / STARRED (repeated toggles of one message coalesce),
//! the next sync sees them without writing again or flipping the mark, a read-only mailbox is
//! never written and says so, nothing is sent while write-back is off, and a throttled write
//! waits in the outbox and goes out later.
use chrono::Duration;
use reqwest::StatusCode;
use serde_json::json;
use threadline::db::email_actions::{Mark, Marks};

use super::helpers::{clear_faults, deliver, fault, linked, raw, GMAIL};
use crate::write_back::{
    account, allow_for_org, drain, drain_as, drain_at, email_of, grant_write_access, mark, marks,
    outbox, page_state, requests, switch_mailbox, truth_of, GMAIL_MODIFY_ROUTE,
};

#[tokio::test]
async fn gmail_marks_are_written_back_and_the_next_sync_does_not_echo_them() {
    let l = linked(0).await;
    let id = deliver(&l.app, &raw("wb-1", "Proposal", false), "INBOX,UNREAD").await;
    l.sync_ok().await;
    allow_for_org(&l, true).await;
    grant_write_access(&l, GMAIL).await;
    let email = email_of(&l, &id).await;

    mark(&l, email.id, "read", true).await;
    for on in [true, false, true] {
        mark(&l, email.id, "star", on).await;
    }
    let pending = outbox(&l).await;
    assert_eq!(pending.len(), 1, "toggles of one message coalesce");
    assert_eq!(
        (pending[0].read, pending[0].starred),
        (Some(true), Some(true))
    );
    assert_eq!(requests(&l, GMAIL_MODIFY_ROUTE).await, 0);

    assert_eq!(drain(&l).await, 1);
    assert_eq!(requests(&l, GMAIL_MODIFY_ROUTE).await, 1, "one batchModify");
    let truth = truth_of(&l, GMAIL, &id).await;
    assert!(truth.read && truth.starred, "{truth:?}");
    assert!(outbox(&l).await.is_empty());

    // The next sync sees the label changes the write produced: no new write, marks unchanged.
    l.sync_ok().await;
    assert_eq!(drain(&l).await, 0);
    assert_eq!(requests(&l, GMAIL_MODIFY_ROUTE).await, 1);
    let stored = email_of(&l, &id).await;
    assert!(stored.provider_read && stored.provider_starred);
    let both = Marks {
        read: true,
        starred: true,
    };
    assert_eq!(marks(&l, &stored).await, both);

    // Unread again: UNREAD comes back in Gmail; the sync after it changes nothing here.
    mark(&l, email.id, "read", false).await;
    assert_eq!(drain(&l).await, 1);
    let truth = truth_of(&l, GMAIL, &id).await;
    assert!(!truth.read && truth.starred, "{truth:?}");
    l.sync_ok().await;
    assert_eq!(drain(&l).await, 0);
    assert_eq!(requests(&l, GMAIL_MODIFY_ROUTE).await, 2);
    let unread = Marks {
        read: false,
        starred: true,
    };
    assert_eq!(marks(&l, &email_of(&l, &id).await).await, unread);
}

#[tokio::test]
async fn a_read_only_gmail_mailbox_is_never_written_and_says_so() {
    let l = linked(0).await;
    let id = deliver(&l.app, &raw("wb-2", "Quote", false), "INBOX,UNREAD").await;
    l.sync_ok().await;
    allow_for_org(&l, true).await;
    assert_eq!(page_state(&l).await, "read-only");
    let page = l
        .app
        .get_html(&format!("/mailboxes/{}", l.account_id))
        .await;
    assert!(page.contains("linked read-only"), "{page}");
    assert!(page.contains("Reconnect with write access"));
    let res = switch_mailbox(&l, true).await;
    assert!(res.status().is_client_error(), "{}", res.status());
    assert!(!account(&l).await.write_back);

    let email = email_of(&l, &id).await;
    mark(&l, email.id, "read", true).await;
    mark(&l, email.id, "star", true).await;
    assert!(outbox(&l).await.is_empty());
    assert_eq!(drain(&l).await, 0);
    assert_eq!(requests(&l, GMAIL_MODIFY_ROUTE).await, 0);
    let truth = truth_of(&l, GMAIL, &id).await;
    assert!(!truth.read && !truth.starred, "{truth:?}");
    // The reader's marks are kept in Threadline all the same.
    let both = Marks {
        read: true,
        starred: true,
    };
    assert_eq!(marks(&l, &email).await, both);
}

#[tokio::test]
async fn with_write_back_off_nothing_is_sent_and_a_colleague_never_writes() {
    let l = linked(0).await;
    let id = deliver(&l.app, &raw("wb-3", "Invoice", false), "INBOX,UNREAD").await;
    l.sync_ok().await;
    allow_for_org(&l, true).await;
    grant_write_access(&l, GMAIL).await;
    let email = email_of(&l, &id).await;

    // The mailbox's own switch off.
    assert_eq!(
        switch_mailbox(&l, false).await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(page_state(&l).await, "off");
    mark(&l, email.id, "read", true).await;
    assert!(outbox(&l).await.is_empty());

    // An admin turns it on again from the mailbox console; a star waits; the organization
    // then stops write-back and what waited is dropped.
    let console = l.app.get_html("/admin/mailboxes").await;
    let switch = format!(r#"action="/admin/mailboxes/{}/write-back""#, l.account_id);
    assert!(console.contains(&switch), "{console}");
    let res = l
        .app
        .post_form(
            &format!("/admin/mailboxes/{}/write-back", l.account_id),
            &[("enabled", "on")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(page_state(&l).await, "on");
    mark(&l, email.id, "star", true).await;
    assert_eq!(outbox(&l).await.len(), 1);
    allow_for_org(&l, false).await;
    assert_eq!(page_state(&l).await, "not allowed");
    assert!(outbox(&l).await.is_empty());
    assert_eq!(drain(&l).await, 0);

    // A colleague's mark on the same message never reaches this mailbox.
    allow_for_org(&l, true).await;
    let colleague = l
        .app
        .create_user("cole@acme.test", "another long pass", false)
        .await;
    let queued = threadline::db::write_back::queue_mark(
        &l.app.db,
        email.organization_id,
        colleague,
        &email.message_key,
        Mark::Read,
        true,
    )
    .await
    .unwrap();
    assert_eq!(queued, 0);
    assert!(outbox(&l).await.is_empty());

    assert_eq!(requests(&l, GMAIL_MODIFY_ROUTE).await, 0);
    let truth = truth_of(&l, GMAIL, &id).await;
    assert!(!truth.read && !truth.starred, "{truth:?}");
}

#[tokio::test]
async fn a_throttled_gmail_write_waits_in_the_outbox_and_goes_out_later() {
    let l = linked(0).await;
    let id = deliver(&l.app, &raw("wb-4", "Order", false), "INBOX,UNREAD").await;
    l.sync_ok().await;
    allow_for_org(&l, true).await;
    grant_write_access(&l, GMAIL).await;
    let email = email_of(&l, &id).await;
    fault(
        &l.app,
        json!({"route": "batchModify", "status": 429, "retry_after": 1, "count": 10}),
    )
    .await;

    mark(&l, email.id, "read", true).await;
    assert_eq!(drain(&l).await, 0);
    let pending = outbox(&l).await;
    assert_eq!(pending.len(), 1, "the write is kept");
    assert_eq!(pending[0].attempts, 1);
    assert!(pending[0].last_error.is_some());
    assert!(!truth_of(&l, GMAIL, &id).await.read);
    let page = l
        .app
        .get_html(&format!("/mailboxes/{}", l.account_id))
        .await;
    assert!(page.contains("1 change(s) waiting to be written"), "{page}");
    // Not due again at once.
    assert_eq!(drain(&l).await, 0);

    clear_faults(&l.app).await;
    assert_eq!(drain_at(&l, Duration::hours(2)).await, 1);
    assert!(truth_of(&l, GMAIL, &id).await.read);
    assert!(outbox(&l).await.is_empty());
}

#[tokio::test]
async fn a_write_is_sent_once_by_concurrent_workers_and_survives_a_dead_one() {
    let l = linked(0).await;
    let first = deliver(&l.app, &raw("wb-5", "Terms", false), "INBOX,UNREAD").await;
    let second = deliver(&l.app, &raw("wb-6", "Renewal", false), "INBOX,UNREAD").await;
    l.sync_ok().await;
    allow_for_org(&l, true).await;
    grant_write_access(&l, GMAIL).await;

    // Two workers (two instances on one database) step at once: the write goes out once.
    mark(&l, email_of(&l, &first).await.id, "read", true).await;
    let (a, b) = tokio::join!(
        drain_as(&l, "instance-a-sync-0", Duration::zero()),
        drain_as(&l, "instance-b-sync-0", Duration::zero())
    );
    assert_eq!(a + b, 1);
    assert_eq!(requests(&l, GMAIL_MODIFY_ROUTE).await, 1);
    assert!(truth_of(&l, GMAIL, &first).await.read);

    // A worker leases the next write and dies before sending it: nobody else sends it while
    // the lease holds; once it has run out, another worker does.
    mark(&l, email_of(&l, &second).await.id, "star", true).await;
    let now = threadline::db::now();
    let leased = threadline::db::write_back::outbox::lease(
        &l.app.db,
        "dead-sync-0",
        now,
        Duration::seconds(60),
        10,
    )
    .await
    .unwrap();
    assert_eq!(leased.len(), 1);
    assert_eq!(drain(&l).await, 0);
    assert_eq!(outbox(&l).await.len(), 1, "the leased write is kept");
    assert_eq!(drain_at(&l, Duration::minutes(2)).await, 1);
    assert!(truth_of(&l, GMAIL, &second).await.starred);
    assert!(outbox(&l).await.is_empty());
    assert_eq!(requests(&l, GMAIL_MODIFY_ROUTE).await, 2);
}
