//! `/readyz`: ready while the database answers, every migration is applied and the sync
//! workers run; 503 with the failing checks, one a line, otherwise.
use std::sync::Arc;
use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use reqwest::StatusCode;
use threadline::app::App;
use tokio_util::sync::CancellationToken;

use crate::support::{self, TestApp, TestDb};

#[tokio::test]
async fn readyz_fails_while_a_migration_is_pending_and_passes_after_migrating() {
    // No sync workers (`--sync-workers 0`): readiness does not ask for them.
    let app = TestApp::spawn().await;
    let res = app.get("/readyz").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers().get("set-cookie").is_none(),
        "a probe gets no session"
    );
    assert_eq!(res.text().await.unwrap(), "ready");

    // As on a database restored from before the newest migration.
    let newest = threadline::db::schema::known().pop().unwrap();
    Migrator::down(&app.db, Some(1)).await.unwrap();
    let res = app.get("/readyz").await;
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body = res.text().await.unwrap();
    assert!(
        body.starts_with("migrations: 1 pending") && body.contains(&newest),
        "{body}"
    );
    assert!(
        !body.contains("database") && !body.contains("workers"),
        "{body}"
    );
    // `/healthz` only says the process and its database are alive.
    assert_eq!(app.get("/healthz").await.status(), StatusCode::OK);

    threadline::db::migrate(&app.db).await.unwrap();
    let res = app.get("/readyz").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.text().await.unwrap(), "ready");
}

#[tokio::test]
async fn readyz_fails_when_the_database_is_gone() {
    let app = TestApp::spawn().await;
    app.db.clone().close().await.unwrap();
    let res = app.get("/readyz").await;
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(res.text().await.unwrap().starts_with("database: "));
}

#[tokio::test]
async fn readyz_asks_for_the_sync_workers_and_fails_once_they_stopped() {
    let db = Arc::new(TestDb::new().await);
    let app = App::build(support::settings(&db, &["--sync-workers", "2"]))
        .await
        .expect("app builds");
    let (url, workers, conn) = (
        format!("http://{}/readyz", app.addr),
        app.workers.clone(),
        app.db.clone(),
    );
    assert_eq!(
        threadline::lifecycle::not_ready(&conn, &workers).await,
        ["workers: 0 of 2 sync workers running"],
        "not ready before the workers run"
    );
    let shutdown = CancellationToken::new();
    let server = tokio::spawn(app.run(shutdown.clone()));
    // The workers start with the server: ready once both run.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let res = reqwest::get(&url).await.unwrap();
        if res.status() == StatusCode::OK {
            assert_eq!(res.text().await.unwrap(), "ready");
            break;
        }
        let body = res.text().await.unwrap();
        assert!(body.starts_with("workers: "), "{body}");
        assert!(
            tokio::time::Instant::now() < deadline,
            "never ready: {body}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(workers.running(), 2);

    shutdown.cancel();
    server.await.unwrap().unwrap();
    assert_eq!(
        threadline::lifecycle::not_ready(&conn, &workers).await,
        ["workers: 0 of 2 sync workers running"],
        "stopped workers are not ready"
    );
}
