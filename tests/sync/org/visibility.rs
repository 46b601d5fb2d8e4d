//! Who sees an organization mailbox's mail: it belongs to the organization; its linked mail is
//! on business timelines at the mailbox's level (a shared mailbox's included); the Threadline
//! user whose address is the mailbox's sees all of it in My mail, as its owner; a colleague
//! sees none of it in My mail and its linked mail only at its level.
use threadline::db::{directory, visibility};
use threadline::domain::visibility::Level;
use threadline::sync;
use threadline_emulator::control::DeliverQuery;
use threadline_emulator::microsoft::tenants::MailboxKind;

use super::setup::{self, raw};
use crate::common::{self, options};

const ANN: &str = "ann@contoso.test";
const SUPPORT: &str = "support@contoso.test";
const PASSWORD: &str = "a long enough password";

async fn deliver(app: &crate::support::TestApp, to: &str, from: &str, tag: &str) {
    let q = DeliverQuery {
        folder: Some("inbox".into()),
        ..DeliverQuery::default()
    };
    common::deliver_to(app, to, &q, &raw(to, from, tag)).await;
}

#[tokio::test]
async fn organization_mail_on_timelines_and_in_my_mail_at_each_readers_level() {
    let (app, org) = setup::app().await;
    let m = setup::m365(
        &app,
        "contoso.test",
        &[
            (ANN, MailboxKind::User, None),
            (SUPPORT, MailboxKind::Shared, None),
        ],
        None,
    )
    .await;
    let conn = m.connect_secret(&app, org, "contoso").await;
    let buyer = directory::create_business(&app.db, org, "Buyer Ltd", &["buyer.example".into()])
        .await
        .unwrap();
    deliver(
        &app,
        SUPPORT,
        "Pat <pat@buyer.example>",
        "support-quote-request",
    )
    .await;
    deliver(&app, ANN, "Pat <pat@buyer.example>", "ann-pricing-question").await;
    deliver(
        &app,
        ANN,
        "Zoe <zoe@elsewhere.example>",
        "ann-unlinked-note",
    )
    .await;
    let support = m.mailbox(&app, &conn, SUPPORT).await;
    let ann_box = m.mailbox(&app, &conn, ANN).await;
    // Ann's mailbox shares metadata only with colleagues.
    let admin_address =
        threadline::domain::address::EmailAddress::parse(crate::support::ADMIN_EMAIL).unwrap();
    let admin = threadline::db::users::find_by_email(&app.db, &admin_address)
        .await
        .unwrap()
        .expect("admin")
        .id;
    visibility::set_mailbox(&app.db, org, admin, ann_box, Level::Metadata)
        .await
        .unwrap();
    for id in [support, ann_box] {
        sync::sync_account_with(&app.deps, id, &options())
            .await
            .expect("syncs");
    }
    let ann = app.member_browser(ANN, PASSWORD).await;
    let cleo = app.member_browser("cleo@contoso.test", PASSWORD).await;
    let business = format!("/businesses/{}", buyer.id);

    // The shared mailbox's mail is on the business timeline, in full, for everyone.
    for reader in [&app, &ann, &cleo] {
        let page = reader.get_html(&business).await;
        assert!(page.contains("support-quote-request"), "{page}");
    }
    // Ann sees her organization mailbox as its owner: everything, linked or not, in My mail.
    let mine = ann.get_html("/mail").await;
    assert!(mine.contains("ann-pricing-question"), "{mine}");
    assert!(mine.contains("ann-unlinked-note"), "{mine}");
    assert!(!mine.contains("support-quote-request"), "{mine}");
    let page = ann.get_html(&business).await;
    assert!(page.contains("ann-pricing-question"), "{page}");
    // A colleague: nothing of it in My mail; its linked mail at its level (no subject).
    let theirs = cleo.get_html("/mail").await;
    assert!(!theirs.contains("ann-pricing-question"), "{theirs}");
    assert!(!theirs.contains("ann-unlinked-note"), "{theirs}");
    let page = cleo.get_html(&business).await;
    assert!(!page.contains("ann-pricing-question"), "{page}");
    assert!(!page.contains("ann-unlinked-note"), "{page}");
    assert!(page.contains("subject not shared"), "{page}");
}
