//! Organization › Connections through the real router: add (secret, certificate, Google key)
//! by multipart upload, list, detail, Test connection with its step-by-step verdicts, the
//! admin-consent round trip through the emulator's page, removal after confirmation; CSRF and
//! non-admins refused; nothing secret rendered.
use std::fmt::Write as _;

use reqwest::{Response, StatusCode};
use threadline_emulator::microsoft::app_control::PatchApp;

use crate::connections_fixtures::{self as fx, DIRECTORY, GMAIL};
use crate::support::{location, TestApp};

/// A multipart/form-data body: text fields, then files.
fn multipart(fields: &[(&str, &str)], files: &[(&str, &str)]) -> (String, String) {
    let boundary = "----threadline-test-boundary";
    let mut body = String::new();
    for (k, v) in fields {
        let _ = write!(
            body,
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"
        );
    }
    for (k, v) in files {
        let _ = write!(
            body,
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"; filename=\"upload\"\r\nContent-Type: application/octet-stream\r\n\r\n{v}\r\n"
        );
    }
    let _ = write!(body, "--{boundary}--\r\n");
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn upload(
    app: &TestApp,
    path: &str,
    fields: &[(&str, &str)],
    files: &[(&str, &str)],
) -> Response {
    let token = app.session_csrf().await;
    let (content_type, body) = multipart(fields, files);
    app.client
        .post(app.url(&format!("{path}?csrf_token={token}")))
        .header("Origin", &app.base)
        .header("Content-Type", content_type)
        .body(body)
        .send()
        .await
        .unwrap()
}

/// Upload the Microsoft 365 form expecting a refusal the admin can fix: the form again, 422.
async fn refused_microsoft(
    app: &TestApp,
    fields: &[(&str, &str)],
    files: &[(&str, &str)],
) -> String {
    let res = upload(app, "/admin/connections/new/microsoft", fields, files).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    res.text().await.unwrap()
}

/// Add a Microsoft 365 connection through the page; its id.
async fn add_ms_web(
    app: &TestApp,
    name: &str,
    t: &fx::Tenant,
    secret: Option<&str>,
    pem: Option<&str>,
) -> i64 {
    let mut fields = vec![
        ("name", name),
        ("tenant", t.id.as_str()),
        ("client_id", t.client_id.as_str()),
    ];
    if let Some(s) = secret {
        fields.push(("secret", s));
    }
    let files: Vec<(&str, &str)> = pem.map(|p| vec![("certificate", p)]).unwrap_or_default();
    let res = upload(app, "/admin/connections/new/microsoft", &fields, &files).await;
    assert_eq!(
        res.status(),
        StatusCode::SEE_OTHER,
        "{}",
        res.text().await.unwrap()
    );
    location(&res).rsplit('/').next().unwrap().parse().unwrap()
}

async fn test_page(app: &TestApp, id: i64, mailbox: &str) -> String {
    let res = app
        .post_form(
            &format!("/admin/connections/{id}/test"),
            &[("mailbox", mailbox)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    app.get_html(&format!("/admin/connections/{id}")).await
}

#[tokio::test]
async fn microsoft_connection_added_tested_consented_and_removed_on_the_page() {
    let app = TestApp::spawn_with_emulator().await;
    app.setup_admin().await;
    let t = fx::tenant(&app, false).await;

    // A wrong secret: its own message.
    let wrong = add_ms_web(&app, "wrong", &t, Some("not-the-secret-xyz"), None).await;
    let page = test_page(&app, wrong, "").await;
    assert!(page.contains("data-problem=\"bad_secret\""), "{page}");
    assert!(page.contains("not its Secret ID"), "the fix is shown");
    assert!(
        !page.contains("not-the-secret-xyz"),
        "the secret is never rendered"
    );
    assert!(page.contains("…xyz"), "only the hint is");

    // The right secret without admin consent: consent missing.
    let id = add_ms_web(&app, "contoso", &t, Some(&t.secret), None).await;
    let page = test_page(&app, id, "").await;
    assert!(page.contains("data-problem=\"consent_missing\""), "{page}");
    assert!(page.contains("Grant admin consent"));
    assert!(!page.contains(&t.secret));

    // Grant admin consent: to the tenant's page and back.
    let res = app
        .post_form(&format!("/admin/connections/{id}/consent"), &[])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let to = url::Url::parse(&location(&res)).unwrap();
    assert_eq!(to.path(), format!("/{}/adminconsent", t.id));
    let q: std::collections::HashMap<_, _> = to.query_pairs().into_owned().collect();
    assert_eq!(q["client_id"], t.client_id);
    let browser = crate::support::client();
    let consent_page = browser.get(to.as_str()).send().await.unwrap();
    assert_eq!(consent_page.status(), StatusCode::OK);
    let mut form: Vec<(String, String)> = q.into_iter().collect();
    form.push(("decision".into(), "accept".into()));
    let back = browser
        .post(to.as_str().split('?').next().unwrap())
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(back.status(), StatusCode::FOUND);
    let callback = url::Url::parse(&location(&back)).unwrap();
    assert_eq!(callback.path(), "/admin/connections/consent/callback");
    // A forged state is refused (and uses up the pending consent).
    let forged = callback.as_str().replace("state=", "state=x");
    let res = app.client.get(&forged).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // Start again, and come back with the real answer.
    let res = app
        .post_form(&format!("/admin/connections/{id}/consent"), &[])
        .await;
    let to = url::Url::parse(&location(&res)).unwrap();
    let mut form: Vec<(String, String)> = to.query_pairs().into_owned().collect();
    form.push(("decision".into(), "accept".into()));
    let back = browser
        .post(to.as_str().split('?').next().unwrap())
        .form(&form)
        .send()
        .await
        .unwrap();
    let res = app.client.get(location(&back)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let page = app.get_html(&format!("/admin/connections/{id}")).await;
    assert!(page.contains("Admin consent granted"), "{page}");
    assert!(page.contains("<dd id=\"consent\">granted</dd>"), "{page}");

    // Now the test passes end to end (a token issued before consent is not reused).
    let page = test_page(&app, id, "").await;
    assert!(!page.contains("step-failed"), "{page}");
    assert!(
        page.contains("read the mailbox of alice@contoso.test"),
        "{page}"
    );
    // A user without a mailbox and a mailbox outside the RBAC scope: their own messages.
    let page = test_page(&app, id, "bob@contoso.test").await;
    assert!(
        page.contains("data-problem=\"mailbox_not_enabled\""),
        "{page}"
    );
    fx::emulator(&app)
        .update_app(
            &t.id,
            &t.client_id,
            &PatchApp {
                mailbox_scope: Some(serde_json::json!({"mailboxes":["support@contoso.test"]})),
                ..PatchApp::default()
            },
        )
        .await
        .unwrap();
    let page = test_page(&app, id, "alice@contoso.test").await;
    assert!(
        page.contains("data-problem=\"mailbox_access_denied\""),
        "{page}"
    );

    let list = app.get_html("/admin/connections").await;
    assert!(list.contains("contoso") && list.contains("wrong") && list.contains("Microsoft 365"));
    assert!(list.contains("granted"));

    // Remove: a confirmation page, then the POST; audited.
    let confirm = app
        .get_html(&format!("/admin/connections/{id}/remove"))
        .await;
    assert!(confirm.contains("their stored mail stays"));
    let res = app
        .post_form(&format!("/admin/connections/{id}/remove"), &[])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        app.get(&format!("/admin/connections/{id}")).await.status(),
        StatusCode::NOT_FOUND
    );
    let audit = app.get_html("/admin/audit").await;
    for action in [
        "connection.add",
        "connection.test",
        "connection.consent",
        "connection.remove",
    ] {
        assert!(audit.contains(action), "{action} audited");
    }
}

#[tokio::test]
async fn certificates_expired_certificates_and_bad_uploads() {
    let app = TestApp::spawn_with_emulator().await;
    app.setup_admin().await;
    let t = fx::tenant(&app, true).await;
    let pem = fx::certificate(&app, &t, None, None).await;
    let id = add_ms_web(&app, "cert", &t, None, Some(&pem)).await;
    let page = test_page(&app, id, "").await;
    assert!(!page.contains("step-failed"), "{page}");
    assert!(
        page.contains("certificate "),
        "the hint names the certificate"
    );
    assert!(!page.contains("PRIVATE KEY"));

    let past = chrono::Utc::now() - chrono::Duration::days(400);
    let old = fx::certificate(
        &app,
        &t,
        Some(past),
        Some(past + chrono::Duration::days(30)),
    )
    .await;
    let id = add_ms_web(&app, "old", &t, None, Some(&old)).await;
    let page = test_page(&app, id, "").await;
    assert!(
        page.contains("data-problem=\"certificate_expired\""),
        "{page}"
    );

    // A certificate registered on another app only: rejected, with its own message.
    let e = fx::emulator(&app);
    let other = e
        .create_app(
            &t.id,
            &threadline_emulator::microsoft::app_control::CreateApp::default(),
        )
        .await
        .unwrap();
    let other_t = fx::Tenant {
        id: t.id.clone(),
        client_id: other.client_id.clone(),
        secret: String::new(),
    };
    let foreign = fx::certificate(&app, &other_t, None, None).await;
    let id = add_ms_web(&app, "foreign", &t, None, Some(&foreign)).await;
    let page = test_page(&app, id, "").await;
    assert!(
        page.contains("data-problem=\"certificate_rejected\""),
        "{page}"
    );
    // A certificate with another certificate's key is refused at once.
    let cert_only = foreign.split("-----BEGIN PRIVATE KEY-----").next().unwrap();
    let key_only = &pem[pem.find("-----BEGIN PRIVATE KEY-----").unwrap()..];
    let mixed = format!("{cert_only}{key_only}");
    assert!(refused_microsoft(
        &app,
        &[
            ("name", "mixed"),
            ("tenant", &t.id),
            ("client_id", &t.client_id),
        ],
        &[("certificate", &mixed)],
    )
    .await
    .contains("does not belong to the certificate"));

    // Refusals the admin can fix come back on the form, with the fields kept.
    assert!(refused_microsoft(
        &app,
        &[
            ("name", "bad"),
            ("tenant", "common"),
            ("client_id", &t.client_id),
            ("secret", "s"),
        ],
        &[],
    )
    .await
    .contains("never works with common"));
    assert!(refused_microsoft(
        &app,
        &[
            ("name", "bad"),
            ("tenant", &t.id),
            ("client_id", &t.client_id),
        ],
        &[("certificate", "not a pem")],
    )
    .await
    .contains("no certificate found"));
    assert!(refused_microsoft(
        &app,
        &[
            ("name", "cert"),
            ("tenant", &t.id),
            ("client_id", &t.client_id),
            ("secret", "s"),
        ],
        &[],
    )
    .await
    .contains("already exists"));
}

#[tokio::test]
async fn google_workspace_test_connection_verdicts() {
    let app = TestApp::spawn_with_emulator().await;
    app.setup_admin().await;
    let w = fx::workspace(&app, &[DIRECTORY]).await;
    let res = upload(
        &app,
        "/admin/connections/new/google",
        &[
            ("name", "acme"),
            ("domain", &w.domain),
            ("admin_address", &w.admin),
        ],
        &[("key", &w.key_json)],
    )
    .await;
    assert_eq!(
        res.status(),
        StatusCode::SEE_OTHER,
        "{}",
        res.text().await.unwrap()
    );
    let id: i64 = location(&res).rsplit('/').next().unwrap().parse().unwrap();

    // Gmail's scope not delegated.
    let page = test_page(&app, id, "").await;
    assert!(
        page.contains("data-problem=\"delegation_not_granted\""),
        "{page}"
    );
    assert!(
        page.contains(&w.client_number),
        "the fix names the client id to delegate"
    );
    assert!(!page.contains("PRIVATE KEY"));

    fx::emulator(&app)
        .grant_delegation(&w.domain, &w.client_number, &[DIRECTORY, GMAIL])
        .await
        .unwrap();
    let page = test_page(&app, id, "").await;
    assert!(!page.contains("step-failed"), "delegation granted: {page}");
    let page = test_page(&app, id, "ghost@acme-corp.test").await;
    assert!(page.contains("data-problem=\"unknown_user\""), "{page}");
    let page = test_page(&app, id, "sam@acme-corp.test").await;
    assert!(page.contains("data-problem=\"user_suspended\""), "{page}");
    let page = test_page(&app, id, "nog@acme-corp.test").await;
    assert!(
        page.contains("data-problem=\"mailbox_not_enabled\""),
        "{page}"
    );
    let list = app.get_html("/admin/connections").await;
    assert!(list.contains("Google Workspace") && list.contains("acme-corp.test"));
}

#[tokio::test]
async fn members_and_forged_posts_are_refused() {
    let app = TestApp::spawn_with_emulator().await;
    app.setup_admin().await;
    let t = fx::tenant(&app, true).await;
    let conn = fx::add_microsoft(
        &app,
        "contoso",
        &t,
        threadline::mailboxes::connections::store::NewCredential::Secret(
            threadline::providers::Secret::new(t.secret.clone()),
        ),
    )
    .await;
    // No CSRF token: refused, nothing runs.
    let res = app
        .post_form_with(&format!("/admin/connections/{}/test", conn.id), None, &[])
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = app
        .post_form_with(&format!("/admin/connections/{}/remove", conn.id), None, &[])
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let (content_type, body) = multipart(&[("name", "x")], &[]);
    let res = app
        .client
        .post(app.url("/admin/connections/new/microsoft"))
        .header("Origin", &app.base)
        .header("Content-Type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        threadline::db::connections::list(&app.db, conn.organization_id)
            .await
            .unwrap()
            .len(),
        1
    );

    let member = app
        .member_browser("mo@acme.test", "member password 1")
        .await;
    for path in [
        "/admin/connections",
        "/admin/connections/new/microsoft",
        &format!("/admin/connections/{}", conn.id),
    ] {
        let status = member.get(path).await.status();
        assert!(
            status == StatusCode::FORBIDDEN || status == StatusCode::NOT_FOUND,
            "{path}: {status}"
        );
    }
    let res = member
        .post_form(&format!("/admin/connections/{}/remove", conn.id), &[])
        .await;
    assert!(res.status() == StatusCode::FORBIDDEN || res.status() == StatusCode::NOT_FOUND);
    assert!(
        threadline::db::connections::find(&app.db, conn.organization_id, conn.id)
            .await
            .unwrap()
            .is_some()
    );
}

#[tokio::test]
async fn another_organizations_admin_gets_not_found() {
    let app = TestApp::spawn_with_emulator().await;
    app.setup_admin().await;
    let t = fx::tenant(&app, true).await;
    let id = add_ms_web(&app, "contoso", &t, Some(&t.secret), None).await;
    let new =
        threadline::accounts::NewUser::parse("boss@bravo.test", "Bo", "bravo password 1").unwrap();
    threadline::accounts::create_organization(&app.db, "Bravo", new)
        .await
        .unwrap();
    let bravo = app.other_browser();
    bravo.sign_in("boss@bravo.test", "bravo password 1").await;
    assert!(!bravo
        .get_html("/admin/connections")
        .await
        .contains("contoso"));
    for path in [
        format!("/admin/connections/{id}"),
        format!("/admin/connections/{id}/remove"),
    ] {
        assert_eq!(
            bravo.get(&path).await.status(),
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    for action in ["test", "consent", "remove"] {
        let res = bravo
            .post_form(&format!("/admin/connections/{id}/{action}"), &[])
            .await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{action}");
    }
    let conn = threadline::db::connections::all(&app.db)
        .await
        .unwrap()
        .remove(0);
    assert!(
        conn.last_test_at.is_none() && conn.consent_state == "unknown",
        "nothing changed"
    );
}
