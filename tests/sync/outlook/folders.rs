//! Folder semantics: a message moved to a folder outside the synced ones (Archive, a custom
//! folder) stays live, filed under its new folder and shown so on the email page; moves to
//! Deleted Items and Junk Email, and permanent deletes, are deletions in the provider, with
//! the stored folder following the provider.
use serde_json::json;

use super::helpers::{assert_matches_truth, delete, filed, linked, patch, stored};
use crate::common::stored_folders;

#[tokio::test]
async fn moves_out_of_the_synced_folders_keep_mail_live_and_bins_delete_it() {
    let l = linked(16).await;
    l.sync_ok().await;
    let inbox = filed(&l, "inbox").await;
    assert!(inbox.len() >= 5, "{inbox:?}");

    patch(&l.app, &inbox[0], json!({"folder": "archive"})).await;
    patch(&l.app, &inbox[1], json!({"folder": "Projects"})).await;
    patch(&l.app, &inbox[2], json!({"folder": "deleteditems"})).await;
    patch(
        &l.app,
        &inbox[3],
        json!({"folder": "junkemail", "starred": true}),
    )
    .await;
    delete(&l.app, &inbox[4]).await;

    let report = l.sync_ok().await;
    assert_eq!(report.kind.as_str(), "incremental");
    assert_eq!(report.counts.deleted, 3, "{:?}", report.counts);
    assert_matches_truth(&l).await;
    let now = stored(&l).await;
    assert_eq!(now.live[&inbox[0]].labels, vec!["archive".to_string()]);
    assert_eq!(now.live[&inbox[1]].labels, vec!["Projects".to_string()]);
    for gone in &inbox[2..5] {
        assert!(now.deleted.contains(gone), "{gone} deleted in the provider");
    }
    assert_eq!(stored_folders(&l, &inbox[2]).await.1, vec!["deleteditems"]);
    assert_eq!(stored_folders(&l, &inbox[3]).await.1, vec!["junkemail"]);

    // The email page says where the message is now.
    let (archived, _) = stored_folders(&l, &inbox[0]).await;
    let page = l.app.get_html(&format!("/emails/{archived}")).await;
    assert!(page.contains("in Archive"), "{page}");
    assert!(!page.contains("deleted in Outlook"));
    let (binned, _) = stored_folders(&l, &inbox[2]).await;
    let page = l.app.get_html(&format!("/emails/{binned}")).await;
    assert!(page.contains("in Deleted Items"), "{page}");
    assert!(page.contains("deleted in Outlook on "), "{page}");

    // A further pass changes nothing; back from Archive and Junk: live in the Inbox again.
    let idle = l.sync_ok().await;
    assert_eq!((idle.counts.updated, idle.counts.deleted), (0, 0));
    patch(&l.app, &inbox[0], json!({"folder": "inbox"})).await;
    patch(&l.app, &inbox[3], json!({"folder": "inbox"})).await;
    l.sync_ok().await;
    assert_matches_truth(&l).await;
    let now = stored(&l).await;
    assert_eq!(now.live[&inbox[0]].labels, vec!["inbox".to_string()]);
    assert_eq!(now.live[&inbox[3]].labels, vec!["inbox".to_string()]);
}

#[tokio::test]
async fn a_resync_finds_moves_out_of_the_synced_folders_too() {
    let l = linked(10).await;
    l.sync_ok().await;
    let inbox = filed(&l, "inbox").await;
    patch(&l.app, &inbox[0], json!({"folder": "archive"})).await;
    patch(&l.app, &inbox[1], json!({"folder": "junkemail"})).await;
    super::helpers::expire_cursors(&l.app).await;

    let report = l.sync_ok().await;
    assert_eq!(report.kind.as_str(), "resync");
    assert_matches_truth(&l).await;
    let now = stored(&l).await;
    assert_eq!(now.live[&inbox[0]].labels, vec!["archive".to_string()]);
    assert!(now.deleted.contains(&inbox[1]));
    assert_eq!(report.counts.deleted, 1);
}
