//! Unmatched mail: exactly the live emails with an external participant and no link; triage
//! creates a business (linking its other mail too), a contact, or links to an existing record;
//! other organizations' ids answer 404.
use chrono::TimeZone;
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use threadline::db::directory::{self, correspondents, unmatched};
use threadline::db::entities::{email_links, emails};
use threadline::db::organizations;
use threadline::domain::association::Reason;
use threadline::domain::reassociation::Source;
use threadline::sync::sync_account;

use crate::mailbox_fixtures::{all_accounts, linked_app, GMAIL};
use crate::support::inspect::Link;
use crate::support::mail::approve;
use crate::support::{location, TestApp};

async fn deliver(app: &TestApp, tag: &str, from: &str, minute: u32) {
    // Received when it says it was sent: deliveries in the same millisecond would otherwise
    // tie, and the newest-first order would be the order sync happened to store them in.
    let received = chrono::Utc
        .with_ymd_and_hms(2026, 11, 20, 10, minute, 0)
        .unwrap()
        .timestamp_millis();
    let raw = format!(
        "From: {from}\r\nTo: Ada <{GMAIL}>\r\nSubject: subject-{tag}\r\n\
         Message-ID: <{tag}@test>\r\nDate: Fri, 20 Nov 2026 10:{minute:02}:00 +0000\r\n\r\nHi.\r\n"
    );
    app.deliver_gmail(GMAIL, raw, "INBOX", Some(received)).await;
}

async fn email_id(app: &TestApp, tag: &str) -> i64 {
    emails::Entity::find()
        .filter(emails::Column::Subject.eq(format!("subject-{tag}")))
        .one(&app.db)
        .await
        .unwrap()
        .expect("stored")
        .id
}

async fn links(app: &TestApp, tag: &str) -> Vec<Link> {
    let id = email_id(app, tag).await;
    crate::support::inspect::email_links_of(&app.db, id, false).await
}

/// A synced mailbox: ours is gmail-user.test; known.test is a business.
async fn app_with_mail() -> (TestApp, i64) {
    let app = linked_app().await;
    let org = organizations::first(&app.db).await.unwrap().unwrap().id;
    directory::add_internal_domain(&app.db, org, "gmail-user.test")
        .await
        .unwrap();
    directory::create_business(&app.db, org, "Known", &["known.test".into()])
        .await
        .unwrap();
    deliver(&app, "bo", "Bo Buyer <bo@customer.test>", 1).await;
    deliver(&app, "sub", "Sue <sue@mail.customer.test>", 2).await;
    deliver(&app, "known", "Kim <kim@known.test>", 3).await;
    deliver(&app, "internal", "Colleague <col@gmail-user.test>", 4).await;
    deliver(&app, "free", "Zed <zed@gmail.com>", 5).await;
    let account = all_accounts(&app).await.remove(0);
    sync_account(&app.deps, account.id).await.unwrap();
    (app, org)
}

#[tokio::test]
async fn lists_exactly_the_unlinked_external_mail_and_triage_links_it() {
    let (app, org) = app_with_mail().await;
    let page = app.get_html("/unmatched").await;
    for shown in ["subject-bo", "subject-sub", "subject-free"] {
        assert!(page.contains(shown), "{shown} missing:\n{page}");
    }
    for hidden in ["subject-known", "subject-internal"] {
        assert!(!page.contains(hidden), "{hidden} listed:\n{page}");
    }
    assert!(page.contains("Create business from domain customer.test"));
    assert!(
        page.contains("links 2 unmatched emails"),
        "bo@ and sue@mail. count together"
    );
    assert!(
        !page.contains("Create business from domain gmail.com"),
        "free-mail: contact only"
    );
    assert!(page.contains("Create contact zed@gmail.com"));
    // Newest first.
    assert!(page.find("subject-free").unwrap() < page.find("subject-bo").unwrap());

    // Keyset pages of one correspondent.
    let admin = unmatched::Triager::Admin(admin_id(&app).await);
    let (first, next) = correspondents::page(&app.db, org, admin, None, 1)
        .await
        .unwrap();
    let (second, _) = correspondents::page(&app.db, org, admin, next.as_ref(), 1)
        .await
        .unwrap();
    assert_eq!(first[0].people[0].latest_subject, "subject-free");
    assert_eq!(second[0].people[0].latest_subject, "subject-sub");

    let bo = email_id(&app, "bo").await;
    let sub = email_id(&app, "sub").await;
    let res = app
        .htmx_post(
            &format!("/unmatched/{bo}/business"),
            None,
            &[("name", "Customer"), ("domains", "customer.test")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let body = res.text().await.unwrap();
    assert!(
        body.contains(&format!(r#"id="unmatched-{sub}" hx-swap-oob="delete""#)),
        "the other row from that domain goes too: {body}"
    );
    let business = links(&app, "bo").await[0].business.expect("business link");
    assert_eq!(
        links(&app, "bo").await,
        vec![Link::business(business, "domain")]
    );
    assert_eq!(
        links(&app, "sub").await,
        vec![Link::business(business, "domain")]
    );
    let page = app.get_html("/unmatched").await;
    assert!(
        !page.contains("subject-bo") && !page.contains("subject-sub"),
        "{page}"
    );

    // Link to an existing record, found through the search endpoint.
    let options = app.get_html("/unmatched/targets?q=kno").await;
    assert!(options.contains("Business: Known"), "{options}");
    let known = options.split("value=\"business:").nth(1).unwrap();
    let known: i64 = known[..known.find('"').unwrap()].parse().unwrap();
    let free = email_id(&app, "free").await;
    let target = format!("business:{known}");
    let res = app
        .htmx_post(
            &format!("/unmatched/{free}/link"),
            None,
            &[("target", &target)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        links(&app, "free").await,
        vec![Link::business(known, "manual")]
    );
    let page = app.get_html("/unmatched").await;
    assert!(page.contains("Nothing unmatched"), "{page}");
    assert!(app.get_html("/admin/audit").await.contains("email.link"));
}

#[tokio::test]
async fn triage_creates_a_contact_with_its_business() {
    let (app, _) = app_with_mail().await;
    let free = email_id(&app, "free").await;
    let res = app
        .htmx_post(
            &format!("/unmatched/{free}/contact"),
            None,
            &[("name", "Zed"), ("addresses", "zed@gmail.com")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let l = links(&app, "free").await;
    assert_eq!(l.len(), 1, "{l:?}");
    assert_eq!(l[0].reason, "address");
    // A duplicate address is refused with the owner named.
    let bo = email_id(&app, "bo").await;
    let res = app
        .htmx_post(
            &format!("/unmatched/{bo}/contact"),
            None,
            &[("name", "Zed again"), ("addresses", "zed@gmail.com")],
        )
        .await;
    crate::support::assert_form_error(res, "already belongs to Zed").await;
}

#[tokio::test]
async fn other_organizations_ids_are_not_found() {
    let (app, _) = app_with_mail().await;
    let other = organizations::create(&app.db, "Other").await.unwrap();
    let theirs = directory::create_business(&app.db, other.id, "Theirs", &["theirs.test".into()])
        .await
        .unwrap();
    let bo = email_id(&app, "bo").await;
    let target = format!("business:{}", theirs.id);
    let res = app
        .htmx_post(
            &format!("/unmatched/{bo}/link"),
            None,
            &[("target", &target)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = app
        .htmx_post(
            "/unmatched/999999/business",
            None,
            &[("name", "X"), ("domains", "x-corp.test")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert!(links(&app, "bo").await.is_empty());
    let options = app.get_html("/unmatched/targets?q=theirs").await;
    assert!(!options.contains("Theirs"), "{options}");
}

#[tokio::test]
async fn new_records_never_relink_a_tombstoned_email() {
    use sea_orm::{ActiveModelTrait, Set};
    use threadline::reassociation::triage::link_existing_mail_for_new_business;
    let (app, org) = app_with_mail().await;
    // Created without linking, then someone unlinked "bo" from it.
    let customer = directory::create_business(&app.db, org, "Customer", &["customer.test".into()])
        .await
        .unwrap();
    let (bo, sub) = (email_id(&app, "bo").await, email_id(&app, "sub").await);
    email_links::ActiveModel {
        organization_id: Set(org),
        email_id: Set(bo),
        business_id: Set(Some(customer.id)),
        contact_id: Set(None),
        source: Set(Source::Manual),
        reason: Set(Reason::Manual),
        tombstone: Set(true),
        received_at: Set(threadline::db::now()),
        created_by: Set(None),
        created_at: Set(threadline::db::now()),
        ..Default::default()
    }
    .insert(&app.db)
    .await
    .unwrap();
    let linked = link_existing_mail_for_new_business(&app.db, org, customer.id)
        .await
        .unwrap();
    assert_eq!(linked, vec![sub]);
    assert_eq!(
        links(&app, "bo").await,
        vec![Link::business(customer.id, "manual")]
    );
    let page = app.get_html("/unmatched").await;
    assert!(
        page.contains("subject-bo"),
        "a tombstone is no live link:\n{page}"
    );
    assert!(!page.contains("subject-sub"), "{page}");
}

const BEA: &str = "bea@acme.test";
const BEA_MAILBOX: &str = "other@gmail-user.test";

/// Unlinked mail is its owner's: a member lists and triages only their own mailboxes' mail,
/// an admin the organization's. A member acting on a colleague's unlinked email gets 404 and
/// gains nothing: creating a contact from it does not turn the colleague's email from 404 into
/// a readable page (the escalation found in review).
#[tokio::test]
async fn a_member_sees_and_triages_only_their_own_unlinked_mail() {
    let app = linked_app().await;
    let org = organizations::first(&app.db).await.unwrap().unwrap().id;
    let known = directory::create_business(&app.db, org, "Known", &["known.test".into()])
        .await
        .unwrap()
        .id;
    let bea = app.member_browser(BEA, "bea password 1").await;
    let res = bea.connect("google", approve(BEA_MAILBOX)).await;
    assert_eq!(location(&res), "/mailboxes");
    deliver(&app, "ada-private", "Bo Buyer <bo@customer.test>", 1).await;
    let raw = format!(
        "From: Cy <cy@vendor.test>\r\nTo: Bea <{BEA_MAILBOX}>\r\nSubject: subject-bea-own\r\n\
         Message-ID: <bea-own@test>\r\nDate: Fri, 20 Nov 2026 10:02:00 +0000\r\n\r\nHi.\r\n"
    );
    app.deliver_gmail(BEA_MAILBOX, raw, "INBOX", None).await;
    for account in all_accounts(&app).await {
        sync_account(&app.deps, account.id).await.unwrap();
    }
    let adas = email_id(&app, "ada-private").await;
    let beas = email_id(&app, "bea-own").await;

    let page = bea.get_html("/unmatched").await;
    assert!(page.contains("subject-bea-own"), "{page}");
    for hidden in ["subject-ada-private", "bo@customer.test", "Bo Buyer"] {
        assert!(
            !page.contains(hidden),
            "{hidden} shown to a colleague:\n{page}"
        );
    }
    // Nor does an admin see a colleague's unlinked mail: triage never raises anyone's access.
    let page = app.get_html("/unmatched").await;
    assert!(page.contains("subject-ada-private"), "{page}");
    assert!(!page.contains("subject-bea-own"), "{page}");
    assert!(!page.contains("cy@vendor.test"), "{page}");

    // Every triage action on Ada's email, as a form and with htmx: 404, nothing changes.
    assert_eq!(
        bea.get(&format!("/emails/{adas}")).await.status(),
        StatusCode::NOT_FOUND
    );
    let target = format!("business:{known}");
    assert_eq!(
        app.post_form(&format!("/unmatched/{beas}/link"), &[("target", &target)])
            .await
            .status(),
        StatusCode::NOT_FOUND,
        "an admin cannot triage a colleague's unlinked email"
    );
    assert!(links(&app, "bea-own").await.is_empty());
    let actions: [(&str, Vec<(&str, &str)>); 3] = [
        (
            "contact",
            vec![("name", "Bo Buyer"), ("addresses", "bo@customer.test")],
        ),
        (
            "business",
            vec![("name", "Customer"), ("domains", "customer.test")],
        ),
        ("link", vec![("target", target.as_str())]),
    ];
    for (action, fields) in &actions {
        let path = format!("/unmatched/{adas}/{action}");
        let res = bea.post_form(&path, fields).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "form {path}");
        let res = bea.htmx_post(&path, None, fields).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "htmx {path}");
    }
    assert!(links(&app, "ada-private").await.is_empty());
    let contacts = threadline::db::entities::contacts::Entity::find()
        .all(&app.db)
        .await
        .unwrap();
    assert!(contacts.is_empty(), "{contacts:?}");
    assert_eq!(
        bea.get(&format!("/emails/{adas}")).await.status(),
        StatusCode::NOT_FOUND
    );

    // Her own mail she triages; the admin his own.
    let res = bea
        .post_form(
            &format!("/unmatched/{beas}/contact"),
            &[("name", "Cy"), ("addresses", "cy@vendor.test")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(!links(&app, "bea-own").await.is_empty());
    let res = app
        .post_form(&format!("/unmatched/{adas}/link"), &[("target", &target)])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(!links(&app, "ada-private").await.is_empty());
}

/// A correspondent as a page lists them: address, emails, latest subject.
type Person = (String, u64, String);

/// Occurrences of a correspondent's row (their address as the row shows it).
fn rows_of(page: &str, address: &str) -> usize {
    page.matches(&format!(r#"<span class="muted">{address}</span>"#))
        .count()
}

async fn deliver_to(app: &TestApp, mailbox: &str, tag: &str, from: &str, minute: u32) {
    let received = chrono::Utc
        .with_ymd_and_hms(2026, 11, 20, 10, minute, 0)
        .unwrap()
        .timestamp_millis();
    let raw = format!(
        "From: {from}\r\nTo: Owner <{mailbox}>\r\nSubject: subject-{tag}\r\n\
         Message-ID: <{tag}@test>\r\nDate: Fri, 20 Nov 2026 10:{minute:02}:00 +0000\r\n\r\nHi.\r\n"
    );
    app.deliver_gmail(mailbox, raw, "INBOX", Some(received))
        .await;
}

/// One row per external address with its count and latest subject, people of one business
/// domain under that domain, pages by correspondent; "Link to existing…" links all of a
/// person's unmatched mail at once.
#[tokio::test]
async fn one_row_per_correspondent_grouped_by_domain_and_one_click_per_person() {
    let app = linked_app().await;
    let org = organizations::first(&app.db).await.unwrap().unwrap().id;
    directory::add_internal_domain(&app.db, org, "gmail-user.test")
        .await
        .unwrap();
    let known = directory::create_business(&app.db, org, "Known", &["known.test".into()])
        .await
        .unwrap()
        .id;
    let bo = "Bo Buyer <bo@customer.test>";
    deliver_to(&app, GMAIL, "bo-1", bo, 1).await;
    deliver_to(&app, GMAIL, "bo-2", bo, 2).await;
    deliver_to(&app, GMAIL, "sue-1", "Sue <sue@mail.customer.test>", 3).await;
    deliver_to(&app, GMAIL, "bo-3", bo, 4).await;
    deliver_to(&app, GMAIL, "zed-1", "Zed <zed@gmail.com>", 5).await;
    deliver_to(&app, GMAIL, "zed-2", "Zed <zed@gmail.com>", 6).await;
    for account in all_accounts(&app).await {
        sync_account(&app.deps, account.id).await.unwrap();
    }

    let admin = unmatched::Triager::Admin(admin_id(&app).await);
    let (groups, next) = correspondents::page(&app.db, org, admin, None, 50)
        .await
        .unwrap();
    assert!(next.is_none());
    let shape: Vec<(Option<String>, Vec<Person>)> = groups
        .iter()
        .map(|g| {
            let people = g
                .people
                .iter()
                .map(|p| (p.address.to_string(), p.emails, p.latest_subject.clone()))
                .collect();
            (g.domain.clone(), people)
        })
        .collect();
    assert_eq!(
        shape,
        vec![
            (
                None,
                vec![("zed@gmail.com".into(), 2, "subject-zed-2".into())]
            ),
            (
                Some("customer.test".into()),
                vec![
                    ("bo@customer.test".into(), 3, "subject-bo-3".into()),
                    ("sue@mail.customer.test".into(), 1, "subject-sue-1".into()),
                ]
            ),
        ]
    );
    assert_eq!(groups[1].from_domain, 4);

    let page = app.get_html("/unmatched").await;
    for (address, rows) in [
        ("bo@customer.test", 1),
        ("sue@mail.customer.test", 1),
        ("zed@gmail.com", 1),
    ] {
        assert_eq!(rows_of(&page, address), rows, "{address}:\n{page}");
    }
    assert!(
        page.contains("3 emails") && page.contains("2 emails"),
        "{page}"
    );
    assert!(page.contains("<strong>customer.test</strong>"), "{page}");
    assert!(page.contains("links 4 unmatched emails"), "{page}");
    assert!(
        !page.contains("subject-bo-1"),
        "only the latest subject: {page}"
    );
    assert!(page.contains("/account/exclusions/preview?rule=bo%40customer.test"));

    // Pages of one correspondent: each person once, newest mail first, whatever the page.
    let mut seen = Vec::new();
    let mut cursor = None;
    for _ in 0..10 {
        let (groups, next) = correspondents::page(&app.db, org, admin, cursor.as_ref(), 1)
            .await
            .unwrap();
        for g in groups {
            seen.extend(g.people.into_iter().map(|p| p.address.to_string()));
        }
        cursor = next;
        if cursor.is_none() {
            break;
        }
    }
    assert_eq!(
        seen,
        vec![
            "zed@gmail.com",
            "bo@customer.test",
            "sue@mail.customer.test"
        ]
    );

    // One click links all of Bo's mail (and only his), with htmx removing his row.
    let bo3 = email_id(&app, "bo-3").await;
    let target = format!("business:{known}");
    let fields = [("target", target.as_str()), ("address", "bo@customer.test")];
    let res = app
        .htmx_post(&format!("/unmatched/{bo3}/link"), None, &fields)
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let body = res.text().await.unwrap();
    assert!(
        body.contains(&format!(r#"id="unmatched-{bo3}" hx-swap-oob="delete""#)),
        "{body}"
    );
    for tag in ["bo-1", "bo-2", "bo-3"] {
        assert_eq!(
            links(&app, tag).await,
            vec![Link::business(known, "manual")],
            "{tag}"
        );
    }
    assert!(links(&app, "sue-1").await.is_empty());
    assert!(links(&app, "zed-1").await.is_empty());
    let page = app.get_html("/unmatched").await;
    assert_eq!(rows_of(&page, "bo@customer.test"), 0, "{page}");
    assert_eq!(rows_of(&page, "sue@mail.customer.test"), 1, "{page}");
    assert!(app
        .get_html("/admin/audit")
        .await
        .contains("3 emails of bo@customer.test"));

    // Someone who does not take part in the row's email: 404, nothing linked.
    let sue = email_id(&app, "sue-1").await;
    let fields = [("target", target.as_str()), ("address", "zed@gmail.com")];
    let res = app
        .post_form(&format!("/unmatched/{sue}/link"), &fields)
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert!(links(&app, "zed-1").await.is_empty() && links(&app, "sue-1").await.is_empty());

    // Creating the business from the domain group links the rest of the domain.
    let res = app
        .htmx_post(
            &format!("/unmatched/{sue}/business"),
            None,
            &[("name", "Customer"), ("domains", "customer.test")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let body = res.text().await.unwrap();
    assert!(body.contains(r#"id="unmatched-domain-customer.test" hx-swap-oob="delete""#));
    assert_eq!(links(&app, "sue-1").await.len(), 1);
}

/// A member's person-wide triage reaches only their own mail: a correspondent who also wrote
/// to a colleague keeps the colleague's mail unlinked.
#[tokio::test]
async fn a_members_one_click_links_only_their_own_mail_of_that_person() {
    let app = linked_app().await;
    let org = organizations::first(&app.db).await.unwrap().unwrap().id;
    directory::add_internal_domain(&app.db, org, "gmail-user.test")
        .await
        .unwrap();
    let known = directory::create_business(&app.db, org, "Known", &["known.test".into()])
        .await
        .unwrap()
        .id;
    let bea = app.member_browser(BEA, "bea password 1").await;
    bea.connect("google", approve(BEA_MAILBOX)).await;
    let bo = "Bo Buyer <bo@customer.test>";
    deliver_to(&app, GMAIL, "ada-bo-1", bo, 1).await;
    deliver_to(&app, GMAIL, "ada-bo-2", bo, 2).await;
    deliver_to(&app, BEA_MAILBOX, "bea-bo-1", bo, 3).await;
    for account in all_accounts(&app).await {
        sync_account(&app.deps, account.id).await.unwrap();
    }
    let page = bea.get_html("/unmatched").await;
    assert_eq!(rows_of(&page, "bo@customer.test"), 1, "{page}");
    assert!(
        page.contains("1 email<") && !page.contains("3 emails"),
        "{page}"
    );
    assert!(!page.contains("subject-ada-bo"), "{page}");
    let page = app.get_html("/unmatched").await;
    assert!(
        page.contains("2 emails") && !page.contains("3 emails"),
        "the admin sees his own mail, not the colleague's: {page}"
    );

    // Ada's email with Bo's address: not Bea's to triage.
    let target = format!("business:{known}");
    let fields = [("target", target.as_str()), ("address", "bo@customer.test")];
    let ada2 = email_id(&app, "ada-bo-2").await;
    let res = bea
        .post_form(&format!("/unmatched/{ada2}/link"), &fields)
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert!(links(&app, "ada-bo-2").await.is_empty());

    let beas = email_id(&app, "bea-bo-1").await;
    let res = bea
        .post_form(&format!("/unmatched/{beas}/link"), &fields)
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        links(&app, "bea-bo-1").await,
        vec![Link::business(known, "manual")]
    );
    assert!(links(&app, "ada-bo-1").await.is_empty());
    assert!(links(&app, "ada-bo-2").await.is_empty());
}

/// The signed-in admin's user id (`ADMIN_EMAIL`).
async fn admin_id(app: &TestApp) -> i64 {
    let email =
        threadline::domain::address::EmailAddress::parse(crate::support::ADMIN_EMAIL).unwrap();
    threadline::db::users::find_by_email(&app.db, &email)
        .await
        .unwrap()
        .expect("the admin")
        .id
}
