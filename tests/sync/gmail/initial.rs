//! The initial listing: exactly the INBOX and SENT ground truth, nothing from SPAM or TRASH,
//! and a second pass that changes nothing.
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use threadline::db::entities::{attachments, emails, mail_accounts, sync_ledger};
use threadline::db::sync_cursors;
use threadline::db::sync_runs;

use super::helpers::{
    assert_matches_truth, deliver, linked, raw, row_counts, stored, truth, State,
};

#[tokio::test]
async fn initial_sync_stores_exactly_the_inbox_and_sent_ground_truth() {
    let l = linked(40).await;
    let with_pdf = deliver(
        &l.app,
        &raw("quote-1", "Quote", true),
        "INBOX,UNREAD,STARRED",
    )
    .await;
    let report = l.sync_ok().await;
    assert_eq!(report.kind.as_str(), "initial");

    assert_matches_truth(&l).await;
    let truth = truth(&l.app).await;
    let expected: Vec<&String> = truth
        .iter()
        .filter(|(_, s)| s.labels.iter().any(|x| x == "INBOX" || x == "SENT"))
        .map(|(id, _)| id)
        .collect();
    let stored = stored(&l).await;
    assert_eq!(stored.live.keys().collect::<Vec<_>>(), expected);
    assert!(stored.deleted.is_empty());
    let ledger = sync_ledger::Entity::find().all(&l.app.db).await.unwrap();
    assert!(ledger.is_empty(), "nothing skipped: {ledger:?}");
    for (id, state) in &truth {
        if state.labels.iter().any(|x| x == "SPAM" || x == "TRASH") {
            assert!(!stored.live.contains_key(id), "{id} is spam or trash");
        }
    }
    assert_eq!(
        stored.live[&with_pdf],
        State::new(vec!["INBOX".to_string()], false, true)
    );

    let row = emails::Entity::find()
        .filter(emails::Column::ProviderMessageId.eq(with_pdf.as_str()))
        .one(&l.app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.message_key, "<quote-1@mail.example.test>");
    assert_eq!(row.thread_key, row.message_key);
    assert!(row.has_attachments);
    let files = attachments::Entity::find()
        .filter(attachments::Column::EmailId.eq(row.id))
        .all(&l.app.db)
        .await
        .unwrap();
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].filename, "quote.pdf");
    assert_eq!(files[0].organization_id, row.organization_id);

    let runs = sync_runs::runs(&l.app.db, l.account_id).await.unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].status.as_str(), "succeeded");
    assert_eq!(runs[0].kind.as_str(), "initial");
    assert_eq!(runs[0].stored, i64::try_from(expected.len()).unwrap());
    assert_eq!(report.counts.stored, expected.len() as u64);
    let cursor = sync_cursors::cursor(&l.app.db, l.account_id, "gmail")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(cursor.phase.as_str(), "incremental");
    assert!(cursor.page_token.is_none());
    let account = mail_accounts::Entity::find_by_id(l.account_id)
        .one(&l.app.db)
        .await
        .unwrap()
        .unwrap();
    assert!(account.last_success_at.is_some());
    assert!(account.last_error.is_none());
    assert!(account.progress_done >= i64::try_from(expected.len()).unwrap());
}

#[tokio::test]
async fn a_second_pass_changes_nothing() {
    let l = linked(30).await;
    deliver(&l.app, &raw("quote-2", "Quote", true), "INBOX").await;
    l.sync_ok().await;
    let before = row_counts(&l).await;
    let state = stored(&l).await.live;
    let again = l.sync_ok().await;
    assert_eq!(again.kind.as_str(), "incremental");
    assert_eq!(again.counts.stored, 0);
    assert_eq!(row_counts(&l).await, before);
    assert_eq!(stored(&l).await.live, state);
    assert_eq!(before.emails, before.bodies, "one body per email");
    assert_matches_truth(&l).await;
}

#[tokio::test]
async fn one_message_in_two_colleagues_mailboxes_is_stored_twice_and_known_as_one() {
    use crate::support::mail::approve;
    const OTHER: &str = "kim@gmail-sync.test";
    let l = linked(0).await;
    l.app
        .provider_mailbox("google", OTHER, "Kim Colleague")
        .await;
    let shared = raw("shared-1", "To both of you", true);
    deliver(&l.app, &shared, "INBOX").await;
    l.app.deliver_gmail(OTHER, shared, "INBOX", None).await;
    let res = l.app.connect("google", approve(OTHER)).await;
    assert!(res.status().is_redirection());
    let accounts = mail_accounts::Entity::find().all(&l.app.db).await.unwrap();
    assert_eq!(accounts.len(), 2);
    for a in &accounts {
        threadline::sync::sync_account(&l.app.deps, a.id)
            .await
            .unwrap();
    }
    let rows = emails::Entity::find()
        .filter(emails::Column::MessageKey.eq("<shared-1@mail.example.test>"))
        .all(&l.app.db)
        .await
        .unwrap();
    assert_eq!(rows.len(), 2, "one row per mailbox");
    assert_ne!(rows[0].account_id, rows[1].account_id);
    assert_eq!(rows[0].thread_key, rows[1].thread_key);
}

#[tokio::test]
async fn labels_and_since_date_narrow_the_initial_listing() {
    use chrono::NaiveDate;
    use threadline::sync::{sync_account_with, SyncOptions};

    let l = linked(40).await;
    let since = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
    let options = SyncOptions {
        labels: Some(vec!["SENT".into(), "SPAM".into()]),
        since: Some(since),
        ..super::helpers::options()
    };
    sync_account_with(&l.app.deps, l.account_id, &options)
        .await
        .unwrap();
    let day = 86_400_000;
    let since_ms = since
        .and_hms_opt(0, 0, 0)
        .unwrap()
        .and_utc()
        .timestamp_millis();
    let items = super::helpers::truth_items(&l.app).await;
    let stored = stored(&l).await;
    assert!(!stored.live.is_empty());
    for m in &items {
        let id = m.id.as_str();
        let date = m.internal_date;
        let sent = m.labels.iter().flatten().any(|x| x == "SENT");
        if stored.live.contains_key(id) {
            assert!(sent, "{id} is not in SENT");
            assert!(date >= since_ms - day, "{id} is older than the since-date");
        } else {
            assert!(
                !sent || date < since_ms + day,
                "{id} should have been synced"
            );
        }
    }
}
