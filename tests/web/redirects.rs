//! `next` and `back` send the browser only to a path on this site: a tab, CR or LF (raw or
//! percent-encoded), a backslash, an encoded `/` or `\`, a scheme, an absolute or a
//! scheme-relative URL all fall back to a page of ours, for signed-in and signed-out users
//! alike, and none of them is ever a 500.
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use threadline::db::entities::{email_links, emails};
use threadline::sync::sync_account;

use crate::directory::create;
use crate::mailbox_fixtures::{all_accounts, linked_app, GMAIL};
use crate::support::{csrf_in, location, TestApp, ADMIN_EMAIL, ADMIN_PASSWORD};

/// Values of `next` / `back` as the server receives them (decoded from the query or form).
const OFF_SITE: &[&str] = &[
    "/\t/attacker.example/x",
    "/\r/attacker.example/x",
    "/\n/attacker.example/x",
    "/\r\nSet-Cookie: a=b",
    "\t//attacker.example",
    "/%09/attacker.example/x",
    "/%0d/attacker.example/x",
    "/%0A/attacker.example/x",
    "/%0d%0aSet-Cookie:%20a=b",
    "/%2F%2Fattacker.example",
    "/%2fattacker.example",
    "/%5Cattacker.example",
    "/%5c%5cattacker.example",
    "/\\attacker.example",
    "//attacker.example/x",
    "///attacker.example/x",
    "https://attacker.example/x",
    "http:attacker.example",
    "javascript:alert(1)",
    "attacker.example",
    "/\u{7f}",
    "/caf\u{e9}",
];

/// A local path that passes through unchanged.
const LOCAL: &str = "/admin/users?tab=1";

#[tokio::test]
async fn sign_in_pages_never_send_anyone_off_site() {
    let app = TestApp::spawn_admin().await;
    let browser = app.other_browser();
    for bad in OFF_SITE {
        // Signed out: the form, carrying `/` instead of the value.
        let res = browser
            .client
            .get(browser.url("/login"))
            .query(&[("next", bad)])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK, "GET /login?next={bad:?}");
        let html = res.text().await.unwrap();
        assert!(html.contains(r#"name="next" value="/""#), "{bad:?}: {html}");
        // Signing in with it: home.
        let res = browser
            .post_form_with(
                "/login",
                Some(&csrf_in(&html)),
                &[
                    ("email", ADMIN_EMAIL),
                    ("password", ADMIN_PASSWORD),
                    ("next", bad),
                ],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "POST /login {bad:?}");
        assert_eq!(location(&res), "/", "POST /login next={bad:?}");
        // Signed in: straight home.
        let res = browser
            .client
            .get(browser.url("/login"))
            .query(&[("next", bad)])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "GET /login {bad:?}");
        assert_eq!(location(&res), "/", "signed-in GET /login?next={bad:?}");
        browser.sign_out().await;
    }
    // Raw (undecodable) query bytes: never a 500 either.
    for raw in [
        "next=/%0d%0a",
        "next=%FF%FE",
        "next=/%E2%80%AE",
        "next=%%0a",
    ] {
        let res = app.get(&format!("/login?{raw}")).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{raw}");
        assert_eq!(location(&res), "/", "{raw}");
    }
    // A path of ours is kept, signed in and out.
    let res = browser
        .client
        .get(browser.url("/login"))
        .query(&[("next", LOCAL)])
        .send()
        .await
        .unwrap();
    let html = res.text().await.unwrap();
    assert!(
        html.contains(r#"name="next" value="/admin/users?tab=1""#),
        "{html}"
    );
    let res = browser
        .post_form(
            "/login",
            &[
                ("email", ADMIN_EMAIL),
                ("password", ADMIN_PASSWORD),
                ("next", LOCAL),
            ],
        )
        .await;
    assert_eq!(location(&res), LOCAL);
    let res = browser
        .client
        .get(browser.url("/login"))
        .query(&[("next", LOCAL)])
        .send()
        .await
        .unwrap();
    assert_eq!(location(&res), LOCAL);
}

/// Link and unlink return to `back` only when it is a path of ours, else to the record's page.
#[tokio::test]
async fn link_and_unlink_return_only_to_local_paths() {
    let app = linked_app().await;
    app.deliver_gmail(
        GMAIL,
        "From: Bo <bo@customer.test>\r\nTo: ada@gmail-user.test\r\nSubject: Hello\r\n\
         Message-ID: <hello-1@customer.test>\r\nDate: Fri, 20 Nov 2026 10:00:00 +0000\r\n\r\nHi\r\n",
        "INBOX",
        None,
    )
    .await;
    let account = all_accounts(&app).await.remove(0);
    sync_account(&app.deps, account.id).await.unwrap();
    let email = emails::Entity::find()
        .one(&app.db)
        .await
        .unwrap()
        .unwrap()
        .id;
    let business = create(
        &app,
        "/businesses",
        &[("name", "Initech"), ("domains", "initech.test")],
    )
    .await;
    let target = format!("business:{business}");
    let fallback = format!("/businesses/{business}");
    let good = format!("/emails/{email}");
    let cases = OFF_SITE
        .iter()
        .map(|b| ((*b).to_string(), fallback.clone()))
        .chain([(good.clone(), good.clone())]);
    for (back, want) in cases {
        let res = app
            .post_form(
                &format!("/emails/{email}/links"),
                &[("target", &target), ("scope", "email"), ("back", &back)],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "link back={back:?}");
        assert_eq!(location(&res), want, "link back={back:?}");
        let link = email_links::Entity::find()
            .filter(email_links::Column::EmailId.eq(email))
            .filter(email_links::Column::BusinessId.eq(business))
            .filter(email_links::Column::Tombstone.eq(false))
            .one(&app.db)
            .await
            .unwrap()
            .expect("linked")
            .id;
        let res = app
            .post_form(
                &format!("/emails/{email}/links/{link}/delete"),
                &[("back", &back)],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "unlink back={back:?}");
        assert_eq!(location(&res), want, "unlink back={back:?}");
    }
}
