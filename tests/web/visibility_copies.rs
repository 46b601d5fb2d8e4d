//! Copies and links under visibility levels: a message in several mailboxes is seen at its
//! most permissive copy the reader may see (a private copy itself stays invisible), and
//! linking (one email or a whole thread) never lets anyone read mail they could not.
use reqwest::StatusCode;

use crate::visibility::{matrix, status, PASSWORD};
use crate::visibility_world::{self as world, Mail};

#[tokio::test]
async fn a_message_in_several_mailboxes_is_seen_at_its_most_permissive_copy() {
    let m = matrix().await;
    let db = &m.app.db;
    let pat = m.app.create_user("pat@acme.test", PASSWORD, false).await;
    let pat_full = world::mailbox(db, m.org, Some(pat), "pat-full@acme.test", "full").await;
    let pat_private = world::mailbox(db, m.org, Some(pat), "pat-priv@acme.test", "private").await;
    // The metadata-level message also sits in Pat's full mailbox: full for colleagues.
    let (_, meta, _) = m.emails[1];
    let copy = world::email(
        db,
        m.org,
        "pat@acme.test",
        &Mail {
            account: pat_full,
            message_key: "m-metadata",
            thread_key: "m-metadata",
            subject: "zsubjmetadata",
            body: "zbodymetadata",
            minute: 1,
        },
    )
    .await;
    world::link(db, m.org, copy, m.business).await;
    // The subject-level one also sits in Pat's private mailbox: still subject.
    let (_, subj, _) = m.emails[2];
    let hidden = world::email(
        db,
        m.org,
        "pat@acme.test",
        &Mail {
            account: pat_private,
            message_key: "m-subject",
            thread_key: "m-subject",
            subject: "zsubjsubject",
            body: "zbodysubject",
            minute: 2,
        },
    )
    .await;
    world::link(db, m.org, hidden, m.business).await;

    let b = m.business;
    let timeline = m.bea.get_html(&format!("/businesses/{b}")).await;
    assert!(
        timeline.contains("zsubjmetadata") && timeline.contains("zbodymetadata"),
        "{timeline}"
    );
    assert!(timeline.contains("zsubjsubject") && !timeline.contains("zbodysubject"));
    assert_eq!(
        timeline.matches("zsubjmetadata").count(),
        1,
        "one line per message"
    );
    for id in [meta, copy] {
        let page = m.bea.get_html(&format!("/emails/{id}")).await;
        assert!(page.contains("zbodymetadata"), "{id}: {page}");
    }
    let page = m.bea.get_html(&format!("/emails/{subj}")).await;
    assert!(page.contains("zsubjsubject") && !page.contains("zbodysubject"));
    // The private copy itself does not exist for colleagues (nor does Pat's mailbox).
    assert_eq!(
        status(&m.bea, &format!("/emails/{hidden}")).await,
        StatusCode::NOT_FOUND
    );
    assert!(!timeline.contains("pat-priv@acme.test"));
    let found = m
        .bea
        .get_html(&format!("/businesses/{b}?q=zbodymetadata"))
        .await;
    assert!(
        found.contains("zsubjmetadata"),
        "found through the full copy"
    );
    let found = m
        .bea
        .get_html(&format!("/businesses/{b}?q=zbodysubject"))
        .await;
    assert!(
        !found.contains("zsubjsubject"),
        "never through the private copy"
    );
}

#[tokio::test]
async fn linking_never_raises_a_colleagues_access() {
    let m = matrix().await;
    let other = world::business(&m.app.db, m.org, "Initech", "initech.test").await;
    let target = format!("business:{other}");
    // The colleague's unlinked email: not found, nothing linked.
    let res = m
        .bea
        .post_form(
            &format!("/emails/{}/links", m.unlinked),
            &[("target", &target)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    // Linking the whole thread of the full-level email they see leaves the owner's unlinked
    // email of that thread out.
    let (_, full, _) = m.emails[3];
    let res = m
        .bea
        .post_form(
            &format!("/emails/{full}/links"),
            &[("target", &target), ("scope", "thread")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let links = crate::support::inspect::email_links_of(&m.app.db, full, true).await;
    assert_eq!(links.len(), 2, "{links:?}");
    assert!(
        crate::support::inspect::email_links_of(&m.app.db, m.unlinked, false)
            .await
            .is_empty()
    );
    assert_eq!(
        status(&m.bea, &format!("/emails/{}", m.unlinked)).await,
        StatusCode::NOT_FOUND
    );
    // The organization's own mailbox (no owner): its unlinked mail is the admins' to triage,
    // not a member's to link.
    let shared = world::mailbox(&m.app.db, m.org, None, "sales@acme.test", "full").await;
    let inbound = world::email(
        &m.app.db,
        m.org,
        "sales@acme.test",
        &Mail {
            account: shared,
            message_key: "m-sales",
            thread_key: "m-sales",
            subject: "zsubjsales",
            body: "zbodysales",
            minute: 20,
        },
    )
    .await;
    let res = m
        .bea
        .post_form(&format!("/emails/{inbound}/links"), &[("target", &target)])
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = m
        .app
        .post_form(&format!("/emails/{inbound}/links"), &[("target", &target)])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        crate::support::inspect::email_links_of(&m.app.db, inbound, true)
            .await
            .len(),
        1
    );
    // The owner linking their own thread takes their unlinked email along.
    let res = m
        .owen
        .post_form(
            &format!("/emails/{full}/links"),
            &[("target", &target), ("scope", "thread")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        crate::support::inspect::email_links_of(&m.app.db, m.unlinked, true)
            .await
            .len(),
        1
    );
}
