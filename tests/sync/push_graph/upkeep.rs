//! Keeping the subscription up after passes: creation (hash only), renewal, lifecycle events,
//! organization mailboxes, push off or failing, and deletion on disconnect.
use std::time::Duration;

use chrono::Utc;
use serde_json::json;
use threadline::sync::push::graph::{client_state_hash, maintain};
use threadline_emulator::microsoft::notify::{LifecycleRequest, Subs};
use threadline_emulator::microsoft::tenants::MailboxKind;

use super::helpers::{
    deliver, drain, due, job, linked_with, route_requests, row, runs, set_expiry, subs, wait_for,
    ADDRESS, PUSH_ON,
};
use crate::common;
use crate::org::setup;
use crate::support::TestApp;

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

    // Two hours left, and Microsoft no longer takes the access token: renewed (PATCH) after
    // one token refresh, same subscription.
    set_expiry(&l.app, &first, &id).await;
    l.app
        .emulator_client()
        .expire_access_tokens(ADDRESS)
        .await
        .unwrap();
    maintain(&l.app.deps, &account).await.unwrap();
    let renewed = row(&l.app, l.account_id).await;
    assert_eq!(renewed.subscription_id.as_deref(), Some(id.as_str()));
    assert_eq!(renewed.state, "active");
    let in_69_hours = Utc::now() + chrono::Duration::hours(69);
    assert!(renewed.expires_at.unwrap() > in_69_hours);
    assert!(renewed.renewed_at > first.renewed_at);
    assert!(subs(&l.app)[0].expires > in_69_hours);
    // The PATCH refused with 401, then the same PATCH with the refreshed token.
    assert_eq!(
        route_requests(&l.app, "/v1.0/subscriptions/{id}").await,
        patches + 2
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
    // The pass it wakes, then one more delta once the new subscription exists (a change
    // between the first pass's delta and the subscription is not lost).
    assert_eq!(drain(&l.app).await, 2);
    assert_eq!(runs(&l).await, runs_before + 2);
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

#[tokio::test]
async fn pausing_deletes_the_subscription_and_resuming_subscribes_again() {
    let l = linked_with(PUSH_ON).await;
    drain(&l.app).await;
    assert_eq!(subs(&l.app).len(), 1);
    let account = threadline::db::mail_accounts::find(&l.app.db, l.account_id)
        .await
        .unwrap()
        .unwrap();
    let (org, actor) = (account.organization_id, account.owner_user_id.unwrap());
    let pausing = |pause| {
        threadline::mailboxes::pausing::pause_or_resume(
            &l.app.deps,
            org,
            actor,
            l.account_id,
            pause,
        )
    };

    // Paused by an admin: Graph stops calling for a mailbox nobody syncs.
    pausing(true).await.unwrap();
    assert!(subs(&l.app).is_empty());
    let r = row(&l.app, l.account_id).await;
    assert_eq!(r.state, "off");
    assert_eq!(r.subscription_id, None);
    assert_eq!(r.reason.as_deref(), Some("The mailbox is paused."));

    // Resumed: its next pass subscribes it again, and mail pushed then arrives.
    pausing(false).await.unwrap();
    drain(&l.app).await;
    assert_eq!(subs(&l.app).len(), 1);
    let r = row(&l.app, l.account_id).await;
    assert_eq!(r.state, "active", "{:?}", r.reason);
    assert_eq!(
        r.subscription_id.as_deref(),
        Some(subs(&l.app)[0].id.as_str())
    );
}
