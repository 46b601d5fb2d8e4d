//! Exclusion rules: an organization rule (admins; members 403) previews how much stored mail it
//! matches (counts per mailbox, subjects only of the admin's own mail), applies by removing that
//! mail everywhere in the organization (ledgered `excluded`, audited) and keeps later mail out;
//! a personal rule does the same for its owner's mailboxes only. Non-matching mail, colleagues'
//! mailboxes (personal rules) and other organizations are untouched. Removing a rule stores new
//! mail again.
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Statement};
use threadline::accounts::{create_organization, NewUser};
use threadline::db::entities::{emails, exclusion_rules, sync_ledger};
use threadline::sync::sync_account;

use crate::mailbox_fixtures::{all_accounts, linked_app, GMAIL};
use crate::support::mail::approve;
use crate::support::{location, TestApp};

const BEA: &str = "bea@acme.test";
const BEA_PASSWORD: &str = "bea password 1";
const BEA_MAILBOX: &str = "other@gmail-user.test";
const BRAVO_MAILBOX: &str = "bob@bravo-mail.test";

fn raw(tag: &str, from: &str, to: &str, extra: &str) -> String {
    format!(
        "From: {from}\r\nTo: {to}\r\n{extra}Subject: subject-{tag}\r\nMessage-ID: <{tag}@test>\r\n\
         Date: Fri, 20 Nov 2026 10:00:00 +0000\r\n\r\nBody of {tag} with word zebraword.\r\n"
    )
}

async fn deliver(app: &TestApp, mailbox: &str, tag: &str, from: &str, extra: &str) {
    let to = format!("Owner <{mailbox}>");
    app.deliver_gmail(mailbox, raw(tag, from, &to, extra), "INBOX", None)
        .await;
}

async fn sync_all(app: &TestApp) {
    for account in all_accounts(app).await {
        sync_account(&app.deps, account.id).await.unwrap();
    }
}

/// Subjects (without `subject-`) of the stored emails of `mailbox`, sorted.
async fn subjects_in(app: &TestApp, mailbox: &str) -> Vec<String> {
    let account = all_accounts(app)
        .await
        .into_iter()
        .find(|a| a.address == mailbox)
        .expect("mailbox");
    let mut out: Vec<String> = emails::Entity::find()
        .filter(emails::Column::AccountId.eq(account.id))
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.subject.trim_start_matches("subject-").to_string())
        .collect();
    out.sort();
    out
}

async fn ledger_excluded(app: &TestApp) -> Vec<sync_ledger::Model> {
    sync_ledger::Entity::find()
        .filter(sync_ledger::Column::Reason.eq("excluded"))
        .all(&app.db)
        .await
        .unwrap()
}

async fn scalar(app: &TestApp, sql: &str) -> i64 {
    let backend = app.db.get_database_backend();
    let row = app
        .db
        .query_one(Statement::from_string(backend, sql.to_string()))
        .await
        .unwrap()
        .unwrap();
    row.try_get_by_index::<i64>(0).unwrap()
}

/// Rows of email children left without their email (none, after any removal).
async fn orphans(app: &TestApp) -> i64 {
    let mut n = 0;
    for table in [
        "email_bodies",
        "email_participants",
        "attachments",
        "email_links",
    ] {
        let sql =
            format!("SELECT COUNT(*) FROM {table} WHERE email_id NOT IN (SELECT id FROM emails)");
        n += scalar(app, &sql).await;
    }
    let search = if app.test_db.is_postgres() {
        "SELECT COUNT(*) FROM email_search WHERE email_id NOT IN (SELECT id FROM emails)"
    } else {
        "SELECT COUNT(*) FROM email_search WHERE rowid NOT IN (SELECT id FROM emails)"
    };
    n + scalar(app, search).await
}

/// Ada (admin, her Gmail mailbox), Bea (member, her own mailbox) and organization Bravo with
/// its own mailbox, all holding mail from hr.test and from others.
async fn three_mailboxes() -> (TestApp, TestApp, TestApp) {
    let app = linked_app().await;
    let bea = app.member_browser(BEA, BEA_PASSWORD).await;
    assert_eq!(
        location(&bea.connect("google", approve(BEA_MAILBOX)).await),
        "/mailboxes"
    );
    let root = NewUser::parse("root@bravo.test", "Root", "bravo password 1").unwrap();
    create_organization(&app.db, "Bravo", root).await.unwrap();
    let bravo = app.other_browser();
    bravo.sign_in("root@bravo.test", "bravo password 1").await;
    app.provider_mailbox("google", BRAVO_MAILBOX, "Bob Bravo")
        .await;
    assert_eq!(
        location(&bravo.connect("google", approve(BRAVO_MAILBOX)).await),
        "/mailboxes"
    );
    let harriet = "Harriet <harriet@hr.test>";
    deliver(&app, GMAIL, "ada-hr", harriet, "").await;
    deliver(&app, GMAIL, "ada-hr-sub", "Bot <bot@mail.HR.test>", "").await;
    let cc = "Cc: harriet@hr.test\r\n";
    deliver(&app, GMAIL, "ada-cc", "Cy <cy@customer.test>", cc).await;
    deliver(&app, GMAIL, "ada-keep", "Cy <cy@customer.test>", "").await;
    deliver(&app, GMAIL, "ada-near", "N <n@nothr.test>", "").await;
    deliver(&app, BEA_MAILBOX, "bea-hr", harriet, "").await;
    deliver(&app, BEA_MAILBOX, "bea-keep", "Cy <cy@vendor.test>", "").await;
    deliver(&app, BRAVO_MAILBOX, "bravo-hr", harriet, "").await;
    sync_all(&app).await;
    (app, bea, bravo)
}

#[tokio::test]
async fn an_organization_rule_removes_matching_mail_everywhere_and_nothing_else() {
    let (app, bea, _bravo) = three_mailboxes().await;
    let bravo_before = subjects_in(&app, BRAVO_MAILBOX).await;
    assert_eq!(bravo_before, vec!["bravo-hr"]);

    // Members may not manage the organization's rules.
    assert_eq!(
        bea.get("/settings/exclusions").await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        bea.get("/settings/exclusions/preview?rule=hr.test")
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    let res = bea
        .post_form("/settings/exclusions", &[("rule", "hr.test")])
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    // Nor may anyone without the CSRF token.
    let res = app
        .post_form_with("/settings/exclusions", None, &[("rule", "hr.test")])
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(exclusion_rules::Entity::find()
        .all(&app.db)
        .await
        .unwrap()
        .is_empty());

    // Invalid input: a clear form error, nothing saved.
    for (bad, says) in [
        ("co.uk", "public suffix"),
        ("not a domain", "domain like example.com"),
        ("a@b", "domain of this address"),
    ] {
        let res = app
            .get(&format!(
                "/settings/exclusions/preview?rule={}",
                urlencoding(bad)
            ))
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        let page = res.text().await.unwrap();
        assert!(page.contains(says), "{bad}: {page}");
        let res = app
            .post_form("/settings/exclusions", &[("rule", bad)])
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }

    // Preview: counts per mailbox (Bea's included), subjects only of Ada's own mail; a GET
    // changes nothing.
    let page = app
        .get_html("/settings/exclusions/preview?rule=HR.Test")
        .await;
    assert!(page.contains("<strong>4</strong> stored emails"), "{page}");
    assert!(page.contains(GMAIL) && page.contains(BEA_MAILBOX), "{page}");
    for mine in ["subject-ada-hr", "subject-ada-hr-sub", "subject-ada-cc"] {
        assert!(page.contains(mine), "{mine}: {page}");
    }
    for hidden in ["subject-bea-hr", "subject-bravo-hr", "subject-ada-keep"] {
        assert!(!page.contains(hidden), "{hidden}: {page}");
    }
    assert_eq!(subjects_in(&app, BEA_MAILBOX).await.len(), 2);

    // Apply.
    let res = app
        .post_form("/settings/exclusions", &[("rule", "HR.Test")])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(location(&res).starts_with("/settings/exclusions?"));
    let page = app.get_html(&location(&res)).await;
    assert!(page.contains("4 stored emails removed"), "{page}");
    assert!(page.contains("hr.test"), "{page}");
    assert_eq!(subjects_in(&app, GMAIL).await, vec!["ada-keep", "ada-near"]);
    assert_eq!(subjects_in(&app, BEA_MAILBOX).await, vec!["bea-keep"]);
    assert_eq!(subjects_in(&app, BRAVO_MAILBOX).await, bravo_before);
    assert_eq!(orphans(&app).await, 0);
    let rule = exclusion_rules::Entity::find()
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((rule.value.as_str(), rule.user_id), ("hr.test", None));
    let ledger = ledger_excluded(&app).await;
    assert_eq!(ledger.len(), 4, "{ledger:?}");
    assert!(ledger.iter().all(|l| l.exclusion_rule_id == Some(rule.id)));
    let audit = app.get_html("/admin/audit").await;
    assert!(audit.contains("exclusion.add"), "{audit}");
    assert!(audit.contains("organization rule hr.test: 4 stored emails removed"));
    // A crafted link puts no notice on the page.
    let page = app
        .get_html("/settings/exclusions?excluded=evil.test&removed=99&unexcluded=hr.test")
        .await;
    assert!(
        !page.contains("evil.test") && !page.contains("99 stored"),
        "{page}"
    );
    assert!(!page.contains("no longer excluded"), "{page}");

    // The same rule again is refused.
    let res = app
        .post_form("/settings/exclusions", &[("rule", "hr.test")])
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("already excluded"));

    // Later mail from the domain is not stored; other mail is.
    deliver(&app, GMAIL, "ada-hr-later", "Harriet <harriet@hr.test>", "").await;
    deliver(&app, GMAIL, "ada-keep-later", "Cy <cy@customer.test>", "").await;
    deliver(
        &app,
        BRAVO_MAILBOX,
        "bravo-hr-later",
        "Harriet <harriet@hr.test>",
        "",
    )
    .await;
    sync_all(&app).await;
    assert_eq!(
        subjects_in(&app, GMAIL).await,
        vec!["ada-keep", "ada-keep-later", "ada-near"]
    );
    assert_eq!(
        subjects_in(&app, BRAVO_MAILBOX).await,
        vec!["bravo-hr", "bravo-hr-later"]
    );
    assert_eq!(ledger_excluded(&app).await.len(), 5);

    // Removing the rule: future mail is stored again, and the ledger forgets the rule's
    // entries (a resync may fetch that mail again).
    let res = app
        .post_form(&format!("/settings/exclusions/{}/remove", rule.id), &[])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let page = app.get_html(&location(&res)).await;
    assert!(page.contains("resync"), "{page}");
    assert!(ledger_excluded(&app).await.is_empty());
    assert!(app
        .get_html("/admin/audit")
        .await
        .contains("exclusion.remove"));
    deliver(&app, GMAIL, "ada-hr-after", "Harriet <harriet@hr.test>", "").await;
    sync_all(&app).await;
    assert!(subjects_in(&app, GMAIL)
        .await
        .contains(&"ada-hr-after".to_string()));
}

/// `who` removes rule `id` from `page`'s list (`/account` or `/settings`): the answer's status.
async fn remove(who: &TestApp, page: &str, id: i64) -> StatusCode {
    who.post_form(&format!("{page}/exclusions/{id}/remove"), &[])
        .await
        .status()
}

fn urlencoding(s: &str) -> String {
    serde_urlencoded::to_string([("v", s)]).unwrap()[2..].to_string()
}

#[tokio::test]
async fn a_personal_rule_covers_only_its_owners_mailboxes() {
    let app = linked_app().await;
    let bea = app.member_browser(BEA, BEA_PASSWORD).await;
    bea.connect("google", approve(BEA_MAILBOX)).await;
    // One message in both mailboxes, and one each.
    let both = format!("To: Ada <{GMAIL}>, Bea <{BEA_MAILBOX}>\r\n");
    for mailbox in [GMAIL, BEA_MAILBOX] {
        let raw = format!(
            "From: Bank <alerts@mybank.test>\r\n{both}Subject: subject-statement\r\n\
             Message-ID: <statement@test>\r\nDate: Fri, 20 Nov 2026 10:00:00 +0000\r\n\r\nHi.\r\n"
        );
        app.deliver_gmail(mailbox, raw, "INBOX", None).await;
    }
    deliver(
        &app,
        BEA_MAILBOX,
        "bea-loan",
        "Loans <loans@eu.mybank.test>",
        "",
    )
    .await;
    deliver(&app, BEA_MAILBOX, "bea-keep", "Cy <cy@vendor.test>", "").await;
    deliver(&app, GMAIL, "ada-bank", "Bank <alerts@mybank.test>", "").await;
    sync_all(&app).await;

    let page = bea.get_html("/account/exclusions").await;
    assert!(page.contains("Your excluded mail"), "{page}");
    let res = bea.get("/account/exclusions/preview?rule=localhost").await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = bea
        .get_html("/account/exclusions/preview?rule=mybank.test")
        .await;
    assert!(page.contains("<strong>2</strong> stored emails"), "{page}");
    assert!(page.contains("subject-bea-loan"), "{page}");
    assert!(!page.contains(GMAIL), "Ada's mailbox is not Bea's: {page}");
    assert!(!page.contains("subject-ada-bank"), "{page}");

    let res = bea
        .post_form("/account/exclusions", &[("rule", "MyBank.test")])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(subjects_in(&bea, BEA_MAILBOX).await, vec!["bea-keep"]);
    assert_eq!(
        subjects_in(&app, GMAIL).await,
        vec!["ada-bank", "statement"],
        "Ada's mail, her copy of the shared message included, stays"
    );
    let rule = exclusion_rules::Entity::find()
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert!(rule.user_id.is_some());
    assert_eq!(ledger_excluded(&app).await.len(), 2);
    let audit = app.get_html("/admin/audit").await;
    assert!(audit.contains("exclusion.add"), "{audit}");
    assert!(
        !audit.contains("mybank.test"),
        "a personal rule's value is its owner's: {audit}"
    );

    // New mail: kept out of Bea's mailbox only.
    for mailbox in [GMAIL, BEA_MAILBOX] {
        deliver(
            &app,
            mailbox,
            &format!("{mailbox}-new"),
            "Bank <alerts@mybank.test>",
            "",
        )
        .await;
    }
    sync_all(&app).await;
    assert_eq!(subjects_in(&app, BEA_MAILBOX).await, vec!["bea-keep"]);
    assert_eq!(subjects_in(&app, GMAIL).await.len(), 3);

    // Bea's rule is hers: Ada's personal page does not list it, and nobody else removes it.
    assert!(!app
        .get_html("/account/exclusions")
        .await
        .contains("mybank.test"));
    for page in ["/account", "/settings"] {
        assert_eq!(remove(&app, page, rule.id).await, StatusCode::NOT_FOUND);
    }
    assert_eq!(
        exclusion_rules::Entity::find()
            .all(&app.db)
            .await
            .unwrap()
            .len(),
        1
    );

    // An organization rule shows on Bea's page, and she cannot remove it there.
    let res = app
        .post_form("/settings/exclusions", &[("rule", "legal@lawyers.test")])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let org_rule = exclusion_rules::Entity::find()
        .filter(exclusion_rules::Column::UserId.is_null())
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(org_rule.kind, "address");
    assert!(bea
        .get_html("/account/exclusions")
        .await
        .contains("legal@lawyers.test"));
    assert_eq!(
        remove(&bea, "/account", org_rule.id).await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        remove(&bea, "/account", rule.id).await,
        StatusCode::SEE_OTHER
    );
    assert!(ledger_excluded(&app).await.is_empty());
}
