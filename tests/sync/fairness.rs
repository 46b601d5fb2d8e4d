//! Many mailboxes at once: worker passes stop at their time slice with more to do, and claims
//! favour the mailboxes whose slices have gone through the fewest messages, so every mailbox's
//! first page comes before anyone's long history and histories advance in step; two worker sets on one database (two instances) never run one
//! mailbox at once, and every mailbox ends exactly as the provider holds it.
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use threadline::db::entities::{emails, mail_accounts, sync_runs};
use threadline::mailboxes::MailDeps;
use threadline::sync::worker::sync_next_due_with;
use threadline::sync::SyncOptions;
use threadline_emulator::corpus;

use crate::common::{messages_in, options, TEST_LEASE};
use crate::support::mail::approve;
use crate::support::TestApp;

/// (provider, address, generated messages): sizes differ so histories end at different times.
const MAILBOXES: [(&str, &str, usize); 5] = [
    ("google", "ann@fair.test", 60),
    ("microsoft", "bob@fair.test", 45),
    ("google", "cat@fair.test", 4),
    ("microsoft", "dan@fair.test", 25),
    ("google", "eve@fair.test", 30),
];

/// Small pages, and a slice that ends every pass at its first committed page that is not the
/// last: the scheduling is then visible page by page.
fn sliced() -> SyncOptions {
    SyncOptions {
        slice: Some(Duration::ZERO),
        ..options()
    }
}

/// The app with every mailbox of `boxes` created at the emulator, filled and linked through
/// the OAuth flow; account ids by address.
async fn linked_many(boxes: &[(&str, &str, usize)]) -> (TestApp, BTreeMap<String, i64>) {
    let app = TestApp::spawn_with_emulator().await;
    app.setup_admin().await;
    for (i, (provider, address, generated)) in boxes.iter().enumerate() {
        link_one(&app, provider, address, (i, *generated)).await;
    }
    let ids = accounts(&app).await;
    assert_eq!(ids.len(), boxes.len());
    (app, ids)
}

async fn link_one(
    app: &TestApp,
    provider: &str,
    address: &str,
    (index, generated): (usize, usize),
) {
    app.provider_mailbox(provider, address, "Fair Share").await;
    let emulator = app.emulator.as_ref().expect("emulator");
    let store = emulator.state.store.get(address).expect("mailbox");
    corpus::fill(&store, 11, index, generated).expect("corpus fills");
    let res = app.connect(provider, approve(address)).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
}

async fn accounts(app: &TestApp) -> BTreeMap<String, i64> {
    mail_accounts::Entity::find()
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|a| (a.address, a.id))
        .collect()
}

/// Every generated message sits in a synced label or folder: each mailbox stores exactly the
/// provider's messages, live, with their read and starred state, once each.
async fn assert_exact(app: &TestApp, ids: &BTreeMap<String, i64>) {
    for (address, id) in ids {
        let truth: BTreeMap<String, (bool, bool)> = messages_in(app, address)
            .await
            .into_iter()
            .map(|m| (m.id, (m.read, m.starred)))
            .collect();
        let rows = emails::Entity::find()
            .filter(emails::Column::AccountId.eq(*id))
            .all(&app.db)
            .await
            .unwrap();
        assert!(rows.iter().all(|r| r.deleted_in_provider_at.is_none()));
        let stored: BTreeMap<String, (bool, bool)> = rows
            .iter()
            .map(|r| {
                (
                    r.provider_message_id.clone(),
                    (r.provider_read, r.provider_starred),
                )
            })
            .collect();
        assert_eq!(
            stored.len(),
            rows.len(),
            "{address}: a message stored twice"
        );
        assert_eq!(stored, truth, "{address}");
    }
}

/// Every run of every mailbox ended well, and no two of one mailbox overlapped in time.
async fn assert_no_double_passes(app: &TestApp) {
    let runs = sync_runs::Entity::find()
        .order_by_asc(sync_runs::Column::StartedAt)
        .all(&app.db)
        .await
        .unwrap();
    let mut last_end: HashMap<i64, chrono::DateTime<chrono::Utc>> = HashMap::new();
    for run in &runs {
        assert_eq!(run.status.as_str(), "succeeded", "{run:?}");
        let end = run.finished_at.expect("finished");
        if let Some(prev) = last_end.get(&run.account_id) {
            assert!(
                run.started_at >= *prev,
                "mailbox {} had two passes at once: one ended {prev}, the next began {}",
                run.account_id,
                run.started_at
            );
        }
        last_end.insert(run.account_id, end);
    }
}

/// One worker pass: the mailbox, the messages it listed, whether it stopped with more to do.
#[derive(Debug, Clone, Copy)]
struct Pass {
    account: i64,
    listed: u64,
    more: bool,
}

/// Run one worker's page-long slices until nothing is due; `after` sees each pass as it ends.
async fn passes_until_idle(app: &TestApp, after: impl AsyncFnMut(&[Pass])) -> Vec<Pass> {
    passes_until_idle_with(app, &sliced(), after).await
}

/// [`passes_until_idle`] with these options.
async fn passes_until_idle_with(
    app: &TestApp,
    options: &SyncOptions,
    mut after: impl AsyncFnMut(&[Pass]),
) -> Vec<Pass> {
    let mut order = Vec::new();
    while let Some(report) = sync_next_due_with(&app.deps, "w", TEST_LEASE, options)
        .await
        .unwrap()
    {
        order.push(Pass {
            account: report.account_id,
            // What the worker counts as gone through: listed, or written if more (an Outlook
            // first pass stores its newest mail before it lists a folder).
            listed: {
                let c = &report.counts;
                c.listed.max(c.stored + c.updated + c.skipped + c.deleted)
            },
            more: report.more,
        });
        after(&order).await;
        assert!(order.len() < 500, "the mailboxes never finish");
    }
    order
}

/// The messages `account` has gone through in its slices before pass `upto` (since its last
/// pass that finished).
fn progress(order: &[Pass], account: i64, upto: usize) -> u64 {
    order[..upto]
        .iter()
        .filter(|p| p.account == account)
        .fold(0, |sum, p| if p.more { sum + p.listed } else { 0 })
}

/// Histories advance in step: no pass goes to a mailbox that has gone through more messages
/// than another one still waiting (due at once after its slice); `since` says from which pass
/// on a mailbox was there.
fn assert_least_progress_first(
    order: &[Pass],
    since: &HashMap<i64, usize>,
    names: &HashMap<i64, String>,
) {
    for (i, chosen) in order.iter().enumerate() {
        let mine = progress(order, chosen.account, i);
        for (id, from) in since {
            let waiting = i >= *from && order[i..].iter().any(|p| p.account == *id);
            let theirs = progress(order, *id, i);
            assert!(
                !waiting || mine <= theirs,
                "pass {i} went to {} ({mine} messages in) while {} waited at {theirs}",
                names[&chosen.account],
                names[id]
            );
        }
    }
}

#[tokio::test]
async fn every_mailbox_gets_its_first_page_before_any_gets_its_third() {
    let (app, ids) = linked_many(&MAILBOXES).await;
    let mut late = None;
    let order = passes_until_idle(&app, async |order: &[Pass]| {
        if order.len() == 12 {
            // Deep into the histories, a colleague links a mailbox: it goes next.
            link_one(&app, "google", "fay@fair.test", (9, 20)).await;
            late = Some(accounts(&app).await["fay@fair.test"]);
        }
        if order.len() == 13 {
            assert_eq!(Some(order[12].account), late, "the new mailbox goes first");
        }
    })
    .await;
    let all = accounts(&app).await;
    let names: HashMap<i64, String> = all.iter().map(|(a, id)| (*id, a.clone())).collect();
    let passes = |id: i64, upto: usize| order[..upto].iter().filter(|p| p.account == id).count();
    let third = (0..order.len())
        .find(|&i| passes(order[i].account, i + 1) == 3)
        .expect("a mailbox needed three passes");
    for (address, id) in &ids {
        assert!(
            passes(*id, third) >= 1,
            "{address} had no pass before {} had its third",
            names[&order[third].account]
        );
    }
    let since: HashMap<i64, usize> = all
        .values()
        .map(|id| (*id, if Some(*id) == late { 12 } else { 0 }))
        .collect();
    assert_least_progress_first(&order, &since, &names);
    let biggest = ids["ann@fair.test"];
    assert!(
        passes(biggest, order.len()) > 3,
        "the big history took several slices"
    );
    assert_exact(&app, &all).await;
    assert_no_double_passes(&app).await;
}

/// Mailboxes of one size on both providers: a Gmail slice lists a page of each of its two
/// labels, an Outlook slice one page of one folder, so taking turns slice for slice would finish
/// the Gmail ones at about half the Outlook ones' progress. Turns go by messages instead: when
/// the first mailbox finishes, every other one is within two pages of its own end.
#[tokio::test]
async fn mailboxes_of_one_size_advance_message_for_message_and_finish_together() {
    let boxes = [
        ("google", "gia@even.test", 84),
        ("microsoft", "hal@even.test", 84),
        ("google", "ivy@even.test", 84),
        ("microsoft", "jon@even.test", 84),
    ];
    let (app, ids) = linked_many(&boxes).await;
    let names: HashMap<i64, String> = ids.iter().map(|(a, id)| (*id, a.clone())).collect();
    // Listing pages only: Outlook's newest-mail store (tests/sync/outlook/newest.rs) would
    // count its first messages twice, once stored and once listed.
    let listing_only = SyncOptions {
        newest_first: 0,
        ..sliced()
    };
    let order = passes_until_idle_with(&app, &listing_only, async |_: &[Pass]| {}).await;
    let since: HashMap<i64, usize> = ids.values().map(|id| (*id, 0)).collect();
    assert_least_progress_first(&order, &since, &names);
    let page = u64::from(options().page_size);
    let first_done = order
        .iter()
        .position(|p| !p.more)
        .expect("a mailbox finished");
    for id in ids.values().filter(|id| **id != order[first_done].account) {
        let total: u64 = order
            .iter()
            .filter(|p| p.account == *id)
            .map(|p| p.listed)
            .sum();
        let then = progress(&order, *id, first_done + 1);
        assert!(
            then + 2 * page >= total,
            "{} had gone through {then} of {total} when {} finished",
            names[id],
            names[&order[first_done].account]
        );
    }
    let slices = |id: i64| order.iter().filter(|p| p.account == id).count();
    assert!(
        slices(ids["hal@even.test"]) > slices(ids["gia@even.test"]),
        "Outlook's smaller steps took more turns"
    );
    assert_exact(&app, &ids).await;
    assert_no_double_passes(&app).await;
}

/// Two instances on one database: each has its own pool and three workers taking turns over
/// the mailboxes in short slices. They never run one mailbox at once, and the end is exact.
#[tokio::test]
async fn two_instances_share_the_mailboxes_without_double_passes() {
    let (app, ids) = linked_many(&MAILBOXES).await;
    let other = MailDeps {
        db: threadline::db::connect(&app.test_db.url).await.unwrap(),
        ..app.deps.clone()
    };
    let options = SyncOptions {
        slice: Some(Duration::from_millis(30)),
        ..options()
    };
    // Leases as long as the product's: this is about claims, not expiry. With the takeover
    // tests' short lease, six workers on one loaded machine can renew a lease late and see it
    // taken over (a lost lease, not a double pass).
    let lease = threadline::sync::worker::DEFAULT_LEASE;
    let mut workers = Vec::new();
    for (instance, deps) in [("a", app.deps.clone()), ("b", other)] {
        for i in 0..3 {
            let (deps, options) = (deps.clone(), options.clone());
            let id = format!("{instance}-sync-{i}");
            workers.push(tokio::spawn(async move {
                let mut passes = 0;
                // Idle twice in a row (another worker may hold the last slice meanwhile).
                let mut idle = 0;
                while idle < 2 {
                    match sync_next_due_with(&deps, &id, lease, &options).await {
                        Ok(Some(_)) => {
                            passes += 1;
                            idle = 0;
                        }
                        Ok(None) => {
                            idle += 1;
                            tokio::time::sleep(Duration::from_millis(300)).await;
                        }
                        Err(e) => panic!("{id}: {e}"),
                    }
                }
                passes
            }));
        }
    }
    let mut total = 0;
    for w in workers {
        total += w.await.unwrap();
    }
    assert!(total > MAILBOXES.len(), "several slices: {total} passes");
    assert_exact(&app, &ids).await;
    assert_no_double_passes(&app).await;
}

/// A mailbox that has never finished a pass stops at its first committed page even under a long
/// slice (its newest mail shows before anyone's history), is due again at once, and the next
/// pass runs its slice.
#[tokio::test]
async fn a_new_mailbox_stops_after_its_first_page_then_runs_its_slice() {
    let (app, ids) = linked_many(&MAILBOXES[..2]).await;
    // Pages only (Outlook's newest-first listing would make all of a small mailbox the first
    // commit).
    let long = SyncOptions {
        slice: Some(Duration::from_secs(600)),
        newest_first: 0,
        ..options()
    };
    let mut firsts = Vec::new();
    for _ in 0..2 {
        let first = sync_next_due_with(&app.deps, "w", TEST_LEASE, &long)
            .await
            .unwrap()
            .expect("a new mailbox is due");
        assert!(first.more, "stopped after its first page");
        assert!(
            first.counts.stored > 0 && first.counts.stored < 30,
            "{first:?}"
        );
        firsts.push(first.account_id);
    }
    firsts.sort_unstable();
    let mut all: Vec<i64> = ids.values().copied().collect();
    all.sort_unstable();
    assert_eq!(firsts, all, "both new mailboxes had their first page first");
    for _ in 0..2 {
        let rest = sync_next_due_with(&app.deps, "w", TEST_LEASE, &long)
            .await
            .unwrap()
            .expect("due again at once");
        assert!(!rest.more, "the rest fits in the slice");
    }
    assert_exact(&app, &ids).await;
}
