//! Organization isolation on two organizations created by `threadline org create` (see
//! `isolation_world`). Table-driven: signed in as organization A's admin, every route that
//! takes an id answers 404 for organization B's ids (GETs, and POSTs carrying a valid CSRF
//! token and otherwise valid fields), linking A's mail to B's records is refused the same way,
//! and not one row of either organization changes. What each admin's pages show is in
//! `isolation_pages`. To cover a new route, add one line to `ROUTES`.
use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, DatabaseConnection, FromQueryResult, JsonValue, Statement};

use crate::isolation_world::{two_organizations, World};
use crate::support::csrf_in;

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
/// `{cid}`, `{business}`, `{contact}`, `{mailbox}`, `{member}`, `{admin}`, `{exclusion}`, `{connection}` and `{rule}` are
/// organization B's records; `{my_email}`, `{my_business}` and `{my_user}` are A's own.
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
    (
        Post,
        "/mailboxes/{mailbox}/write-back",
        &[("enabled", "on")],
    ),
    (
        Post,
        "/mailboxes/{mailbox}/write-back",
        &[("enabled", "off")],
    ),
    (Post, "/mailboxes/{mailbox}/write-access", &[]),
    // The admins' mailbox console.
    (
        Post,
        "/admin/mailboxes/{mailbox}/write-back",
        &[("enabled", "on")],
    ),
    (Post, "/admin/mailboxes/{mailbox}/pause", &[]),
    (Post, "/admin/mailboxes/{mailbox}/resume", &[]),
    (Post, "/admin/mailboxes/{mailbox}/sync", &[]),
    (Get, "/admin/mailboxes/{mailbox}/transfer", &[]),
    (
        Post,
        "/admin/mailboxes/{mailbox}/transfer",
        &[("user_id", "{my_user}")],
    ),
    (
        Post,
        "/admin/mailboxes/{mailbox}/transfer",
        &[("user_id", "{member}")],
    ),
    (Post, "/admin/mailboxes/{mailbox}/transfer", &[]),
    (Get, "/admin/mailboxes/{mailbox}/disconnect", &[]),
    (Post, "/admin/mailboxes/{mailbox}/disconnect", &[]),
    (
        Post,
        "/admin/mailboxes/{mailbox}/disconnect",
        &[("purge", "true")],
    ),
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
    // Organization-wide connections and their mailbox rules.
    (Get, "/admin/connections/{connection}", &[]),
    (Post, "/admin/connections/{connection}/test", &[]),
    (Post, "/admin/connections/{connection}/consent", &[]),
    (Get, "/admin/connections/{connection}/remove", &[]),
    (Post, "/admin/connections/{connection}/remove", &[]),
    (Get, "/admin/connections/{connection}/rules", &[]),
    (
        Post,
        "/admin/connections/{connection}/rules",
        &[("kind", "all_users")],
    ),
    // (The rules preview reads the live directory, which B's made-up tenant does not have; it
    // takes the same organization-scoped lookup as the rules page and Apply.)
    (Post, "/admin/connections/{connection}/rules/apply", &[]),
    (
        Post,
        "/admin/connections/{connection}/rules/{rule}/remove",
        &[],
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
    // Timelines: the thread lists and an expanded thread.
    // Exclusion rules (B's organization rule, through both scopes' routes).
    (Post, "/settings/exclusions/{exclusion}/remove", &[]),
    (Post, "/account/exclusions/{exclusion}/remove", &[]),
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
    "connections",
    "connection_rules",
    "directory_syncs",
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

fn assert_unchanged(org: &str, before: &[String], after: &[String]) {
    let gone: Vec<_> = before.iter().filter(|r| !after.contains(r)).collect();
    let new: Vec<_> = after.iter().filter(|r| !before.contains(r)).collect();
    assert!(
        gone.is_empty() && new.is_empty(),
        "{org}'s data changed.\nbefore: {gone:#?}\nafter: {new:#?}"
    );
}

pub fn fill(template: &str, ids: &[(&str, String)]) -> String {
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
    // A's own mailbox cannot be handed to B's users either.
    for user in ["{member}", "{admin}"] {
        let path = fill("/admin/mailboxes/{my_mailbox}/transfer", &ids);
        let user = fill(user, &ids);
        let res = app
            .post_form_with(&path, Some(&token), &[("user_id", &user)])
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{user}");
    }
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
