//! Re-association and manual links at the database level: copies of one message in two
//! mailboxes, thread-wide links, the registrable backfill, preview against apply on a mixed
//! edit, and a newer edit taking a running job's lease.
use crate::seed::{self, Plan};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter};
use threadline::db::directory::businesses::BusinessInput;
use threadline::db::entities::{email_links, email_participants, emails, users};
use threadline::db::links::manual::{self, Scope};
use threadline::db::links::{self, backfill};
use threadline::db::{jobs, organizations};
use threadline::domain::association::Target;
use threadline::domain::domains::Domain;
use threadline::reassociation::{self, job, Edit, Subject};

use crate::support::TestApp;

struct Fixture {
    app: TestApp,
    org: i64,
    admin: i64,
}

async fn fixture(plan: Plan, mailboxes: usize) -> Fixture {
    let app = TestApp::spawn_admin().await;
    let org = organizations::first(&app.db).await.unwrap().unwrap().id;
    let admin = users::Entity::find()
        .one(&app.db)
        .await
        .unwrap()
        .unwrap()
        .id;
    for _ in 0..mailboxes {
        seed::seed(&app.db, org, plan).await.unwrap();
    }
    Fixture { app, org, admin }
}

fn plan(emails: u64, domains: u64, heavy: u64) -> Plan {
    Plan {
        emails,
        domains,
        heavy,
        businesses: false,
    }
}

fn business(name: &str, domains: &[&str]) -> BusinessInput {
    BusinessInput {
        name: name.into(),
        notes: String::new(),
        domains: domains.iter().map(|d| Domain::parse(d).unwrap()).collect(),
    }
}

async fn create(f: &Fixture, input: &BusinessInput) -> i64 {
    let saved = reassociation::save(&f.app.db, f.org, f.admin, Edit::CreateBusiness(input))
        .await
        .unwrap();
    match saved.subject {
        Subject::Business(id) => id,
        Subject::Contact(_) => unreachable!(),
    }
}

async fn live_links(f: &Fixture, business: i64) -> u64 {
    email_links::Entity::find()
        .filter(email_links::Column::BusinessId.eq(business))
        .filter(email_links::Column::Tombstone.eq(false))
        .count(&f.app.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn an_unlink_holds_on_every_copy_and_a_thread_links_whole() {
    let f = fixture(plan(6, 3, 0), 2).await;
    let acme = create(&f, &business("Acme", &["benchco1.com"])).await;
    assert_eq!(
        live_links(&f, acme).await,
        4,
        "emails 1 and 4 in both mailboxes"
    );
    let copies = emails::Entity::find()
        .filter(emails::Column::Subject.eq("Bench mail 1"))
        .all(&f.app.db)
        .await
        .unwrap();
    assert_eq!(copies.len(), 2);
    let link = email_links::Entity::find()
        .filter(email_links::Column::EmailId.eq(copies[0].id))
        .one(&f.app.db)
        .await
        .unwrap()
        .unwrap();
    manual::unlink(&f.app.db, f.org, f.admin, copies[0].id, link.id)
        .await
        .unwrap();
    assert_eq!(
        live_links(&f, acme).await,
        2,
        "both copies of email 1 are unlinked"
    );

    // One thread: emails 2, 3 and 5 of the first mailbox share a thread key.
    let first_box = copies[0].account_id;
    let sql = format!(
        "UPDATE emails SET thread_key = 't' WHERE account_id = {first_box} AND size_bytes IN (2, 3, 5)"
    );
    f.app.db.execute_unprepared(&sql).await.unwrap();
    let two = emails::Entity::find()
        .filter(emails::Column::AccountId.eq(first_box))
        .filter(emails::Column::SizeBytes.eq(2))
        .one(&f.app.db)
        .await
        .unwrap()
        .unwrap();
    let n = manual::link(
        &f.app.db,
        f.org,
        f.admin,
        two.id,
        Target::Business(acme),
        Scope::Thread,
    )
    .await
    .unwrap();
    assert_eq!(n, 3);
    assert_eq!(live_links(&f, acme).await, 5);
    // Unlinking a manual link deletes it.
    let manual_link = email_links::Entity::find()
        .filter(email_links::Column::EmailId.eq(two.id))
        .one(&f.app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(manual_link.source.as_str(), "manual");
    manual::unlink(&f.app.db, f.org, f.admin, two.id, manual_link.id)
        .await
        .unwrap();
    assert!(email_links::Entity::find_by_id(manual_link.id)
        .one(&f.app.db)
        .await
        .unwrap()
        .is_none());
}

#[tokio::test]
async fn backfill_fills_registrable_domains_for_old_rows() {
    let f = fixture(plan(10, 2, 0), 1).await;
    f.app
        .db
        .execute_unprepared("UPDATE email_participants SET registrable = NULL")
        .await
        .unwrap();
    let filled = backfill::run(&f.app.db).await.unwrap();
    assert_eq!(filled, 20);
    let scope = links::Scope {
        registrables: ["benchco1.com".to_string()].into(),
        ..links::Scope::default()
    };
    assert_eq!(
        links::affected(&f.app.db, f.org, &scope, 0)
            .await
            .unwrap()
            .len(),
        5
    );
    let missing = email_participants::Entity::find()
        .filter(email_participants::Column::Registrable.is_null())
        .count(&f.app.db)
        .await
        .unwrap();
    assert_eq!(missing, 0);
    assert_eq!(
        backfill::run(&f.app.db).await.unwrap(),
        0,
        "a no-op once filled"
    );
}

#[tokio::test]
async fn preview_counts_equal_what_apply_does() {
    let f = fixture(plan(300, 5, 40), 1).await;
    let acme = create(&f, &business("Acme", &["benchco1.com", "benchco2.com"])).await;
    let edit = business("Acme", &["benchco2.com", "benchco3.com", "heavyco.com"]);
    let preview =
        reassociation::preview(&f.app.db, f.org, f.admin, Edit::UpdateBusiness(acme, &edit))
            .await
            .unwrap();
    assert_eq!(live_links(&f, acme).await, 120, "a preview saves nothing");
    let saved = reassociation::save(&f.app.db, f.org, f.admin, Edit::UpdateBusiness(acme, &edit))
        .await
        .unwrap();
    assert_eq!(saved.done, Some(preview));
    assert!(preview.gained > 0 && preview.lost > 0, "{preview:?}");
}

#[tokio::test]
async fn a_newer_edit_takes_over_a_running_job() {
    let f = fixture(plan(6_000, 3, 6_000), 1).await;
    let heavy = create(&f, &business("Heavy", &["heavyco.com"])).await;
    let running = jobs::claim(
        &f.app.db,
        job::BUSINESS,
        "old-worker",
        chrono::Duration::minutes(5),
        threadline::db::now(),
    )
    .await
    .unwrap()
    .expect("queued");
    let edit = business("Heavy", &["heavyco.com", "benchco1.com"]);
    reassociation::save(
        &f.app.db,
        f.org,
        f.admin,
        Edit::UpdateBusiness(heavy, &edit),
    )
    .await
    .unwrap();
    let lease = threadline::db::now() + chrono::Duration::minutes(5);
    assert!(
        !jobs::progress(&f.app.db, running.id, "old-worker", "{}".into(), lease)
            .await
            .unwrap(),
        "the old run loses its lease"
    );
    let done = job::run_next(&f.app.db, "new-worker")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(done.emails, 6_000, "the widened scope, from the start");
    assert_eq!(live_links(&f, heavy).await, 6_000);
}
