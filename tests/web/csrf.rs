//! Every state change needs the session's CSRF token and a same-origin request.
use reqwest::StatusCode;

use crate::support::TestApp;

async fn user_count(app: &TestApp) -> u64 {
    threadline::db::users::count_all(&app.db).await.unwrap()
}

const NEW_USER: [(&str, &str); 4] = [
    ("name", "Bob"),
    ("email", "bob@acme.test"),
    ("password", "bob password"),
    ("role", "member"),
];

#[tokio::test]
async fn state_changes_without_a_valid_token_are_refused() {
    let app = TestApp::spawn_admin().await;
    let missing = app.post_form_with("/admin/users", None, &NEW_USER).await;
    assert_eq!(missing.status(), StatusCode::FORBIDDEN);
    assert!(missing
        .text()
        .await
        .unwrap()
        .contains("came from another site"));
    let wrong = app
        .post_form_with("/admin/users", Some("forged-token"), &NEW_USER)
        .await;
    assert_eq!(wrong.status(), StatusCode::FORBIDDEN);
    assert_eq!(user_count(&app).await, 1, "nothing was created");

    let ok = app.post_form("/admin/users", &NEW_USER).await;
    assert_eq!(ok.status(), StatusCode::CREATED);
    assert_eq!(user_count(&app).await, 2);
}

#[tokio::test]
async fn cross_origin_requests_are_refused_even_with_a_token() {
    let app = TestApp::spawn_admin().await;
    let token = app.csrf("/admin/users").await;
    let mut form: Vec<(&str, &str)> = NEW_USER.to_vec();
    form.push(("csrf_token", &token));
    for (name, value) in [
        ("Origin", "https://evil.test"),
        ("Sec-Fetch-Site", "cross-site"),
    ] {
        let res = app
            .client
            .post(app.url("/admin/users"))
            .header(name, value)
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{name}: {value}");
    }
    assert_eq!(user_count(&app).await, 1);
}

#[tokio::test]
async fn htmx_requests_carry_the_token_in_a_header() {
    let app = TestApp::spawn_admin().await;
    let page = app.get_html("/admin/users").await;
    // The page hands htmx the token through hx-headers on <body>.
    let token = crate::support::csrf_in(&page);
    assert!(page.contains("hx-headers="), "no hx-headers on the page");
    assert!(page.contains(&format!("X-CSRF-Token&quot;:&quot;{token}")) || page.contains(&token));
    let res = app
        .client
        .post(app.url("/admin/users"))
        .header("HX-Request", "true")
        .header("X-CSRF-Token", &token)
        .form(&NEW_USER)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let res = app
        .client
        .post(app.url("/admin/users"))
        .header("HX-Request", "true")
        .header("X-CSRF-Token", "nope")
        .form(&[
            ("name", "Eve"),
            ("email", "eve@acme.test"),
            ("password", "eve password"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(user_count(&app).await, 2);
}

#[tokio::test]
async fn sign_out_without_a_token_does_not_sign_out() {
    let app = TestApp::spawn_admin().await;
    let res = app.post_form_with("/logout", None, &[]).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(app.get_html("/").await.contains("Ada Admin"));
}
