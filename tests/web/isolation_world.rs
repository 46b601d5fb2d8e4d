//! The two organizations the isolation tests run on, created as the platform operator creates
//! them: `threadline org create` (the real binary) on a fresh database, then the app started
//! on it. Each admin signs in to their own; B's admin adds a member; each links a Gmail
//! mailbox with mail (linked, and one unmatched message), and has a business; B a contact.
use std::sync::Arc;

use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use threadline::db::connection_rules;
use threadline::db::entities::{
    attachments, email_links, emails, exclusion_rules, mail_accounts, users,
};
use threadline::domain::selection::rules::RuleKind;
use threadline::mailboxes::connections::store::{self, NewConnection, NewCredential};
use threadline::mailboxes::connections::ConnectionKind;
use threadline::providers::Secret;
use threadline::sync::sync_account;
use threadline_emulator::{self as emulator, EmulatorConfig};

use crate::directory::create;
use crate::org_cli::{run, text};
use crate::support::mail::approve;
use crate::support::{client, location, TestApp, TestDb, ADMIN_EMAIL, ADMIN_PASSWORD};

pub const B_MAILBOX: &str = "bob@bravo-mail.test";
pub const A_MAILBOX: &str = "ada@acme-mail.test";
pub const PASSWORD: &str = "a long enough password 9";

/// The message B's mailbox holds: from B's contact, with an inline image and an attachment.
fn b_message() -> String {
    format!(
        "From: Cara <cara@client-b.test>\r\nTo: {B_MAILBOX}\r\nSubject: Bravo secret plans\r\n\
         Message-ID: <plans-1@client-b.test>\r\nDate: Fri, 20 Nov 2026 10:00:00 +0000\r\n\
         MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"m\"\r\n\r\n\
         --m\r\nContent-Type: multipart/related; boundary=\"r\"\r\n\r\n\
         --r\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p><img src=\"cid:logo@client-b.test\"></p>\r\n\
         --r\r\nContent-Type: image/png\r\nContent-ID: <logo@client-b.test>\r\n\
         Content-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n--r--\r\n\
         --m\r\nContent-Type: application/pdf; name=\"plans.pdf\"\r\n\
         Content-Disposition: attachment; filename=\"plans.pdf\"\r\n\
         Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--m--\r\n"
    )
}

fn a_message() -> String {
    format!(
        "From: Zed <zed@prospect-a.test>\r\nTo: {A_MAILBOX}\r\nSubject: Acme question\r\n\
         Message-ID: <question-1@prospect-a.test>\r\nDate: Fri, 20 Nov 2026 11:00:00 +0000\r\n\r\n\
         Hello.\r\n"
    )
}

/// A message from a correspondent nobody has a record of (it stays unmatched).
fn lead_message(mailbox: &str, org: &str) -> String {
    let domain = org.to_lowercase();
    format!(
        "From: Lee Lead <lee@lead-{domain}.test>\r\nTo: {mailbox}\r\nSubject: {org} unmatched lead\r\n\
         Message-ID: <lead-1@lead-{domain}.test>\r\nDate: Fri, 20 Nov 2026 12:00:00 +0000\r\n\r\n\
         Interested.\r\n"
    )
}

/// Deliver `raw` to a linked mailbox and sync it; returns the mailbox id and the id of the
/// email whose Message-ID is `message_id`.
pub async fn deliver_and_sync(
    app: &TestApp,
    mailbox: &str,
    raw: String,
    message_id: &str,
) -> (i64, i64) {
    app.deliver_gmail(mailbox, raw, "INBOX", None).await;
    let account = mail_accounts::Entity::find()
        .filter(mail_accounts::Column::Address.eq(mailbox))
        .one(&app.db)
        .await
        .unwrap()
        .expect("mailbox linked");
    sync_account(&app.deps, account.id).await.unwrap();
    let email = emails::Entity::find()
        .filter(emails::Column::AccountId.eq(account.id))
        .filter(emails::Column::MessageKey.contains(message_id))
        .one(&app.db)
        .await
        .unwrap()
        .expect("synced");
    (account.id, email.id)
}

/// Two organizations, each with mail, a business, links and users.
pub struct World {
    /// Signed in as A's admin.
    pub app: TestApp,
    /// Signed in as B's admin.
    pub bravo: TestApp,
    pub org_a: i64,
    pub org_b: i64,
    /// What the route table's placeholders stand for.
    pub ids: Vec<(&'static str, String)>,
}

/// `threadline org create` through the binary, the admin's password on standard input.
fn org_create(db: &TestDb, name: &str, email: &str, admin: &str, password: &str) {
    let args = [
        "org",
        "create",
        "--name",
        name,
        "--admin-email",
        email,
        "--admin-name",
        admin,
    ];
    let out = run(db, &args, &format!("{password}\n"));
    assert!(
        out.status.success(),
        "org create {name}: {}",
        text(&out.stderr)
    );
}

/// `threadline org list`: the id of each organization by name.
fn org_ids(db: &TestDb) -> Vec<(String, i64)> {
    let out = run(db, &["org", "list"], "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    text(&out.stdout)
        .lines()
        .skip(1)
        .map(|line| {
            let fields: Vec<&str> = line.split('\t').collect();
            (fields[1].to_string(), fields[0].parse().expect("an id"))
        })
        .collect()
}

/// Both organizations as the platform operator creates them: `threadline org create` run on
/// a fresh database, then the app started on it. Each admin signs in to their own; B's admin
/// adds a member; each links a mailbox with mail.
pub async fn two_organizations() -> World {
    let db = TestDb::new().await;
    org_create(&db, "Acme", ADMIN_EMAIL, "Ada Admin", ADMIN_PASSWORD);
    org_create(&db, "Bravo", "root@bravo.test", "Bravo person", PASSWORD);
    let orgs = org_ids(&db);
    let org = |name: &str| orgs.iter().find(|(n, _)| n == name).expect(name).1;
    let (org_a, org_b) = (org("Acme"), org("Bravo"));
    assert_ne!(org_a, org_b);
    let emulator = emulator::start("127.0.0.1:0".parse().unwrap(), EmulatorConfig::default())
        .await
        .expect("emulator starts");
    let app = TestApp::spawn_full(Arc::new(db), client(), Some(Arc::new(emulator)), &[]).await;
    let res = app.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(location(&res), "/");
    let bravo = app.other_browser();
    let res = bravo.sign_in("root@bravo.test", PASSWORD).await;
    assert_eq!(location(&res), "/");
    let res = bravo
        .post_form(
            "/admin/users",
            &[
                ("email", "mel@bravo.test"),
                ("name", "Bravo person"),
                ("password", PASSWORD),
                ("role", "member"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let user = |email: &'static str| {
        let db = app.db.clone();
        async move {
            users::Entity::find()
                .filter(users::Column::Email.eq(email))
                .one(&db)
                .await
                .unwrap()
                .expect(email)
        }
    };
    let (root, mel, ada) = (
        user("root@bravo.test").await,
        user("mel@bravo.test").await,
        user(ADMIN_EMAIL).await,
    );
    assert_eq!((root.organization_id, mel.organization_id), (org_b, org_b));
    assert_eq!(ada.organization_id, org_a);
    let mut ids = vec![
        ("admin", root.id.to_string()),
        ("member", mel.id.to_string()),
        ("my_user", ada.id.to_string()),
    ];

    // B: a business and a contact, a Gmail mailbox, and mail linked to both.
    let business = create(
        &bravo,
        "/businesses",
        &[("name", "Bravo Client"), ("domains", "client-b.test")],
    )
    .await;
    let contact = create(
        &bravo,
        "/contacts",
        &[("name", "Cara Client"), ("addresses", "cara@client-b.test")],
    )
    .await;
    let res = bravo
        .post_form("/settings/exclusions", &[("rule", "private-b.test")])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let exclusion = exclusion_rules::Entity::find()
        .filter(exclusion_rules::Column::OrganizationId.eq(org_b))
        .one(&app.db)
        .await
        .unwrap()
        .expect("B's rule");
    ids.push(("exclusion", exclusion.id.to_string()));
    app.provider_mailbox("google", B_MAILBOX, "Bob Bravo").await;
    bravo.connect("google", approve(B_MAILBOX)).await;
    let (mailbox, email) = deliver_and_sync(&app, B_MAILBOX, b_message(), "plans-1@").await;
    let link = email_links::Entity::find()
        .filter(email_links::Column::EmailId.eq(email))
        .filter(email_links::Column::ContactId.eq(contact))
        .one(&app.db)
        .await
        .unwrap()
        .expect("B's email is linked to B's contact");
    let attachment = attachments::Entity::find()
        .filter(attachments::Column::EmailId.eq(email))
        .filter(attachments::Column::Filename.eq("plans.pdf"))
        .one(&app.db)
        .await
        .unwrap()
        .expect("attachment stored");
    let lead = lead_message(B_MAILBOX, "Bravo");
    deliver_and_sync(&app, B_MAILBOX, lead, "lead-1@lead-bravo").await;
    // B: an organization-wide connection and one of its mailbox rules.
    let connection = store::create(
        &app.deps,
        org_b,
        Some(root.id),
        &NewConnection {
            name: "bravo-tenant".into(),
            kind: ConnectionKind::Microsoft365,
            tenant: "bravo-tenant.test".into(),
            client_id: "bravo-app".into(),
            credential: NewCredential::Secret(Secret::new("bravo-secret-value")),
            admin_address: None,
        },
    )
    .await
    .expect("B's connection");
    let rule = connection_rules::add(&app.db, &connection, RuleKind::AllUsers, "", None)
        .await
        .unwrap()
        .expect("B's rule");
    ids.push(("connection", connection.id.to_string()));
    ids.push(("rule", rule.id.to_string()));

    // A: its own business and mail.
    let my_business = create(
        &app,
        "/businesses",
        &[("name", "Acme Prospect"), ("domains", "prospect-a.test")],
    )
    .await;
    app.provider_mailbox("google", A_MAILBOX, "Ada Admin").await;
    app.connect("google", approve(A_MAILBOX)).await;
    let (my_mailbox, my_email) =
        deliver_and_sync(&app, A_MAILBOX, a_message(), "question-1@").await;
    let lead = lead_message(A_MAILBOX, "Acme");
    deliver_and_sync(&app, A_MAILBOX, lead, "lead-1@lead-acme").await;

    ids.extend([
        ("email", email.to_string()),
        ("link", link.id.to_string()),
        ("attachment", attachment.id.to_string()),
        ("cid", "logo%40client-b.test".to_string()),
        ("business", business.to_string()),
        ("contact", contact.to_string()),
        ("mailbox", mailbox.to_string()),
        ("my_email", my_email.to_string()),
        ("my_business", my_business.to_string()),
        ("my_mailbox", my_mailbox.to_string()),
    ]);
    World {
        app,
        bravo,
        org_a,
        org_b,
        ids,
    }
}
