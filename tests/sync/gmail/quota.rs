//! Batches, quota and listing order: batched fetches match the ground truth with parts gone,
//! throttled and failing; a pass that needs more than a minute's quota runs without a single
//! provider throttle; the first transaction holds the newest mail across labels; a resync
//! after history expired marks exactly the deleted messages and refiles the moved ones.
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;
use threadline::db::entities::{emails, sync_ledger};
use threadline::providers::gmail::BATCH_MAX;
use threadline::sync::{self, SyncOptions};

use super::helpers::{
    assert_matches_truth, clear_faults, delete, deliver, emulator_stats, fault, linked,
    linked_tuned, options, patch, raw, route_count, row_counts, status_count, stored, truth, tune,
    GMAIL,
};

const GET_ROUTE: &str = "/gmail/v1/users/{userId}/messages/{id}";
const BATCH_ROUTE: &str = "/batch/gmail/v1";

#[tokio::test]
async fn batched_fetches_match_the_truth_with_parts_gone_throttled_and_failing() {
    let l = linked(30).await;
    // Parts run one after another in the emulator, 40 ms each: time to delete some
    // messages after the batch started and before their part runs.
    fault(&l.app, json!({"mailbox": GMAIL, "route": "/messages/", "status": 500, "rate": 0.0, "latency_ms": 40})).await;
    fault(&l.app, json!({"mailbox": GMAIL, "route": "/messages/", "status": 429, "retry_after": 1, "count": 3})).await;
    fault(
        &l.app,
        json!({"mailbox": GMAIL, "route": "/messages/", "status": 503, "count": 2}),
    )
    .await;
    // The listing names INBOX ids before SENT ones; SENT-only messages come last.
    let sent_only: Vec<String> = truth(&l.app)
        .await
        .into_iter()
        .filter(|(_, s)| {
            s.labels.iter().any(|x| x == "SENT") && !s.labels.iter().any(|x| x == "INBOX")
        })
        .map(|(id, _)| id)
        .collect();
    assert!(!sent_only.is_empty());
    // One batch for all (the default is 4 parts a batch, for Gmail's concurrency cap).
    let opts = SyncOptions {
        page_size: 100,
        batch_size: BATCH_MAX,
        single_fetches: 0,
        ..options()
    };
    let deps = l.app.deps.clone();
    let account = l.account_id;
    let pass = tokio::spawn(async move { sync::sync_account_with(&deps, account, &opts).await });
    while route_count(&emulator_stats(&l.app).await, GET_ROUTE, None) == 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let victims = &sent_only[..sent_only.len().min(3)];
    for id in victims {
        delete(&l.app, id).await;
    }
    let report = pass.await.unwrap().expect("the pass succeeds");
    clear_faults(&l.app).await;

    assert_matches_truth(&l).await;
    let gone: BTreeSet<String> = sync_ledger::Entity::find()
        .filter(sync_ledger::Column::Reason.eq("gone"))
        .all(&l.app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.provider_message_id)
        .collect();
    let victims: BTreeSet<String> = victims.iter().cloned().collect();
    assert_eq!(gone, victims, "parts answered 404 are recorded as gone");
    assert!(report.counts.throttled >= 3, "{:?}", report.counts);
    let stats = emulator_stats(&l.app).await;
    assert!(route_count(&stats, GET_ROUTE, Some(429)) >= 3);
    assert!(route_count(&stats, GET_ROUTE, Some(404)) >= victims.len() as u64);
    // One batch request per round plus part retries, not one request per message.
    let batches = route_count(&stats, BATCH_ROUTE, None);
    assert!((1..=8).contains(&batches), "{batches} batch requests");
    assert!(
        report.counts.requests < report.counts.fetched,
        "{:?}",
        report.counts
    );
    let counts = row_counts(&l).await;
    assert_eq!(counts.emails, counts.bodies, "one body per email");
}

#[tokio::test]
async fn a_pass_needing_more_than_a_minute_of_quota_is_never_throttled() {
    // 600 units a minute on both sides; ~125 messages need ~700 units.
    let l = linked(125).await;
    tune(&l.app, json!({"gmail_units_per_minute": 600})).await;
    let opts = SyncOptions {
        page_size: 100,
        gmail_units_per_minute: 600,
        ..options()
    };
    let started = Instant::now();
    let report = sync::sync_account_with(&l.app.deps, l.account_id, &opts)
        .await
        .expect("the pass succeeds");
    let took = started.elapsed();

    assert_matches_truth(&l).await;
    let stats = emulator_stats(&l.app).await;
    let used = stats["quota_units"][GMAIL].as_u64().unwrap_or(0);
    assert!(
        used > 600,
        "the pass needed more than a minute of quota: {used}"
    );
    assert_eq!(status_count(&stats, 429), 0, "{stats:#}");
    assert_eq!(status_count(&stats, 403), 0, "{stats:#}");
    assert_eq!(report.counts.throttled, 0);
    // The limiter waited for the refill instead of being told to by the provider.
    assert!(took >= Duration::from_secs(3), "{took:?}");
    // Our count of units matches what the provider charged this pass (the link flow's
    // profile lookups aside).
    assert!(
        report.units <= used && report.units + 10 >= used,
        "{} vs {used}",
        report.units
    );
}

#[tokio::test]
async fn the_first_transaction_holds_the_newest_mail_of_the_whole_mailbox() {
    let l = linked(60).await;
    crate::common::kill_a_pass_after_its_first_page(
        &l,
        "gmail",
        json!({"mailbox": GMAIL, "route": "/messages/", "status": 500, "rate": 0.0, "latency_ms": 30}),
    )
    .await;
    let first: BTreeSet<String> = stored(&l).await.live.into_keys().collect();
    crate::common::resume_without_faults(&l).await;
    assert_matches_truth(&l).await;

    let mut all = emails::Entity::find()
        .filter(emails::Column::AccountId.eq(l.account_id))
        .all(&l.app.db)
        .await
        .unwrap();
    all.sort_by_key(|m| std::cmp::Reverse(m.received_at));
    // Pages of 7: the first round is one page of each label.
    let newest: Vec<&emails::Model> = all.iter().take(7).collect();
    for m in &newest {
        assert!(
            first.contains(&m.provider_message_id),
            "{} ({}) is among the 7 newest but was not in the first transaction",
            m.provider_message_id,
            m.received_at
        );
    }
    assert!(
        first.len() <= 14 * 2,
        "{} stored before the abort",
        first.len()
    );
    let labels: BTreeSet<bool> = newest
        .iter()
        .map(|m| m.folders.as_slice().iter().any(|f| f == "SENT"))
        .collect();
    assert_eq!(labels.len(), 2, "the newest mail spans INBOX and SENT");
}

#[tokio::test]
async fn a_resync_marks_exactly_the_deleted_messages_and_refiles_the_moved_ones() {
    let l = linked(30).await;
    l.sync_ok().await;
    let before = row_counts(&l).await;
    let ids: Vec<String> = stored(&l).await.live.keys().cloned().collect();
    l.app
        .emulator_client()
        .expire_cursors(GMAIL)
        .await
        .expect("expire-cursors");
    let deleted = vec![ids[0].clone(), ids[5].clone(), ids[9].clone()];
    for id in &deleted {
        delete(&l.app, id).await;
    }
    patch(&l.app, &ids[1], json!({"labels": ["IMPORTANT"]})).await;
    patch(&l.app, &ids[2], json!({"labels": []})).await;
    patch(&l.app, &ids[3], json!({"labels": ["TRASH"]})).await;
    let fresh = deliver(&l.app, &raw("late-1", "Late", false), "INBOX").await;

    let report = l.sync_ok().await;
    assert_eq!(report.kind.as_str(), "resync");
    assert_matches_truth(&l).await;
    let now = stored(&l).await;
    let marked: Vec<String> = now.deleted.iter().cloned().collect();
    let mut expected = deleted.clone();
    expected.push(ids[3].clone());
    expected.sort();
    assert_eq!(marked, expected, "exactly the deleted and trashed ones");
    assert_eq!(report.counts.deleted, 4);
    assert_eq!(now.live[&ids[1]].labels, vec!["IMPORTANT".to_string()]);
    assert!(now.live[&ids[2]].labels.is_empty());
    // Relabelled and archived: updated; trashed: deleted in the provider.
    assert!(report.counts.updated >= 2, "{:?}", report.counts);
    // Stored messages are re-read as labels only; the new one is the only full fetch.
    assert_eq!(report.counts.fetched, 1);
    assert!(now.live.contains_key(&fresh));
    crate::common::assert_one_email_more_then_quiet(&l, before).await;
    assert_matches_truth(&l).await;
}

#[tokio::test]
async fn a_batch_that_keeps_failing_is_split_instead_of_failing_the_pass() {
    let l = linked(12).await;
    let wanted = truth(&l.app)
        .await
        .values()
        .filter(|s| s.labels.iter().any(|x| x == "INBOX" || x == "SENT"))
        .count();
    // Every part of the first batch fails in both of its tries; its halves then succeed.
    fault(
        &l.app,
        json!({"mailbox": GMAIL, "route": "/messages/", "status": 503, "count": 2 * wanted}),
    )
    .await;
    let opts = SyncOptions {
        page_size: 100,
        batch_size: BATCH_MAX,
        single_fetches: 0,
        transient_tries: 2,
        ..options()
    };
    let report = sync::sync_account_with(&l.app.deps, l.account_id, &opts)
        .await
        .expect("the pass succeeds");
    assert_eq!(report.counts.fetched, wanted as u64);
    assert_matches_truth(&l).await;
    let stats = emulator_stats(&l.app).await;
    assert_eq!(
        route_count(&stats, BATCH_ROUTE, None),
        4,
        "two tries, then two halves"
    );
}

#[tokio::test]
async fn parts_refused_for_an_expired_token_are_fetched_again_with_a_fresh_one() {
    // Tokens live 2 s; parts take 150 ms each: the batch outlives its token.
    let l = linked_tuned(20, Some(json!({"access_token_ttl_secs": 2}))).await;
    fault(&l.app, json!({"mailbox": GMAIL, "route": "/messages/", "status": 500, "rate": 0.0, "latency_ms": 150})).await;
    let opts = SyncOptions {
        page_size: 100,
        batch_size: BATCH_MAX,
        single_fetches: 0,
        ..options()
    };
    let report = sync::sync_account_with(&l.app.deps, l.account_id, &opts)
        .await
        .expect("the pass succeeds");
    clear_faults(&l.app).await;
    let stats = emulator_stats(&l.app).await;
    assert!(
        route_count(&stats, GET_ROUTE, Some(401)) >= 1,
        "some parts were refused: {stats:#}"
    );
    assert_eq!(report.counts.skipped, 0);
    assert_matches_truth(&l).await;
}
