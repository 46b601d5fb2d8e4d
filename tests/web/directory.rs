//! Businesses and contacts: create / edit / delete flows, owners named on duplicates, invalid
//! domains, members refused deletes, other organizations' ids answering 404.
use reqwest::StatusCode;

use crate::support::{location, TestApp};

/// POST a form that must redirect to a detail page; returns the new id.
pub async fn create(app: &TestApp, path: &str, fields: &[(&str, &str)]) -> i64 {
    let res = app.post_form(path, fields).await;
    assert_eq!(
        res.status(),
        StatusCode::SEE_OTHER,
        "POST {path} {fields:?}"
    );
    let to = location(&res);
    to.rsplit('/').next().unwrap().parse().unwrap()
}

async fn audit_actions(app: &TestApp) -> String {
    app.get_html("/admin/audit").await
}

#[tokio::test]
async fn business_create_edit_delete() {
    let app = TestApp::spawn_admin().await;
    let fields = [
        ("name", "Acme Ltd"),
        ("domains", " Acme.CO.uk \r\n\r\nmail.acme.co.uk\n"),
        ("notes", "Key account"),
    ];
    let id = create(&app, "/businesses", &fields).await;
    let page = app.get_html(&format!("/businesses/{id}")).await;
    for want in [
        "Acme Ltd",
        "<li>acme.co.uk</li>",
        "<li>mail.acme.co.uk</li>",
        "Key account",
    ] {
        assert!(page.contains(want), "{want} missing:\n{page}");
    }
    let edit = app.get_html(&format!("/businesses/{id}/edit")).await;
    assert!(edit.contains("acme.co.uk\nmail.acme.co.uk"), "{edit}");
    let res = app
        .post_form(
            &format!("/businesses/{id}"),
            &[
                ("name", "Acme Group"),
                ("domains", "acme.com"),
                ("notes", ""),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let page = app.get_html(&format!("/businesses/{id}")).await;
    assert!(page.contains("Acme Group") && page.contains("<li>acme.com</li>"));
    assert!(!page.contains("acme.co.uk"), "domains are replaced");
    assert!(app.get_html("/businesses").await.contains("Acme Group"));

    let confirm = app.get_html(&format!("/businesses/{id}/delete")).await;
    assert!(confirm.contains("Delete Acme Group"));
    let res = app
        .post_form(&format!("/businesses/{id}/delete"), &[])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/businesses");
    let gone = app.get(&format!("/businesses/{id}")).await;
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);
    let audit = audit_actions(&app).await;
    for action in ["business.create", "business.update", "business.delete"] {
        assert!(audit.contains(action), "{action} not audited");
    }
}

#[tokio::test]
async fn contact_with_business_create_edit_delete() {
    let app = TestApp::spawn_admin().await;
    let acme = create(
        &app,
        "/businesses",
        &[("name", "Acme"), ("domains", "acme.com")],
    )
    .await;
    let acme_s = acme.to_string();
    let fields = [
        ("name", "Ann Example"),
        ("addresses", "Ann@Acme.com\nann+crm@acme.com"),
        ("business_id", acme_s.as_str()),
    ];
    let ann = create(&app, "/contacts", &fields).await;
    let page = app.get_html(&format!("/contacts/{ann}")).await;
    for want in ["<li>ann@acme.com</li>", "<li>ann+crm@acme.com</li>", "Acme"] {
        assert!(page.contains(want), "{want} missing:\n{page}");
    }
    let business = app.get_html(&format!("/businesses/{acme}")).await;
    assert!(business.contains(&format!("href=\"/contacts/{ann}\"")));
    let new = app
        .get_html(&format!("/contacts/new?business={acme}"))
        .await;
    assert!(new.contains(&format!("<option value=\"{acme}\" selected>Acme</option>")));

    let res = app
        .post_form(
            &format!("/contacts/{ann}"),
            &[
                ("name", "Ann E."),
                ("addresses", "ann@gmail.com"),
                ("business_id", ""),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let page = app.get_html(&format!("/contacts/{ann}")).await;
    assert!(page.contains("ann@gmail.com") && !page.contains("ann@acme.com"));
    let business = app.get_html(&format!("/businesses/{acme}")).await;
    assert!(!business.contains(&format!("/contacts/{ann}")), "detached");

    let res = app.post_form(&format!("/contacts/{ann}/delete"), &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        app.get(&format!("/contacts/{ann}")).await.status(),
        StatusCode::NOT_FOUND
    );
    let audit = audit_actions(&app).await;
    for action in ["contact.create", "contact.update", "contact.delete"] {
        assert!(audit.contains(action), "{action} not audited");
    }
}

#[tokio::test]
async fn duplicates_name_their_owner() {
    let app = TestApp::spawn_admin().await;
    create(
        &app,
        "/businesses",
        &[("name", "Acme"), ("domains", "acme.com")],
    )
    .await;
    let globex = create(
        &app,
        "/businesses",
        &[("name", "Globex"), ("domains", "globex.com")],
    )
    .await;
    let res = app
        .post_form("/businesses", &[("name", "Copy"), ("domains", "ACME.com")])
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = res.text().await.unwrap();
    assert!(body.contains("acme.com already belongs to Acme"), "{body}");
    assert!(
        body.contains("value=\"Copy\""),
        "the form keeps what was typed"
    );
    let res = app
        .post_form(
            &format!("/businesses/{globex}"),
            &[("name", "Globex"), ("domains", "globex.com\nacme.com")],
        )
        .await;
    crate::support::assert_form_error(res, "acme.com already belongs to Acme").await;
    let page = app.get_html(&format!("/businesses/{globex}")).await;
    assert!(!page.contains("acme.com"), "a refused edit changes nothing");

    create(
        &app,
        "/contacts",
        &[("name", "Ann"), ("addresses", "ann@acme.com")],
    )
    .await;
    let res = app
        .post_form(
            "/contacts",
            &[("name", "Bob"), ("addresses", "ANN@acme.com")],
        )
        .await;
    crate::support::assert_form_error(res, "ann@acme.com already belongs to Ann").await;
    let res = app
        .post_form(
            "/contacts",
            &[("name", "Ann2"), ("addresses", "ann+2@acme.com")],
        )
        .await;
    assert_eq!(
        res.status(),
        StatusCode::SEE_OTHER,
        "plus-addresses are distinct"
    );
}

#[tokio::test]
async fn invalid_input_is_a_form_error() {
    let app = TestApp::spawn_admin().await;
    let cases = [
        ("co.uk", "public suffix"),
        ("github.io", "public suffix"),
        ("gmail.com", "free-mail"),
        ("hotmail.fr", "free-mail"),
        ("not a domain", "enter a domain"),
        ("acme.com\nann@acme.com", "enter a domain"),
        ("", "at least one domain"),
    ];
    for (domains, want) in cases {
        let res = app
            .post_form("/businesses", &[("name", "X"), ("domains", domains)])
            .await;
        assert_eq!(
            res.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{domains:?}"
        );
        let body = res.text().await.unwrap();
        assert!(body.contains(want), "{domains:?}: {want} missing");
    }
    let res = app
        .post_form("/businesses", &[("name", " "), ("domains", "acme.com")])
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = app
        .post_form(
            "/contacts",
            &[("name", "Ann"), ("addresses", "ann at acme")],
        )
        .await;
    crate::support::assert_form_error(res, "ann at acme: enter an email address").await;
    assert!(app
        .get_html("/businesses")
        .await
        .contains("No businesses yet."));
    let res = app
        .post_form_with("/businesses", None, &[("name", "X"), ("domains", "x.com")])
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN, "CSRF token required");
}

#[tokio::test]
async fn members_edit_but_do_not_delete() {
    let app = TestApp::spawn_admin().await;
    app.create_user("mia@acme.test", "mia password", false)
        .await;
    let mia = app.other_browser();
    assert_eq!(
        mia.sign_in("mia@acme.test", "mia password").await.status(),
        StatusCode::SEE_OTHER
    );
    let b = create(
        &mia,
        "/businesses",
        &[("name", "Acme"), ("domains", "acme.com")],
    )
    .await;
    let c = create(
        &mia,
        "/contacts",
        &[("name", "Ann"), ("addresses", "ann@acme.com")],
    )
    .await;
    let res = mia
        .post_form(
            &format!("/businesses/{b}"),
            &[("name", "Acme 2"), ("domains", "acme.com")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let page = mia.get_html(&format!("/businesses/{b}")).await;
    assert!(
        !page.contains(&format!("/businesses/{b}/delete")),
        "members see no delete button"
    );
    for path in [
        format!("/businesses/{b}/delete"),
        format!("/contacts/{c}/delete"),
    ] {
        assert_eq!(
            mia.get(&path).await.status(),
            StatusCode::FORBIDDEN,
            "{path}"
        );
        let res = mia.post_form(&path, &[]).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{path}");
    }
    mia.get_html(&format!("/businesses/{b}")).await;
    mia.get_html(&format!("/contacts/{c}")).await;
}

#[tokio::test]
async fn other_organizations_ids_are_not_found() {
    use threadline::db::{directory, organizations};
    let app = TestApp::spawn_admin().await;
    let other = organizations::create(&app.db, "Other").await.unwrap();
    let b = directory::create_business(&app.db, other.id, "Theirs", &["theirs.com".into()])
        .await
        .unwrap()
        .id;
    let c = directory::create_contact(
        &app.db,
        other.id,
        Some(b),
        "Tom",
        &["tom@theirs.com".into()],
    )
    .await
    .unwrap()
    .id;
    for base in [format!("/businesses/{b}"), format!("/contacts/{c}")] {
        for path in [
            base.clone(),
            format!("{base}/edit"),
            format!("{base}/delete"),
        ] {
            assert_eq!(
                app.get(&path).await.status(),
                StatusCode::NOT_FOUND,
                "GET {path}"
            );
        }
        let fields = [
            ("name", "Mine"),
            ("domains", "mine.com"),
            ("addresses", "me@mine.com"),
        ];
        let res = app.post_form(&base, &fields).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "POST {base}");
        let res = app.post_form(&format!("{base}/delete"), &[]).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "POST {base}/delete");
    }
    let b_s = b.to_string();
    let res = app
        .post_form(
            "/contacts",
            &[
                ("name", "Ann"),
                ("addresses", "ann@x.com"),
                ("business_id", b_s.as_str()),
            ],
        )
        .await;
    crate::support::assert_form_error(res, "choose a business from the list").await;
    // The same domain and address are free in this organization.
    create(
        &app,
        "/businesses",
        &[("name", "Ours"), ("domains", "theirs.com")],
    )
    .await;
    create(
        &app,
        "/contacts",
        &[("name", "Tom"), ("addresses", "tom@theirs.com")],
    )
    .await;
    assert!(!app.get_html("/businesses").await.contains("Theirs"));
}
