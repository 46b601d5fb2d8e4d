//! Provider trouble: 429 with Retry-After, 503, 5xx and dropped connections are waited out to the
//! same exact state; a pass that fails between pages, or is killed, resumes with nothing lost or
//! duplicated.
use serde_json::json;
use threadline::db::sync_runs;

use super::helpers::{assert_matches_truth, fault, linked, row_counts, stored, OUTLOOK};
use crate::common::{
    fail_a_pass_after_its_first_page, kill_a_pass_after_its_first_page, resume_without_faults,
};

#[tokio::test]
async fn throttles_and_server_errors_are_waited_out() {
    let l = linked(20).await;
    fault(&l.app, json!({"mailbox": OUTLOOK, "route": "/$value", "status": 429, "retry_after": 1, "count": 2})).await;
    fault(
        &l.app,
        json!({"mailbox": OUTLOOK, "route": "/delta", "status": 503, "retry_after": 1, "count": 2}),
    )
    .await;
    fault(
        &l.app,
        json!({"mailbox": OUTLOOK, "route": "/delta", "status": 500, "count": 2}),
    )
    .await;
    fault(
        &l.app,
        json!({"mailbox": OUTLOOK, "route": "/mailFolders", "status": 503, "count": 1}),
    )
    .await;
    // Dropped connections mid-answer, on delta pages and on content.
    for route in ["/delta", "/$value"] {
        fault(
            &l.app,
            json!({"mailbox": OUTLOOK, "route": route, "status": 503, "drop": true, "count": 2}),
        )
        .await;
    }
    let report = l.sync_ok().await;
    assert!(report.counts.throttled >= 4, "{:?}", report.counts);
    assert_matches_truth(&l).await;
    let runs = sync_runs::runs(&l.app.db, l.account_id).await.unwrap();
    assert_eq!(runs[0].status.as_str(), "succeeded");
    assert!(runs[0].requests > runs[0].fetched);
    let counts = row_counts(&l).await;
    assert_eq!(counts.emails, counts.bodies);
}

#[tokio::test]
async fn an_injected_drop_cuts_the_answer_mid_body() {
    let l = linked(0).await;
    let tokens = l.app.issued_tokens().await;
    let token = tokens
        .iter()
        .find(|t| t["kind"] == "access" && t["mailbox"] == OUTLOOK)
        .and_then(|t| t["token"].as_str())
        .expect("an Outlook access token")
        .to_string();
    fault(&l.app, json!({"mailbox": OUTLOOK, "route": "/mailFolders", "status": 503, "drop": true, "count": 1})).await;
    let url = l.app.emulator_url("/v1.0/me/mailFolders");
    let res = l.app.client.get(&url).bearer_auth(&token).send().await;
    let cut = match res {
        Err(_) => true,
        Ok(r) => r.bytes().await.is_err(),
    };
    assert!(cut, "the answer breaks off");
    let res = l
        .app
        .client
        .get(&url)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "only once");
}

#[tokio::test]
async fn a_pass_that_fails_between_pages_resumes_without_loss_or_duplicates() {
    let l = linked(40).await;
    // Slow content fetches so the pass is still listing after its first page is committed.
    fail_a_pass_after_its_first_page(
        &l,
        "graph:",
        json!({"mailbox": OUTLOOK, "route": "/$value", "status": 500, "rate": 0.0, "latency_ms": 60}),
        json!({"mailbox": OUTLOOK, "route": "/delta", "status": 503, "count": 100_000}),
    )
    .await;

    let (report, counts) = resume_without_faults(&l).await;
    assert_eq!(report.kind.as_str(), "initial", "the listing resumes");
    // The newest mail (here all of it) was stored before the listing's first page.
    assert!(report.counts.listed > 0);
    assert_matches_truth(&l).await;
    assert_eq!(counts.emails, 42);
    let again = l.sync_ok().await;
    assert_eq!(again.kind.as_str(), "incremental");
    assert_eq!(row_counts(&l).await, counts);
}

#[tokio::test]
async fn a_killed_pass_loses_and_duplicates_nothing() {
    let l = linked(40).await;
    kill_a_pass_after_its_first_page(
        &l,
        "graph:",
        json!({"mailbox": OUTLOOK, "route": "/$value", "status": 500, "rate": 0.0, "latency_ms": 40}),
    )
    .await;
    let (_, counts) = resume_without_faults(&l).await;
    assert_matches_truth(&l).await;
    assert_eq!(counts.emails, 42);
}

#[tokio::test]
async fn expired_access_tokens_are_refreshed_with_the_rotated_refresh_token() {
    let l = linked(5).await;
    l.sync_ok().await;
    for round in 0..2 {
        l.app
            .emulator_client()
            .expire_access_tokens(OUTLOOK)
            .await
            .expect("expire-access-tokens");
        let tag = format!("after-expiry-{round}");
        let fresh = super::helpers::deliver(
            &l.app,
            &super::helpers::raw(&tag, "Later", false),
            "inbox",
            false,
        )
        .await;
        let report = l.sync_ok().await;
        assert_eq!(report.kind.as_str(), "incremental");
        assert_eq!(report.counts.stored, 1);
        assert!(stored(&l).await.live.contains_key(&fresh));
    }
    assert_matches_truth(&l).await;
}

#[tokio::test]
async fn a_revoked_grant_fails_the_pass_with_needs_reconnect() {
    let l = linked(5).await;
    l.sync_ok().await;
    crate::common::assert_revoked_grant_needs_reconnect(&l, OUTLOOK).await;
}

#[tokio::test]
async fn throttled_lookups_inside_a_batch_are_asked_again() {
    use super::helpers::{delete, patch};
    let l = linked(20).await;
    l.sync_ok().await;
    let inbox: Vec<String> = stored(&l)
        .await
        .live
        .into_iter()
        .filter(|(_, s)| s.labels == vec!["inbox".to_string()])
        .map(|(id, _)| id)
        .collect();
    for id in &inbox[..3] {
        delete(&l.app, id).await;
    }
    for id in &inbox[3..5] {
        patch(&l.app, id, json!({"folder": "deleteditems"})).await;
    }
    patch(
        &l.app,
        &inbox[5],
        json!({"folder": super::helpers::CLIENTS}),
    )
    .await;
    // Each lookup is a sub-request of a $batch: these 429s arrive inside a 200.
    fault(&l.app, json!({"mailbox": OUTLOOK, "route": "/messages/", "status": 429, "retry_after": 1, "count": 3})).await;
    let report = l.sync_ok().await;
    assert_eq!(report.counts.deleted, 5, "{:?}", report.counts);
    assert_matches_truth(&l).await;
    let now = stored(&l).await;
    assert_eq!(
        now.live[&inbox[5]].labels,
        vec![super::helpers::label_of(super::helpers::CLIENTS)]
    );
    let stats = super::helpers::emulator_stats(&l.app).await;
    let batches = stats["requests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["route"].as_str().is_some_and(|r| r.ends_with("$batch")))
        .count();
    assert!(batches > 0, "lookups went through $batch: {stats}");
}

fn slow() -> serde_json::Value {
    json!({"mailbox": OUTLOOK, "route": "/$value", "status": 500, "rate": 0.0, "latency_ms": 40})
}

#[tokio::test]
async fn a_restarted_instance_resumes_its_killed_pass_at_once() {
    let l = linked(40).await;
    crate::common::the_same_instance_resumes_at_once(&l, "graph:", slow()).await;
    assert_matches_truth(&l).await;
}

#[tokio::test]
async fn another_instance_takes_a_killed_pass_over_after_the_lease() {
    let l = linked(40).await;
    crate::common::another_instance_takes_over_after_the_lease(&l, "graph:", slow()).await;
    assert_matches_truth(&l).await;
}

#[tokio::test]
async fn a_pass_that_loses_its_lease_stops_writing() {
    let l = linked(40).await;
    crate::common::a_pass_that_loses_its_lease_stops_writing(&l, "graph:", slow()).await;
}
