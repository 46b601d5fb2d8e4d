//! Organization isolation, table-driven: signed in as organization A's admin, every route that
//! takes an id answers 404 for organization B's ids (GETs, and POSTs carrying a valid CSRF
//! token and otherwise valid fields), linking A's mail to B's records is refused the same way,
//! and not one row of either organization changes. Both organizations are created as the
//! platform operator creates them (`threadline org create`'s code path). To cover a new route,
//! add one line to `ROUTES`.
use reqwest::StatusCode;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, FromQueryResult, JsonValue,
    QueryFilter, Statement,
};
use threadline::accounts::{create_organization, create_user, NewUser};
use threadline::db::entities::{attachments, email_links, emails, exclusion_rules, mail_accounts};
use threadline::domain::user::Role;
use threadline::sync::sync_account;

use crate::directory::create;
use crate::support::mail::approve;
use crate::support::{csrf_in, TestApp, ADMIN_EMAIL, ADMIN_PASSWORD};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Method {
    Get,
    Post,
}
use Method::{Get, Post};

type Route = (
    Method,
    &'static str,
    &'static [(&'static str, &'static str)],
);

/// `(method, path, form fields)`. In paths and fields, `{email}`, `{link}`, `{attachment}`,
/// `{cid}`, `{business}`, `{contact}`, `{mailbox}`, `{member}`, `{admin}` and `{exclusion}` are
/// organization B's records; `{my_email}` and `{my_business}` are A's own.
const ROUTES: &[Route] = &[
    // The email page and its body.
    (Get, "/emails/{email}", &[]),
    (Get, "/emails/{email}/body", &[]),
    (Get, "/emails/{email}/attachments/{attachment}", &[]),
    (Get, "/emails/{email}/cid/{cid}", &[]),
    // Reader actions.
    (Post, "/emails/{email}/read", &[("value", "on")]),
    (Post, "/emails/{email}/star", &[("value", "on")]),
    (Post, "/emails/{email}/delete", &[]),
    (Post, "/emails/{email}/restore", &[]),
    (Get, "/emails/{email}/purge", &[]),
    (Get, "/emails/{email}/purge?scope=thread", &[]),
    (Post, "/emails/{email}/purge", &[("scope", "email")]),
    (Post, "/emails/{email}/purge", &[("scope", "thread")]),
    // Manual links: B's email, B's link, and A's email pointed at B's records.
    (
        Post,
        "/emails/{email}/links",
        &[("target", "business:{my_business}"), ("scope", "email")],
    ),
    (
        Post,
        "/emails/{email}/links",
        &[("target", "business:{business}"), ("scope", "thread")],
    ),
    (Post, "/emails/{email}/links/{link}/delete", &[]),
    (Post, "/emails/{my_email}/links/{link}/delete", &[]),
    (
        Post,
        "/emails/{my_email}/links",
        &[("target", "business:{business}"), ("scope", "email")],
    ),
    (
        Post,
        "/emails/{my_email}/links",
        &[("target", "contact:{contact}"), ("scope", "thread")],
    ),
    // Businesses.
    (Get, "/businesses/{business}", &[]),
    (Get, "/businesses/{business}/edit", &[]),
    (
        Post,
        "/businesses/{business}",
        &[("name", "Taken over"), ("domains", "client-b.test")],
    ),
    (
        Post,
        "/businesses/{business}/preview",
        &[("name", "Taken over"), ("domains", "elsewhere-b.test")],
    ),
    (
        Post,
        "/businesses/{business}/preview",
        &[("name", "Taken over"), ("domains", "client-b.test")],
    ),
    (Get, "/businesses/{business}/reassociation", &[]),
    (Get, "/businesses/{business}/delete", &[]),
    (Post, "/businesses/{business}/delete", &[]),
    // Contacts.
    (Get, "/contacts/{contact}", &[]),
    (Get, "/contacts/{contact}/edit", &[]),
    (
        Post,
        "/contacts/{contact}",
        &[("name", "Taken over"), ("addresses", "cara@client-b.test")],
    ),
    (
        Post,
        "/contacts/{contact}/preview",
        &[
            ("name", "Taken over"),
            ("addresses", "other@elsewhere-b.test"),
        ],
    ),
    (
        Post,
        "/contacts/{contact}/preview",
        &[("name", "Taken over"), ("addresses", "cara@client-b.test")],
    ),
    (Get, "/contacts/{contact}/reassociation", &[]),
    (Get, "/contacts/{contact}/delete", &[]),
    (Post, "/contacts/{contact}/delete", &[]),
    // Mailboxes.
    (Get, "/mailboxes/{mailbox}", &[]),
    (
        Post,
        "/mailboxes/{mailbox}/settings",
        &[("interval_minutes", "5"), ("since", ""), ("folders", "")],
    ),
    (Post, "/mailboxes/{mailbox}/sync", &[]),
    (Post, "/admin/mailboxes/{mailbox}/pause", &[]),
    (Post, "/admin/mailboxes/{mailbox}/resume", &[]),
    (Post, "/admin/mailboxes/{mailbox}/disconnect", &[]),
    (Post, "/mailboxes/{mailbox}/reconnect", &[]),
    (Get, "/mailboxes/{mailbox}/disconnect", &[]),
    (
        Post,
        "/mailboxes/{mailbox}/disconnect",
        &[("purge", "true")],
    ),
    (
        Post,
        "/mailboxes/{mailbox}/disconnect",
        &[("purge", "false")],
    ),
    // Users.
    (Post, "/admin/users/{member}/role", &[("role", "admin")]),
    (Post, "/admin/users/{admin}/role", &[("role", "member")]),
    (
        Post,
        "/admin/users/{member}/disabled",
        &[("disabled", "true")],
    ),
    (
        Post,
        "/admin/users/{admin}/disabled",
        &[("disabled", "true")],
    ),
    // Unmatched-mail triage.
    (
        Post,
        "/unmatched/{email}/business",
        &[("name", "Grab"), ("domains", "grab-b.test")],
    ),
    (
        Post,
        "/unmatched/{email}/contact",
        &[("name", "Grab"), ("addresses", "grab@grab-b.test")],
    ),
    (
        Post,
        "/unmatched/{email}/link",
        &[("target", "business:{my_business}")],
    ),
    (
        Post,
        "/unmatched/{my_email}/link",
        &[("target", "business:{business}")],
    ),
    (
        Post,
        "/unmatched/{my_email}/link",
        &[("target", "contact:{contact}")],
    ),
    (
        Post,
        "/unmatched/{email}/link",
        &[
            ("target", "business:{my_business}"),
            ("address", "cara@client-b.test"),
        ],
    ),
    // Exclusion rules (B's organization rule, through both scopes' routes).
    (Post, "/settings/exclusions/{exclusion}/remove", &[]),
    (Post, "/account/exclusions/{exclusion}/remove", &[]),
    // Timelines: the thread lists and an expanded thread.
    (Get, "/businesses/{business}/threads", &[]),
    (Get, "/businesses/{business}/threads/{email}", &[]),
    (Get, "/contacts/{contact}/threads", &[]),
    (Get, "/contacts/{contact}/threads/{email}", &[]),
    (Get, "/mail/threads/{email}", &[]),
];

/// Every table holding an organization's data (all with `organization_id`).
const ORG_TABLES: &[&str] = &[
    "users",
    "organization_domains",
    "mail_accounts",
    "sync_cursors",
    "sync_runs",
    "sync_ledger",
    "emails",
    "email_bodies",
    "email_participants",
    "attachments",
    "businesses",
    "business_domains",
    "contacts",
    "contact_addresses",
    "email_links",
    "link_tombstones",
    "user_email_states",
    "jobs",
    "audit_log",
    "directory_imports",
    "exclusion_rules",
];

/// Every row of an organization, as sorted text.
async fn snapshot(db: &DatabaseConnection, org: i64) -> Vec<String> {
    let backend = db.get_database_backend();
    let mut out = Vec::new();
    let mut queries = vec![(
        "organizations",
        format!("SELECT * FROM organizations WHERE id = {org}"),
    )];
    for table in ORG_TABLES {
        queries.push((
            table,
            format!("SELECT * FROM {table} WHERE organization_id = {org}"),
        ));
    }
    for (table, sql) in queries {
        let rows = JsonValue::find_by_statement(Statement::from_string(backend, sql))
            .all(db)
            .await
            .unwrap_or_else(|e| panic!("{table}: {e}"));
        out.extend(rows.iter().map(|r| format!("{table}: {r}")));
    }
    out.sort();
    out
}

const B_MAILBOX: &str = "bob@bravo-mail.test";
const A_MAILBOX: &str = "ada@acme-mail.test";
const PASSWORD: &str = "a long enough password 9";

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

/// Deliver `raw` to a linked mailbox and sync it; returns the mailbox id and the email's id.
async fn deliver_and_sync(app: &TestApp, mailbox: &str, raw: String) -> (i64, i64) {
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
        .one(&app.db)
        .await
        .unwrap()
        .expect("synced");
    (account.id, email.id)
}

/// Two organizations, each with mail, a business, links and users.
struct World {
    /// Signed in as A's admin.
    app: TestApp,
    /// Signed in as B's admin.
    bravo: TestApp,
    org_a: i64,
    org_b: i64,
    /// What the route table's placeholders stand for.
    ids: Vec<(&'static str, String)>,
}

/// Both organizations as the platform operator creates them (`threadline org create`'s own
/// code path), each with its first admin; B also gets a member.
async fn two_organizations() -> World {
    let app = TestApp::spawn_with_emulator().await;
    let acme = NewUser::parse(ADMIN_EMAIL, "Ada Admin", ADMIN_PASSWORD).unwrap();
    let (acme_org, _) = create_organization(&app.db, "Acme", acme).await.unwrap();
    let res = app.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let root = NewUser::parse("root@bravo.test", "Bravo person", PASSWORD).unwrap();
    let (bravo_org, root) = create_organization(&app.db, "Bravo", root).await.unwrap();
    let mut ids = vec![("admin", root.id.to_string())];
    let new = NewUser::parse("mel@bravo.test", "Bravo person", PASSWORD).unwrap();
    let mel = create_user(&app.db, bravo_org.id, None, new, Role::Member)
        .await
        .unwrap();
    ids.push(("member", mel.id.to_string()));
    let bravo = app.other_browser();
    bravo.sign_in("root@bravo.test", PASSWORD).await;

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
        .filter(exclusion_rules::Column::OrganizationId.eq(bravo_org.id))
        .one(&app.db)
        .await
        .unwrap()
        .expect("B's rule");
    ids.push(("exclusion", exclusion.id.to_string()));
    app.provider_mailbox("google", B_MAILBOX, "Bob Bravo").await;
    bravo.connect("google", approve(B_MAILBOX)).await;
    let (mailbox, email) = deliver_and_sync(&app, B_MAILBOX, b_message()).await;
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

    // A: its own business and mail.
    let my_business = create(
        &app,
        "/businesses",
        &[("name", "Acme Prospect"), ("domains", "prospect-a.test")],
    )
    .await;
    app.provider_mailbox("google", A_MAILBOX, "Ada Admin").await;
    app.connect("google", approve(A_MAILBOX)).await;
    let (_, my_email) = deliver_and_sync(&app, A_MAILBOX, a_message()).await;

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
    ]);
    World {
        org_a: acme_org.id,
        org_b: bravo_org.id,
        app,
        bravo,
        ids,
    }
}

fn assert_unchanged(org: &str, before: &[String], after: &[String]) {
    let gone: Vec<_> = before.iter().filter(|r| !after.contains(r)).collect();
    let new: Vec<_> = after.iter().filter(|r| !before.contains(r)).collect();
    assert!(
        gone.is_empty() && new.is_empty(),
        "{org}'s data changed.\nbefore: {gone:#?}\nafter: {new:#?}"
    );
}

fn fill(template: &str, ids: &[(&str, String)]) -> String {
    let mut out = template.to_string();
    for (key, value) in ids {
        out = out.replace(&format!("{{{key}}}"), value);
    }
    assert!(!out.contains('{'), "unknown placeholder in {template}");
    out
}

#[tokio::test]
async fn another_organizations_ids_answer_404_everywhere_and_change_nothing() {
    let World {
        app,
        bravo,
        org_a,
        org_b,
        ids,
    } = two_organizations().await;

    // The ids are real: B's own admin gets every page of the table.
    for (method, path, _) in ROUTES {
        if *method == Get && !path.contains("{my_") {
            let path = fill(path, &ids);
            let status = bravo.get(&path).await.status();
            assert_eq!(status, StatusCode::OK, "B's admin GET {path}");
        }
    }
    let my_email = fill("/emails/{my_email}", &ids);
    assert_eq!(app.get(&my_email).await.status(), StatusCode::OK);

    let before = (
        snapshot(&app.db, org_a).await,
        snapshot(&app.db, org_b).await,
    );
    for table in [
        "emails:",
        "email_links:",
        "attachments:",
        "mail_accounts:",
        "users:",
    ] {
        assert!(
            before.1.iter().any(|row| row.starts_with(table)),
            "B has {table} rows to protect"
        );
    }
    let token = csrf_in(&app.get_html("/").await);
    let mut wrong = Vec::new();
    for (method, path, fields) in ROUTES {
        let path = fill(path, &ids);
        let fields: Vec<(&str, String)> = fields.iter().map(|(k, v)| (*k, fill(v, &ids))).collect();
        let res = match method {
            Get => app.get(&path).await,
            Post => {
                let fields: Vec<(&str, &str)> =
                    fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
                app.post_form_with(&path, Some(&token), &fields).await
            }
        };
        if res.status() != StatusCode::NOT_FOUND {
            wrong.push(format!("{method:?} {path} {fields:?} -> {}", res.status()));
        }
    }
    assert!(
        wrong.is_empty(),
        "answered other than 404:\n{}",
        wrong.join("\n")
    );
    let after = (
        snapshot(&app.db, org_a).await,
        snapshot(&app.db, org_b).await,
    );
    assert_unchanged("A", &before.0, &after.0);
    assert_unchanged("B", &before.1, &after.1);

    // Searches for a link target find nothing of B's.
    for path in ["/link-targets?q=bravo", "/unmatched/targets?q=cara"] {
        let html = app.get_html(path).await;
        assert!(
            !html.contains("Bravo") && !html.contains("Cara"),
            "{path}: {html}"
        );
    }
    // B still sees its own mail, linked as before.
    let page = bravo.get_html(&fill("/emails/{email}", &ids)).await;
    assert!(page.contains("Bravo secret plans") && page.contains("Cara Client"));
}
