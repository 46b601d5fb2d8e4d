//! Delta rounds: new mail, read/flag changes, moves between synced folders (not deletes),
//! moves to Deleted Items / Junk and permanent deletes (deleted), a message coming back; an
//! expired delta token resyncs the folder without duplicates and finds what was deleted
//! meanwhile.
use serde_json::json;

use super::helpers::{
    assert_matches_truth, delete, deliver, expire_cursors, filed, label_of, linked, patch, raw,
    row_counts, stored, truth, State, CLIENTS,
};

#[tokio::test]
async fn delta_applies_new_mail_flags_moves_and_deletes() {
    let l = linked(24).await;
    l.sync_ok().await;
    let inbox = filed(&l, "inbox").await;
    let clients = filed(&l, &label_of(CLIENTS)).await;
    assert!(inbox.len() >= 6, "{inbox:?}");
    let before = row_counts(&l).await;
    let junk = truth(&l.app)
        .await
        .into_iter()
        .find(|(_, s)| s.folder == "junkemail")
        .map(|(id, _)| id)
        .expect("junk message");

    let new_one = deliver(&l.app, &raw("new-1", "Fresh", true), "inbox", false).await;
    patch(&l.app, &inbox[0], json!({"read": false, "starred": true})).await;
    patch(&l.app, &inbox[1], json!({"read": true, "starred": false})).await;
    // Moves between synced folders, both ways (the source folder's delta comes first for one,
    // last for the other).
    patch(&l.app, &inbox[2], json!({"folder": CLIENTS})).await;
    patch(&l.app, &clients[0], json!({"folder": "inbox"})).await;
    patch(&l.app, &inbox[3], json!({"folder": "deleteditems"})).await;
    patch(&l.app, &inbox[4], json!({"folder": "junkemail"})).await;
    delete(&l.app, &inbox[5]).await;
    patch(&l.app, &junk, json!({"folder": "inbox"})).await;

    let report = l.sync_ok().await;
    assert_eq!(report.kind.as_str(), "incremental");
    assert_matches_truth(&l).await;
    let now = stored(&l).await;
    assert!(now.live.contains_key(&new_one));
    assert!(now.live.contains_key(&junk), "rescued from Junk Email");
    assert_eq!(
        now.live[&inbox[2]].labels,
        vec![label_of(CLIENTS)],
        "moved, not deleted"
    );
    assert_eq!(now.live[&clients[0]].labels, vec!["inbox".to_string()]);
    for gone in [&inbox[3], &inbox[4], &inbox[5]] {
        assert!(now.deleted.contains(gone), "{gone} deleted");
    }
    assert_eq!(report.counts.deleted, 3);
    assert_eq!(report.counts.stored, 2);
    let after = row_counts(&l).await;
    assert_eq!(after.emails, before.emails + 2);
    assert_eq!(after.emails, after.bodies);

    // A further pass is a no-op.
    let idle = l.sync_ok().await;
    assert_eq!(
        (idle.counts.stored, idle.counts.updated, idle.counts.deleted),
        (0, 0, 0)
    );
    assert_eq!(row_counts(&l).await, after);

    // Back from Deleted Items: live again, not stored twice.
    patch(&l.app, &inbox[3], json!({"folder": "inbox"})).await;
    l.sync_ok().await;
    assert_matches_truth(&l).await;
    assert!(stored(&l).await.live.contains_key(&inbox[3]));
    assert_eq!(row_counts(&l).await, after);
}

#[tokio::test]
async fn an_expired_delta_token_resyncs_without_duplicates_and_finds_deletes() {
    let l = linked(25).await;
    l.sync_ok().await;
    let before = row_counts(&l).await;
    let inbox = filed(&l, "inbox").await;
    let added = deliver(&l.app, &raw("late-1", "Late", false), "inbox", false).await;
    delete(&l.app, &inbox[0]).await;
    patch(&l.app, &inbox[1], json!({"folder": "deleteditems"})).await;
    patch(
        &l.app,
        &inbox[2],
        json!({"folder": CLIENTS, "starred": true}),
    )
    .await;
    expire_cursors(&l.app).await;

    let report = l.sync_ok().await;
    assert_eq!(report.kind.as_str(), "resync");
    assert_matches_truth(&l).await;
    let now = stored(&l).await;
    assert!(now.live.contains_key(&added));
    assert!(now.deleted.contains(&inbox[0]));
    assert!(now.deleted.contains(&inbox[1]));
    assert_eq!(
        now.live[&inbox[2]],
        State::new(vec![label_of(CLIENTS)], now.live[&inbox[2]].read, true)
    );
    crate::common::assert_one_email_more_then_quiet(&l, before).await;
    assert_matches_truth(&l).await;
}

#[tokio::test]
async fn a_deleted_child_folder_takes_its_messages_with_it() {
    use sea_orm::EntityTrait;
    use threadline::db::entities::sync_cursors;

    let l = linked(6).await;
    l.sync_ok().await;
    let clients = filed(&l, &label_of(CLIENTS)).await;
    assert_eq!(clients.len(), 2);
    let scopes = || async {
        sync_cursors::Entity::find()
            .all(&l.app.db)
            .await
            .unwrap()
            .into_iter()
            .map(|c| c.scope)
            .collect::<Vec<_>>()
    };
    let clients_scope = format!("graph:{}", label_of(CLIENTS));
    assert!(scopes().await.contains(&clients_scope));
    // Deleting a folder in Outlook moves it, with its messages, under Deleted Items.
    for id in &clients {
        patch(&l.app, id, json!({"folder": "deleteditems/Clients"})).await;
    }
    let report = l.sync_ok().await;
    assert_eq!(report.counts.deleted, 2, "{:?}", report.counts);
    assert_matches_truth(&l).await;
    let now = stored(&l).await;
    assert!(clients.iter().all(|id| now.deleted.contains(id)));
    assert!(
        !scopes().await.contains(&clients_scope),
        "its cursor is dropped"
    );
}

#[tokio::test]
async fn a_folder_dropped_from_the_configuration_keeps_its_mail() {
    let l = linked(12).await;
    l.sync_ok().await;
    let sent = filed(&l, "sentitems").await;
    assert!(!sent.is_empty());
    let inbox_only = threadline::sync::SyncOptions {
        labels: Some(vec!["inbox".into()]),
        ..super::helpers::options()
    };
    let report = l.sync_with(&inbox_only).await.expect("pass");
    assert_eq!(report.counts.deleted, 0);
    let now = stored(&l).await;
    assert!(sent.iter().all(|id| now.live.contains_key(id)));
}
