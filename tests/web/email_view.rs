//! The email page: who sees it (the mailbox owner; colleagues once it is linked to a business
//! or contact; nobody from another organization), and a hostile HTML body that is sanitized and
//! served only inside a sandboxed frame with its own CSP.
use reqwest::StatusCode;
use threadline::accounts::{create_user, NewUser};
use threadline::db::entities::emails;
use threadline::domain::user::Role;
use threadline::sync::sync_account;

use sea_orm::EntityTrait;

use crate::mailbox_fixtures::{all_accounts, linked_app, GMAIL};
use crate::support::inspect::execute;
use crate::support::TestApp;

const HOSTILE: &str = "From: Eve <eve@evil.test>\r\nTo: ada@gmail-user.test\r\n\
Subject: Quarterly numbers\r\nMessage-ID: <q-1@evil.test>\r\n\
Date: Fri, 20 Nov 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\n\
Content-Type: text/html; charset=utf-8\r\n\r\n\
<p onclick=\"steal()\">Numbers inside</p><script>alert(1)</script>\
<img src=\"https://tracker.evil.test/pixel.gif\"><a href=\"javascript:alert(2)\">open</a>\
<form action=\"https://evil.test/phish\"><input name=\"password\"></form>\
<meta http-equiv=\"refresh\" content=\"0;url=https://evil.test\">\r\n";

pub async fn synced_hostile_email(app: &TestApp) -> i64 {
    app.deliver_gmail(GMAIL, HOSTILE, "INBOX,UNREAD", None)
        .await;
    let account = all_accounts(app).await.remove(0);
    sync_account(&app.deps, account.id).await.unwrap();
    emails::Entity::find()
        .one(&app.db)
        .await
        .unwrap()
        .unwrap()
        .id
}

#[tokio::test]
async fn the_owner_reads_a_hostile_email_safely() {
    let app = linked_app().await;
    let id = synced_hostile_email(&app).await;

    let page = app.get_html(&format!("/emails/{id}")).await;
    assert!(page.contains("Quarterly numbers"));
    assert!(page.contains("eve@evil.test"));
    assert!(
        page.contains(&format!(r#"src="/emails/{id}/body""#)),
        "{page}"
    );
    assert!(page.contains(r#"sandbox="allow-popups allow-popups-to-escape-sandbox""#));
    assert!(page.contains("Remote images are blocked"));
    assert!(
        !page.contains("<script>alert"),
        "the body is never inlined in the page"
    );

    let res = app.get(&format!("/emails/{id}/body")).await;
    assert_eq!(res.status(), StatusCode::OK);
    let csp = res.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(csp.contains("default-src 'none'"), "{csp}");
    assert!(csp.contains("sandbox allow-popups"), "{csp}");
    assert!(csp.contains("img-src 'self' data:;"), "{csp}");
    assert!(
        !csp.contains("script-src"),
        "no script source at all: {csp}"
    );
    let body = res.text().await.unwrap();
    assert!(body.contains("Numbers inside"));
    for bad in [
        "<script",
        "onclick",
        "tracker.evil.test",
        "javascript:",
        "<form",
        "<meta http-equiv",
    ] {
        assert!(!body.contains(bad), "{bad} in {body}");
    }

    // "Show images" lets remote images through, still without script.
    let res = app.get(&format!("/emails/{id}/body?images=1")).await;
    let csp = res.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(csp.contains("img-src 'self' data: https: http:"), "{csp}");
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("tracker.evil.test/pixel.gif"));
}

#[tokio::test]
async fn colleagues_see_linked_mail_only_and_other_organizations_nothing() {
    let app = linked_app().await;
    let id = synced_hostile_email(&app).await;
    let account = all_accounts(&app).await.remove(0);

    app.create_user("bea@acme.test", "a long enough password 1", false)
        .await;
    let bea = app.other_browser();
    bea.sign_in("bea@acme.test", "a long enough password 1")
        .await;
    for path in [format!("/emails/{id}"), format!("/emails/{id}/body")] {
        assert_eq!(
            bea.get(&path).await.status(),
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }

    // Linked to a business: the colleague sees it, with the reason.
    let business = format!(
        "INSERT INTO businesses (organization_id, name, notes, created_at, updated_at) \
         VALUES ({}, 'Evil Corp', '', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')",
        account.organization_id
    );
    execute(&app.db, &business).await;
    let link = format!(
        "INSERT INTO email_links (organization_id, email_id, business_id, source, reason, \
         tombstone, received_at, created_at) SELECT {org}, {id}, id, 'auto', 'domain', false, \
         '2026-11-20T10:00:00Z', '2026-11-20T10:00:00Z' FROM businesses WHERE name = 'Evil Corp'",
        org = account.organization_id
    );
    execute(&app.db, &link).await;
    let page = bea.get_html(&format!("/emails/{id}")).await;
    assert!(page.contains("Evil Corp"), "{page}");
    assert!(page.contains("a participant writes from this business"));

    // Someone from another organization: not found, whatever the id.
    let other = threadline::db::organizations::create(&app.db, "Other Co")
        .await
        .unwrap();
    let new = NewUser::parse("olga@other.test", "Olga", "a long enough password 2").unwrap();
    create_user(&app.db, other.id, None, new, Role::Admin)
        .await
        .unwrap();
    let olga = app.other_browser();
    olga.sign_in("olga@other.test", "a long enough password 2")
        .await;
    assert_eq!(
        olga.get(&format!("/emails/{id}")).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        olga.get(&format!("/emails/{id}/body")).await.status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn read_star_delete_and_restore_work_as_forms_and_with_htmx() {
    let app = linked_app().await;
    let id = synced_hostile_email(&app).await;
    let page = app.get_html(&format!("/emails/{id}")).await;
    assert!(page.contains("Mark read"), "a GET changes nothing");
    assert!(page.contains("☆ Star"));
    let csrf = app.csrf(&format!("/emails/{id}")).await;

    // Without a CSRF token nothing changes.
    let refused = app
        .post_form_with(&format!("/emails/{id}/star"), None, &[("value", "on")])
        .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert!(app
        .get_html(&format!("/emails/{id}"))
        .await
        .contains("☆ Star"));

    // A plain form: 303 back to the email, starred.
    let res = app
        .post_form(&format!("/emails/{id}/star"), &[("value", "on")])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(app
        .get_html(&format!("/emails/{id}"))
        .await
        .contains("★ Starred"));

    // htmx: the action bar comes back alone, already updated; repeating changes nothing.
    for _ in 0..2 {
        let res = app
            .client
            .post(app.url(&format!("/emails/{id}/read")))
            .header("Origin", &app.base)
            .header("HX-Request", "true")
            .form(&[("value", "off"), ("csrf_token", csrf.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let bar = res.text().await.unwrap();
        assert!(bar.starts_with(r#"<div id="email-actions""#), "{bar}");
        assert!(bar.contains("Mark read") && bar.contains("★ Starred"));
    }

    // Soft delete: listed under Deleted, audited; restore brings it back.
    let res = app.post_form(&format!("/emails/{id}/delete"), &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let deleted = app.get_html("/deleted").await;
    assert!(deleted.contains("Quarterly numbers"), "{deleted}");
    assert!(app
        .get_html(&format!("/emails/{id}"))
        .await
        .contains("Restore"));
    assert!(app
        .get_html("/admin/audit")
        .await
        .contains("email.soft_delete"));
    let res = app.post_form(&format!("/emails/{id}/restore"), &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(app
        .get_html("/deleted")
        .await
        .contains("Nothing is deleted."));
    let row = emails::Entity::find_by_id(id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert!(row.soft_deleted_at.is_none());

    // Anything but on / off is refused.
    let bad = app
        .post_form(&format!("/emails/{id}/star"), &[("value", "maybe")])
        .await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn attachments_download_from_the_provider_and_inline_images_are_served() {
    let app = linked_app().await;
    let raw = format!(
        "From: Bo <bo@customer.test>\r\nTo: {GMAIL}\r\nSubject: Quote\r\n\
         Message-ID: <quote-7@customer.test>\r\nDate: Fri, 20 Nov 2026 10:00:00 +0000\r\n\
         MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"m\"\r\n\r\n\
         --m\r\nContent-Type: multipart/related; boundary=\"r\"\r\n\r\n\
         --r\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>Logo: <img src=\"cid:logo@customer.test\"></p>\r\n\
         --r\r\nContent-Type: image/png\r\nContent-ID: <logo@customer.test>\r\n\
         Content-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n--r--\r\n\
         --m\r\nContent-Type: application/pdf; name=\"Ré sumé.pdf\"\r\n\
         Content-Disposition: attachment; filename=\"Ré sumé.pdf\"\r\n\
         Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--m--\r\n"
    );
    app.deliver_gmail(GMAIL, raw, "INBOX", None).await;
    let id = app.sync_then_first_email().await;

    let page = app.get_html(&format!("/emails/{id}")).await;
    let href = regex::Regex::new(r#"href="(/emails/\d+/attachments/\d+)" download>Ré sumé.pdf"#)
        .unwrap()
        .captures(&page)
        .unwrap_or_else(|| panic!("{page}"))[1]
        .to_string();
    let res = app.get(&href).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "application/octet-stream");
    let disposition = res.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(disposition.starts_with("attachment;"), "{disposition}");
    assert!(disposition.contains("filename*=UTF-8''R%C3%A9%20sum%C3%A9.pdf"));
    assert_eq!(&res.bytes().await.unwrap()[..], b"%PDF-1.4\n");

    let body = app.get_html(&format!("/emails/{id}/body")).await;
    assert!(
        body.contains(&format!("/emails/{id}/cid/logo%40customer.test")),
        "{body}"
    );
    let res = app
        .get(&format!("/emails/{id}/cid/logo%40customer.test"))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "image/png");
    assert_eq!(&res.bytes().await.unwrap()[..8], b"\x89PNG\r\n\x1a\n");
    assert_eq!(
        app.get(&format!("/emails/{id}/cid/nothing%40here"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );

    // A colleague who may not see the email gets nothing either.
    app.create_user("bea@acme.test", "a long enough password 1", false)
        .await;
    let bea = app.other_browser();
    bea.sign_in("bea@acme.test", "a long enough password 1")
        .await;
    assert_eq!(bea.get(&href).await.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn admins_delete_for_good_and_no_resync_brings_it_back() {
    let app = linked_app().await;
    let id = synced_hostile_email(&app).await;
    let account = all_accounts(&app).await.remove(0);
    let path = format!("/emails/{id}/purge");

    // Members may not.
    app.create_user("bea@acme.test", "a long enough password 1", false)
        .await;
    let bea = app.other_browser();
    bea.sign_in("bea@acme.test", "a long enough password 1")
        .await;
    assert_eq!(bea.get(&path).await.status(), StatusCode::FORBIDDEN);
    let res = bea.post_form(&path, &[("scope", "email")]).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);

    let page = app.get_html(&path).await;
    assert!(page.contains("Delete for good?") && page.contains("Quarterly numbers"));
    let res = app.post_form(&path, &[("scope", "email")]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        app.get(&format!("/emails/{id}")).await.status(),
        StatusCode::NOT_FOUND
    );
    assert!(emails::Entity::find()
        .all(&app.db)
        .await
        .unwrap()
        .is_empty());
    assert!(app.get_html("/admin/audit").await.contains("email.purge"));

    // A full resync (cursors dropped) lists the message again but does not store it.
    execute(
        &app.db,
        &format!("DELETE FROM sync_cursors WHERE account_id = {}", account.id),
    )
    .await;
    sync_account(&app.deps, account.id).await.unwrap();
    assert!(emails::Entity::find()
        .all(&app.db)
        .await
        .unwrap()
        .is_empty());
}
