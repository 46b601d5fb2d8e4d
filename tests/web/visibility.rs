//! Visibility levels, surface by surface: what a colleague (a member, and an admin: admins
//! manage, they do not read beyond the levels) gets of a linked email whose mailbox is at
//! `full`, `subject`, `metadata` or `private`, while the owner sees everything; a thread marked
//! private; a message in several mailboxes seen at its most permissive copy.
use reqwest::StatusCode;
use threadline::domain::visibility::Level;

use crate::support::{TestApp, ADMIN_EMAIL};
use crate::visibility_world::{self as world, Mail};

const OWEN: &str = "owen@acme.test";
const BEA: &str = "bea@acme.test";
pub const PASSWORD: &str = "a long enough password 1";

/// One email per level in Owen's mailboxes, linked to Globex; words `zsubj<level>` (subject)
/// and `zbody<level>` (body, snippet, attachment name) tell what leaked.
pub struct Matrix {
    pub app: TestApp,
    pub owen: TestApp,
    pub bea: TestApp,
    pub org: i64,
    pub owen_id: i64,
    pub business: i64,
    /// `(level, email id, attachment id)`.
    pub emails: Vec<(Level, i64, i64)>,
    /// Owen's unlinked email in the full-level email's thread (words `zsubjunlinked`,
    /// `zbodyunlinked`).
    pub unlinked: i64,
}

pub async fn matrix() -> Matrix {
    let app = TestApp::spawn_admin().await;
    let owen_id = app.create_user(OWEN, PASSWORD, false).await;
    let owen = app.other_browser();
    owen.sign_in(OWEN, PASSWORD).await;
    let bea = app.member_browser(BEA, PASSWORD).await;
    let org = threadline::db::organizations::first(&app.db)
        .await
        .unwrap()
        .unwrap()
        .id;
    let business = world::business(&app.db, org, "Globex", "globex.test").await;
    let mut emails = Vec::new();
    for (i, level) in Level::ALL.into_iter().enumerate() {
        let account = world::mailbox(
            &app.db,
            org,
            Some(owen_id),
            &format!("owen-{level}@acme.test"),
            level.as_str(),
        )
        .await;
        let key = format!("m-{level}");
        let id = world::email(
            &app.db,
            org,
            OWEN,
            &Mail {
                account,
                message_key: &key,
                thread_key: &key,
                subject: &format!("zsubj{level}"),
                body: &format!("zbody{level}"),
                minute: i64::try_from(i).unwrap(),
            },
        )
        .await;
        world::link(&app.db, org, id, business).await;
        let attachment = threadline::db::email_view::attachments_of(&app.db, org, id)
            .await
            .unwrap()[0]
            .id;
        emails.push((level, id, attachment));
    }
    let full_account =
        world::mailbox(&app.db, org, Some(owen_id), "owen-x@acme.test", "full").await;
    let unlinked = world::email(
        &app.db,
        org,
        OWEN,
        &Mail {
            account: full_account,
            message_key: "m-unlinked",
            // In the full-level email's thread, but not linked.
            thread_key: "m-full",
            subject: "zsubjunlinked",
            body: "zbodyunlinked",
            minute: 10,
        },
    )
    .await;
    Matrix {
        app,
        owen,
        bea,
        org,
        owen_id,
        business,
        emails,
        unlinked,
    }
}

pub async fn status(browser: &TestApp, path: &str) -> StatusCode {
    browser.get(path).await.status()
}

/// What `who` gets of the email of each level, surface by surface, as the rules say.
async fn check_colleague(m: &Matrix, who: &TestApp, name: &str) {
    let b = m.business;
    let timeline = who.get_html(&format!("/businesses/{b}")).await;
    for &(level, id, attachment) in &m.emails {
        let subj = format!("zsubj{level}");
        let body = format!("zbody{level}");
        let ctx = format!("{name} at {level}");
        // Timeline: a thread line per visible email, with what the level shows.
        assert_eq!(
            timeline.contains(&format!("id=\"thread-{id}\"")),
            level > Level::Private,
            "{ctx}: listed"
        );
        assert_eq!(
            timeline.contains(&subj),
            level >= Level::Subject,
            "{ctx}: subject"
        );
        assert_eq!(
            timeline.contains(&body),
            level == Level::Full,
            "{ctx}: snippet"
        );
        // Thread fragment.
        let fragment = who.get(&format!("/businesses/{b}/threads/{id}")).await;
        if level == Level::Private {
            assert_eq!(fragment.status(), StatusCode::NOT_FOUND, "{ctx}: fragment");
        } else {
            assert_eq!(fragment.status(), StatusCode::OK, "{ctx}: fragment");
            let html = fragment.text().await.unwrap();
            assert!(html.contains("gus@globex.test"), "{ctx}: sender in {html}");
            assert_eq!(html.contains(&body), level == Level::Full, "{ctx}: {html}");
            assert!(!html.contains("zsubj") || level >= Level::Subject, "{ctx}");
        }
        // The email page, its HTML body and the attachment.
        let page = who.get(&format!("/emails/{id}")).await;
        if level == Level::Private {
            assert_eq!(page.status(), StatusCode::NOT_FOUND, "{ctx}: page");
        } else {
            assert_eq!(page.status(), StatusCode::OK, "{ctx}: page");
            let html = page.text().await.unwrap();
            assert!(html.contains("gus@globex.test"), "{ctx}: participants");
            assert!(html.contains("2026-11-01"), "{ctx}: time");
            assert_eq!(
                html.contains(&subj),
                level >= Level::Subject,
                "{ctx}: {html}"
            );
            assert_eq!(html.contains(&body), level == Level::Full, "{ctx}: {html}");
            assert_eq!(
                html.contains(&format!("/emails/{id}/attachments/{attachment}")),
                level == Level::Full,
                "{ctx}: attachment link"
            );
            if level < Level::Full {
                assert!(html.contains("Not shared with you"), "{ctx}: {html}");
            }
        }
        let frame = who.get(&format!("/emails/{id}/body")).await;
        if level == Level::Full {
            assert_eq!(frame.status(), StatusCode::OK, "{ctx}: body");
            assert!(frame.text().await.unwrap().contains(&body));
        } else {
            assert_eq!(frame.status(), StatusCode::NOT_FOUND, "{ctx}: body");
        }
        let download = status(who, &format!("/emails/{id}/attachments/{attachment}")).await;
        if level == Level::Full {
            // Past the check, on to the provider (this test mailbox has no credentials).
            assert_ne!(download, StatusCode::NOT_FOUND, "{ctx}: attachment");
        } else {
            assert_eq!(download, StatusCode::NOT_FOUND, "{ctx}: attachment");
        }
        // Search: body words only at full, subject words from subject, participants from
        // metadata.
        for (q, shown) in [
            (body.clone(), level == Level::Full),
            (subj.clone(), level >= Level::Subject),
        ] {
            let found = who.get_html(&format!("/businesses/{b}?q={q}")).await;
            assert_eq!(
                found.contains(&format!("id=\"thread-{id}\"")),
                shown,
                "{ctx}: search {q}"
            );
        }
        let by_person = who.get_html(&format!("/businesses/{b}?q=gus")).await;
        assert_eq!(
            by_person.contains(&format!("id=\"thread-{id}\"")),
            level > Level::Private,
            "{ctx}: search by participant"
        );
        // Pickers: linking an email the reader cannot see at all is not found.
        if level == Level::Private {
            let res = who
                .post_form(
                    &format!("/emails/{id}/links"),
                    &[("target", &format!("business:{b}"))],
                )
                .await;
            assert_eq!(res.status(), StatusCode::NOT_FOUND, "{ctx}: link picker");
        }
    }
    // Unmatched mail is its owner's only (an admin's too), and the pickers list records, not
    // mail.
    let pages = vec![
        who.get_html("/link-targets?q=z").await,
        who.get_html("/unmatched").await,
    ];
    for html in &pages {
        assert!(
            !html.contains("zsubj") && !html.contains("zbody"),
            "{name}: {html}"
        );
    }
    assert_eq!(
        status(who, &format!("/emails/{}", m.unlinked)).await,
        StatusCode::NOT_FOUND
    );
    // The directory export holds no mail.
    let export = who.get("/export/businesses.csv").await;
    if export.status() == StatusCode::OK {
        let csv = export.text().await.unwrap();
        assert!(!csv.contains("zsubj") && !csv.contains("zbody"), "{csv}");
    }
}

#[tokio::test]
async fn a_colleague_sees_each_level_exactly_as_it_says_and_the_owner_everything() {
    let m = matrix().await;
    check_colleague(&m, &m.bea, "member").await;
    // The admin is a colleague too.
    check_colleague(&m, &m.app, ADMIN_EMAIL).await;

    // The owner sees all of their mail at every level, everywhere.
    let b = m.business;
    let timeline = m.owen.get_html(&format!("/businesses/{b}")).await;
    for &(level, id, attachment) in &m.emails {
        assert!(timeline.contains(&format!("zsubj{level}")), "{level}");
        assert!(timeline.contains(&format!("zbody{level}")), "{level}");
        let page = m.owen.get_html(&format!("/emails/{id}")).await;
        assert!(page.contains(&format!("zsubj{level}")) && page.contains(&format!("zbody{level}")));
        assert!(page.contains(&format!("/emails/{id}/attachments/{attachment}")));
        assert_eq!(
            status(&m.owen, &format!("/emails/{id}/body")).await,
            StatusCode::OK
        );
        let fragment = m
            .owen
            .get_html(&format!("/businesses/{b}/threads/{id}"))
            .await;
        assert!(fragment.contains(&format!("zbody{level}")));
        let found = m
            .owen
            .get_html(&format!("/businesses/{b}?q=zbody{level}"))
            .await;
        assert!(found.contains(&format!("id=\"thread-{id}\"")), "{level}");
    }
    let mine = m.owen.get_html("/mail").await;
    assert!(
        mine.contains("zsubjprivate") && mine.contains("zbodyunlinked"),
        "{mine}"
    );
    let unmatched = m.owen.get_html("/unmatched").await;
    assert!(unmatched.contains("zsubjunlinked"), "{unmatched}");
}

#[tokio::test]
async fn a_thread_marked_private_disappears_for_colleagues_until_shared_again() {
    let m = matrix().await;
    let (_, id, _) = m.emails[3];
    assert_eq!(m.emails[3].0, Level::Full);
    let b = m.business;
    let page = m.owen.get_html(&format!("/emails/{id}")).await;
    assert!(page.contains("Mark this thread private"), "{page}");
    // The colleague cannot mark it (not their mail).
    let res = m
        .bea
        .post_form(&format!("/emails/{id}/private"), &[("private", "on")])
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    // Without the CSRF token nothing happens.
    let res = m
        .owen
        .post_form_with(&format!("/emails/{id}/private"), None, &[("private", "on")])
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        status(&m.bea, &format!("/emails/{id}")).await,
        StatusCode::OK
    );

    let res = m
        .owen
        .post_form(&format!("/emails/{id}/private"), &[("private", "on")])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(m
        .owen
        .get_html(&format!("/emails/{id}"))
        .await
        .contains("Share this thread again"));
    assert_eq!(
        status(&m.bea, &format!("/emails/{id}")).await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        status(&m.bea, &format!("/emails/{id}/body")).await,
        StatusCode::NOT_FOUND
    );
    let timeline = m.bea.get_html(&format!("/businesses/{b}")).await;
    assert!(!timeline.contains(&format!("id=\"thread-{id}\"")) && !timeline.contains("zsubjfull"));
    let found = m.bea.get_html(&format!("/businesses/{b}?q=gus")).await;
    assert!(!found.contains(&format!("id=\"thread-{id}\"")));
    // The owner still sees it.
    assert!(m
        .owen
        .get_html(&format!("/businesses/{b}"))
        .await
        .contains("zbodyfull"));

    let res = m
        .owen
        .post_form(&format!("/emails/{id}/private"), &[("private", "off")])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(m
        .bea
        .get_html(&format!("/emails/{id}"))
        .await
        .contains("zbodyfull"));
    let audit = threadline::db::audit::list(&m.app.db, m.org, 50)
        .await
        .unwrap();
    let actions: Vec<&str> = audit.iter().map(|e| e.action.as_str()).collect();
    assert!(actions.contains(&"thread.private") && actions.contains(&"thread.shared"));
    assert!(audit
        .iter()
        .all(|e| e.action != "thread.private" || e.actor_user_id == Some(m.owen_id)));
}

/// The `<tr>` of email `id` in the Deleted view, if listed.
fn deleted_row(html: &str, id: i64) -> Option<&str> {
    let start = html.find(&format!("<tr id=\"deleted-{id}\">"))?;
    let end = html[start..].find("</tr>")? + start;
    Some(&html[start..end])
}

#[tokio::test]
async fn the_deleted_view_shows_a_colleague_each_level_as_the_timeline_does() {
    let m = matrix().await;
    for &(_, id, _) in &m.emails {
        let res = m.owen.post_form(&format!("/emails/{id}/delete"), &[]).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
    }
    for (who, name) in [(&m.bea, "member"), (&m.app, ADMIN_EMAIL)] {
        let page = who.get_html("/deleted").await;
        assert!(!page.contains("zbody"), "{name}: {page}");
        for &(level, id, _) in &m.emails {
            let ctx = format!("{name} at {level}");
            let Some(row) = deleted_row(&page, id) else {
                assert_eq!(level, Level::Private, "{ctx}: listed in {page}");
                continue;
            };
            assert!(level > Level::Private, "{ctx}: not listed: {row}");
            assert!(row.contains("Gus"), "{ctx}: sender in {row}");
            assert_eq!(
                row.contains(&format!("zsubj{level}")),
                level >= Level::Subject,
                "{ctx}: {row}"
            );
            assert_eq!(
                row.contains("(subject not shared)"),
                level < Level::Subject,
                "{ctx}: as the timeline says it: {row}"
            );
        }
        assert!(!page.contains("zsubjprivate"), "{name}: {page}");
    }
    // The audit log, an admin's page, names the deleted messages without their subjects.
    let audit = m.app.get_html("/admin/audit").await;
    assert!(audit.contains("email.soft_delete"), "{audit}");
    assert!(!audit.contains("zsubj"), "{audit}");
    // Owen marks the full-level email's thread private: it leaves his colleagues' view.
    let (_, full, _) = m.emails[3];
    world::private_thread(&m.app.db, m.org, m.owen_id, "m-full").await;
    let page = m.bea.get_html("/deleted").await;
    assert!(deleted_row(&page, full).is_none(), "{page}");
    assert!(!page.contains("zsubjfull"), "{page}");
    // The owner sees every one of them, subjects included.
    let page = m.owen.get_html("/deleted").await;
    for &(level, id, _) in &m.emails {
        let row = deleted_row(&page, id).unwrap_or_else(|| panic!("{level}: {page}"));
        assert!(row.contains(&format!("zsubj{level}")), "{level}: {row}");
    }
}
