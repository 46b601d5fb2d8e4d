//! Webhooks: admins register endpoints and get the secret once; deliveries are signed as the
//! Standard Webhooks convention has it (checked here by an independent HMAC), retried with the
//! same id after a receiver fails, delivered once per endpoint by two instances on one
//! database, and an endpoint that keeps failing is disabled with a notice.
use chrono::{Duration, Utc};
use reqwest::StatusCode;
use threadline::webhooks::deliver::{deliver_due, Step};
use threadline::webhooks::WebhookDeps;

use crate::support::webhooks::{secret_in, verify, Receiver};
use crate::support::{client, TestApp};

async fn org(app: &TestApp) -> i64 {
    threadline::db::organizations::first(&app.db)
        .await
        .unwrap()
        .expect("an organization")
        .id
}

fn deps(app: &TestApp, allow_private: bool) -> WebhookDeps {
    WebhookDeps::new(app.db.clone(), app.deps.keys.clone(), allow_private)
}

/// Create an endpoint for `events` through the admin page; its id and secret.
async fn endpoint(app: &TestApp, url: &str, events: &[&str]) -> (i64, String) {
    let mut fields = vec![("url", url)];
    fields.extend(events.iter().map(|e| ("event", *e)));
    let res = app.post_form("/admin/webhooks", &fields).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let secret = secret_in(&res.text().await.unwrap());
    let all = threadline::db::webhooks::list(&app.db, org(app).await)
        .await
        .unwrap();
    let id = all.iter().find(|e| e.url == url).expect("listed").id;
    (id, secret)
}

async fn send_test(app: &TestApp, id: i64) {
    let res = app
        .post_form(&format!("/admin/webhooks/{id}/test"), &[])
        .await;
    assert_eq!(res.status(), StatusCode::OK);
}

/// Steps until nothing is left to do at `now`.
async fn drain(deps: &WebhookDeps, now: chrono::DateTime<Utc>) -> Step {
    let mut total = Step::default();
    loop {
        let step = deliver_due(deps, "test-worker", now).await.unwrap();
        if step == Step::default() {
            return total;
        }
        total.attempted += step.attempted;
        total.delivered += step.delivered;
        total.disabled += step.disabled;
    }
}

#[tokio::test]
async fn test_events_arrive_signed_with_the_secret_shown_once() {
    let app = TestApp::spawn_admin().await;
    let receiver = Receiver::start(&[]).await;
    let (id, secret) = endpoint(&app, &receiver.url, &["email.linked"]).await;
    assert!(secret.len() > "whsec_".len() + 30, "{secret}");
    let list = app.get_html("/admin/webhooks").await;
    assert!(
        list.contains("email.linked") && !list.contains(&secret),
        "shown once only"
    );
    let stored = threadline::db::webhooks::get(&app.db, org(&app).await, id)
        .await
        .unwrap()
        .unwrap();
    assert!(!stored.secret.contains(&secret[6..]), "sealed at rest");

    send_test(&app, id).await;
    let step = drain(&deps(&app, true), Utc::now()).await;
    assert_eq!(step.delivered, 1);
    let hits = receiver.hits();
    assert_eq!(hits.len(), 1);
    let hit = &hits[0];
    assert!(hit.id.starts_with("msg_"), "{hit:?}");
    assert!(
        verify(&secret, hit),
        "signature verifies independently: {hit:?}"
    );
    assert_eq!(hit.json()["type"], "webhook.test");
    if let Ok(path) = std::env::var("THREADLINE_WEBHOOK_SAMPLE") {
        // For .ci/run: the `standardwebhooks` Python package verifies this delivery too.
        let sample = serde_json::json!({
            "secret": secret, "id": hit.id, "timestamp": hit.timestamp,
            "signature": hit.signature, "body": hit.body,
        });
        std::fs::write(path, sample.to_string()).unwrap();
    }
    let log = app.get_html(&format!("/admin/webhooks/{id}")).await;
    assert!(log.contains(&hit.id) && log.contains("delivered"), "{log}");

    // A rotated secret signs what follows; the old one no longer verifies.
    let res = app
        .post_form(&format!("/admin/webhooks/{id}/rotate"), &[])
        .await;
    let rotated = secret_in(&res.text().await.unwrap());
    assert_ne!(rotated, secret);
    send_test(&app, id).await;
    drain(&deps(&app, true), Utc::now()).await;
    let hit = receiver.hits().pop().unwrap();
    assert!(verify(&rotated, &hit) && !verify(&secret, &hit));
}

#[tokio::test]
async fn a_failing_receiver_gets_retries_with_the_same_id() {
    let app = TestApp::spawn_admin().await;
    let receiver = Receiver::start(&[500]).await;
    let (id, secret) = endpoint(&app, &receiver.url, &["business.created"]).await;
    let res = app
        .post_form(
            "/businesses",
            &[("name", "Acme"), ("domains", "acme.example")],
        )
        .await;
    assert!(res.status().is_redirection() || res.status().is_success());
    let deps = deps(&app, true);
    let now = Utc::now();
    assert_eq!(drain(&deps, now).await.delivered, 0);
    assert_eq!(receiver.hits().len(), 1, "one attempt, answered 500");
    // Not due again before its back-off.
    assert_eq!(drain(&deps, now).await.attempted, 0);
    assert_eq!(drain(&deps, now + Duration::minutes(5)).await.delivered, 1);
    let hits = receiver.hits();
    assert_eq!(hits.len(), 2);
    assert_eq!(hits[0].id, hits[1].id, "the same webhook-id on the retry");
    assert_eq!(hits[0].body, hits[1].body);
    assert!(verify(&secret, &hits[1]));
    let body = hits[1].json();
    assert_eq!(body["type"], "business.created");
    assert_eq!(body["data"]["name"], "Acme");
    assert_eq!(body["data"]["domains"][0], "acme.example");
    let log = app.get_html(&format!("/admin/webhooks/{id}")).await;
    assert!(log.contains("delivered"), "{log}");
}

#[tokio::test]
async fn two_instances_deliver_each_event_once_per_endpoint() {
    let a = TestApp::spawn_admin().await;
    let b = TestApp::spawn_with(a.test_db.clone(), client(), &[]).await;
    let first = Receiver::start(&[]).await;
    let second = Receiver::start(&[]).await;
    endpoint(&a, &first.url, &["business.created"]).await;
    endpoint(&a, &second.url, &["business.created", "business.updated"]).await;
    for n in 0..12 {
        let (name, domain) = (format!("Firm {n}"), format!("firm{n}.example"));
        a.post_form(
            "/businesses",
            &[("name", name.as_str()), ("domains", domain.as_str())],
        )
        .await;
    }
    let (da, db) = (deps(&a, true), deps(&b, true));
    let now = Utc::now();
    loop {
        let (x, y) = tokio::join!(
            deliver_due(&da, "instance-a", now),
            deliver_due(&db, "instance-b", now)
        );
        if x.unwrap() == Step::default() && y.unwrap() == Step::default() {
            break;
        }
    }
    for receiver in [&first, &second] {
        let mut ids: Vec<String> = receiver.hits().into_iter().map(|h| h.id).collect();
        assert_eq!(ids.len(), 12, "every event arrives");
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 12, "and each once");
    }
    let ids = |r: &Receiver| {
        let mut v: Vec<String> = r.hits().into_iter().map(|h| h.id).collect();
        v.sort();
        v
    };
    assert_eq!(
        ids(&first),
        ids(&second),
        "one id per event, the same for every endpoint"
    );
    drop(b);
}

#[tokio::test]
async fn endpoints_failing_for_a_day_or_gone_are_disabled_with_a_notice() {
    let app = TestApp::spawn_admin().await;
    let down = Receiver::always(503).await;
    let gone = Receiver::always(410).await;
    let (down_id, _) = endpoint(&app, &down.url, &["email.linked"]).await;
    let (gone_id, _) = endpoint(&app, &gone.url, &["email.linked"]).await;
    send_test(&app, down_id).await;
    send_test(&app, gone_id).await;
    let deps = deps(&app, true);
    let t0 = Utc::now();
    let step = drain(&deps, t0).await;
    assert_eq!(step.disabled, 1, "410 Gone disables at once");
    let page = app.get_html("/admin/webhooks").await;
    assert!(page.contains("410 Gone"), "{page}");
    assert!(!page.contains("every delivery attempt failed"));
    // Still failing a day later: disabled, and the admins are told.
    let step = drain(&deps, t0 + Duration::hours(25)).await;
    assert_eq!((step.attempted, step.disabled), (1, 1));
    let page = app.get_html("/admin/webhooks").await;
    assert!(
        page.contains("was disabled: every delivery attempt failed since"),
        "{page}"
    );
    // Disabled endpoints get nothing more; enabling one again clears the notice.
    send_test(&app, down_id).await;
    assert_eq!(drain(&deps, t0 + Duration::hours(26)).await.attempted, 0);
    let res = app
        .post_form(
            &format!("/admin/webhooks/{down_id}/enabled"),
            &[("enabled", "true")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let page = app.get_html("/admin/webhooks").await;
    assert!(!page.contains("every delivery attempt failed"), "{page}");
}

#[tokio::test]
async fn private_addresses_are_refused_unless_allowed() {
    let app = TestApp::spawn_admin().await;
    let receiver = Receiver::start(&[]).await;
    let (id, _) = endpoint(&app, &receiver.url, &["email.linked"]).await;
    send_test(&app, id).await;
    let step = drain(&deps(&app, false), Utc::now()).await;
    assert_eq!((step.attempted, step.delivered), (1, 0));
    assert!(receiver.hits().is_empty(), "nothing reached 127.0.0.1");
    let log = app.get_html(&format!("/admin/webhooks/{id}")).await;
    assert!(log.contains("THREADLINE_WEBHOOK_ALLOW_PRIVATE"), "{log}");
    let res = app
        .post_form(
            "/admin/webhooks",
            &[("url", "file:///etc/passwd"), ("event", "email.linked")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn members_are_forbidden_and_every_post_needs_the_csrf_token() {
    let app = TestApp::spawn_admin().await;
    let receiver = Receiver::start(&[]).await;
    let (id, _) = endpoint(&app, &receiver.url, &["email.linked"]).await;
    let mia = app.member_browser("mia@acme.test", "mia password").await;
    for path in [
        "/admin/webhooks".to_string(),
        format!("/admin/webhooks/{id}"),
    ] {
        assert_eq!(
            mia.get(&path).await.status(),
            StatusCode::FORBIDDEN,
            "{path}"
        );
    }
    let fields = [("url", "http://127.0.0.1:9/x"), ("event", "email.linked")];
    let res = mia.post_form("/admin/webhooks", &fields).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    for action in ["rotate", "test", "delete"] {
        let path = format!("/admin/webhooks/{id}/{action}");
        assert_eq!(
            mia.post_form(&path, &[]).await.status(),
            StatusCode::FORBIDDEN
        );
        let forged = app.post_form_with(&path, Some("forged"), &[]).await;
        assert_eq!(forged.status(), StatusCode::FORBIDDEN, "{path}");
    }
    let res = app.post_form_with("/admin/webhooks", None, &fields).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        threadline::db::webhooks::list(&app.db, org(&app).await)
            .await
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn manual_links_announce_email_linked_and_unlinked() {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    use threadline::db::entities::{email_links, emails};

    let app = crate::mailbox_fixtures::linked_app().await;
    let gmail = crate::mailbox_fixtures::GMAIL;
    let raw = format!(
        "From: Wes <wes@northwind.test>\r\nTo: {gmail}\r\nSubject: Pallets\r\n\
         Message-ID: <p1@northwind.test>\r\nDate: Fri, 20 Nov 2026 10:00:00 +0000\r\n\r\nHi.\r\n"
    );
    app.deliver_gmail(gmail, raw, "INBOX", None).await;
    let email = app.sync_then_first_email().await;
    let org = org(&app).await;
    let business = threadline::db::directory::create_business(
        &app.db,
        org,
        "Northwind",
        &["nw-hq.test".into()],
    )
    .await
    .unwrap();
    let receiver = Receiver::start(&[]).await;
    let (_, secret) = endpoint(&app, &receiver.url, &["email.linked", "email.unlinked"]).await;
    let target = format!("business:{}", business.id);
    let back = format!("/emails/{email}");
    let res = app
        .post_form(
            &format!("/emails/{email}/links"),
            &[("target", &target), ("scope", "email"), ("back", &back)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let link = email_links::Entity::find()
        .filter(email_links::Column::EmailId.eq(email))
        .one(&app.db)
        .await
        .unwrap()
        .expect("linked");
    let res = app
        .post_form(
            &format!("/emails/{email}/links/{}/delete", link.id),
            &[("back", &back)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    drain(&deps(&app, true), Utc::now()).await;
    let hits = receiver.hits();
    let mut types: Vec<String> = hits.iter().map(|h| h.json()["type"].to_string()).collect();
    types.sort();
    assert_eq!(types, ["\"email.linked\"", "\"email.unlinked\""]);
    for hit in &hits {
        assert!(verify(&secret, hit));
        let data = &hit.json()["data"];
        assert_eq!(data["email_ids"], serde_json::json!([email]));
        assert_eq!(data["business_id"], business.id);
    }
    assert!(emails::Entity::find_by_id(email)
        .one(&app.db)
        .await
        .unwrap()
        .is_some());
}
