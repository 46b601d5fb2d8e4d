//! Provider trouble: throttles and 5xx are waited out; a pass that fails mid-way resumes with
//! nothing lost or duplicated; a revoked grant fails the pass with needs-reconnect.
use serde_json::json;
use threadline::db::sync_runs;

use crate::common::{
    fail_a_pass_after_its_first_page, kill_a_pass_after_its_first_page, resume_without_faults,
};

use super::helpers::{assert_matches_truth, fault, linked, row_counts, GMAIL};

#[tokio::test]
async fn throttles_and_server_errors_are_waited_out() {
    let l = linked(20).await;
    fault(&l.app, json!({"mailbox": GMAIL, "route": "/messages/", "status": 429, "retry_after": 1, "count": 2})).await;
    fault(
        &l.app,
        json!({"mailbox": GMAIL, "route": "/messages", "status": 500, "count": 2}),
    )
    .await;
    fault(
        &l.app,
        json!({"mailbox": GMAIL, "route": "/profile", "status": 503, "count": 1}),
    )
    .await;
    let report = l.sync_ok().await;
    assert!(report.counts.throttled >= 2, "{:?}", report.counts);
    assert_matches_truth(&l).await;
    let runs = sync_runs::runs(&l.app.db, l.account_id).await.unwrap();
    assert_eq!(runs[0].status.as_str(), "succeeded");
    assert!(runs[0].throttled >= 2);
    // A first screen of mail comes one request per message (the throttled and failed ones
    // again), so at least as many requests as messages.
    assert!(runs[0].requests >= runs[0].fetched, "{:?}", runs[0]);
}

#[tokio::test]
async fn a_pass_that_fails_mid_way_resumes_without_loss_or_duplicates() {
    let l = linked(40).await;
    // Slow fetches so the pass is still running after its first page is committed.
    let partial = fail_a_pass_after_its_first_page(
        &l,
        "gmail",
        json!({"mailbox": GMAIL, "route": "/messages/", "status": 500, "rate": 0.0, "latency_ms": 60}),
        json!({"mailbox": GMAIL, "route": "/messages", "status": 503, "count": 100_000}),
    )
    .await;

    let (report, counts) = resume_without_faults(&l).await;
    assert_eq!(report.kind.as_str(), "initial", "the listing resumes");
    assert_matches_truth(&l).await;
    assert!(counts.emails > partial as u64);
}

#[tokio::test]
async fn a_killed_pass_loses_and_duplicates_nothing() {
    let l = linked(40).await;
    kill_a_pass_after_its_first_page(
        &l,
        "gmail",
        json!({"mailbox": GMAIL, "route": "/messages/", "status": 500, "rate": 0.0, "latency_ms": 40}),
    )
    .await;
    resume_without_faults(&l).await;
    assert_matches_truth(&l).await;
}

#[tokio::test]
async fn a_revoked_grant_fails_the_pass_with_needs_reconnect() {
    let l = linked(15).await;
    l.sync_ok().await;
    let before = row_counts(&l).await;
    let (account, runs) = crate::common::assert_revoked_grant_needs_reconnect(&l, GMAIL).await;
    assert!(account.last_error.is_some());
    assert!(runs[0].error.as_deref().unwrap_or("").contains("reconnect"));

    // Reconnecting resumes from the stored cursor: an incremental pass, nothing refetched twice.
    let res = l
        .app
        .reconnect(l.account_id, crate::support::mail::approve(GMAIL))
        .await;
    assert_eq!(crate::support::location(&res), "/mailboxes");
    let fresh = super::helpers::deliver(
        &l.app,
        &super::helpers::raw("after-1", "Back", false),
        "INBOX",
    )
    .await;
    let report = l.sync_ok().await;
    assert_eq!(
        report.kind.as_str(),
        "incremental",
        "the cursor survived the reconnect"
    );
    assert_eq!(report.counts.stored, 1);
    assert!(super::helpers::stored(&l).await.live.contains_key(&fresh));
    assert_eq!(row_counts(&l).await.emails, before.emails + 1);
}

#[tokio::test]
async fn two_racing_passes_over_one_mailbox_duplicate_nothing() {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    use threadline::db::entities::email_participants;

    let l = linked(30).await;
    let (a, b) = tokio::join!(l.sync(), l.sync());
    assert!(a.is_ok() || b.is_ok(), "{a:?} {b:?}");
    l.sync_ok().await;
    assert_matches_truth(&l).await;
    let counts = row_counts(&l).await;
    assert_eq!(counts.emails, counts.bodies, "one body per email");
    let ids = crate::common::email_ids(&l).await;
    let people = email_participants::Entity::find()
        .filter(email_participants::Column::EmailId.is_in(ids))
        .all(&l.app.db)
        .await
        .unwrap();
    let mut seen = std::collections::HashSet::new();
    for p in &people {
        let key = (p.email_id, p.role, p.address.clone());
        assert!(seen.insert(key.clone()), "duplicate participant {key:?}");
    }
}
