//! Incremental history: new mail, read/starred/label changes (trash included) and permanent
//! deletes; an expired cursor resyncs without duplicates.
use serde_json::json;

use super::helpers::{
    assert_matches_truth, delete, deliver, linked, patch, raw, row_counts, stored, GMAIL,
};

#[tokio::test]
async fn history_applies_new_mail_flags_labels_trash_and_deletes() {
    let l = linked(20).await;
    l.sync_ok().await;
    let ids: Vec<String> = stored(&l).await.live.keys().cloned().collect();
    let before = row_counts(&l).await;

    let new_one = deliver(&l.app, &raw("new-1", "Fresh", true), "INBOX,UNREAD").await;
    let spam = deliver(&l.app, &raw("spam-2", "Spam", false), "SPAM").await;
    let rescued = deliver(&l.app, &raw("spam-3", "Not spam", false), "SPAM").await;
    patch(&l.app, &ids[0], json!({"read": false, "starred": true})).await;
    patch(&l.app, &ids[1], json!({"read": true, "starred": false})).await;
    patch(&l.app, &ids[2], json!({"labels": ["TRASH"]})).await;
    patch(
        &l.app,
        &ids[3],
        json!({"labels": ["INBOX", "IMPORTANT", "CATEGORY_UPDATES"]}),
    )
    .await;
    patch(&l.app, &rescued, json!({"labels": ["INBOX"]})).await;
    delete(&l.app, &ids[4]).await;

    let report = l.sync_ok().await;
    assert_eq!(report.kind.as_str(), "incremental");
    assert_matches_truth(&l).await;
    let now = stored(&l).await;
    assert!(now.live.contains_key(&new_one));
    assert!(
        now.live.contains_key(&rescued),
        "a message moved out of spam is fetched"
    );
    assert!(!now.live.contains_key(&spam));
    assert!(
        now.deleted.contains(&ids[2]),
        "trashed: deleted in the provider"
    );
    assert!(now.deleted.contains(&ids[4]));
    assert_eq!(report.counts.deleted, 2);
    let after = row_counts(&l).await;
    assert_eq!(after.emails, before.emails + 2);

    // And a further pass is a no-op.
    l.sync_ok().await;
    assert_eq!(row_counts(&l).await, after);
    assert_matches_truth(&l).await;
}

#[tokio::test]
async fn an_expired_cursor_resyncs_without_duplicates() {
    let l = linked(25).await;
    l.sync_ok().await;
    let before = row_counts(&l).await;
    let added = deliver(&l.app, &raw("late-1", "Late", false), "INBOX").await;
    l.app
        .emulator_client()
        .expire_cursors(GMAIL)
        .await
        .expect("expire-cursors");

    let report = l.sync_ok().await;
    assert_eq!(report.kind.as_str(), "resync");
    assert_matches_truth(&l).await;
    let after = row_counts(&l).await;
    assert_eq!(after.emails, before.emails + 1);
    assert_eq!(after.emails, after.bodies);
    assert!(stored(&l).await.live.contains_key(&added));

    let next = l.sync_ok().await;
    assert_eq!(next.kind.as_str(), "incremental");
    assert_eq!(row_counts(&l).await, after);
}
