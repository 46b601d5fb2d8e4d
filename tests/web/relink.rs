//! Retroactive re-association and manual links through the web app: directory edits bring
//! stored mail in and take out only what they produced, a preview's counts are what Apply
//! does, unlinks stick, big edits run as a job with progress, other organizations get 404.
use crate::seed::{self, Plan};
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use threadline::db::entities::{email_links, emails, jobs};
use threadline::db::links::recent::{self, LinkedCount};
use threadline::db::timeline::Reader;
use threadline::db::{directory, organizations};
use threadline::domain::association::Target;
use threadline::reassociation::job;

use crate::directory::create;
use crate::support::{location, TestApp};

/// Stored mail without links: email `i` (1..=n) is "Bench mail i" from
/// `u{i % 50}@benchco{i % domains}.com`; emails 1..=heavy copy `ops@heavyco.com`.
async fn seeded(n: u64, domains: u64, heavy: u64) -> (TestApp, i64) {
    let app = TestApp::spawn_admin().await;
    let org = organizations::first(&app.db).await.unwrap().unwrap().id;
    let plan = Plan {
        emails: n,
        domains,
        heavy,
        businesses: false,
    };
    seed::seed(&app.db, org, plan).await.unwrap();
    (app, org)
}

async fn email_id(app: &TestApp, i: u64) -> i64 {
    emails::Entity::find()
        .filter(emails::Column::Subject.eq(format!("Bench mail {i}")))
        .one(&app.db)
        .await
        .unwrap()
        .expect("seeded")
        .id
}

/// `(bench email number, source, reason, tombstone)` of a business's links, sorted.
async fn links_of(app: &TestApp, business: i64) -> Vec<(i64, String, String, bool)> {
    let rows = email_links::Entity::find()
        .filter(email_links::Column::BusinessId.eq(business))
        .all(&app.db)
        .await
        .unwrap();
    let mut out = Vec::new();
    for l in rows {
        let e = emails::Entity::find_by_id(l.email_id)
            .one(&app.db)
            .await
            .unwrap()
            .unwrap();
        out.push((
            e.size_bytes,
            l.source.to_string(),
            l.reason.to_string(),
            l.tombstone,
        ));
    }
    out.sort();
    out
}

fn live(links: &[(i64, String, String, bool)]) -> Vec<i64> {
    links.iter().filter(|l| !l.3).map(|l| l.0).collect()
}

/// The preview's `(gain, lose)` counts.
fn preview_counts(html: &str) -> (u64, u64) {
    let grab = |id: &str| {
        let start = html.find(&format!("id=\"{id}\">")).expect(id) + id.len() + 6;
        let end = start + html[start..].find('<').unwrap();
        html[start..end].parse().unwrap()
    };
    (grab("preview-gain"), grab("preview-lose"))
}

async fn preview(app: &TestApp, path: &str, fields: &[(&str, &str)]) -> String {
    let res = app.post_form(&format!("{path}/preview"), fields).await;
    assert_eq!(res.status(), StatusCode::OK, "preview {path}");
    res.text().await.unwrap()
}

async fn apply(app: &TestApp, path: &str, fields: &[(&str, &str)]) {
    let res = app.post_form(path, fields).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "apply {path}");
}

async fn post(app: &TestApp, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
    app.post_form(path, fields).await
}

#[tokio::test]
async fn business_domains_bring_mail_in_and_take_out_only_their_links() {
    let (app, _) = seeded(9, 3, 0).await;
    // benchco1: emails 1 4 7; benchco2: 2 5 8; benchco0: 3 6 9.
    let id = create(
        &app,
        "/businesses",
        &[("name", "Acme"), ("domains", "benchco1.com"), ("notes", "")],
    )
    .await;
    assert_eq!(
        live(&links_of(&app, id).await),
        vec![1, 4, 7],
        "old mail comes in"
    );
    let page = app.get_html(&format!("/businesses/{id}")).await;
    assert!(
        page.contains("Bench mail 4") && page.contains("(3 linked emails)"),
        "{page}"
    );
    // The page counts no further than it must: past a few links per message it says "at
    // least", past the cap "more than".
    let org = organizations::first(&app.db).await.unwrap().unwrap().id;
    let user = threadline::db::entities::users::Entity::find()
        .one(&app.db)
        .await
        .unwrap()
        .unwrap()
        .id;
    let reader = Reader {
        organization_id: org,
        user_id: user,
    };
    let acme = Target::Business(id);
    let count = |cap| recent::count_up_to(&app.db, reader, acme, cap);
    assert_eq!(count(10).await.unwrap(), LinkedCount::Exactly(3));
    assert_eq!(count(1).await.unwrap(), LinkedCount::Exactly(3));
    assert_eq!(count(0).await.unwrap(), LinkedCount::AtLeast(2));
    let other = Reader {
        organization_id: org + 1,
        ..reader
    };
    assert_eq!(
        recent::count_up_to(&app.db, other, acme, 10).await.unwrap(),
        LinkedCount::Exactly(0)
    );

    // Preview adding a domain: counts shown, nothing saved yet.
    let path = format!("/businesses/{id}");
    let two = [
        ("name", "Acme"),
        ("domains", "benchco1.com\nbenchco2.com"),
        ("notes", ""),
    ];
    let html = preview(&app, &path, &two).await;
    assert_eq!(preview_counts(&html), (3, 0), "{html}");
    assert!(html.contains("Apply") && html.contains("benchco1.com\nbenchco2.com"));
    assert_eq!(live(&links_of(&app, id).await), vec![1, 4, 7]);
    apply(&app, &path, &two).await;
    assert_eq!(live(&links_of(&app, id).await), vec![1, 2, 4, 5, 7, 8]);
    let page = app.get_html(&path).await;
    assert!(
        page.contains("3 gained a link, 0 lost one"),
        "apply did what the preview said"
    );

    // A manual link, and an unlink of an automatic one.
    let (e3, e4) = (email_id(&app, 3).await, email_id(&app, 4).await);
    let res = post(
        &app,
        &format!("/emails/{e3}/links"),
        &[
            ("target", &format!("business:{id}")),
            ("scope", "email"),
            ("back", &path),
        ],
    )
    .await;
    assert_eq!(
        (res.status(), location(&res)),
        (StatusCode::SEE_OTHER, path.clone())
    );
    let auto4 = email_links::Entity::find()
        .filter(email_links::Column::EmailId.eq(e4))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let res = post(
        &app,
        &format!("/emails/{e4}/links/{}/delete", auto4.id),
        &[],
    )
    .await;
    assert_eq!(
        (res.status(), location(&res)),
        (StatusCode::SEE_OTHER, path.clone())
    );
    assert_eq!(live(&links_of(&app, id).await), vec![1, 2, 3, 5, 7, 8]);

    // Removing benchco2 takes out exactly its automatic links.
    let one = [("name", "Acme"), ("domains", "benchco1.com"), ("notes", "")];
    let html = preview(&app, &path, &one).await;
    assert_eq!(preview_counts(&html), (0, 3));
    apply(&app, &path, &one).await;
    assert_eq!(
        live(&links_of(&app, id).await),
        vec![1, 3, 7],
        "manual link stays"
    );

    // Re-association of benchco1 (removed, then added back) never recreates the unlink.
    let none = [("name", "Acme"), ("domains", "benchco0.com"), ("notes", "")];
    apply(&app, &path, &none).await;
    assert_eq!(live(&links_of(&app, id).await), vec![3, 6, 9]);
    apply(&app, &path, &one).await;
    let links = links_of(&app, id).await;
    assert_eq!(live(&links), vec![1, 3, 7]);
    assert!(
        links.contains(&(4, "auto".into(), "domain".into(), true)),
        "{links:?}"
    );

    // Linking by hand lifts the tombstone; a whole thread can be linked.
    let res = post(
        &app,
        &format!("/emails/{e4}/links"),
        &[("target", &format!("business:{id}")), ("scope", "thread")],
    )
    .await;
    assert_eq!(location(&res), path, "back to the target's page");
    assert_eq!(live(&links_of(&app, id).await), vec![1, 3, 4, 7]);
    let audit = app.get_html("/admin/audit").await;
    for action in ["email.link", "email.unlink", "business.update"] {
        assert!(audit.contains(action), "{action} not audited");
    }
}

#[tokio::test]
async fn contact_addresses_and_business_relink_mail() {
    let (app, _) = seeded(9, 3, 0).await;
    let acme = create(
        &app,
        "/businesses",
        &[
            ("name", "Acme"),
            ("domains", "acme.example.com"),
            ("notes", ""),
        ],
    )
    .await;
    let ann = create(
        &app,
        "/contacts",
        &[
            ("name", "Ann"),
            ("addresses", "u1@benchco1.com"),
            ("notes", ""),
            ("business_id", ""),
        ],
    )
    .await;
    let contact_links = |app: &TestApp| {
        let db = app.db.clone();
        async move {
            email_links::Entity::find()
                .filter(email_links::Column::ContactId.eq(ann))
                .filter(email_links::Column::Tombstone.eq(false))
                .all(&db)
                .await
                .unwrap()
                .len()
        }
    };
    assert_eq!(contact_links(&app).await, 1, "u1's old mail comes in");
    let path = format!("/contacts/{ann}");
    let acme_s = acme.to_string();
    let both = [
        ("name", "Ann"),
        ("addresses", "u1@benchco1.com\nu4@benchco1.com"),
        ("notes", ""),
        ("business_id", acme_s.as_str()),
    ];
    let html = preview(&app, &path, &both).await;
    assert_eq!(preview_counts(&html), (2, 0), "{html}");
    apply(&app, &path, &both).await;
    assert_eq!(contact_links(&app).await, 2);
    assert_eq!(
        live(&links_of(&app, acme).await),
        vec![1, 4],
        "the contact's business comes along"
    );
    assert!(app.get_html(&path).await.contains("Bench mail 4"));
    let fewer = [
        ("name", "Ann"),
        ("addresses", "u4@benchco1.com"),
        ("notes", ""),
        ("business_id", acme_s.as_str()),
    ];
    assert_eq!(preview_counts(&preview(&app, &path, &fewer).await), (0, 1));
    apply(&app, &path, &fewer).await;
    assert_eq!(contact_links(&app).await, 1);
    assert_eq!(live(&links_of(&app, acme).await), vec![4]);
    // Deleting the contact takes its business links out too.
    let res = post(&app, &format!("{path}/delete"), &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(live(&links_of(&app, acme).await).is_empty());
}

#[tokio::test]
async fn big_edits_run_as_a_job_with_progress() {
    let (app, _) = seeded(6_000, 3, 6_000).await;
    let id = create(
        &app,
        "/businesses",
        &[("name", "Heavy"), ("domains", "heavyco.com"), ("notes", "")],
    )
    .await;
    assert!(
        live(&links_of(&app, id).await).is_empty(),
        "queued, not inline"
    );
    let page = app.get_html(&format!("/businesses/{id}")).await;
    assert!(page.contains("0 of 6000 emails"), "{page}");
    assert!(page.contains(&format!("hx-get=\"/businesses/{id}/reassociation\"")));
    let done = job::run_next(&app.db, "test-worker")
        .await
        .unwrap()
        .expect("a job ran");
    assert_eq!((done.emails, done.gained, done.lost), (6_000, 6_000, 0));
    assert_eq!(live(&links_of(&app, id).await).len(), 6_000);
    let fragment = app
        .get_html(&format!("/businesses/{id}/reassociation"))
        .await;
    assert!(
        fragment.contains("6000 emails examined, 6000 gained a link"),
        "{fragment}"
    );
    assert!(!fragment.contains("hx-get"), "polling stops when done");
    assert!(job::run_next(&app.db, "test-worker")
        .await
        .unwrap()
        .is_none());
    let row = jobs::Entity::find().one(&app.db).await.unwrap().unwrap();
    assert_eq!(row.state.as_str(), "done");
}

#[tokio::test]
async fn other_organizations_emails_links_and_targets_are_not_found() {
    let (app, _) = seeded(3, 3, 0).await;
    let mine = create(
        &app,
        "/businesses",
        &[("name", "Mine"), ("domains", "benchco1.com"), ("notes", "")],
    )
    .await;
    let other = organizations::create(&app.db, "Other").await.unwrap();
    seed::seed(
        &app.db,
        other.id,
        Plan {
            emails: 3,
            domains: 3,
            heavy: 0,
            businesses: false,
        },
    )
    .await
    .unwrap();
    let theirs = directory::create_business(&app.db, other.id, "Theirs", &["theirs.com".into()])
        .await
        .unwrap()
        .id;
    let their_email = emails::Entity::find()
        .filter(emails::Column::OrganizationId.eq(other.id))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap()
        .id;
    let my_email = emails::Entity::find()
        .filter(emails::Column::OrganizationId.ne(other.id))
        .filter(emails::Column::Subject.eq("Bench mail 1"))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap()
        .id;
    let my_link = email_links::Entity::find()
        .filter(email_links::Column::EmailId.eq(my_email))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap()
        .id;
    let cases = [
        (
            format!("/emails/{their_email}/links"),
            format!("business:{mine}"),
        ),
        (
            format!("/emails/{my_email}/links"),
            format!("business:{theirs}"),
        ),
        (
            format!("/emails/{their_email}/links/{my_link}/delete"),
            String::new(),
        ),
        (format!("/businesses/{theirs}/preview"), String::new()),
    ];
    for (path, target) in cases {
        let res = post(
            &app,
            &path,
            &[("target", &target), ("name", "X"), ("domains", "x.com")],
        )
        .await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "POST {path}");
    }
    let res = app
        .get(&format!("/businesses/{theirs}/reassociation"))
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    // Without the CSRF token the link form is refused.
    let res = app
        .post_form_with(
            &format!("/emails/{my_email}/links"),
            None,
            &[("target", &format!("business:{mine}"))],
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}

/// A business page lists its mail once per message, without soft-deleted mail, and without
/// bulk mail when the organization hides it.
#[tokio::test]
async fn business_pages_leave_out_deleted_and_hidden_bulk_mail() {
    let (app, _org) = seeded(40, 4, 0).await;
    let b = create(
        &app,
        "/businesses",
        &[("name", "Bench Co 1"), ("domains", "benchco1.com")],
    )
    .await;
    let page = app.get_html(&format!("/businesses/{b}")).await;
    let listed = |page: &str| page.matches("Bench mail ").count();
    let before = listed(&page);
    assert_eq!(before, 10, "{page}");

    let first = email_id(&app, 1).await;
    crate::support::inspect::execute(
        &app.db,
        &format!("UPDATE emails SET is_bulk = true WHERE id = {first}"),
    )
    .await;
    crate::support::inspect::execute(&app.db, "UPDATE organizations SET hide_bulk = false").await;
    assert_eq!(listed(&app.get_html(&format!("/businesses/{b}")).await), 10);
    crate::support::inspect::execute(&app.db, "UPDATE organizations SET hide_bulk = true").await;
    assert_eq!(listed(&app.get_html(&format!("/businesses/{b}")).await), 9);

    let fifth = email_id(&app, 5).await;
    crate::support::inspect::execute(
        &app.db,
        &format!("UPDATE emails SET soft_deleted_at = '2026-11-22T00:00:00Z' WHERE id = {fifth}"),
    )
    .await;
    assert_eq!(listed(&app.get_html(&format!("/businesses/{b}")).await), 8);
}
