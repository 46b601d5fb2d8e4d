//! `/metrics` as Prometheus reads it: parsed with a Prometheus text parser; behind a bearer
//! token on the web address (401 without or with a wrong one, 404 when none is configured) and
//! without one on its own address; counters that move with page loads and sync passes; no
//! label that names a person; and the Grafana dashboard over exactly these metrics.
//!
//! Tests share one recorder per process and run in parallel, so they compare figures before
//! and after what they do (others' activity can only add).
use std::collections::BTreeSet;

use reqwest::StatusCode;
use tokio_util::sync::CancellationToken;

use crate::mailbox_fixtures::{all_accounts, GMAIL};
use crate::metrics_scrape::{scrape, Figures, TOKEN};
use crate::support::mail::approve;
use crate::support::{self, TestApp, TestDb};
use threadline::app::App;
use threadline::sync::worker::sync_next_due;

const MESSAGE: &str = "From: Bo <bo@customer.test>\r\nTo: ada@gmail-user.test\r\n\
Subject: Renewal\r\nMessage-ID: <metrics-1@customer.test>\r\n\
Date: Fri, 20 Nov 2026 10:00:00 +0000\r\n\r\nShall we renew?\r\n";

/// An admin with a Gmail mailbox linked, on an app that serves /metrics behind [`TOKEN`].
async fn linked_app_with_metrics() -> TestApp {
    let app = TestApp::spawn_with_emulator_args(&["--metrics-token", TOKEN]).await;
    app.setup_admin().await;
    app.provider_mailbox("google", GMAIL, "Ada Admin").await;
    let res = app.connect("google", approve(GMAIL)).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    app
}

#[tokio::test]
async fn metrics_on_the_web_address_need_the_token_and_are_not_found_without_one() {
    let plain = TestApp::spawn().await;
    assert_eq!(plain.get("/metrics").await.status(), StatusCode::NOT_FOUND);
    let res = plain
        .client
        .get(plain.url("/metrics"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND, "no token configured");

    let app = TestApp::spawn_with(
        std::sync::Arc::new(TestDb::new().await),
        support::client(),
        &["--metrics-token", TOKEN],
    )
    .await;
    let none = app.get("/metrics").await;
    assert_eq!(none.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(none.headers()["www-authenticate"], "Bearer");
    for wrong in [
        "wrong",
        "s3cret-scrape-toke",
        "s3cret-scrape-token-and-more",
        "",
    ] {
        let res = app
            .client
            .get(app.url("/metrics"))
            .bearer_auth(wrong)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "token {wrong:?}");
        assert!(!res.text().await.unwrap().contains("threadline_"));
    }
    let basic = app
        .client
        .get(app.url("/metrics"))
        .basic_auth("prometheus", Some(TOKEN))
        .send()
        .await
        .unwrap();
    assert_eq!(
        basic.status(),
        StatusCode::UNAUTHORIZED,
        "only a bearer token"
    );
    let figures = scrape(&app).await;
    assert!(figures.names().contains("threadline_db_pool_connections"));
}

#[tokio::test]
async fn a_separate_metrics_address_serves_them_without_a_token() {
    let db = TestDb::new().await;
    let settings = support::settings(&db, &["--metrics-bind", "127.0.0.1:0"]);
    let app = App::build(settings).await.expect("app builds");
    let (web, metrics) = (app.addr, app.metrics_addr.expect("metrics bound"));
    assert_ne!(web, metrics);
    let shutdown = CancellationToken::new();
    let server = tokio::spawn(app.run(shutdown.clone()));
    let client = support::client();

    let res = client
        .get(format!("http://{metrics}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let figures = Figures::parse(&res.text().await.unwrap());
    // The pools are read at scrape time: the web pool has at least the connection the app
    // opened at start-up.
    let pool = figures.value("threadline_db_pool_connections", &[]);
    assert!(pool >= 1.0, "{pool}");
    assert_eq!(
        figures.count("threadline_mailboxes", &[("status", "active")]),
        0
    );
    // Only /metrics there; and the web address, without a token configured, does not serve it.
    let other = client
        .get(format!("http://{metrics}/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), StatusCode::NOT_FOUND);
    let web_metrics = client
        .get(format!("http://{web}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(web_metrics.status(), StatusCode::NOT_FOUND);

    shutdown.cancel();
    server.await.unwrap().unwrap();
}

#[tokio::test]
async fn counters_move_with_a_page_load_and_a_sync_pass_and_name_no_one() {
    let app = linked_app_with_metrics().await;
    app.deliver_gmail(GMAIL, MESSAGE, "INBOX,UNREAD", None)
        .await;
    let before = scrape(&app).await;
    let page = [
        ("method", "GET"),
        ("route", "/mailboxes"),
        ("status", "200"),
    ];
    let passes = [("provider", "google"), ("outcome", "ok")];
    let stored = [("provider", "google"), ("result", "stored")];
    let listed = [("provider", "google"), ("endpoint", "messages.list")];
    let fetched = [("provider", "google"), ("endpoint", "messages.get")];

    app.get_html("/mailboxes").await;
    let report = sync_next_due(&app.deps, "metrics-test-worker")
        .await
        .unwrap()
        .expect("the linked mailbox is due");
    assert_eq!(report.counts.stored, 1);
    // A notification wakes the mailbox: the pass it brings is timed from the notification.
    app.deliver_gmail(
        GMAIL,
        MESSAGE.replace("metrics-1@", "metrics-2@"),
        "INBOX",
        None,
    )
    .await;
    let account = all_accounts(&app).await.remove(0);
    assert!(threadline::sync::wake::wake(&app.db, account.id)
        .await
        .unwrap());
    let woken = sync_next_due(&app.deps, "metrics-test-worker")
        .await
        .unwrap()
        .expect("the woken mailbox is due at once");
    assert_eq!(woken.counts.stored, 1);
    let after = scrape(&app).await;

    let grew = |metric: &str, labels: &[(&str, &str)], by: f64| {
        let (b, a) = (before.value(metric, labels), after.value(metric, labels));
        assert!(a - b >= by, "{metric} {labels:?}: {b} -> {a}");
    };
    grew("threadline_http_requests_total", &page, 1.0);
    grew("threadline_http_request_duration_seconds", &page[..2], 1.0);
    grew("threadline_sync_passes_total", &passes, 2.0);
    grew(
        "threadline_sync_pass_duration_seconds",
        &[("provider", "google")],
        2.0,
    );
    grew("threadline_sync_messages_total", &stored, 2.0);
    grew("threadline_provider_requests_total", &listed, 1.0);
    grew("threadline_provider_requests_total", &fetched, 1.0);
    grew("threadline_provider_request_duration_seconds", &listed, 1.0);
    grew(
        "threadline_mailbox_quota_used_ratio",
        &[("provider", "google")],
        2.0,
    );
    grew(
        "threadline_push_notification_to_stored_seconds",
        &[("provider", "google")],
        1.0,
    );
    // Gauges read from this app's database at scrape time.
    let active = [("provider", "google"), ("status", "active")];
    assert_eq!(after.count("threadline_mailboxes", &active), 1);
    assert_eq!(
        after.count("threadline_jobs_due", &[("kind", "sync_account")]),
        0,
        "the mailbox was just synced"
    );
    let lag = after.value("threadline_sync_lag_seconds", &[("provider", "google")]);
    assert!((0.0..60.0).contains(&lag), "{lag}");

    // Low cardinality: no label names a person or a mailbox, no value is an address.
    for metric in after.names() {
        for (labels, _) in after.series(&metric) {
            for (name, value) in labels {
                assert!(
                    ![
                        "user",
                        "email",
                        "address",
                        "account",
                        "mailbox",
                        "organization"
                    ]
                    .contains(&name.as_str()),
                    "{metric} has a {name} label"
                );
                assert!(!value.contains('@'), "{metric} {name}={value}");
            }
        }
    }
    // Route templates, never ids.
    let routes: BTreeSet<String> = after
        .series("threadline_http_requests_total")
        .into_iter()
        .filter_map(|(l, _)| l.get("route").cloned())
        .collect();
    assert!(routes.contains("/mailboxes"), "{routes:?}");
    let id = regex::Regex::new(r"/[0-9]+(/|$)").unwrap();
    assert!(routes.iter().all(|r| !id.is_match(r)), "{routes:?}");
    let text = app
        .client
        .get(app.url("/metrics"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!text.contains(GMAIL) && !text.contains("customer.test"));
}

#[tokio::test]
async fn a_mailbox_taken_over_from_an_expired_lease_counts_as_a_takeover() {
    use threadline::db::{emails::Owner, jobs, sync_runs};
    use threadline::domain::sync_run::RunKind;

    let app = linked_app_with_metrics().await;
    let account = all_accounts(&app).await.remove(0);
    // A holder claims the mailbox, starts its pass, and dies: its lease runs out.
    let dead = jobs::claim(
        &app.db,
        jobs::SYNC_ACCOUNT,
        "dead-instance-sync-0",
        chrono::Duration::milliseconds(1),
        threadline::db::now(),
    )
    .await
    .unwrap()
    .expect("the linked mailbox is due");
    assert_eq!(dead.subject_id, account.id);
    let owner = Owner {
        organization_id: account.organization_id,
        account_id: account.id,
    };
    sync_runs::start_run(
        &app.db,
        owner,
        RunKind::Initial,
        Some("dead-instance-sync-0"),
    )
    .await
    .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let before = scrape(&app).await;
    assert_eq!(
        before.count("threadline_jobs_due", &[("kind", "sync_account")]),
        1,
        "an expired lease is due again"
    );

    sync_next_due(&app.deps, "live-instance-sync-0")
        .await
        .unwrap()
        .expect("the expired lease is claimable");
    let after = scrape(&app).await;
    let (b, a) = (
        before.value("threadline_sync_lease_takeovers_total", &[]),
        after.value("threadline_sync_lease_takeovers_total", &[]),
    );
    assert!(a - b >= 1.0, "takeovers {b} -> {a}");
}

#[tokio::test]
async fn the_grafana_dashboard_is_json_over_metrics_a_scrape_has() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/grafana-dashboard.json");
    let text = std::fs::read_to_string(path).expect("docs/grafana-dashboard.json");
    let dashboard: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
    assert!(dashboard["title"].is_string());
    let panels = dashboard["panels"].as_array().expect("panels");
    let mut exprs = Vec::new();
    for panel in panels {
        for target in panel["targets"].as_array().into_iter().flatten() {
            exprs.push(target["expr"].as_str().expect("a PromQL expr").to_string());
        }
    }
    assert!(exprs.len() >= 10, "{} queries", exprs.len());
    let name = regex::Regex::new(r"threadline_[a-z_]+").unwrap();
    let referenced: BTreeSet<String> = exprs
        .iter()
        .flat_map(|e| name.find_iter(e).map(|m| m.as_str().to_string()))
        .map(|n| {
            ["_bucket", "_sum", "_count"]
                .iter()
                .find_map(|s| n.strip_suffix(s))
                .map_or(n.clone(), str::to_string)
        })
        .collect();

    // A scrape after a page load and a sync pass has every metric the dashboard reads.
    let app = linked_app_with_metrics().await;
    app.get_html("/mailboxes").await;
    sync_next_due(&app.deps, "dashboard-test-worker")
        .await
        .unwrap()
        .expect("the linked mailbox is due");
    let exported = scrape(&app).await.names();
    let missing: Vec<&String> = referenced.difference(&exported).collect();
    assert!(missing.is_empty(), "not in a scrape: {missing:?}");
    for metric in threadline::telemetry::exporter::ALL {
        assert!(
            referenced.contains(metric),
            "the dashboard does not show {metric}"
        );
    }
}
