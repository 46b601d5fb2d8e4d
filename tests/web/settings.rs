//! Organization settings: admins only, validated with field errors, audited, and read by the
//! directory (internal domains, free-mail overrides) and by ingest (auto-create policy).
use reqwest::StatusCode;
use threadline::db::{directory, organizations};

use crate::support::TestApp;

async fn post(app: &TestApp, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
    app.post_form(path, fields).await
}

#[tokio::test]
async fn members_are_refused() {
    let app = TestApp::spawn_admin().await;
    let member = app
        .member_browser("mo@acme.test", "member password 1")
        .await;
    assert_eq!(
        member.get("/settings").await.status(),
        StatusCode::FORBIDDEN
    );
    let res = member
        .post_form("/settings/internal-domains", &[("domain", "ourco.test")])
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let home = member.get_html("/").await;
    assert!(
        !home.contains("href=\"/settings\""),
        "no settings link for members"
    );
}

#[tokio::test]
async fn internal_domains_are_validated_added_and_removed() {
    let app = TestApp::spawn_admin().await;
    let res = post(
        &app,
        "/settings/internal-domains",
        &[("domain", " OurCo.test ")],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    for (bad, why) in [
        ("co.uk", "public suffix"),
        ("gmail.com", "free-mail"),
        ("not a domain", "enter a domain like example.com"),
        ("ourco.test", "already an internal domain"),
    ] {
        let res = post(&app, "/settings/internal-domains", &[("domain", bad)]).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        let page = res.text().await.unwrap();
        assert!(page.contains(why), "{bad}: {why} missing:\n{page}");
    }
    let org = organizations::first(&app.db).await.unwrap().unwrap().id;
    let dir = directory::load(&app.db, org).await.unwrap();
    assert!(dir.is_internal("eu.ourco.test"));
    let page = app.get_html("/settings").await;
    assert!(page.contains("ourco.test"), "{page}");

    let res = post(
        &app,
        "/settings/internal-domains/remove",
        &[("domain", "ourco.test")],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let dir = directory::load(&app.db, org).await.unwrap();
    assert!(!dir.is_internal("ourco.test"));
    let audit = app.get_html("/admin/audit").await;
    assert!(
        audit.contains("organization.internal_domain_add"),
        "{audit}"
    );
    assert!(
        audit.contains("organization.internal_domain_remove"),
        "{audit}"
    );
}

#[tokio::test]
async fn free_mail_overrides_change_the_directory() {
    let app = TestApp::spawn_admin().await;
    let org = organizations::first(&app.db).await.unwrap().unwrap().id;
    let add = [("domain", "Mailinator.com"), ("how", "add")];
    assert_eq!(
        post(&app, "/settings/free-mail", &add).await.status(),
        StatusCode::SEE_OTHER
    );
    let remove = [("domain", "gmx.net"), ("how", "remove")];
    assert_eq!(
        post(&app, "/settings/free-mail", &remove).await.status(),
        StatusCode::SEE_OTHER
    );
    let free = directory::free_mail(&app.db, org).await.unwrap();
    assert!(
        free.contains("mailinator.com") && !free.contains("gmx.net") && free.contains("gmx.de")
    );

    let res = post(
        &app,
        "/settings/free-mail",
        &[("domain", "acme.test"), ("how", "remove")],
    )
    .await;
    crate::support::assert_form_error(res, "not on the shipped free-mail list").await;
    let res = post(&app, "/settings/free-mail", &add).await;
    assert!(res.text().await.unwrap().contains("already listed"));

    let res = post(
        &app,
        "/settings/free-mail/remove",
        &[("domain", "mailinator.com")],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(!directory::free_mail(&app.db, org)
        .await
        .unwrap()
        .contains("mailinator.com"));
}

#[tokio::test]
async fn policies_are_saved_and_validated() {
    let app = TestApp::spawn_admin().await;
    let res = post(
        &app,
        "/settings/policies",
        &[("auto_create_contacts", "sent"), ("hide_bulk", "on")],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let org = organizations::first(&app.db).await.unwrap().unwrap();
    assert_eq!(org.auto_create_contacts, "sent");
    assert!(org.hide_bulk && !org.hide_internal_only);
    let page = app.get_html("/settings").await;
    assert!(page.contains(r#"value="sent" checked"#), "{page}");

    let res = post(
        &app,
        "/settings/policies",
        &[("auto_create_contacts", "everyone")],
    )
    .await;
    crate::support::assert_form_error(res, "choose off, from sent mail, or all mail").await;
    assert!(app
        .get_html("/admin/audit")
        .await
        .contains("organization.policies"));
}
