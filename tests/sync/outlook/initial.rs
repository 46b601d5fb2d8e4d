//! The first pass: every synced folder listed newest first, stored exactly as the provider has
//! it (nothing from Junk Email or Deleted Items), and a second pass changes nothing.
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use threadline::db::entities::{attachments, emails, mail_accounts};
use threadline::db::sync_runs;
use threadline::sync::SyncOptions;

use super::helpers::{
    assert_matches_truth, expected, label_of, linked, options, row_counts, stored, truth,
    Placement, CLIENTS,
};

#[tokio::test]
async fn initial_sync_equals_ground_truth_and_a_second_pass_changes_nothing() {
    let l = linked(30).await;
    let report = l.sync_ok().await;
    assert_eq!(report.kind.as_str(), "initial");
    assert_matches_truth(&l).await;
    let want = expected(&l.app).await;
    assert_eq!(want.len(), 32, "30 generated plus 2 in Inbox/Clients");
    assert_eq!(report.counts.stored, 32, "{:?}", report.counts);
    assert_eq!(report.counts.fetched, 32);
    let all = truth(&l.app).await;
    let live = stored(&l).await;
    for (id, Placement { folder, .. }) in &all {
        if folder == "junkemail" || folder == "deleteditems" {
            assert!(!live.live.contains_key(id) && !live.deleted.contains(id));
        }
    }
    let counts = row_counts(&l).await;
    assert_eq!(counts.emails, 32);
    assert_eq!(counts.emails, counts.bodies, "one body per email");
    assert!(counts.participants >= 32, "participants stored");

    // The MIME path: headers, References and attachment metadata as for Gmail.
    let quote = emails::Entity::find()
        .filter(emails::Column::AccountId.eq(l.account_id))
        .filter(emails::Column::MessageId.eq("client-1@mail.example.test"))
        .one(&l.app.db)
        .await
        .unwrap()
        .expect("stored");
    assert_eq!(quote.subject, "Quote");
    assert!(quote.references.contains("root-client-1@mail.example.test"));
    assert!(quote.has_attachments);
    assert!(quote.provider_read);
    assert_eq!(
        quote.folders.to_json(),
        format!("[\"{}\"]", label_of(CLIENTS))
    );
    assert!(!quote.provider_thread_id.is_empty());
    let files = attachments::Entity::find()
        .filter(attachments::Column::EmailId.eq(quote.id))
        .all(&l.app.db)
        .await
        .unwrap();
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].filename, "quote.pdf");

    // Progress and cursors: every folder incremental with its own deltaLink.
    let account = mail_accounts::Entity::find_by_id(l.account_id)
        .one(&l.app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(account.progress_done, 32);
    assert!(account.progress_total >= 32);
    assert!(account.last_error.is_none());

    let second = l.sync_ok().await;
    assert_eq!(second.kind.as_str(), "incremental");
    assert_eq!(
        (
            second.counts.stored,
            second.counts.updated,
            second.counts.deleted,
            second.counts.fetched
        ),
        (0, 0, 0, 0),
        "{:?}",
        second.counts
    );
    assert_eq!(row_counts(&l).await, counts);
    assert_matches_truth(&l).await;
    let runs = sync_runs::runs(&l.app.db, l.account_id).await.unwrap();
    assert_eq!(runs.len(), 2);
    assert!(runs.iter().all(|r| r.status.as_str() == "succeeded"));
}

#[tokio::test]
async fn the_newest_mail_of_the_synced_folders_is_stored_first() {
    let l = linked(40).await;
    // The 10 newest of the mailbox: the two in Junk Email and Deleted Items (delivered after
    // the corpus) are left out, the other 8 are the first commit.
    let opts = SyncOptions {
        newest_first: 10,
        ..options()
    };
    l.sync_with(&opts).await.expect("pass");
    let rows = emails::Entity::find()
        .filter(emails::Column::AccountId.eq(l.account_id))
        .order_by_asc(emails::Column::Id)
        .all(&l.app.db)
        .await
        .unwrap();
    let first_commit = 8;
    assert!(rows.len() > first_commit);
    let mut first: Vec<_> = rows
        .iter()
        .take(first_commit)
        .map(|r| r.received_at)
        .collect();
    first.sort_unstable_by(|a, b| b.cmp(a));
    let mut newest: Vec<_> = rows.iter().map(|r| r.received_at).collect();
    newest.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(
        first,
        newest[..first_commit],
        "the first commit is the newest mail"
    );
}

#[tokio::test]
async fn without_newest_first_the_first_page_is_the_newest_inbox_mail() {
    let l = linked(40).await;
    let opts = SyncOptions {
        newest_first: 0,
        ..options()
    };
    l.sync_with(&opts).await.expect("pass");
    let rows = emails::Entity::find()
        .filter(emails::Column::AccountId.eq(l.account_id))
        .order_by_asc(emails::Column::Id)
        .all(&l.app.db)
        .await
        .unwrap();
    let inbox: Vec<&emails::Model> = rows
        .iter()
        .filter(|r| r.folders.to_json() == "[\"inbox\"]")
        .collect();
    let page = options().page_size as usize;
    assert!(inbox.len() > page);
    let first: Vec<_> = rows.iter().take(page).map(|r| r.received_at).collect();
    let mut newest: Vec<_> = inbox.iter().map(|r| r.received_at).collect();
    newest.sort_unstable_by(|a, b| b.cmp(a));
    let mut first_sorted = first.clone();
    first_sorted.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(
        first_sorted,
        newest[..page],
        "the first page is the newest mail"
    );
}

#[tokio::test]
async fn configured_folders_limit_the_pass() {
    let l = linked(10).await;
    let only_clients = SyncOptions {
        labels: Some(vec!["Clients".into(), "deleteditems".into()]),
        ..options()
    };
    let report = l.sync_with(&only_clients).await.expect("pass");
    assert_eq!(report.counts.stored, 2, "{:?}", report.counts);
    let live = stored(&l).await.live;
    assert!(live.values().all(|s| s.labels == vec![label_of(CLIENTS)]));
}

#[tokio::test]
async fn since_limits_the_first_listing_to_recent_mail() {
    let l = linked(30).await;
    let items = super::helpers::truth_items(&l.app).await;
    let synced: Vec<(String, i64)> = items
        .iter()
        .filter(|m| super::helpers::synced_folder(m.folder.as_deref().unwrap_or("inbox")))
        .map(|m| (m.id.clone(), m.internal_date))
        .collect();
    let mut dates: Vec<i64> = synced.iter().map(|(_, d)| *d).collect();
    dates.sort_unstable();
    let median = chrono::DateTime::from_timestamp_millis(dates[dates.len() / 2]).unwrap();
    let since = median.date_naive();
    let cut = since
        .and_hms_opt(0, 0, 0)
        .unwrap()
        .and_utc()
        .timestamp_millis();
    let want: std::collections::BTreeSet<String> = synced
        .into_iter()
        .filter(|(_, d)| *d >= cut)
        .map(|(id, _)| id)
        .collect();
    assert!(!want.is_empty() && want.len() < 32);
    let recent = SyncOptions {
        since: Some(since),
        ..options()
    };
    l.sync_with(&recent).await.expect("pass");
    let got: std::collections::BTreeSet<String> = stored(&l).await.live.into_keys().collect();
    assert_eq!(got, want);
}
