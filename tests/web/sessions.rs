//! Sessions outlive restarts; every response carries the security headers; health and errors.
use reqwest::StatusCode;

use crate::support::{client, location, TestApp, TestDb, ADMIN_PASSWORD};

#[tokio::test]
async fn a_session_survives_an_app_restart() {
    let app = TestApp::spawn_admin().await;
    assert!(app.get_html("/").await.contains("Ada Admin"));
    let app = app.restart().await;
    assert!(
        app.get_html("/").await.contains("Ada Admin"),
        "still signed in after restart"
    );
}

#[tokio::test]
async fn two_instances_share_sessions() {
    let first = TestApp::spawn().await;
    first.setup_admin().await;
    let second = TestApp::spawn_with(first.test_db.clone(), first.client.clone(), &[]).await;
    assert!(second.get_html("/").await.contains("Ada Admin"));
}

/// The session is read with its user in one statement; what it read of the user is never
/// written back, so every request sees the user as the database has them now.
#[tokio::test]
async fn every_request_sees_the_user_as_stored_now() {
    use sea_orm::ConnectionTrait;
    let app = TestApp::spawn_admin().await;
    assert!(app.get_html("/").await.contains("Ada Admin"));
    // A write to the session (a new CSRF token on sign-in, the idle touch) stores only what
    // the app put there.
    app.sign_out().await;
    app.sign_in("admin@acme.test", ADMIN_PASSWORD).await;
    assert!(app.get_html("/").await.contains("Ada Admin"));
    let rows = app
        .db
        .query_all(sea_orm::Statement::from_string(
            app.db.get_database_backend(),
            "SELECT data FROM sessions WHERE user_id IS NOT NULL",
        ))
        .await
        .unwrap();
    assert!(!rows.is_empty());
    for row in rows {
        let data: String = row.try_get_by_index(0).unwrap();
        assert!(data.contains("auth.user"), "{data}");
        assert!(!data.contains("auth.loaded"), "{data}");
    }
    // Renamed, then disabled behind the app's back (no session is deleted): the next request
    // shows the new name, the one after signs out.
    app.db
        .execute_unprepared("UPDATE users SET name = 'Ada Lovelace'")
        .await
        .unwrap();
    let html = app.get_html("/").await;
    assert!(html.contains("Ada Lovelace") && !html.contains("Ada Admin"));
    app.db
        .execute_unprepared("UPDATE users SET disabled = true")
        .await
        .unwrap();
    assert_eq!(location(&app.get("/").await), "/login");
}

#[tokio::test]
async fn security_headers_are_on_every_response() {
    let app = TestApp::spawn().await;
    for path in ["/setup", "/healthz", "/static/app.css", "/no-such-page"] {
        let res = app.get(path).await;
        let h = res.headers();
        let csp = h
            .get("content-security-policy")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(
            csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
            "{path}"
        );
        assert!(csp.contains("object-src 'none'") && csp.contains("base-uri 'none'"));
        // No provider is configured here, so forms may post (and redirect) nowhere else.
        assert!(csp.ends_with("form-action 'self'"), "{path}: {csp}");
        assert_eq!(
            h.get("x-content-type-options").unwrap(),
            "nosniff",
            "{path}"
        );
        assert!(h.get("referrer-policy").is_some(), "{path}");
    }
}

#[tokio::test]
async fn the_session_cookie_is_httponly_and_lax() {
    let app = TestApp::spawn().await;
    let res = app.get("/setup").await;
    let cookie = set_cookie(&res);
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    assert!(!cookie.contains("Secure"), "plain http: no Secure flag");
}

#[tokio::test]
async fn https_deployments_get_secure_host_prefixed_cookies_and_hsts() {
    let db = std::sync::Arc::new(TestDb::new().await);
    let app = TestApp::spawn_with(db, client(), &["--base-url", "https://crm.example.com"]).await;
    let res = app.get("/setup").await;
    let cookie = set_cookie(&res);
    assert!(cookie.starts_with("__Host-threadline="), "{cookie}");
    assert!(
        cookie.contains("Secure") && cookie.contains("HttpOnly"),
        "{cookie}"
    );
    assert!(res.headers().get("strict-transport-security").is_some());
}

#[tokio::test]
async fn healthz_answers_ok_while_the_database_answers() {
    let app = TestApp::spawn().await;
    let res = app.get("/healthz").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.text().await.unwrap(), "ok");
}

#[tokio::test]
async fn errors_are_pages_or_htmx_fragments() {
    let app = TestApp::spawn_admin().await;
    let res = app.get("/no-such-page").await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let page = res.text().await.unwrap();
    assert!(page.starts_with("<!doctype html>") && page.contains("Not found"));

    let res = app
        .client
        .get(app.url("/no-such-page"))
        .header("HX-Request", "true")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(res.headers().get("hx-retarget").unwrap(), "#flash");
    let fragment = res.text().await.unwrap();
    assert!(
        !fragment.contains("<html") && fragment.contains("Not found"),
        "{fragment}"
    );
}

#[tokio::test]
async fn signed_out_htmx_requests_are_redirected_by_header() {
    let app = TestApp::spawn_admin().await;
    let stranger = app.other_browser();
    let res = stranger
        .client
        .get(app.url("/admin/users"))
        .header("HX-Request", "true")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers().get("hx-redirect").unwrap(), "/login");
    let res = stranger.get("/admin/users").await;
    assert_eq!(location(&res), "/login");
}

#[tokio::test]
async fn healthz_answers_503_when_the_database_is_gone() {
    let app = TestApp::spawn().await;
    app.db.clone().close().await.unwrap();
    let res = app.get("/healthz").await;
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
}

/// The `Set-Cookie` header of a response.
fn set_cookie(res: &reqwest::Response) -> String {
    res.headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string()
}

/// The sessions table keys rows by the SHA-256 of the session id: the cookie value is stored
/// nowhere in it, a stored key presented as a cookie opens nothing, and the cookie still works.
#[tokio::test]
async fn session_ids_are_stored_hashed() {
    use sea_orm::ConnectionTrait;
    use sha2::{Digest, Sha256};
    let app = TestApp::spawn_admin().await;
    let browser = app.other_browser();
    let res = browser
        .sign_in(crate::support::ADMIN_EMAIL, ADMIN_PASSWORD)
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let cookie = res.cookies().next().expect("session cookie");
    let (name, value) = (cookie.name().to_string(), cookie.value().to_string());
    assert!(browser.get_html("/").await.contains("Ada Admin"));

    let rows = app
        .db
        .query_all(sea_orm::Statement::from_string(
            app.db.get_database_backend(),
            "SELECT id, data FROM sessions",
        ))
        .await
        .unwrap();
    let stored: Vec<(String, String)> = rows
        .iter()
        .map(|r| {
            (
                r.try_get_by_index(0).unwrap(),
                r.try_get_by_index(1).unwrap(),
            )
        })
        .collect();
    let hashed = Sha256::digest(value.as_bytes())
        .iter()
        .fold(String::new(), |mut hex, b| {
            use std::fmt::Write;
            write!(hex, "{b:02x}").unwrap();
            hex
        });
    for (id, data) in &stored {
        assert!(
            !id.contains(&value) && !data.contains(&value),
            "{id} {data}"
        );
        assert_eq!(id.len(), 64, "{id}");
        assert!(id.bytes().all(|b| b.is_ascii_hexdigit()), "{id}");
    }
    assert!(stored.iter().any(|(id, _)| *id == hashed), "{stored:?}");

    // The stored key as a cookie opens nothing; the real cookie does.
    let with_cookie = |v: &str| {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
            .get(app.url("/"))
            .header("Cookie", format!("{name}={v}"))
            .send()
    };
    assert_eq!(location(&with_cookie(&hashed).await.unwrap()), "/login");
    let ok = with_cookie(&value).await.unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
    assert!(ok.text().await.unwrap().contains("Ada Admin"));

    // Signing out other sessions keeps this one (its hashed key is matched).
    let other = app.other_browser();
    other
        .sign_in(crate::support::ADMIN_EMAIL, ADMIN_PASSWORD)
        .await;
    let res = browser.post_form("/account/sign-out-others", &[]).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(browser.get_html("/").await.contains("Ada Admin"));
    assert_eq!(location(&other.get("/").await), "/login");
}
