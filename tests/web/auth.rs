//! First-run setup, sign-in, sign-out and throttling.
use reqwest::StatusCode;

use crate::support::{csrf_in, location, TestApp, ADMIN_EMAIL, ADMIN_PASSWORD};

#[tokio::test]
async fn first_run_leads_to_setup_which_creates_the_admin() {
    let app = TestApp::spawn().await;
    let res = app.get("/").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/setup");
    assert_eq!(location(&app.get("/login").await), "/setup");

    app.setup_admin().await;
    let home = app.get_html("/").await;
    assert!(home.contains("<h1>Acme</h1>"), "{home}");
    assert!(home.contains("Ada Admin"));
    assert!(
        home.contains("href=\"/admin/users\""),
        "admins see the admin navigation"
    );
}

#[tokio::test]
async fn setup_closes_once_a_user_exists() {
    let app = TestApp::spawn_admin().await;
    let stranger = app.other_browser();
    let res = stranger.get("/setup").await;
    assert_eq!(location(&res), "/login");
    // Posting the form anyway creates nothing and signs nobody in.
    let res = stranger
        .post_form(
            "/setup",
            &[
                ("organization", "Evil"),
                ("name", "Mallory"),
                ("email", "mallory@evil.test"),
                ("password", "password123"),
                ("password_confirm", "password123"),
            ],
        )
        .await;
    assert_eq!(location(&res), "/login");
    assert_eq!(threadline::db::users::count_all(&app.db).await.unwrap(), 1);
    assert_eq!(location(&stranger.get("/").await), "/login");
}

#[tokio::test]
async fn setup_form_errors_are_shown_and_nothing_is_created() {
    let app = TestApp::spawn().await;
    let cases = [
        (
            "not-an-address",
            "password123",
            "password123",
            "enter an email address",
        ),
        ("ann@acme.test", "short", "short", "at least 8 characters"),
        (
            "ann@acme.test",
            "password123",
            "password124",
            "the passwords differ",
        ),
    ];
    for (email, password, confirm, message) in cases {
        let res = app
            .post_form(
                "/setup",
                &[
                    ("organization", "Acme"),
                    ("name", "Ann"),
                    ("email", email),
                    ("password", password),
                    ("password_confirm", confirm),
                ],
            )
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let html = res.text().await.unwrap();
        assert!(html.contains(message), "expected {message:?} in:\n{html}");
        assert!(
            !html.contains(password) || password.len() < 6,
            "password echoed back"
        );
    }
    assert_eq!(threadline::db::users::count_all(&app.db).await.unwrap(), 0);
}

#[tokio::test]
async fn wrong_password_and_unknown_user_fail_alike() {
    let app = TestApp::spawn_admin().await;
    let browser = app.other_browser();
    let wrong = browser.sign_in(ADMIN_EMAIL, "not the password").await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let wrong = wrong.text().await.unwrap();
    let unknown = browser
        .sign_in("nobody@acme.test", "not the password")
        .await;
    assert_eq!(unknown.status(), StatusCode::UNAUTHORIZED);
    let unknown = unknown.text().await.unwrap();
    let message = "Sign-in failed. Check your email address and password.";
    assert!(wrong.contains(message) && unknown.contains(message));
    // Apart from the echoed address and the CSRF token, the pages are identical.
    let strip = |html: &str| {
        html.replace(&csrf_in(html), "")
            .replace(ADMIN_EMAIL, "")
            .replace("nobody@acme.test", "")
    };
    assert_eq!(strip(&wrong), strip(&unknown));
    assert_eq!(location(&browser.get("/").await), "/login");
}

#[tokio::test]
async fn sign_in_then_sign_out_ends_the_session() {
    let app = TestApp::spawn_admin().await;
    let browser = app.other_browser();
    let res = browser.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/");
    let cookie = res
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|c| c.split(';').next())
        .expect("session cookie")
        .to_string();
    assert!(browser.get_html("/").await.contains("Ada Admin"));

    let res = browser.sign_out().await;
    assert_eq!(location(&res), "/login");
    assert_eq!(location(&browser.get("/").await), "/login");
    // The old cookie, replayed by someone who copied it, opens nothing.
    let replay = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(app.url("/"))
        .header("Cookie", cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(location(&replay), "/login");
}

#[tokio::test]
async fn sign_in_issues_a_new_session_id() {
    let app = TestApp::spawn_admin().await;
    let browser = app.other_browser();
    let login = browser.get("/login").await;
    let before = login
        .cookies()
        .next()
        .expect("anonymous session cookie")
        .value()
        .to_string();
    let html = login.text().await.unwrap();
    let res = browser
        .post_form_with(
            "/login",
            Some(&csrf_in(&html)),
            &[("email", ADMIN_EMAIL), ("password", ADMIN_PASSWORD)],
        )
        .await;
    let after = res
        .cookies()
        .next()
        .expect("new session cookie")
        .value()
        .to_string();
    assert_ne!(
        before, after,
        "session fixation: the id must change at sign-in"
    );
}

#[tokio::test]
async fn repeated_failures_pause_sign_in_for_that_account() {
    let app = TestApp::spawn_admin().await;
    app.create_user("member@acme.test", "member password", false)
        .await;
    let browser = app.other_browser();
    for _ in 0..5 {
        let res = browser.sign_in(ADMIN_EMAIL, "guess").await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    // Now even the right password is refused, with the same generic message...
    let res = browser.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(res.text().await.unwrap().contains("Sign-in failed."));
    // ...while other accounts still sign in.
    let res = browser.sign_in("member@acme.test", "member password").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn sign_in_never_redirects_off_site() {
    let app = TestApp::spawn_admin().await;
    let browser = app.other_browser();
    let res = browser
        .post_form(
            "/login",
            &[
                ("email", ADMIN_EMAIL),
                ("password", ADMIN_PASSWORD),
                ("next", "//evil.test/x"),
            ],
        )
        .await;
    assert_eq!(location(&res), "/");
}
