//! Mailbox rules and directory sync of organization-wide connections against the in-process
//! emulator: a Microsoft 365 tenant of 50 users, 3 shared mailboxes and a group; a Google
//! Workspace domain with org units. Preview, Apply, and the directory changing under them.
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use threadline::db::entities::mail_accounts::{self, Entity as MailAccounts, Model as MailAccount};
use threadline::directory_sync::{self, Trigger};
use threadline::domain::mailbox::MailboxStatus;
use threadline::domain::provider::Provider;
use threadline::mailboxes::connections::Connection;
use threadline_emulator::google::workspace_control::{CreateDomain, WorkspaceUserSpec};
use threadline_emulator::microsoft::tenant_control::{CreateGroup, CreateTenant, UserSpec};
use threadline_emulator::microsoft::tenants::MailboxKind;

use crate::connections_fixtures::{
    add_google, app_with_secret, emulator, first_org, secret_connection, service_account, Tenant,
    DIRECTORY, GMAIL,
};
use crate::support::{location, TestApp};

const DOMAIN: &str = "fabrikam.test";

fn user_address(n: usize) -> String {
    format!("u{n:02}@{DOMAIN}")
}

/// `fabrikam.test`: users u00..u49 (u00..u19 in Sales, the rest in Engineering), shared
/// mailboxes support@, billing@ and desk@, a group of five engineers, and a consented app with
/// a client secret; the organization's connection `fabrikam` to it.
async fn microsoft_tenant(app: &TestApp) -> (String, String, Connection) {
    let e = emulator(app);
    let t = e
        .create_tenant(&CreateTenant {
            domain: DOMAIN.into(),
            ..CreateTenant::default()
        })
        .await
        .unwrap();
    for n in 0..50 {
        let department = if n < 20 { "Sales" } else { "Engineering" };
        e.create_tenant_user(&t.id, &user_spec(&user_address(n), department))
            .await
            .unwrap();
    }
    for shared in ["support", "billing", "desk"] {
        e.create_tenant_user(
            &t.id,
            &UserSpec {
                user_principal_name: Some(format!("{shared}@{DOMAIN}")),
                display_name: Some(format!("{shared} desk")),
                mailbox: Some(MailboxKind::Shared),
                ..UserSpec::default()
            },
        )
        .await
        .unwrap();
    }
    let group = e
        .create_group(
            &t.id,
            &CreateGroup {
                display_name: "Platform".into(),
                mail: None,
                members: (20..25).map(user_address).collect(),
            },
        )
        .await
        .unwrap();
    let (client_id, secret) = app_with_secret(&e, &t.id, true).await;
    let tenant = Tenant {
        id: t.id,
        client_id,
        secret,
    };
    let connection = secret_connection(app, "fabrikam", &tenant).await;
    (tenant.id, group.id, connection)
}

fn user_spec(upn: &str, department: &str) -> UserSpec {
    UserSpec {
        user_principal_name: Some(upn.into()),
        display_name: Some(upn.split('@').next().unwrap_or_default().to_uppercase()),
        department: Some(department.into()),
        ..UserSpec::default()
    }
}

async fn mailboxes_of(app: &TestApp, connection: i64) -> Vec<MailAccount> {
    MailAccounts::find()
        .filter(mail_accounts::Column::ConnectionId.eq(connection))
        .all(&app.db)
        .await
        .unwrap()
}

fn by_address<'a>(all: &'a [MailAccount], address: &str) -> &'a MailAccount {
    all.iter()
        .find(|m| m.address == address)
        .unwrap_or_else(|| panic!("no mailbox {address}"))
}

async fn add_rule(app: &TestApp, connection: i64, kind: &str, value: &str) {
    let path = format!("/admin/connections/{connection}/rules");
    let res = app
        .post_form(&path, &[("kind", kind), ("value", value)])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "adding {kind} {value}");
    assert!(location(&res).starts_with(&path));
}

async fn sync_now(app: &TestApp, c: &Connection) -> directory_sync::Report {
    directory_sync::run_now(&app.deps, c, Trigger::Cli, "test-cli")
        .await
        .expect("directory sync")
}

/// The addresses listed in the preview's table of selected mailboxes.
fn selected_rows(html: &str) -> Vec<String> {
    let table = html
        .split("id=\"selected\"")
        .nth(1)
        .and_then(|rest| rest.split("</table>").next())
        .unwrap_or_default();
    table
        .split("<tr><td>")
        .skip(1)
        .filter_map(|row| row.split("</td>").next())
        .map(str::to_string)
        .collect()
}

#[tokio::test]
async fn microsoft_rules_preview_apply_and_directory_changes() {
    let app = TestApp::spawn_with_emulator().await;
    app.setup_admin().await;
    let (tenant, group, c) = microsoft_tenant(&app).await;
    let rules = format!("/admin/connections/{}/rules", c.id);

    // Without rules nothing is selected, and Apply says so.
    let preview = app.get_html(&format!("{rules}/preview")).await;
    assert!(preview.contains("preview-no-rules"), "{preview}");

    add_rule(&app, c.id, "filter", "department eq 'Sales'").await;
    // The preview lists the shared mailboxes to choose; choosing is adding a rule.
    let preview = app.get_html(&format!("{rules}/preview")).await;
    for shared in ["support", "billing", "desk"] {
        assert!(
            preview.contains(&format!("{shared}@{DOMAIN}")),
            "{shared} offered"
        );
    }
    add_rule(&app, c.id, "shared", &format!("support@{DOMAIN}")).await;
    add_rule(&app, c.id, "shared", &format!("billing@{DOMAIN}")).await;
    // A bad rule says why, and is not added.
    let res = app
        .post_form(&rules, &[("kind", "address"), ("value", "not an address")])
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let preview = app.get_html(&format!("{rules}/preview")).await;
    let mut want: Vec<String> = (0..20).map(user_address).collect();
    want.push(format!("billing@{DOMAIN}"));
    want.push(format!("support@{DOMAIN}"));
    want.sort();
    assert_eq!(
        selected_rows(&preview),
        want,
        "the preview lists exactly those 22"
    );
    assert!(
        preview.contains("22 mailboxes selected, 22 to add"),
        "{preview}"
    );
    assert!(
        mailboxes_of(&app, c.id).await.is_empty(),
        "a preview changes nothing"
    );

    let res = app.post_form(&format!("{rules}/apply"), &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let all = mailboxes_of(&app, c.id).await;
    let mut got: Vec<String> = all.iter().map(|m| m.address.clone()).collect();
    got.sort();
    assert_eq!(got, want, "apply creates exactly those 22 mailboxes");
    assert!(all.iter().all(|m| m.owner_user_id.is_none()
        && m.status == MailboxStatus::Active
        && m.provider == Provider::Microsoft
        && m.directory_state.as_deref() == Some("active")));
    let page = app.get_html(&rules).await;
    assert!(
        page.contains("added 22, paused 0, resumed 0, renamed 0, skipped 0"),
        "{page}"
    );
    // Applying again changes nothing.
    let again = sync_now(&app, &c).await;
    assert_eq!(again.summary, directory_sync::Summary::default());

    // The directory changes: u03 disabled, u05 renamed, u50 joins Sales, an engineer removed.
    let e = emulator(&app);
    let disable = UserSpec {
        account_enabled: Some(false),
        ..UserSpec::default()
    };
    e.update_tenant_user(&tenant, &user_address(3), &disable)
        .await
        .unwrap();
    let renamed = format!("u05.new@{DOMAIN}");
    let rename = UserSpec {
        user_principal_name: Some(renamed.clone()),
        display_name: Some("U05 Renamed".into()),
        ..UserSpec::default()
    };
    e.update_tenant_user(&tenant, &user_address(5), &rename)
        .await
        .unwrap();
    e.create_tenant_user(&tenant, &user_spec(&user_address(50), "Sales"))
        .await
        .unwrap();
    let before = mailboxes_of(&app, c.id).await;
    let u05_id = by_address(&before, &user_address(5)).id;

    let report = sync_now(&app, &c).await;
    assert_eq!(
        (
            report.summary.added,
            report.summary.paused,
            report.summary.renamed
        ),
        (1, 1, 1),
        "{:?}",
        report.changes
    );
    let all = mailboxes_of(&app, c.id).await;
    assert_eq!(all.len(), 23);
    let u03 = by_address(&all, &user_address(3));
    assert_eq!(u03.status, MailboxStatus::Paused);
    assert_eq!(u03.directory_state.as_deref(), Some("disabled"));
    let u05 = by_address(&all, &renamed);
    assert_eq!(u05.id, u05_id, "a renamed user keeps its row");
    assert_eq!(u05.display_name, "U05 Renamed");
    assert_eq!(
        by_address(&all, &user_address(50)).status,
        MailboxStatus::Active
    );

    // Re-enabled: resumes.
    let enable = UserSpec {
        account_enabled: Some(true),
        ..UserSpec::default()
    };
    e.update_tenant_user(&tenant, &user_address(3), &enable)
        .await
        .unwrap();
    let report = sync_now(&app, &c).await;
    assert_eq!(report.summary.resumed, 1, "{:?}", report.changes);
    let u03 = by_address(&mailboxes_of(&app, c.id).await, &user_address(3)).clone();
    assert_eq!(u03.status, MailboxStatus::Active);
    assert_eq!(u03.directory_state.as_deref(), Some("active"));

    // An exclusion: paused and flagged as excluded.
    add_rule(&app, c.id, "exclude", &user_address(7)).await;
    let report = sync_now(&app, &c).await;
    assert_eq!(report.summary.paused, 1);
    let u07 = by_address(&mailboxes_of(&app, c.id).await, &user_address(7)).clone();
    assert_eq!(
        (u07.status, u07.directory_state.as_deref()),
        (MailboxStatus::Paused, Some("excluded"))
    );

    // A maximum count: 22 selected (21 Sales users but u07, plus 2 shared), at most 15 active.
    add_rule(&app, c.id, "max_count", "15").await;
    let preview = app.get_html(&format!("{rules}/preview")).await;
    assert_eq!(selected_rows(&preview).len(), 15);
    assert!(
        preview.contains("7 more matched past the maximum count"),
        "{preview}"
    );
    sync_now(&app, &c).await;
    let active = mailboxes_of(&app, c.id)
        .await
        .into_iter()
        .filter(|m| m.status == MailboxStatus::Active)
        .count();
    assert_eq!(active, 15);

    // The maximum removed and a group's members added: the five engineers come in, and the
    // mailboxes paused for the maximum resume.
    let max_rule = threadline::db::connection_rules::rows(&app.db, c.organization_id, c.id)
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.kind == "max_count")
        .unwrap();
    let res = app
        .post_form(&format!("{rules}/{}/remove", max_rule.id), &[])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    add_rule(&app, c.id, "group", &group).await;
    let report = sync_now(&app, &c).await;
    assert_eq!(
        (report.summary.added, report.summary.resumed),
        (5, 7),
        "{:?}",
        report.changes
    );
    let active = mailboxes_of(&app, c.id)
        .await
        .into_iter()
        .filter(|m| m.status == MailboxStatus::Active)
        .count();
    assert_eq!(active, 27);
}

/// `northwind.test`: an admin, three Sales users and two engineers, a service account with
/// delegation for Gmail and the directory; the connection `northwind`.
async fn google_domain(app: &TestApp) -> Connection {
    let e = emulator(app);
    let domain = "northwind.test";
    e.create_domain(&CreateDomain {
        domain: domain.into(),
        customer_id: None,
    })
    .await
    .unwrap();
    for (local, unit, admin) in [
        ("admin", "/", true),
        ("ann", "/Sales", false),
        ("ben", "/Sales", false),
        ("cat", "/Sales/EMEA", false),
        ("eng1", "/Engineering", false),
        ("eng2", "/Engineering", false),
    ] {
        e.create_workspace_user(domain, &workspace_user(local, unit, admin))
            .await
            .unwrap();
    }
    let w = service_account(&e, domain, &format!("admin@{domain}"), &[GMAIL, DIRECTORY]).await;
    add_google(app, "northwind", &w).await
}

fn workspace_user(local: &str, unit: &str, admin: bool) -> WorkspaceUserSpec {
    WorkspaceUserSpec {
        primary_email: Some(format!("{local}@northwind.test")),
        given_name: Some(local.to_uppercase()),
        family_name: Some("Northwind".into()),
        org_unit_path: Some(unit.into()),
        is_admin: Some(admin),
        ..WorkspaceUserSpec::default()
    }
}

#[tokio::test]
async fn google_org_unit_rule_suspension_new_user_and_personal_links() {
    let app = TestApp::spawn_with_emulator().await;
    app.setup_admin().await;
    let c = google_domain(&app).await;
    let rules = format!("/admin/connections/{}/rules", c.id);
    add_rule(&app, c.id, "org_unit", "/Sales").await;

    // ben linked his own Gmail: the directory sync does not make a second mailbox.
    let org = first_org(&app).await;
    let owner = app
        .create_user("ben@northwind.test", "correct horse battery", false)
        .await;
    threadline::db::mail_accounts::insert(
        &app.db,
        threadline::db::mail_accounts::NewAccount {
            organization_id: org,
            owner_user_id: owner,
            provider: Provider::Google,
            address: "ben@northwind.test",
            display_name: "Ben",
        },
    )
    .await
    .unwrap();

    let preview = app.get_html(&format!("{rules}/preview")).await;
    assert_eq!(
        selected_rows(&preview),
        [
            "ann@northwind.test",
            "ben@northwind.test",
            "cat@northwind.test"
        ],
        "the org unit and the units under it"
    );
    assert!(
        preview.contains("ben@northwind.test: already linked by its owner"),
        "{preview}"
    );
    let res = app.post_form(&format!("{rules}/apply"), &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let all = mailboxes_of(&app, c.id).await;
    let mut got: Vec<&str> = all.iter().map(|m| m.address.as_str()).collect();
    got.sort_unstable();
    assert_eq!(got, ["ann@northwind.test", "cat@northwind.test"]);
    assert!(all
        .iter()
        .all(|m| m.provider == Provider::Google && m.auth_kind == "delegation"));

    // ann suspended; dan, new to Threadline, joins Sales.
    let e = emulator(&app);
    let suspend = WorkspaceUserSpec {
        suspended: Some(true),
        ..WorkspaceUserSpec::default()
    };
    e.update_workspace_user("northwind.test", "ann@northwind.test", &suspend)
        .await
        .unwrap();
    e.create_workspace_user("northwind.test", &workspace_user("dan", "/Sales", false))
        .await
        .unwrap();
    let report = sync_now(&app, &c).await;
    assert_eq!(
        (report.summary.added, report.summary.paused),
        (1, 1),
        "{:?}",
        report.changes
    );
    let all = mailboxes_of(&app, c.id).await;
    let ann = by_address(&all, "ann@northwind.test");
    assert_eq!(
        (ann.status, ann.directory_state.as_deref()),
        (MailboxStatus::Paused, Some("suspended"))
    );
    assert_eq!(
        by_address(&all, "dan@northwind.test").status,
        MailboxStatus::Active
    );
}
