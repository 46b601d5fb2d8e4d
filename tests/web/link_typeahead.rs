//! Linking from the email page: the typeahead finds only the organization's own businesses and
//! contacts (a bounded list), the form links an email or its whole thread by hand with and
//! without JavaScript, and link / unlink re-render the links section in place for htmx.
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use threadline::db::entities::emails;
use threadline::db::{directory, organizations};
use threadline::sync::sync_account;

use crate::mailbox_fixtures::{all_accounts, linked_app, GMAIL};
use crate::support::inspect::Link;
use crate::support::{location, TestApp};

async fn deliver(app: &TestApp, raw: &str) {
    app.deliver_gmail(GMAIL, raw.to_string(), "INBOX", None)
        .await;
}

/// A synced thread of two emails from an address no record knows; returns their ids.
async fn unlinked_thread(app: &TestApp) -> (i64, i64) {
    deliver(
        app,
        &format!(
            "From: Wes <wes@northwind.test>\r\nTo: {GMAIL}\r\nSubject: Pallets\r\n\
             Message-ID: <p1@northwind.test>\r\nDate: Fri, 20 Nov 2026 10:00:00 +0000\r\n\r\nHi.\r\n"
        ),
    )
    .await;
    deliver(
        app,
        &format!(
            "From: Wes <wes@northwind.test>\r\nTo: {GMAIL}\r\nSubject: Re: Pallets\r\n\
             Message-ID: <p2@northwind.test>\r\nIn-Reply-To: <p1@northwind.test>\r\n\
             Date: Fri, 20 Nov 2026 11:00:00 +0000\r\n\r\nAgain.\r\n"
        ),
    )
    .await;
    let account = all_accounts(app).await.remove(0);
    sync_account(&app.deps, account.id).await.unwrap();
    let id = |subject: &'static str| async move {
        emails::Entity::find()
            .filter(emails::Column::Subject.eq(subject))
            .one(&app.db)
            .await
            .unwrap()
            .expect("synced")
            .id
    };
    (id("Pallets").await, id("Re: Pallets").await)
}

/// Every live link of an email.
async fn live_links(app: &TestApp, email: i64) -> Vec<Link> {
    crate::support::inspect::email_links_of(&app.db, email, true).await
}

fn radio_values(html: &str) -> Vec<String> {
    regex::Regex::new(r#"type="radio" name="target" value="([a-z]+:\d+)""#)
        .unwrap()
        .captures_iter(html)
        .map(|c| c[1].to_string())
        .collect()
}

#[tokio::test]
async fn the_typeahead_offers_only_the_organizations_own_records_and_a_bounded_list() {
    let app = linked_app().await;
    let org = organizations::first(&app.db).await.unwrap().unwrap().id;
    let ours = directory::create_business(&app.db, org, "Northwind", &["northwind.test".into()])
        .await
        .unwrap();
    let other = organizations::create(&app.db, "Other").await.unwrap();
    let theirs =
        directory::create_business(&app.db, other.id, "Northstar", &["northstar.test".into()])
            .await
            .unwrap();

    let html = app.get_html("/link-targets?q=north").await;
    assert_eq!(
        radio_values(&html),
        vec![format!("business:{}", ours.id)],
        "{html}"
    );
    assert!(html.contains("Northwind") && html.contains("northwind.test"));
    assert!(!html.contains("Northstar"), "{html}");
    // Their record is not found even by its exact domain.
    let html = app.get_html("/link-targets?q=northstar.test").await;
    assert!(radio_values(&html).is_empty(), "{html}");
    assert!(html.contains("No business or contact matches “northstar.test”."));
    let html = app.get_html("/link-targets?q=").await;
    assert!(!html.contains(&format!("business:{}", theirs.id)), "{html}");

    // However many match, the answer stays short.
    for i in 0..12 {
        let domain = format!("many{i:02}.test");
        directory::create_business(&app.db, org, &format!("Many {i:02}"), &[domain])
            .await
            .unwrap();
    }
    let html = app.get_html("/link-targets?q=many").await;
    assert_eq!(radio_values(&html).len(), 8, "{html}");
    assert!(html.contains("Many 00") && !html.contains("Many 11"));
}

#[tokio::test]
async fn the_email_page_links_by_hand_without_javascript() {
    let app = linked_app().await;
    let org = organizations::first(&app.db).await.unwrap().unwrap().id;
    let (first, reply) = unlinked_thread(&app).await;
    let page = app.get_html(&format!("/emails/{first}")).await;
    assert!(
        page.contains("Not linked to any business or contact."),
        "{page}"
    );
    assert!(page.contains(r#"hx-get="/link-targets""#));
    assert!(radio_values(&page).is_empty(), "no choices before a search");

    let business = directory::create_business(&app.db, org, "Northwind", &["nw-hq.test".into()])
        .await
        .unwrap();
    // The search form's plain GET renders the choices in the page itself.
    let page = app.get_html(&format!("/emails/{first}?q=northw")).await;
    let target = format!("business:{}", business.id);
    assert_eq!(radio_values(&page), vec![target.clone()], "{page}");
    assert!(page.contains(&format!(r#"action="/emails/{first}/links""#)));

    let back = format!("/emails/{first}");
    let res = app
        .post_form(
            &format!("/emails/{first}/links"),
            &[("target", &target), ("scope", "thread"), ("back", &back)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), back);
    let manual = vec![Link::business(business.id, "manual")];
    assert_eq!(live_links(&app, first).await, manual);
    assert_eq!(live_links(&app, reply).await, manual, "the whole thread");
    let page = app.get_html(&back).await;
    assert!(
        page.contains(&format!(
            r#"href="/businesses/{}">Northwind</a>"#,
            business.id
        )),
        "{page}"
    );
    assert!(page.contains("linked by hand") && page.contains("Unlink"));
    assert!(app.get_html("/admin/audit").await.contains("email.link"));

    // Submitting without a choice changes nothing.
    let res = app
        .post_form(
            &format!("/emails/{reply}/links"),
            &[("scope", "email"), ("back", &back)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn htmx_link_and_unlink_swap_the_links_section_in_place() {
    let app = linked_app().await;
    let org = organizations::first(&app.db).await.unwrap().unwrap().id;
    let (first, reply) = unlinked_thread(&app).await;
    let contact = directory::create_contact(
        &app.db,
        org,
        None,
        "Wes West",
        &["wes@elsewhere.test".into()],
    )
    .await
    .unwrap();
    let target = format!("contact:{}", contact.id);

    let res = app
        .htmx_post(
            &format!("/emails/{first}/links"),
            Some("email-links"),
            &[("target", &target), ("scope", "email")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let fragment = res.text().await.unwrap();
    assert!(
        fragment.starts_with(r#"<section class="card email-links" id="email-links">"#),
        "{fragment}"
    );
    assert!(!fragment.contains("<html"), "a fragment, not a page");
    assert!(fragment.contains("Wes West") && fragment.contains("Linked."));
    assert_eq!(
        live_links(&app, first).await,
        vec![Link::contact(contact.id, "manual")]
    );
    assert!(live_links(&app, reply).await.is_empty(), "this email only");

    let link_id = regex::Regex::new(&format!(r"/emails/{first}/links/(\d+)/delete"))
        .unwrap()
        .captures(&fragment)
        .unwrap_or_else(|| panic!("{fragment}"))[1]
        .to_string();
    let res = app
        .htmx_post(
            &format!("/emails/{first}/links/{link_id}/delete"),
            Some("email-links"),
            &[("back", &format!("/emails/{first}"))],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let fragment = res.text().await.unwrap();
    assert!(fragment.contains("Unlinked.") && !fragment.contains("Wes West"));
    assert!(fragment.contains("Not linked to any business or contact."));
    assert!(live_links(&app, first).await.is_empty());

    // A colleague sees the email only while it is linked: unlinking its last link sends them
    // to the contact's page, since the email page would now be "not found".
    app.htmx_post(
        &format!("/emails/{first}/links"),
        Some("email-links"),
        &[("target", &target)],
    )
    .await;
    app.create_user("bea@acme.test", "a long enough password 1", false)
        .await;
    let bea = app.other_browser();
    bea.sign_in("bea@acme.test", "a long enough password 1")
        .await;
    let page = bea.get_html(&format!("/emails/{first}")).await;
    let link_id = regex::Regex::new(&format!(r"/emails/{first}/links/(\d+)/delete"))
        .unwrap()
        .captures(&page)
        .unwrap()[1]
        .to_string();
    let res = bea
        .htmx_post(
            &format!("/emails/{first}/links/{link_id}/delete"),
            Some("email-links"),
            &[("back", &format!("/emails/{first}"))],
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        res.headers()["hx-redirect"],
        format!("/contacts/{}", contact.id).as_str()
    );
    assert_eq!(
        bea.get(&format!("/emails/{first}")).await.status(),
        StatusCode::NOT_FOUND
    );
}
