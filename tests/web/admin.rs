//! User administration: admins only, audited, never leaving an organization without an admin.
use reqwest::StatusCode;

use crate::support::{location, TestApp};

#[tokio::test]
async fn members_get_403_on_admin_pages_and_actions() {
    let app = TestApp::spawn_admin().await;
    let member_id = app
        .create_user("mia@acme.test", "mia password", false)
        .await;
    let mia = app.other_browser();
    assert_eq!(
        mia.sign_in("mia@acme.test", "mia password").await.status(),
        StatusCode::SEE_OTHER
    );
    let home = mia.get_html("/").await;
    assert!(
        !home.contains("/admin/users"),
        "members see no admin navigation"
    );
    for path in ["/admin/users", "/admin/audit"] {
        let res = mia.get(path).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{path}");
        assert!(res.text().await.unwrap().contains("Only administrators"));
    }
    let path = format!("/admin/users/{member_id}/role");
    let res = mia.post_form(&path, &[("role", "admin")]).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = mia
        .post_form(
            "/admin/users",
            &[
                ("name", "X"),
                ("email", "x@acme.test"),
                ("password", "x password"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(threadline::db::users::count_all(&app.db).await.unwrap(), 2);
}

#[tokio::test]
async fn admin_creates_a_user_who_can_then_sign_in() {
    let app = TestApp::spawn_admin().await;
    let fields = [
        ("name", "Bob Builder"),
        ("email", "Bob@Acme.test"),
        ("password", "bob password"),
        ("role", "member"),
    ];
    let res = app.post_form("/admin/users", &fields).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("Created bob@acme.test"),
        "addresses are normalized: {html}"
    );

    // The same address again is a form error, not a crash.
    let res = app.post_form("/admin/users", &fields).await;
    crate::support::assert_form_error(res, "a user with this email address exists").await;

    let bob = app.other_browser();
    assert_eq!(
        bob.sign_in("bob@acme.test", "bob password").await.status(),
        StatusCode::SEE_OTHER
    );
    assert!(bob.get_html("/").await.contains("Bob Builder"));
}

#[tokio::test]
async fn role_and_disable_changes_are_applied_and_audited() {
    let app = TestApp::spawn_admin().await;
    let id = app
        .create_user("carl@acme.test", "carl password", false)
        .await;
    let carl = app.other_browser();
    assert_eq!(
        carl.sign_in("carl@acme.test", "carl password")
            .await
            .status(),
        StatusCode::SEE_OTHER
    );

    let token = app.csrf("/admin/users").await;
    // htmx: the updated row comes back.
    let res = app
        .client
        .post(app.url(&format!("/admin/users/{id}/role")))
        .header("HX-Request", "true")
        .header("X-CSRF-Token", &token)
        .form(&[("role", "admin")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let row = res.text().await.unwrap();
    assert!(row.starts_with(&format!("<tr id=\"user-{id}\"")) && row.contains("Make member"));
    assert!(
        carl.get_html("/admin/users").await.contains("Users"),
        "carl is an admin now"
    );

    // A plain form: redirect back to the list.
    let res = app
        .post_form(
            &format!("/admin/users/{id}/disabled"),
            &[("disabled", "true")],
        )
        .await;
    assert_eq!(location(&res), "/admin/users");
    // Disabling signs carl out everywhere, and he cannot sign in again.
    assert_eq!(location(&carl.get("/").await), "/login");
    assert_eq!(
        carl.sign_in("carl@acme.test", "carl password")
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );

    let audit = app.get_html("/admin/audit").await;
    for action in ["user.create", "user.role", "user.disable"] {
        assert!(
            audit.contains(action),
            "{action} missing from the audit log"
        );
    }
    assert!(audit.contains("admin@acme.test"), "the actor is named");
}

#[tokio::test]
async fn the_last_admin_cannot_demote_or_disable_themselves() {
    let app = TestApp::spawn_admin().await;
    let admin = threadline::db::users::list_in_org(&app.db, 1)
        .await
        .unwrap();
    let me = admin[0].id;
    let res = app
        .post_form(&format!("/admin/users/{me}/role"), &[("role", "member")])
        .await;
    crate::support::assert_form_error(res, "at least one active admin").await;
    let res = app
        .post_form(
            &format!("/admin/users/{me}/disabled"),
            &[("disabled", "true")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        app.get_html("/admin/users").await.contains("Make member"),
        "still an admin"
    );
}

#[tokio::test]
async fn users_of_another_organization_are_not_found() {
    let app = TestApp::spawn_admin().await;
    // A second organization with its own user, straight in the database.
    let other = threadline::db::organizations::create(&app.db, "Other Co")
        .await
        .unwrap();
    let email = threadline::domain::address::EmailAddress::parse("olga@other.test").unwrap();
    let olga = threadline::db::users::create(
        &app.db,
        other.id,
        &email,
        "Olga",
        threadline::domain::user::Role::Member,
        "x".into(),
    )
    .await
    .unwrap();
    let res = app
        .post_form(
            &format!("/admin/users/{}/disabled", olga.id),
            &[("disabled", "true")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert!(!app
        .get_html("/admin/users")
        .await
        .contains("olga@other.test"));
    let olga = threadline::db::users::find_in_org(&app.db, other.id, olga.id)
        .await
        .unwrap()
        .unwrap();
    assert!(!olga.disabled);
}
