//! The in-memory directory loaded from the database feeds the association engine: domains,
//! addresses, contacts' businesses, internal domains and the organization's free-mail overrides.
use sea_orm::{ActiveModelTrait, Set};
use threadline::db::directory::businesses::{self, BusinessInput};
use threadline::db::entities::organizations;
use threadline::db::organizations as orgs;
use threadline::db::{directory, users};
use threadline::domain::address::EmailAddress;
use threadline::domain::association::{associate, Link, Reason, Target};
use threadline::domain::domains::Domain;

use crate::support::TestApp;

fn links(dir: &threadline::domain::association::Directory, address: &str) -> Vec<Link> {
    let address = EmailAddress::parse(address).unwrap();
    associate(dir, [&address])
}

#[tokio::test]
async fn loaded_directory_matches_like_the_rules_say() {
    let app = TestApp::spawn_admin().await;
    let org = orgs::first(&app.db).await.unwrap().unwrap();
    let mut row: organizations::ActiveModel = org.clone().into();
    row.free_mail_domains = Set(r#"["acme-mail.net", "-gmx.net"]"#.into());
    row.update(&app.db).await.unwrap();
    let input = BusinessInput {
        name: "Acme".into(),
        notes: String::new(),
        // Rows validation refuses today (free-mail, internal) must still never match.
        domains: ["acme.co.uk", "gmx.net", "acme-mail.net", "ourco.com"]
            .into_iter()
            .map(|d| Domain::parse(d).unwrap())
            .collect(),
    };
    let admin = users::list_in_org(&app.db, org.id).await.unwrap()[0].id;
    let acme = businesses::create(&app.db, org.id, admin, &input)
        .await
        .unwrap();
    let ann = directory::create_contact(
        &app.db,
        org.id,
        Some(acme),
        "Ann",
        &["ann@gmail.com".into()],
    )
    .await
    .unwrap()
    .id;
    directory::add_internal_domain(&app.db, org.id, "ourco.com")
        .await
        .unwrap();
    let other = orgs::create(&app.db, "Other").await.unwrap();
    directory::create_business(&app.db, other.id, "Theirs", &["theirs.com".into()])
        .await
        .unwrap();

    let dir = directory::load(&app.db, org.id).await.unwrap();
    let by_domain = vec![Link {
        target: Target::Business(acme),
        reason: Reason::Domain,
    }];
    assert_eq!(links(&dir, "zed@mail.acme.co.uk"), by_domain);
    assert_eq!(
        links(&dir, "zed@gmx.net"),
        by_domain,
        "removed from the free-mail list"
    );
    assert_eq!(
        links(&dir, "ann@gmail.com"),
        vec![
            Link {
                target: Target::Business(acme),
                reason: Reason::ContactBusiness
            },
            Link {
                target: Target::Contact(ann),
                reason: Reason::Address
            },
        ]
    );
    assert!(links(&dir, "x@acme-mail.net").is_empty() && links(&dir, "x@eu.ourco.com").is_empty());
    assert!(
        links(&dir, "x@theirs.com").is_empty(),
        "other organizations are not loaded"
    );
    assert!(directory::free_mail(&app.db, org.id)
        .await
        .unwrap()
        .contains("acme-mail.net"));
}
