//! GET never changes state: opening an email leaves it unread; the page marks it read by a
//! POST of its own (htmx on load, with the CSRF token) or the plain "Mark read" form.
use reqwest::StatusCode;
use sea_orm::EntityTrait;
use threadline::db::entities::emails;

use crate::email_view::synced_hostile_email;
use crate::mailbox_fixtures::linked_app;
use crate::support::TestApp;

/// Whether the reader's own mark says the email is read.
async fn is_read(app: &TestApp, id: i64) -> bool {
    let email = emails::Entity::find_by_id(id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let user = threadline::db::users::find_by_email(
        &app.db,
        &threadline::domain::address::EmailAddress::parse(crate::support::ADMIN_EMAIL).unwrap(),
    )
    .await
    .unwrap()
    .unwrap();
    threadline::db::email_actions::marks(&app.db, user.id, &email.message_key)
        .await
        .unwrap()
        .read
}

/// Opening an email changes nothing (a cross-site link cannot mark it read); the page marks it
/// read by a POST of its own (htmx on load, carrying the CSRF token), and the plain "Mark read"
/// form does the same without JavaScript. Without the token nothing changes.
#[tokio::test]
async fn opening_an_email_marks_it_read_only_by_a_post_from_the_page() {
    let app = linked_app().await;
    let id = synced_hostile_email(&app).await;
    for _ in 0..2 {
        let page = app.get_html(&format!("/emails/{id}")).await;
        assert!(!is_read(&app, id).await, "GET /emails/{id} marked it read");
        let auto = format!(r#"hx-post="/emails/{id}/read" hx-trigger="load""#);
        assert!(page.contains(&auto), "no mark-read POST on load:\n{page}");
        assert!(page.contains(r#"{"value": "on", "csrf_token": ""#));
        assert!(page.contains(&format!(
            r#"<form method="post" action="/emails/{id}/read""#
        )));
    }
    // A cross-site GET with the session cookie: still unread.
    let res = app
        .client
        .get(app.url(&format!("/emails/{id}")))
        .header("Sec-Fetch-Site", "cross-site")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(!is_read(&app, id).await);

    // The page's POST without its token (or from another site) is refused.
    let refused = app
        .post_form_with(&format!("/emails/{id}/read"), None, &[("value", "on")])
        .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert!(!is_read(&app, id).await);
    let csrf = app.csrf(&format!("/emails/{id}")).await;
    let cross = app
        .client
        .post(app.url(&format!("/emails/{id}/read")))
        .header("Origin", "https://evil.test")
        .header("HX-Request", "true")
        .form(&[("value", "on"), ("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(cross.status(), StatusCode::FORBIDDEN);
    assert!(!is_read(&app, id).await);

    // What htmx sends on load: the token in the header, the page's values in the body.
    let res = app
        .client
        .post(app.url(&format!("/emails/{id}/read")))
        .header("Origin", &app.base)
        .header("HX-Request", "true")
        .header("X-CSRF-Token", &csrf)
        .form(&[("value", "on")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.text().await.unwrap().contains("Mark unread"));
    assert!(is_read(&app, id).await);
    let page = app.get_html(&format!("/emails/{id}")).await;
    assert!(
        !page.contains(r#"hx-trigger="load""#),
        "a read email posts nothing"
    );

    // The no-JavaScript fallback: the plain form, 303 back to the email.
    let res = app
        .post_form(&format!("/emails/{id}/read"), &[("value", "off")])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(!is_read(&app, id).await);
    let res = app
        .post_form(&format!("/emails/{id}/read"), &[("value", "on")])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(is_read(&app, id).await);
}
