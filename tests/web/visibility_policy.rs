//! The organization's visibility policy and who sets a mailbox's level: an owner within the
//! maximum (a form error above it, nothing changed), an admin on the mailbox console within
//! the policy, lowering the maximum lowers the mailboxes above it; every change audited; a new
//! mailbox starts at the default.
use reqwest::StatusCode;
use threadline::db::mail_accounts::{self, NewAccount};
use threadline::db::visibility;
use threadline::domain::provider::Provider;
use threadline::domain::visibility::Level;

use crate::support::{assert_form_error, TestApp};
use crate::visibility_world as world;

const PASSWORD: &str = "a long enough password 1";

async fn level_of(app: &TestApp, org: i64, account: i64) -> Level {
    visibility::mailbox(&app.db, org, account)
        .await
        .unwrap()
        .unwrap()
        .level
}

async fn actions(app: &TestApp, org: i64) -> Vec<(String, String)> {
    threadline::db::audit::list(&app.db, org, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.action, e.detail))
        .collect()
}

#[tokio::test]
async fn owners_choose_within_the_maximum_and_lowering_it_lowers_mailboxes() {
    let app = TestApp::spawn_admin().await;
    let owen_id = app.create_user("owen@acme.test", PASSWORD, false).await;
    let owen = app.other_browser();
    owen.sign_in("owen@acme.test", PASSWORD).await;
    let bea = app.member_browser("bea@acme.test", PASSWORD).await;
    let org = threadline::db::organizations::first(&app.db)
        .await
        .unwrap()
        .unwrap()
        .id;
    let full = world::mailbox(&app.db, org, Some(owen_id), "owen@acme.test", "full").await;
    let private = world::mailbox(&app.db, org, Some(owen_id), "owen-p@acme.test", "private").await;

    // The owner's mailbox page offers the levels; the owner picks one.
    let page = owen.get_html(&format!("/mailboxes/{full}")).await;
    assert!(page.contains("What colleagues see"), "{page}");
    let res = owen
        .post_form(
            &format!("/mailboxes/{full}/visibility"),
            &[("level", "subject")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(level_of(&app, org, full).await, Level::Subject);
    // Without the CSRF token, or from a colleague: nothing changes.
    let res = owen
        .post_form_with(
            &format!("/mailboxes/{full}/visibility"),
            None,
            &[("level", "full")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = bea
        .post_form(
            &format!("/mailboxes/{full}/visibility"),
            &[("level", "full")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(level_of(&app, org, full).await, Level::Subject);
    let res = owen
        .post_form(
            &format!("/mailboxes/{full}/visibility"),
            &[("level", "full")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);

    // The admin lowers the maximum to subject (default metadata): the full mailbox follows.
    let settings = app.get_html("/settings").await;
    assert!(settings.contains("Highest level an owner may choose"));
    let res = app
        .post_form(
            "/settings/visibility",
            &[("default", "subject"), ("max", "metadata")],
        )
        .await;
    assert_form_error(res, "the default cannot be above the maximum").await;
    assert_eq!(
        level_of(&app, org, full).await,
        Level::Full,
        "nothing changed"
    );
    let res = app
        .post_form(
            "/settings/visibility",
            &[("default", "metadata"), ("max", "subject")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(level_of(&app, org, full).await, Level::Subject);
    assert_eq!(level_of(&app, org, private).await, Level::Private);
    let policy = visibility::policy(&app.db, org).await.unwrap();
    assert_eq!(
        (policy.default, policy.max),
        (Level::Metadata, Level::Subject)
    );
    // A member cannot change the policy.
    let res = bea
        .post_form(
            "/settings/visibility",
            &[("default", "full"), ("max", "full")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(visibility::policy(&app.db, org).await.unwrap(), policy);

    // Above the maximum: a form error, nothing changed.
    let res = owen
        .post_form(
            &format!("/mailboxes/{full}/visibility"),
            &[("level", "full")],
        )
        .await;
    assert_form_error(res, "the organization allows at most subject").await;
    assert_eq!(level_of(&app, org, full).await, Level::Subject);
    let page = owen.get_html(&format!("/mailboxes/{full}")).await;
    assert!(
        page.contains("above the organization&#x27;s maximum")
            || page.contains("above the organization's maximum"),
        "{page}"
    );

    // The admin console: one column, within the policy.
    let console = app.get_html("/admin/mailboxes").await;
    assert!(
        console.contains(&format!("/admin/mailboxes/{full}/visibility")),
        "{console}"
    );
    let res = app
        .post_form(
            &format!("/admin/mailboxes/{private}/visibility"),
            &[("level", "full")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(level_of(&app, org, private).await, Level::Private);
    let res = app
        .post_form(
            &format!("/admin/mailboxes/{private}/visibility"),
            &[("level", "metadata")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(level_of(&app, org, private).await, Level::Metadata);
    let res = bea
        .post_form(
            &format!("/admin/mailboxes/{private}/visibility"),
            &[("level", "private")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(level_of(&app, org, private).await, Level::Metadata);

    // A new mailbox starts at the default.
    let new = mail_accounts::insert(
        &app.db,
        NewAccount {
            organization_id: org,
            owner_user_id: owen_id,
            provider: Provider::Google,
            address: "owen-new@acme.test",
            display_name: "Owen",
        },
    )
    .await
    .unwrap();
    assert_eq!(level_of(&app, org, new.id).await, Level::Metadata);

    // Every change is in the audit log, with who and what.
    let log = actions(&app, org).await;
    let count = |action: &str| log.iter().filter(|(a, _)| a == action).count();
    assert_eq!(count("mailbox.visibility"), 3, "{log:?}");
    assert_eq!(count("visibility.policy"), 1, "{log:?}");
    assert!(
        log.iter().any(|(a, d)| a == "visibility.policy"
            && d.contains("maximum full -> subject")
            && d.contains("1 mailbox(es) lowered")),
        "{log:?}"
    );
    assert!(
        log.iter().any(|(a, d)| a == "mailbox.visibility"
            && d.contains("owen-p@acme.test: private -> metadata")),
        "{log:?}"
    );
}
