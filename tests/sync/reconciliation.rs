//! Reconciliation against real passes, Gmail and Outlook alike: after a full sync each synced
//! folder's (label's) provider count equals what Threadline stores plus what it ledgered (an
//! excluded message counts as ledgered); a message the provider holds but Threadline lost
//! makes the folder differ once two passes in a row found it, on the mailbox page, in the
//! admin console and in `stats --json`. Retention prunes only old runs and ledger history,
//! keeps each mailbox's last run, the audit log and current ledger entries, so the counts
//! still match after it.
use chrono::Duration;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};
use serde_json::Value;
use threadline::db::entities::{audit_log, emails, sync_ledger, sync_runs};
use threadline::db::reconciliation::{self, Reconciliation};
use threadline::domain::reconciliation::Status;
use threadline_emulator::control::DeliverQuery;

use crate::common::{self, Linked, Mailbox};

const GMAIL: Mailbox = Mailbox {
    provider: "google",
    address: "rita@gmail-recon.test",
    name: "Rita Reconcile",
};

const OUTLOOK: Mailbox = Mailbox {
    provider: "microsoft",
    address: "otto@outlook-recon.test",
    name: "Otto Reconcile",
};

async fn deliver(
    l: &Linked,
    mailbox: Mailbox,
    query: &DeliverQuery,
    tag: &str,
    from: &str,
) -> String {
    common::deliver_from(l, mailbox, query, (tag, from), false).await
}

async fn state(l: &Linked) -> Reconciliation {
    reconciliation::of_mailbox(&l.app.db, l.account_id)
        .await
        .unwrap()
}

/// The mailbox linked, an exclusion rule for `hr.test`, mail delivered (one message kept out
/// by the rule) and synced fully twice; the inbox's name and the excluded message's id.
async fn synced(mailbox: Mailbox, query: &DeliverQuery, generated: usize) -> (Linked, String) {
    let app = common::app_with_mailbox(mailbox, None, (7, 0), generated).await;
    let l = common::link(app, mailbox).await;
    let res = l
        .app
        .post_form("/settings/exclusions", &[("rule", "hr.test")])
        .await;
    assert_eq!(res.status(), reqwest::StatusCode::SEE_OTHER);
    for tag in ["recon-1", "recon-2", "recon-3"] {
        deliver(&l, mailbox, query, tag, "Pat <pat@buyer.example>").await;
    }
    let hr = deliver(&l, mailbox, query, "recon-hr", "Harriet <harriet@hr.test>").await;
    l.sync_ok().await;
    l.sync_ok().await;
    (l, hr)
}

fn inbox(r: &Reconciliation, name: &str) -> threadline::db::reconciliation::FolderFigures {
    r.folders
        .iter()
        .find(|f| f.name.eq_ignore_ascii_case(name))
        .unwrap_or_else(|| panic!("{name} checked: {r:?}"))
        .clone()
}

async fn scenario(mailbox: Mailbox, query: DeliverQuery, inbox_name: &str) {
    let (l, hr) = synced(mailbox, &query, 25).await;
    let r = state(&l).await;
    assert_eq!(r.status, Status::Matches, "{r:?}");
    assert!(r.checked_at.is_some());
    let by_status = reconciliation::mailboxes_by_status(&l.app.db)
        .await
        .unwrap();
    assert_eq!(by_status, (1, 0, 0));
    let folder = inbox(&r, inbox_name);
    assert!(
        folder.ledgered >= 1,
        "the excluded message is ledgered: {folder:?}"
    );
    assert_eq!(
        folder.provider_count,
        folder.stored + folder.ledgered,
        "{folder:?}"
    );
    assert!(folder.synced_at.is_some());
    let ledgered = sync_ledger::Entity::find()
        .filter(sync_ledger::Column::ProviderMessageId.eq(hr.as_str()))
        .one(&l.app.db)
        .await
        .unwrap()
        .expect("excluded message ledgered");
    assert_eq!(ledgered.reason, "excluded");

    // A message the provider still holds disappears from Threadline's database.
    let lost = emails::Entity::find()
        .filter(emails::Column::AccountId.eq(l.account_id))
        .filter(emails::Column::Subject.eq("subject recon-2"))
        .one(&l.app.db)
        .await
        .unwrap()
        .expect("recon-2 stored");
    emails::Entity::delete_by_id(lost.id)
        .exec(&l.app.db)
        .await
        .unwrap();
    l.sync_ok().await;
    assert_eq!(
        state(&l).await.status,
        Status::Unknown,
        "one pass is not enough"
    );
    l.sync_ok().await;
    let r = state(&l).await;
    assert_eq!(r.status, Status::Differs, "{r:?}");
    let folder = inbox(&r, inbox_name);
    assert_eq!(folder.status, Status::Differs);
    assert_eq!(
        folder.provider_count,
        folder.stored + folder.ledgered + 1,
        "{folder:?}"
    );

    // Where people look: the mailbox page, the admin console, `stats --json`.
    let page = l
        .app
        .get_html(&format!("/mailboxes/{}", l.account_id))
        .await;
    assert!(page.contains("Differs from the provider: "), "{page}");
    assert!(page.contains(&folder.name));
    let console = l.app.get_html("/admin/mailboxes").await;
    assert!(console.contains("Differs from the provider: "), "{console}");
    let stats = threadline::sync::stats::collect(&l.app.db).await.unwrap();
    let json: Value = serde_json::to_value(&stats).unwrap();
    let rec = &json["accounts"][0]["reconciliation"];
    assert_eq!(rec["status"], "differs", "{rec}");
    assert!(rec["checked_at"].is_string());
    let named = rec["folders"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == folder.name.as_str())
        .expect("the folder is named");
    for field in ["provider_count", "stored", "ledgered"] {
        assert!(named[field].is_u64(), "{named}");
    }
    assert!(named["last_synced_at"].is_string(), "{named}");
    let by_status = reconciliation::mailboxes_by_status(&l.app.db)
        .await
        .unwrap();
    assert_eq!(by_status, (0, 1, 0));
    let quiet = ["--sync-workers", "0", "--job-workers", "0"];
    let out = common::threadline(&l, &["stats"], quiet, &[]).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let line = format!("{} reconciliation: differs", mailbox.address);
    assert!(text.contains(&line), "{text}");
    let counts = format!(
        "  {}: provider {}, stored {}, ledgered {}, differs",
        folder.name, folder.provider_count, folder.stored, folder.ledgered
    );
    assert!(text.contains(&counts), "{text}");
}

#[tokio::test]
async fn gmail_label_counts_match_and_a_lost_message_differs() {
    let query = DeliverQuery {
        labels: Some("INBOX".into()),
        ..DeliverQuery::default()
    };
    scenario(GMAIL, query, "INBOX").await;
}

#[tokio::test]
async fn outlook_folder_counts_match_and_a_lost_message_differs() {
    let query = DeliverQuery {
        folder: Some("inbox".into()),
        ..DeliverQuery::default()
    };
    scenario(OUTLOOK, query, "Inbox").await;
}

#[tokio::test]
async fn a_message_in_two_synced_labels_counts_in_each() {
    let query = DeliverQuery {
        labels: Some("INBOX,SENT".into()),
        ..DeliverQuery::default()
    };
    let (l, hr) = synced(GMAIL, &query, 0).await;
    let r = state(&l).await;
    assert_eq!(r.status, Status::Matches, "{r:?}");
    let (inbox, sent) = (inbox(&r, "INBOX"), inbox(&r, "SENT"));
    assert_eq!(
        (inbox.provider_count, inbox.stored, inbox.ledgered),
        (4, 3, 1)
    );
    assert_eq!((sent.provider_count, sent.stored, sent.ledgered), (4, 3, 1));

    // The excluded message deleted in Gmail: the ledger stops counting it, the counts agree.
    common::delete_in(&l.app, GMAIL.address, &hr).await;
    l.sync_ok().await;
    l.sync_ok().await;
    let r = state(&l).await;
    assert_eq!(r.status, Status::Matches, "{r:?}");
    let inbox = self::inbox(&r, "INBOX");
    assert_eq!(
        (inbox.provider_count, inbox.stored, inbox.ledgered),
        (3, 3, 0)
    );
    let entry = sync_ledger::Entity::find()
        .filter(sync_ledger::Column::ProviderMessageId.eq(hr.as_str()))
        .one(&l.app.db)
        .await
        .unwrap()
        .expect("still ledgered");
    assert!(
        entry.gone_at.is_some(),
        "stamped gone: retention may forget it"
    );
}

async fn age_runs(l: &Linked, days: i64) {
    let old = threadline::db::now() - Duration::days(days);
    sync_runs::Entity::update_many()
        .col_expr(sync_runs::Column::StartedAt, Expr::value(old))
        .filter(sync_runs::Column::AccountId.eq(l.account_id))
        .exec(&l.app.db)
        .await
        .unwrap();
}

async fn ledger(l: &Linked, pid: &str, reason: &str, days: i64, gone: bool) {
    let at = threadline::db::now() - Duration::days(days);
    let account = threadline::db::mail_accounts::find(&l.app.db, l.account_id)
        .await
        .unwrap()
        .unwrap();
    sync_ledger::ActiveModel {
        organization_id: Set(account.organization_id),
        account_id: Set(l.account_id),
        provider_message_id: Set(pid.to_string()),
        reason: Set(reason.to_string()),
        detail: Set(String::new()),
        created_at: Set(at),
        exclusion_rule_id: Set(None),
        folders: Set(None),
        gone_at: Set(gone.then_some(at)),
        ..Default::default()
    }
    .insert(&l.app.db)
    .await
    .unwrap();
}

async fn ledger_ids(l: &Linked) -> Vec<String> {
    let mut ids: Vec<String> = sync_ledger::Entity::find()
        .filter(sync_ledger::Column::AccountId.eq(l.account_id))
        .all(&l.app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.provider_message_id)
        .collect();
    ids.sort();
    ids
}

#[tokio::test]
async fn retention_prunes_only_old_history_and_counts_still_match() {
    let query = DeliverQuery {
        labels: Some("INBOX".into()),
        ..DeliverQuery::default()
    };
    let (l, hr) = synced(GMAIL, &query, 0).await;
    let db = &l.app.db;
    // Every run is old; the excluded message was ledgered long ago.
    age_runs(&l, 40).await;
    sync_ledger::Entity::update_many()
        .col_expr(
            sync_ledger::Column::CreatedAt,
            Expr::value(threadline::db::now() - Duration::days(40)),
        )
        .filter(sync_ledger::Column::AccountId.eq(l.account_id))
        .exec(db)
        .await
        .unwrap();
    let stored_one = emails::Entity::find()
        .filter(emails::Column::AccountId.eq(l.account_id))
        .one(db)
        .await
        .unwrap()
        .unwrap();
    // History: gone before it was fetched, deleted in the provider since, an error whose
    // message was stored since. Current: an error whose message is still not stored, and a
    // recent entry.
    ledger(&l, "old-gone", "gone", 40, false).await;
    ledger(&l, "old-deleted", "provider_error", 40, true).await;
    ledger(
        &l,
        &stored_one.provider_message_id,
        "provider_error",
        40,
        false,
    )
    .await;
    ledger(&l, "old-error", "provider_error", 40, false).await;
    ledger(&l, "new-gone", "gone", 1, false).await;
    let audit_before = audit_log::Entity::find().count(db).await.unwrap();
    assert!(audit_before > 0, "the rule was audited");
    let runs_before = sync_runs::Entity::find().count(db).await.unwrap();
    assert!(runs_before >= 2);

    let (org, pruned) = threadline::retention::run_next(db, "test-retention", 30)
        .await
        .unwrap()
        .expect("retention due");
    assert_eq!(org, stored_one.organization_id);
    assert_eq!(pruned.runs, runs_before - 1, "{pruned:?}");
    assert_eq!(pruned.ledger, 3, "{pruned:?}");
    let runs = sync_runs::Entity::find().all(db).await.unwrap();
    assert_eq!(runs.len(), 1, "the mailbox's last run stays");
    let mut want = vec![hr.clone(), "new-gone".to_string(), "old-error".to_string()];
    want.sort();
    assert_eq!(ledger_ids(&l).await, want);
    assert_eq!(
        audit_log::Entity::find().count(db).await.unwrap(),
        audit_before
    );
    // At most daily: the organization's job is not due again today.
    assert!(threadline::retention::run_next(db, "test-retention", 30)
        .await
        .unwrap()
        .is_none());

    // The excluded message is still kept out and still counted.
    l.sync_ok().await;
    l.sync_ok().await;
    let r = state(&l).await;
    assert_eq!(r.status, Status::Matches, "{r:?}");
    assert_eq!(inbox(&r, "INBOX").ledgered, 1);
    let hr_stored = emails::Entity::find()
        .filter(emails::Column::ProviderMessageId.eq(hr.as_str()))
        .count(db)
        .await
        .unwrap();
    assert_eq!(hr_stored, 0);
}

#[tokio::test]
async fn retention_keeps_recent_runs() {
    let query = DeliverQuery::default();
    let (l, _) = synced(GMAIL, &query, 0).await;
    let db = &l.app.db;
    let before = sync_runs::Entity::find().count(db).await.unwrap();
    threadline::retention::run_next(db, "test-retention", 30)
        .await
        .unwrap()
        .expect("retention due");
    assert_eq!(sync_runs::Entity::find().count(db).await.unwrap(), before);
}
