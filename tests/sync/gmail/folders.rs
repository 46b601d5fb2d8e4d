//! Label semantics, as for Outlook folders: archived (INBOX removed) or relabelled mail stays
//! live with its labels; TRASH and SPAM, and permanent deletes, are deletions in the provider,
//! the stored labels following the provider; out of TRASH it is live again.
use serde_json::json;

use super::helpers::{assert_matches_truth, delete, linked, patch, stored};
use crate::common::stored_folders;

#[tokio::test]
async fn archive_and_labels_keep_mail_live_trash_spam_and_deletes_do_not() {
    let l = linked(16).await;
    l.sync_ok().await;
    let ids: Vec<String> = stored(&l)
        .await
        .live
        .into_iter()
        .filter(|(_, s)| s.labels.iter().any(|x| x == "INBOX"))
        .map(|(id, _)| id)
        .collect();
    assert!(ids.len() >= 5, "{ids:?}");

    patch(&l.app, &ids[0], json!({"labels": []})).await;
    patch(&l.app, &ids[1], json!({"labels": ["Label_7"]})).await;
    patch(&l.app, &ids[2], json!({"labels": ["TRASH"]})).await;
    patch(&l.app, &ids[3], json!({"labels": ["SPAM"]})).await;
    delete(&l.app, &ids[4]).await;

    let report = l.sync_ok().await;
    assert_eq!(report.kind.as_str(), "incremental");
    assert_eq!(report.counts.deleted, 3, "{:?}", report.counts);
    assert_matches_truth(&l).await;
    let now = stored(&l).await;
    assert!(now.live[&ids[0]].labels.is_empty(), "archived, live");
    // A user label (the emulator gives it an id of its own; the truth comparison above checks it).
    let user = now.live[&ids[1]].labels.clone();
    assert!(user.len() == 1 && user[0].starts_with("Label_"), "{user:?}");
    for gone in &ids[2..5] {
        assert!(now.deleted.contains(gone), "{gone} deleted in the provider");
    }
    assert_eq!(stored_folders(&l, &ids[2]).await.1, vec!["TRASH"]);
    assert_eq!(stored_folders(&l, &ids[3]).await.1, vec!["SPAM"]);
    let (trashed, _) = stored_folders(&l, &ids[2]).await;
    let page = l.app.get_html(&format!("/emails/{trashed}")).await;
    assert!(page.contains("in Trash"), "{page}");
    assert!(page.contains("deleted in Gmail on "), "{page}");
    let (labelled, _) = stored_folders(&l, &ids[1]).await;
    let page = l.app.get_html(&format!("/emails/{labelled}")).await;
    assert!(page.contains(&format!("in {}", user[0])), "{page}");
    assert!(!page.contains("deleted in Gmail"));

    // Out of TRASH: live again, not stored twice.
    let before = super::helpers::row_counts(&l).await;
    patch(&l.app, &ids[2], json!({"labels": ["INBOX"]})).await;
    l.sync_ok().await;
    assert_matches_truth(&l).await;
    assert_eq!(
        stored(&l).await.live[&ids[2]].labels,
        vec!["INBOX".to_string()]
    );
    assert_eq!(super::helpers::row_counts(&l).await, before);
}
