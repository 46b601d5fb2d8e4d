//! Applying a directory sync plan to the database, on SQLite and PostgreSQL: new mailboxes
//! belong to the organization and follow their directory id; pause and flag, resume and rename
//! keep the row; the run's summary, the connection's stamp and the audit trail; one runner per
//! connection at a time.
use std::collections::{BTreeSet, HashMap};

use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use threadline::db::entities::connections::{self, Model as Connection};
use threadline::db::entities::mail_accounts::{self, Entity as MailAccounts, Model as MailAccount};
use threadline::db::{audit, directory_syncs, jobs, org_mailboxes};
use threadline::directory_sync::{self, DirectorySyncError, Trigger, DIRECTORY_SYNC};
use threadline::domain::mailbox::MailboxStatus;
use threadline::domain::selection::{self, DirectoryUser, Listing, Rule, RuleKind, UserState};

use crate::support::TestApp;

async fn connection(app: &TestApp) -> Connection {
    let org = threadline::db::organizations::first(&app.db)
        .await
        .unwrap()
        .expect("org")
        .id;
    let now = threadline::db::now();
    connections::ActiveModel {
        organization_id: Set(org),
        kind: Set("microsoft365".into()),
        name: Set("contoso".into()),
        tenant: Set("contoso.test".into()),
        client_id: Set("app".into()),
        credential_kind: Set("secret".into()),
        // Never opened here: these tests apply plans, they do not read a directory.
        credentials: Set("unused".into()),
        credential_hint: Set(String::new()),
        admin_address: Set(None),
        consent_state: Set("granted".into()),
        status: Set("active".into()),
        last_test_at: Set(None),
        last_test_result: Set(None),
        last_directory_sync_at: Set(None),
        last_error: Set(None),
        created_by: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&app.db)
    .await
    .unwrap()
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
    let stamped = threadline::db::connection_rules::connection(&app.db, c.organization_id, c.id)
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
