//! Applying a directory sync plan to the database, on SQLite and PostgreSQL: new mailboxes
//! belong to the organization and follow their directory id; pause and flag, resume and rename
//! keep the row; the run's summary, the connection's stamp and the audit trail; one runner per
//! connection at a time.
use std::collections::{BTreeSet, HashMap};

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use threadline::db::entities::connections::Model as Connection;
use threadline::db::entities::mail_accounts::{self, Entity as MailAccounts, Model as MailAccount};
use threadline::db::{audit, directory_syncs, jobs, org_mailboxes};
use threadline::directory_sync::{self, DirectorySyncError, Trigger, DIRECTORY_SYNC};
use threadline::domain::mailbox::MailboxStatus;
use threadline::domain::selection::{self, DirectoryUser, Listing, Rule, RuleKind, UserState};
use threadline::mailboxes::connections::store::{self, NewConnection, NewCredential};
use threadline::mailboxes::connections::ConnectionKind;
use threadline::providers::Secret;

use reqwest::StatusCode;

use crate::support::{location, TestApp};

async fn connection(app: &TestApp) -> Connection {
    let org = threadline::db::organizations::first(&app.db)
        .await
        .unwrap()
        .expect("org")
        .id;
    // Sealed like any connection (the CLI's start-up key check opens it); never used to reach
    // a directory here: these tests apply plans, they do not read one.
    store::create(
        &app.deps,
        org,
        None,
        &NewConnection {
            name: "contoso".into(),
            kind: ConnectionKind::Microsoft365,
            tenant: "contoso.test".into(),
            client_id: "app".into(),
            credential: NewCredential::Secret(Secret::new("unused-secret-value")),
            admin_address: None,
        },
    )
    .await
    .expect("connection created")
}

fn user(n: usize, state: UserState) -> DirectoryUser {
    DirectoryUser {
        id: format!("00000000-0000-0000-0000-{n:012}"),
        address: format!("u{n}@contoso.test"),
        display_name: format!("User {n}"),
        state,
        has_mailbox: true,
        shared: false,
    }
}

async fn rows(app: &TestApp, c: &Connection) -> Vec<MailAccount> {
    MailAccounts::find()
        .filter(mail_accounts::Column::ConnectionId.eq(c.id))
        .all(&app.db)
        .await
        .unwrap()
}

async fn apply(app: &TestApp, c: &Connection, listing: &Listing) -> directory_sync::Report {
    let rules = [Rule {
        id: 1,
        kind: RuleKind::AllUsers,
        value: String::new(),
    }];
    let current = org_mailboxes::current(&app.db, c.organization_id, c.id)
        .await
        .unwrap();
    let taken = org_mailboxes::taken(
        &app.db,
        c.organization_id,
        threadline::domain::provider::Provider::Microsoft,
        c.id,
    )
    .await
    .unwrap();
    let plan = selection::plan(&rules, listing, &current, &taken);
    directory_sync::apply(&app.deps, c, &plan, Trigger::Cli)
        .await
        .unwrap()
}

#[tokio::test]
async fn plans_apply_to_the_same_rows_with_a_summary_and_an_audit_trail() {
    let app = TestApp::spawn_admin().await;
    let c = connection(&app).await;
    let mut listing = Listing {
        users: (0..4).map(|n| user(n, UserState::Active)).collect(),
        matched: HashMap::new(),
    };
    let report = apply(&app, &c, &listing).await;
    assert_eq!(report.summary.added, 4);
    let first = rows(&app, &c).await;
    assert_eq!(first.len(), 4);
    assert!(first.iter().all(|m| m.owner_user_id.is_none()
        && m.auth_kind == "app_only"
        && m.status == MailboxStatus::Active));
    // Each new mailbox is due for its first sync pass.
    for m in &first {
        assert!(jobs::find(&app.db, jobs::SYNC_ACCOUNT, m.id)
            .await
            .unwrap()
            .is_some());
    }

    // u1 disabled, u2 gone, u3 renamed.
    listing.users[1].state = UserState::Disabled;
    listing.users[3].address = "u3.new@contoso.test".into();
    listing.users.remove(2);
    let report = apply(&app, &c, &listing).await;
    assert_eq!(
        (
            report.summary.paused,
            report.summary.renamed,
            report.summary.added
        ),
        (2, 1, 0)
    );
    let after = rows(&app, &c).await;
    assert_eq!(after.len(), 4, "paused mailboxes and their mail stay");
    let get = |address: &str| {
        after
            .iter()
            .find(|m| m.address == address)
            .cloned()
            .unwrap()
    };
    assert_eq!(
        get("u1@contoso.test").directory_state.as_deref(),
        Some("disabled")
    );
    assert_eq!(
        get("u2@contoso.test").directory_state.as_deref(),
        Some("removed")
    );
    assert_eq!(get("u2@contoso.test").status, MailboxStatus::Paused);
    let u3_before = first
        .iter()
        .find(|m| m.address == "u3@contoso.test")
        .unwrap();
    assert_eq!(get("u3.new@contoso.test").id, u3_before.id);

    // u1 enabled again: resumes.
    listing.users[1].state = UserState::Active;
    let report = apply(&app, &c, &listing).await;
    assert_eq!(report.summary.resumed, 1);
    let u1 = rows(&app, &c)
        .await
        .into_iter()
        .find(|m| m.address == "u1@contoso.test")
        .unwrap();
    assert_eq!(
        (u1.status, u1.directory_state.as_deref()),
        (MailboxStatus::Active, Some("active"))
    );

    // The last run, the connection's stamp, the audit trail.
    let last = directory_syncs::last(&app.db, c.organization_id, c.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(directory_syncs::summary(&last).resumed, 1);
    let stamped = threadline::db::connections::find(&app.db, c.organization_id, c.id)
        .await
        .unwrap()
        .unwrap();
    assert!(stamped.last_directory_sync_at.is_some());
    let trail = audit::list(&app.db, c.organization_id, 100).await.unwrap();
    let actions: BTreeSet<&str> = trail.iter().map(|e| e.action.as_str()).collect();
    for want in [
        "directory_sync.added",
        "directory_sync.paused",
        "directory_sync.renamed",
        "directory_sync.resumed",
        "directory_sync.run",
    ] {
        assert!(actions.contains(want), "{want} in {actions:?}");
    }
}

#[tokio::test]
async fn one_runner_per_connection_at_a_time() {
    let app = TestApp::spawn_admin().await;
    let c = connection(&app).await;
    // Another instance holds the connection's directory sync.
    jobs::ensure(
        &app.db,
        c.organization_id,
        DIRECTORY_SYNC,
        c.id,
        threadline::db::now(),
    )
    .await
    .unwrap();
    let job = jobs::find(&app.db, DIRECTORY_SYNC, c.id)
        .await
        .unwrap()
        .unwrap();
    let held = jobs::claim_id(
        &app.db,
        job.id,
        "other-instance",
        chrono::Duration::minutes(5),
    )
    .await
    .unwrap();
    assert!(held.is_some());
    let err = directory_sync::run_now(&app.deps, &c, Trigger::Cli, "this-instance")
        .await
        .unwrap_err();
    assert!(matches!(err, DirectorySyncError::Busy), "{err}");
    // Released, the next one runs (no rules yet: nothing to do, nothing read).
    jobs::complete(
        &app.db,
        job.id,
        "other-instance",
        threadline::db::now(),
        None,
    )
    .await
    .unwrap();
    let report = directory_sync::run_now(&app.deps, &c, Trigger::Cli, "this-instance")
        .await
        .unwrap();
    assert!(report.no_rules);
    // The scheduler's step finds nothing due now: the run put the job an interval ahead.
    let next = directory_sync::job::run_next(&app.deps, "scheduler")
        .await
        .unwrap();
    assert!(next.is_none());
}

#[tokio::test]
async fn the_rules_page_is_for_admins_and_keeps_rules_per_connection() {
    let app = TestApp::spawn_admin().await;
    let c = connection(&app).await;
    let rules = format!("/admin/connections/{}/rules", c.id);
    let page = app.get_html(&rules).await;
    assert!(page.contains("No rules yet"), "{page}");
    // Without rules the preview reads nothing and says so; Apply does nothing.
    let preview = app.get_html(&format!("{rules}/preview")).await;
    assert!(preview.contains("preview-no-rules"), "{preview}");
    let res = app.post_form(&format!("{rules}/apply"), &[]).await;
    assert_eq!(location(&res), format!("{rules}?done=norules"));

    let res = app
        .post_form(
            &rules,
            &[("kind", "filter"), ("value", "department eq 'Sales'")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let res = app
        .post_form(
            &rules,
            &[("kind", "shared"), ("value", "Support@Contoso.test")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    // The same rule twice, a rule of the other provider, a bad value: refused, with why.
    for (kind, value, why) in [
        (
            "shared",
            "support@contoso.test",
            "the connection has this rule already",
        ),
        (
            "org_unit",
            "/Sales",
            "rules do not exist for this kind of connection",
        ),
        ("max_count", "none", "enter a whole number"),
    ] {
        let res = app
            .post_form(&rules, &[("kind", kind), ("value", value)])
            .await;
        assert_eq!(
            res.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{kind} {value}"
        );
        assert!(res.text().await.unwrap().contains(why), "{why}");
    }
    let page = app.get_html(&rules).await;
    assert!(
        page.contains("department eq &#x27;Sales&#x27;")
            || page.contains("department eq &#39;Sales&#39;"),
        "{page}"
    );
    assert!(page.contains("support@contoso.test"));
    let stored = threadline::db::connection_rules::list(&app.db, c.organization_id, c.id)
        .await
        .unwrap();
    assert_eq!(stored.len(), 2);

    // Without a CSRF token nothing is added; a member may not see or change the rules.
    let res = app
        .post_form_with(&rules, None, &[("kind", "all_users"), ("value", "")])
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let member = app
        .member_browser("member@acme.test", "correct horse battery")
        .await;
    assert_eq!(member.get(&rules).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        member.get(&format!("{rules}/preview")).await.status(),
        StatusCode::FORBIDDEN
    );
    let res = member.post_form(&format!("{rules}/apply"), &[]).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = member
        .post_form(&format!("{rules}/{}/remove", stored[0].id), &[])
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        app.get("/admin/connections/99999/rules").await.status(),
        StatusCode::NOT_FOUND
    );

    // Removing a rule.
    let res = app
        .post_form(&format!("{rules}/{}/remove", stored[0].id), &[])
        .await;
    assert_eq!(location(&res), format!("{rules}?done=removed"));
    let left = threadline::db::connection_rules::list(&app.db, c.organization_id, c.id)
        .await
        .unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].kind, RuleKind::Shared);
}

#[tokio::test]
async fn the_cli_syncs_each_connection_and_names_a_missing_one() {
    let app = TestApp::spawn_admin().await;
    let c = connection(&app).await;
    let data = app.test_db.dir.join("data");
    let run = |extra: &[&str]| {
        let mut cmd = crate::cli::threadline(&app.test_db.dir);
        cmd.args([
            "directory",
            "sync",
            "--database-url",
            &app.test_db.url,
            "--data-dir",
        ])
        .arg(&data)
        .args(extra);
        cmd.output().expect("threadline runs")
    };
    let out = run(&[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(&format!("{}: no mailbox rules yet", c.name)),
        "{stdout}"
    );
    let out = run(&["--tenant", "nope"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no connection is called nope"));
    let help = crate::cli::threadline(&app.test_db.dir)
        .args(["directory", "sync", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(
        help.contains("--tenant") && help.contains("paused"),
        "{help}"
    );
}
