//! Organization isolation, what each admin reads: on two organizations created by `threadline
//! org create` (see `isolation_world`), every page an admin reads the organization through
//! shows all of their own organization and nothing of the other.
use reqwest::StatusCode;

use crate::isolation::fill;
use crate::isolation_world::{two_organizations, World, A_MAILBOX, B_MAILBOX};
use crate::support::ADMIN_EMAIL;

/// What each organization holds that the other must never see.
const ACME_ONLY: &[&str] = &[
    "Acme question",
    "Acme unmatched lead",
    "Acme Prospect",
    "prospect-a.test",
    "lead-acme.test",
    A_MAILBOX,
    ADMIN_EMAIL,
    "Ada Admin",
];
const BRAVO_ONLY: &[&str] = &[
    "Bravo secret plans",
    "Bravo unmatched lead",
    "Bravo Client",
    "Cara Client",
    "client-b.test",
    "lead-bravo.test",
    "plans.pdf",
    B_MAILBOX,
    "root@bravo.test",
    "mel@bravo.test",
];

/// The pages an admin reads the organization through: timelines and their search, the
/// directory and its search and export, unmatched mail and its pickers, mailboxes, the
/// console, users and the audit log.
const PAGES: &[&str] = &[
    "/",
    "/mail",
    "/mail?q=plans",
    "/mail?q=question",
    "/mail?q=lead",
    "/mail/threads",
    "/businesses",
    "/businesses?q=client",
    "/contacts",
    "/contacts?q=cara",
    "/export/businesses.csv",
    "/export/contacts.csv",
    "/unmatched",
    "/unmatched/targets?q=client",
    "/link-targets?q=client",
    "/mailboxes",
    "/admin/mailboxes",
    "/admin/users",
    "/admin/audit",
    "/deleted",
];

#[tokio::test]
async fn each_admin_sees_their_own_organization_and_nothing_of_the_other() {
    let World {
        app, bravo, ids, ..
    } = two_organizations().await;
    for (who, browser, own, other) in [
        ("A", &app, ACME_ONLY, BRAVO_ONLY),
        ("B", &bravo, BRAVO_ONLY, ACME_ONLY),
    ] {
        let mut seen_own = Vec::new();
        for page in PAGES {
            let res = browser.get(page).await;
            assert_eq!(res.status(), StatusCode::OK, "{who}: GET {page}");
            let body = res.text().await.unwrap();
            for word in other {
                assert!(
                    !body.contains(word),
                    "{who} sees {word:?} on {page}:\n{body}"
                );
            }
            seen_own.extend(own.iter().filter(|w| body.contains(**w)));
        }
        // The pages are not empty: each admin finds all of their own there (attachment names
        // show on the email page, below).
        for word in own.iter().filter(|w| **w != "plans.pdf") {
            assert!(
                seen_own.contains(&word),
                "{who} never sees their own {word:?}"
            );
        }
    }
    // The console lists each organization's mailbox to its admin only, with its mail.
    let mine = app.get_html("/admin/mailboxes").await;
    assert!(mine.contains(&format!("mailbox-{}", fill("{my_mailbox}", &ids))));
    assert!(!mine.contains(&format!("mailbox-{}\"", fill("{mailbox}", &ids))));
    let theirs = bravo.get_html("/admin/mailboxes").await;
    assert!(theirs.contains(&format!("mailbox-{}\"", fill("{mailbox}", &ids))));
    assert!(!theirs.contains(&format!("mailbox-{}\"", fill("{my_mailbox}", &ids))));
    // B's attachment, body and email are B's alone (A's 404s are in the test above).
    let email = bravo.get_html(&fill("/emails/{email}", &ids)).await;
    assert!(email.contains("plans.pdf"), "{email}");
    let attachment = fill("/emails/{email}/attachments/{attachment}", &ids);
    assert_eq!(bravo.get(&attachment).await.status(), StatusCode::OK);
    assert_eq!(app.get(&attachment).await.status(), StatusCode::NOT_FOUND);
}
