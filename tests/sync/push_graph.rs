//! Outlook change notifications (issue 22) against the emulator's Graph subscriptions: a pass
//! subscribes the mailbox (only the clientState's hash is kept), Graph's validation handshake,
//! a delivered message waking the pass that stores it, forged and unknown notifications waking
//! nothing, a burst being one pass, renewal before expiry, each lifecycle event, app-only
//! organization mailboxes, and push off (or no https URL) leaving the mailbox polling.
use std::future::Future;
use std::time::Duration;

use chrono::Utc;
use reqwest::StatusCode;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};
use serde_json::{json, Value};
use threadline::db::entities::{jobs, mailbox_push, sync_runs};
use threadline::db::jobs as jobs_db;
use threadline::sync::push::graph::{client_state_hash, maintain};
use threadline::sync::worker::sync_next_due;
use threadline_emulator::control::DeliverQuery;
use threadline_emulator::microsoft::notify::{LifecycleRequest, Sub, Subs};
use threadline_emulator::microsoft::tenants::MailboxKind;

use crate::common::{self, Linked, Mailbox};
use crate::org::setup;
use crate::support::TestApp;

const ADDRESS: &str = "polly@push-graph.test";
const MAILBOX: Mailbox = Mailbox {
    provider: "microsoft",
    address: ADDRESS,
    name: "Polly Push",
};
const PUSH_ON: &[&str] = &["--push", "on"];

async fn linked_with(args: &[&str]) -> Linked {
    let app = TestApp::spawn_with_emulator_args(args).await;
    app.setup_admin().await;
    app.provider_mailbox(MAILBOX.provider, ADDRESS, MAILBOX.name)
        .await;
    deliver(&app, "seed", "Welcome").await;
    common::link(app, MAILBOX).await
}

async fn deliver(app: &TestApp, tag: &str, subject: &str) -> String {
    let to = format!("Polly Push <{ADDRESS}>");
    let raw = common::message(&to, "", tag, subject, false);
    let query = DeliverQuery {
        folder: Some("inbox".into()),
        read: Some(false),
        ..DeliverQuery::default()
    };
    common::deliver_to(app, ADDRESS, &query, &raw).await
}

/// Worker passes until nothing is due; how many ran.
async fn drain(app: &TestApp) -> usize {
    let mut passes = 0;
    while sync_next_due(&app.deps, "push-test-worker")
        .await
        .expect("the pass succeeds")
        .is_some()
    {
        passes += 1;
        assert!(passes < 20, "passes never stop");
    }
    passes
}

async fn row(app: &TestApp, account_id: i64) -> mailbox_push::Model {
    threadline::db::push::find(&app.db, account_id)
        .await
        .unwrap()
        .expect("the mailbox's push row")
}

fn subs(app: &TestApp) -> Vec<Sub> {
    let emulator = app.emulator.as_ref().expect("emulator");
    emulator.state.ext.get::<Subs>().all()
}

async fn job(l: &Linked) -> jobs::Model {
    jobs_db::find(&l.app.db, jobs_db::SYNC_ACCOUNT, l.account_id)
        .await
        .unwrap()
        .expect("the mailbox's sync job")
}

async fn runs(l: &Linked) -> u64 {
    sync_runs::Entity::find()
        .filter(sync_runs::Column::AccountId.eq(l.account_id))
        .count(&l.app.db)
        .await
        .unwrap()
}

/// Requests the emulator answered on exactly `route`.
async fn route_requests(app: &TestApp, route: &str) -> u64 {
    let report = common::emulator_stats(app).await;
    report["requests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["route"].as_str() == Some(route))
        .map(|r| r["requests"].as_u64().unwrap_or(0))
        .sum()
}

/// POST a notification body as Graph would (no session, no CSRF token).
async fn post(app: &TestApp, path: &str, body: &Value) -> StatusCode {
    reqwest::Client::new()
        .post(app.url(path))
        .json(body)
        .send()
        .await
        .unwrap()
        .status()
}

async fn wait_for<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while tokio::time::Instant::now() < deadline {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("timed out waiting for {what}");
}

async fn due(l: &Linked) -> bool {
    job(l).await.run_at <= Utc::now()
}

async fn set_expiry(app: &TestApp, row: &mailbox_push::Model, sub_id: &str) {
    let soon = Utc::now() + chrono::Duration::hours(2);
    let emulator = app.emulator.as_ref().unwrap();
    emulator
        .state
        .ext
        .get::<Subs>()
        .update(sub_id, |s| s.expires = soon);
    let mut active: mailbox_push::ActiveModel = row.clone().into();
    active.expires_at = Set(Some(soon));
    active.update(&app.db).await.unwrap();
}

#[tokio::test]
async fn a_pass_subscribes_the_mailbox_and_keeps_only_a_hash_of_its_client_state() {
    let l = linked_with(PUSH_ON).await;
    drain(&l.app).await;
    let r = row(&l.app, l.account_id).await;
    assert_eq!(r.state, "active", "{:?}", r.reason);
    assert_eq!(r.reason, None);
    let all = subs(&l.app);
    assert_eq!(all.len(), 1);
    let s = &all[0];
    assert_eq!(r.subscription_id.as_deref(), Some(s.id.as_str()));
    assert_eq!(s.resource, "/me/messages");
    assert_eq!(s.change_types, ["created", "updated", "deleted"]);
    assert_eq!(s.notification_url, l.app.url("/push/graph"));
    assert_eq!(
        s.lifecycle_url.as_deref(),
        Some(l.app.url("/push/graph/lifecycle").as_str())
    );
    let secret = s.client_state.clone().expect("a clientState");
    assert!((43..=128).contains(&secret.len()), "{secret}");
    assert_eq!(r.client_state_hash, Some(client_state_hash(&secret)));
    assert!(
        !format!("{r:?}").contains(&secret),
        "the secret is not stored"
    );
    let left = r.expires_at.unwrap() - Utc::now();
    assert!(left > chrono::Duration::hours(69) && left < chrono::Duration::hours(71));
    // Healthy push: the mailbox polls rarely, as a safety net.
    assert!(job(&l).await.run_at > Utc::now() + chrono::Duration::minutes(30));

    // Disconnecting the mailbox deletes its subscription at Graph.
    let account = threadline::db::mail_accounts::find(&l.app.db, l.account_id)
        .await
        .unwrap()
        .unwrap();
    threadline::mailboxes::disconnect::disconnect(
        &l.app.deps,
        account.organization_id,
        account.owner_user_id.unwrap(),
        l.account_id,
        false,
    )
    .await
    .unwrap();
    assert!(subs(&l.app).is_empty());
    let r = row(&l.app, l.account_id).await;
    assert_eq!((r.state.as_str(), r.subscription_id), ("off", None));
}

#[tokio::test]
async fn validation_tokens_are_echoed_decoded_as_plain_text() {
    let app = TestApp::spawn().await;
    let http = reqwest::Client::new();
    for path in ["/push/graph", "/push/graph/lifecycle"] {
        let url = app.url(&format!(
            "{path}?validationToken=Validation%3A%20Testing+client%20%26%20%3Cok%3E"
        ));
        let res = http
            .post(url)
            .header("content-type", "text/plain; charset=utf-8")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        let content_type = res.headers()["content-type"].to_str().unwrap().to_string();
        assert!(content_type.starts_with("text/plain"), "{content_type}");
        assert_eq!(
            res.text().await.unwrap(),
            "Validation: Testing client & <ok>"
        );
        let malformed = http
            .post(app.url(path))
            .body("{\"value\": [")
            .send()
            .await
            .unwrap();
        assert_eq!(malformed.status(), StatusCode::BAD_REQUEST, "{path}");
        assert_eq!(
            post(&app, path, &json!({"value": []})).await,
            StatusCode::ACCEPTED
        );
    }
}

#[tokio::test]
async fn a_delivered_message_wakes_the_pass_that_stores_it() {
    let l = linked_with(PUSH_ON).await;
    drain(&l.app).await;
    assert!(!due(&l).await);
    let id = deliver(&l.app, "fresh", "Your quote").await;
    wait_for("the notification to wake the mailbox", || due(&l)).await;
    let r = row(&l.app, l.account_id).await;
    assert!(r.notifications >= 1 && r.last_notification_at.is_some());
    assert_eq!(r.rejected, 0);
    assert_eq!(drain(&l.app).await, 1);
    assert!(common::stored(&l).await.live.contains_key(&id));
}

#[tokio::test]
async fn forged_and_unknown_notifications_wake_nothing() {
    let l = linked_with(PUSH_ON).await;
    drain(&l.app).await;
    let sub = subs(&l.app).remove(0);
    let secret = sub.client_state.clone().unwrap();
    let before = job(&l).await;
    let forged = json!({"value": [
        {"subscriptionId": sub.id, "clientState": "not-the-secret", "changeType": "created",
         "resource": "Users/x/Messages/y"},
        {"subscriptionId": sub.id, "changeType": "created"},
        {"subscriptionId": "5a2f8a51-0000-4000-8000-000000000000", "clientState": secret,
         "changeType": "created"},
    ]});
    assert_eq!(
        post(&l.app, "/push/graph", &forged).await,
        StatusCode::ACCEPTED
    );
    let lifecycle = json!({"value": [
        {"subscriptionId": sub.id, "clientState": secret.to_uppercase(),
         "lifecycleEvent": "subscriptionRemoved"},
    ]});
    assert_eq!(
        post(&l.app, "/push/graph/lifecycle", &lifecycle).await,
        StatusCode::ACCEPTED
    );
    let after = job(&l).await;
    assert_eq!(after.run_at, before.run_at, "nothing woken");
    assert_eq!(after.woken_at, None);
    let r = row(&l.app, l.account_id).await;
    assert_eq!((r.rejected, r.notifications), (3, 0));
    assert_eq!(r.pending_event, None);

    // The real secret is accepted.
    let genuine = json!({"value": [{"subscriptionId": sub.id, "clientState": secret,
                                    "changeType": "updated"}]});
    assert_eq!(
        post(&l.app, "/push/graph", &genuine).await,
        StatusCode::ACCEPTED
    );
    assert!(due(&l).await);
    assert_eq!(row(&l.app, l.account_id).await.notifications, 1);

    // 500 items in one POST: answered well inside Graph's 3 s, one pass.
    drain(&l.app).await;
    let item = json!({"subscriptionId": sub.id, "clientState": secret, "changeType": "updated"});
    let batch = json!({ "value": vec![item; 500] });
    let started = std::time::Instant::now();
    assert_eq!(
        post(&l.app, "/push/graph", &batch).await,
        StatusCode::ACCEPTED
    );
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(row(&l.app, l.account_id).await.notifications, 501);
    assert_eq!(drain(&l.app).await, 1);
}

#[tokio::test]
async fn a_burst_of_notifications_is_one_pass() {
    let l = linked_with(PUSH_ON).await;
    drain(&l.app).await;
    let runs_before = runs(&l).await;
    let mut ids = Vec::new();
    for i in 0..200 {
        ids.push(deliver(&l.app, &format!("burst-{i}"), &format!("Order {i}")).await);
    }
    let (app, account) = (&l.app, l.account_id);
    wait_for("200 notifications", || async move {
        row(app, account).await.notifications >= 200
    })
    .await;
    assert_eq!(drain(&l.app).await, 1);
    assert_eq!(runs(&l).await - runs_before, 1);
    let stored = common::stored(&l).await;
    assert!(ids.iter().all(|id| stored.live.contains_key(id)));
}

#[tokio::test]
async fn subscriptions_are_renewed_before_they_expire() {
    let l = linked_with(PUSH_ON).await;
    drain(&l.app).await;
    let account = threadline::db::mail_accounts::find(&l.app.db, l.account_id)
        .await
        .unwrap()
        .unwrap();
    let first = row(&l.app, l.account_id).await;
    let id = first.subscription_id.clone().unwrap();
    let patches = route_requests(&l.app, "/v1.0/subscriptions/{id}").await;
    // Days left: nothing to do.
    maintain(&l.app.deps, &account).await.unwrap();
    assert_eq!(
        route_requests(&l.app, "/v1.0/subscriptions/{id}").await,
        patches
    );

    // Two hours left: renewed (PATCH), same subscription.
    set_expiry(&l.app, &first, &id).await;
    maintain(&l.app.deps, &account).await.unwrap();
    let renewed = row(&l.app, l.account_id).await;
    assert_eq!(renewed.subscription_id.as_deref(), Some(id.as_str()));
    assert_eq!(renewed.state, "active");
    let in_69_hours = Utc::now() + chrono::Duration::hours(69);
    assert!(renewed.expires_at.unwrap() > in_69_hours);
    assert!(renewed.renewed_at > first.renewed_at);
    assert!(subs(&l.app)[0].expires > in_69_hours);
    assert_eq!(
        route_requests(&l.app, "/v1.0/subscriptions/{id}").await,
        patches + 1
    );

    // Graph lost it (404 on renewal): a new one.
    l.app
        .emulator
        .as_ref()
        .unwrap()
        .state
        .ext
        .get::<Subs>()
        .remove(&id);
    set_expiry(&l.app, &renewed, &id).await;
    maintain(&l.app.deps, &account).await.unwrap();
    let recreated = row(&l.app, l.account_id).await;
    let subs = subs(&l.app);
    assert_eq!(subs.len(), 1);
    assert_ne!(subs[0].id, id);
    assert_eq!(
        recreated.subscription_id.as_deref(),
        Some(subs[0].id.as_str())
    );
    assert_eq!(recreated.state, "active");
}

#[tokio::test]
async fn lifecycle_events_reauthorize_recreate_and_catch_up() {
    let l = linked_with(PUSH_ON).await;
    drain(&l.app).await;
    let client = l.app.emulator_client();
    let first = subs(&l.app).remove(0);
    let event = |e: &str| LifecycleRequest {
        event: e.into(),
        subscription_id: None,
    };

    // reauthorizationRequired: the next pass reauthorizes the same subscription.
    let reauthorized = "/v1.0/subscriptions/{id}/reauthorize";
    let before = route_requests(&l.app, reauthorized).await;
    let sent = client
        .lifecycle(ADDRESS, &event("reauthorizationRequired"))
        .await
        .unwrap();
    assert_eq!(sent.delivered, 1);
    let r = row(&l.app, l.account_id).await;
    assert_eq!(r.pending_event.as_deref(), Some("reauthorizationRequired"));
    assert!(due(&l).await);
    assert_eq!(drain(&l.app).await, 1);
    assert_eq!(route_requests(&l.app, reauthorized).await, before + 1);
    let r = row(&l.app, l.account_id).await;
    assert_eq!(r.pending_event, None);
    assert_eq!(r.subscription_id.as_deref(), Some(first.id.as_str()));
    assert_eq!(r.state, "active");

    // missed: a change whose notification was lost is caught up by the delta pass it wakes.
    let emulator = l.app.emulator.as_ref().unwrap();
    emulator.state.ext.get::<Subs>().update(&first.id, |s| {
        s.notification_url = "http://127.0.0.1:9/lost".into();
    });
    let lost = deliver(&l.app, "lost", "Lost notification").await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert!(!due(&l).await);
    client.lifecycle(ADDRESS, &event("missed")).await.unwrap();
    assert!(due(&l).await);
    assert_eq!(drain(&l.app).await, 1);
    assert!(common::stored(&l).await.live.contains_key(&lost));
    let r = row(&l.app, l.account_id).await;
    assert_eq!(r.pending_event, None);
    assert_eq!(r.subscription_id.as_deref(), Some(first.id.as_str()));

    // subscriptionRemoved: the pass it wakes runs delta, then subscribes anew.
    let runs_before = runs(&l).await;
    client
        .lifecycle(ADDRESS, &event("subscriptionRemoved"))
        .await
        .unwrap();
    assert!(subs(&l.app).is_empty());
    assert_eq!(
        row(&l.app, l.account_id).await.pending_event.as_deref(),
        Some("subscriptionRemoved")
    );
    assert_eq!(drain(&l.app).await, 1);
    assert_eq!(runs(&l).await, runs_before + 1);
    let now = subs(&l.app);
    assert_eq!(now.len(), 1);
    assert_ne!(now[0].id, first.id);
    let r = row(&l.app, l.account_id).await;
    assert_eq!(r.subscription_id.as_deref(), Some(now[0].id.as_str()));
    assert_eq!((r.state.as_str(), r.pending_event), ("active", None));
    // The new subscription notifies again.
    let fresh = deliver(&l.app, "after", "After recreation").await;
    wait_for("the new subscription's notification", || due(&l)).await;
    assert_eq!(drain(&l.app).await, 1);
    assert!(common::stored(&l).await.live.contains_key(&fresh));
}

#[tokio::test]
async fn an_organization_mailbox_subscribes_through_its_directory_id() {
    const ANN: &str = "ann@fabrikam.test";
    let app = TestApp::spawn_with_emulator_args(PUSH_ON).await;
    app.setup_admin().await;
    let org = threadline::db::organizations::first(&app.db)
        .await
        .unwrap()
        .unwrap()
        .id;
    let m = setup::m365(
        &app,
        "fabrikam.test",
        &[(ANN, MailboxKind::User, None)],
        None,
    )
    .await;
    let conn = m.connect_secret(&app, org, "fabrikam").await;
    setup::fill_outlook(&app, ANN, "Pat Buyer <pat@buyer.example>", 3).await;
    let id = m.mailbox(&app, &conn, ANN).await;
    drain(&app).await;
    let r = row(&app, id).await;
    assert_eq!(r.state, "active", "{:?}", r.reason);
    let subs = subs(&app);
    assert_eq!(subs.len(), 1);
    assert_eq!(
        subs[0].resource,
        format!("/users/{}/messages", m.user(ANN).id)
    );
    assert_eq!(subs[0].mailbox, ANN);
    assert_eq!(r.subscription_id.as_deref(), Some(subs[0].id.as_str()));
}

#[tokio::test]
async fn without_push_the_mailbox_polls_and_says_why() {
    for (args, why) in [
        (&["--push", "off"][..], "THREADLINE_PUSH=off"),
        (&[][..], "no public https URL"),
    ] {
        let l = linked_with(args).await;
        drain(&l.app).await;
        let r = row(&l.app, l.account_id).await;
        assert_eq!(r.state, "off");
        assert!(
            r.reason.as_deref().unwrap_or_default().contains(why),
            "{:?}",
            r.reason
        );
        assert_eq!(r.subscription_id, None);
        assert!(subs(&l.app).is_empty());
        let account = threadline::db::mail_accounts::find(&l.app.db, l.account_id)
            .await
            .unwrap()
            .unwrap();
        let own = chrono::Duration::seconds(i64::from(account.sync_interval_secs.max(30)) + 5);
        assert!(
            job(&l).await.run_at < Utc::now() + own,
            "polls at its own interval"
        );
    }
}

#[tokio::test]
async fn a_failing_subscription_leaves_the_mailbox_polling_with_the_reason() {
    let l = linked_with(PUSH_ON).await;
    common::fault(
        &l.app,
        json!({"mailbox": ADDRESS, "route": "/v1.0/subscriptions", "status": 500}),
    )
    .await;
    drain(&l.app).await;
    let r = row(&l.app, l.account_id).await;
    assert_eq!(r.state, "failing");
    let reason = r.reason.unwrap_or_default();
    assert!(
        reason.contains("Outlook change notifications are not working")
            && reason.contains("HTTP 500")
            && reason.contains("polls every"),
        "{reason}"
    );
    assert!(subs(&l.app).is_empty());
    let account = threadline::db::mail_accounts::find(&l.app.db, l.account_id)
        .await
        .unwrap()
        .unwrap();
    let own = chrono::Duration::seconds(i64::from(account.sync_interval_secs.max(30)) + 5);
    assert!(
        job(&l).await.run_at < Utc::now() + own,
        "polls at its own interval"
    );

    // Once Graph accepts it, the next pass's upkeep subscribes.
    common::clear_faults(&l.app).await;
    maintain(&l.app.deps, &account).await.unwrap();
    let r = row(&l.app, l.account_id).await;
    assert_eq!((r.state.as_str(), r.reason), ("active", None));
    assert_eq!(subs(&l.app).len(), 1);
}
