//! Exclusion rules against real passes, Gmail and Outlook alike: applying a rule removes the
//! matching stored mail (ledgered `excluded`); a later pass that meets a new matching message
//! ledgers it and stores nothing of it; a resync fetches neither the excluded nor the stored
//! messages again; removing the rule lets a resync bring the mail back. Other mail is untouched.
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use threadline::db::entities::{email_participants, sync_ledger};
use threadline_emulator::control::DeliverQuery;

use crate::common::{self, stored, Linked, Mailbox};

const GMAIL: Mailbox = Mailbox {
    provider: "google",
    address: "xena@gmail-excl.test",
    name: "Xena Exclusions",
};

const OUTLOOK: Mailbox = Mailbox {
    provider: "microsoft",
    address: "olive@outlook-excl.test",
    name: "Olive Exclusions",
};

async fn deliver(
    l: &Linked,
    mailbox: Mailbox,
    query: &DeliverQuery,
    tag: &str,
    from: &str,
) -> String {
    common::deliver_from(l, mailbox, query, (tag, from), true).await
}

async fn excluded(l: &Linked) -> Vec<String> {
    let mut ids: Vec<String> = sync_ledger::Entity::find()
        .filter(sync_ledger::Column::AccountId.eq(l.account_id))
        .filter(sync_ledger::Column::Reason.eq("excluded"))
        .all(&l.app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.provider_message_id)
        .collect();
    ids.sort();
    ids
}

async fn participants_of(l: &Linked, address: &str) -> u64 {
    email_participants::Entity::find()
        .filter(email_participants::Column::Address.eq(address))
        .count(&l.app.db)
        .await
        .unwrap()
}

async fn scenario(mailbox: Mailbox, query: DeliverQuery) {
    let app = common::app_with_mailbox(mailbox, None, (3, 0), 0).await;
    let l = common::link(app, mailbox).await;
    let hr = deliver(&l, mailbox, &query, "hr-1", "Harriet <harriet@hr.test>").await;
    let keep = deliver(&l, mailbox, &query, "keep-1", "Pat <pat@buyer.example>").await;
    l.sync_ok().await;
    assert!(stored(&l).await.live.contains_key(&hr));

    let res = l
        .app
        .post_form("/settings/exclusions", &[("rule", "hr.test")])
        .await;
    assert_eq!(res.status(), reqwest::StatusCode::SEE_OTHER);
    let now = stored(&l).await;
    assert!(!now.live.contains_key(&hr) && !now.deleted.contains(&hr));
    assert!(now.live.contains_key(&keep));
    assert_eq!(excluded(&l).await, vec![hr.clone()]);
    assert_eq!(participants_of(&l, "harriet@hr.test").await, 0);

    // A new matching message (a subdomain's) is met once, ledgered and never stored.
    let later = deliver(&l, mailbox, &query, "hr-2", "Pay <pay@payroll.hr.test>").await;
    let other = deliver(&l, mailbox, &query, "keep-2", "Pat <pat@buyer.example>").await;
    let report = l.sync_ok().await;
    assert_eq!(report.counts.stored, 1, "{:?}", report.counts);
    assert_eq!(report.counts.skipped, 1, "{:?}", report.counts);
    let now = stored(&l).await;
    assert!(!now.live.contains_key(&later) && now.live.contains_key(&other));
    let mut want = vec![hr.clone(), later.clone()];
    want.sort();
    assert_eq!(excluded(&l).await, want);
    assert_eq!(participants_of(&l, "pay@payroll.hr.test").await, 0);

    // A resync lists everything again and fetches nothing: what is stored is stored, what is
    // excluded is in the ledger.
    l.app
        .emulator_client()
        .expire_cursors(mailbox.address)
        .await
        .expect("expire-cursors");
    let report = l.sync_ok().await;
    assert_eq!(report.counts.fetched, 0, "{:?}", report.counts);
    assert_eq!(report.counts.stored, 0, "{:?}", report.counts);
    assert_eq!(stored(&l).await.live.len(), 2);

    // Without the rule, new mail is stored, and a resync brings the excluded mail back.
    let rule = threadline::db::entities::exclusion_rules::Entity::find()
        .one(&l.app.db)
        .await
        .unwrap()
        .unwrap();
    let res = l
        .app
        .post_form(&format!("/settings/exclusions/{}/remove", rule.id), &[])
        .await;
    assert_eq!(res.status(), reqwest::StatusCode::SEE_OTHER);
    assert!(excluded(&l).await.is_empty());
    let fresh = deliver(&l, mailbox, &query, "hr-3", "Harriet <harriet@hr.test>").await;
    l.sync_ok().await;
    assert!(stored(&l).await.live.contains_key(&fresh));
    assert!(!stored(&l).await.live.contains_key(&hr), "only a resync");
    l.app
        .emulator_client()
        .expire_cursors(mailbox.address)
        .await
        .expect("expire-cursors");
    l.sync_ok().await;
    let now = stored(&l).await;
    for id in [&hr, &later, &keep, &other, &fresh] {
        assert!(now.live.contains_key(id), "{id} back after the resync");
    }
}

#[tokio::test]
async fn gmail_passes_skip_excluded_mail_and_purge_applies() {
    let query = DeliverQuery {
        labels: Some("INBOX".into()),
        ..DeliverQuery::default()
    };
    scenario(GMAIL, query).await;
}

#[tokio::test]
async fn outlook_passes_skip_excluded_mail_and_purge_applies() {
    let query = DeliverQuery {
        folder: Some("inbox".into()),
        read: Some(false),
        ..DeliverQuery::default()
    };
    scenario(OUTLOOK, query).await;
}
