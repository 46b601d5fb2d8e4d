//! Write-back to Outlook against the emulator's ground truth: the owner's read and flag marks
//! become `PATCH /me/messages/{id}` (`isRead`, `flag`), the next delta round sees them without
//! writing again or flipping the mark, a read-only mailbox is never written and says so, and a
//! write refused because the grant was revoked waits until the mailbox is reconnected.
use chrono::Duration;
use threadline::db::email_actions::Marks;

use super::helpers::{deliver, linked, raw, OUTLOOK};
use crate::support::location;
use crate::support::mail::approve;
use crate::write_back::{
    account, allow_for_org, drain, drain_at, email_of, grant_write_access, mark, marks, outbox,
    page_state, requests, truth_of, GRAPH_MESSAGE_ROUTE,
};

#[tokio::test]
async fn outlook_marks_are_written_back_and_the_next_sync_does_not_echo_them() {
    let l = linked(0).await;
    let id = deliver(&l.app, &raw("wb-1", "Proposal", false), "inbox", false).await;
    l.sync_ok().await;
    allow_for_org(&l, true).await;
    grant_write_access(&l, OUTLOOK).await;
    let email = email_of(&l, &id).await;
    let before = requests(&l, GRAPH_MESSAGE_ROUTE).await;

    mark(&l, email.id, "read", true).await;
    mark(&l, email.id, "star", true).await;
    assert_eq!(outbox(&l).await.len(), 1, "marks of one message coalesce");
    assert_eq!(drain(&l).await, 1);
    assert_eq!(
        requests(&l, GRAPH_MESSAGE_ROUTE).await,
        before + 1,
        "one PATCH"
    );
    let truth = truth_of(&l, OUTLOOK, &id).await;
    assert!(truth.read && truth.starred, "{truth:?}");

    // The next delta round reports the change: no new PATCH, the marks stay.
    l.sync_ok().await;
    assert_eq!(drain(&l).await, 0);
    assert_eq!(requests(&l, GRAPH_MESSAGE_ROUTE).await, before + 1);
    let stored = email_of(&l, &id).await;
    assert!(stored.provider_read && stored.provider_starred);
    let both = Marks {
        read: true,
        starred: true,
    };
    assert_eq!(marks(&l, &stored).await, both);

    mark(&l, email.id, "star", false).await;
    assert_eq!(drain(&l).await, 1);
    let truth = truth_of(&l, OUTLOOK, &id).await;
    assert!(truth.read && !truth.starred, "{truth:?}");
    l.sync_ok().await;
    assert_eq!(drain(&l).await, 0);
    assert_eq!(requests(&l, GRAPH_MESSAGE_ROUTE).await, before + 2);
}

#[tokio::test]
async fn a_read_only_outlook_mailbox_is_never_written_and_says_so() {
    let l = linked(0).await;
    let id = deliver(&l.app, &raw("wb-2", "Quote", false), "inbox", false).await;
    l.sync_ok().await;
    allow_for_org(&l, true).await;
    assert_eq!(page_state(&l).await, "read-only");
    let page = l
        .app
        .get_html(&format!("/mailboxes/{}", l.account_id))
        .await;
    assert!(page.contains("Mail.ReadWrite"), "{page}");
    let before = requests(&l, GRAPH_MESSAGE_ROUTE).await;

    let email = email_of(&l, &id).await;
    mark(&l, email.id, "read", true).await;
    mark(&l, email.id, "star", true).await;
    assert!(outbox(&l).await.is_empty());
    assert_eq!(drain(&l).await, 0);
    assert_eq!(requests(&l, GRAPH_MESSAGE_ROUTE).await, before);
    let truth = truth_of(&l, OUTLOOK, &id).await;
    assert!(!truth.read && !truth.starred, "{truth:?}");
}

#[tokio::test]
async fn a_write_refused_by_a_revoked_grant_goes_out_after_the_reconnect() {
    let l = linked(0).await;
    let id = deliver(&l.app, &raw("wb-3", "Order", false), "inbox", false).await;
    l.sync_ok().await;
    allow_for_org(&l, true).await;
    grant_write_access(&l, OUTLOOK).await;
    let email = email_of(&l, &id).await;
    l.app.revoke_tokens(OUTLOOK).await;

    mark(&l, email.id, "read", true).await;
    assert_eq!(drain(&l).await, 0);
    let pending = outbox(&l).await;
    assert_eq!(pending.len(), 1, "the write is kept");
    assert!(pending[0].last_error.is_some());
    assert_eq!(account(&l).await.status.as_str(), "needs_reconnect");
    assert_eq!(
        drain_at(&l, Duration::hours(2)).await,
        0,
        "not before a reconnect"
    );
    assert!(!truth_of(&l, OUTLOOK, &id).await.read);

    // Reconnecting keeps the write access the mailbox had; the waiting write goes out.
    let res = l.app.reconnect(l.account_id, approve(OUTLOOK)).await;
    assert_eq!(location(&res), "/mailboxes");
    assert_eq!(page_state(&l).await, "on");
    assert_eq!(drain_at(&l, Duration::hours(2)).await, 1);
    assert!(truth_of(&l, OUTLOOK, &id).await.read);
    assert!(outbox(&l).await.is_empty());
}
