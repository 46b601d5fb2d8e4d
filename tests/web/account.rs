//! A user's own account: password change and ending other sessions.
use reqwest::StatusCode;

use crate::support::{location, TestApp, ADMIN_EMAIL, ADMIN_PASSWORD};

#[tokio::test]
async fn changing_the_password_signs_out_other_sessions_only() {
    let app = TestApp::spawn_admin().await;
    let laptop = app.other_browser();
    assert_eq!(
        laptop.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await.status(),
        StatusCode::SEE_OTHER
    );

    let wrong = app
        .post_form(
            "/account/password",
            &[
                ("current_password", "wrong"),
                ("new_password", "brand new password"),
                ("new_password_confirm", "brand new password"),
            ],
        )
        .await;
    assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(wrong
        .text()
        .await
        .unwrap()
        .contains("not your current password"));
    assert!(
        laptop.get_html("/").await.contains("Ada Admin"),
        "nothing changed yet"
    );

    let res = app
        .post_form(
            "/account/password",
            &[
                ("current_password", ADMIN_PASSWORD),
                ("new_password", "brand new password"),
                ("new_password_confirm", "brand new password"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.text().await.unwrap().contains("Password changed"));
    assert!(
        app.get_html("/").await.contains("Ada Admin"),
        "this session stays"
    );
    assert_eq!(
        location(&laptop.get("/").await),
        "/login",
        "the other session ended"
    );
    let stranger = app.other_browser();
    assert_eq!(
        stranger.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        stranger
            .sign_in(ADMIN_EMAIL, "brand new password")
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn sign_out_other_sessions() {
    let app = TestApp::spawn_admin().await;
    let phone = app.other_browser();
    assert_eq!(
        phone.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await.status(),
        StatusCode::SEE_OTHER
    );
    let res = app.post_form("/account/sign-out-others", &[]).await;
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("Signed out 1 other session(s)."));
    assert_eq!(location(&phone.get("/").await), "/login");
    assert!(app.get_html("/account").await.contains("Your account"));
}
