//! Ingest writes a page in a bounded number of database statements: the same first sync over a
//! mailbox of N and of 4N messages, at two page sizes, does about the same number of statements
//! per stored page (each page ends by saving its cursor, which is how pages are counted here),
//! and never more than a fixed bound, on Gmail and on Outlook. A statement per message (a body
//! insert, a state update, a look-up) would make the count grow with the page size.
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use threadline::sync::{self, SyncOptions};

use crate::common::{self, options, Mailbox};

const GMAIL: Mailbox = Mailbox {
    provider: "google",
    address: "gail@statements.test",
    name: "Gail Statements",
};
const OUTLOOK: Mailbox = Mailbox {
    provider: "microsoft",
    address: "otto@statements.test",
    name: "Otto Statements",
};

/// Statements a stored page may take, whatever its size (the pass's own bookkeeping, spread
/// over its pages, included).
const BOUND: f64 = 40.0;

/// Statements of one first sync of `messages` at `page_size`, and the pages it stored.
async fn first_sync(mailbox: Mailbox, messages: usize, page_size: u32) -> (u64, u64) {
    let persona = usize::from(mailbox.provider == "microsoft");
    let app = common::app_with_mailbox(mailbox, None, (3, persona), messages).await;
    let linked = common::link(app, mailbox).await;
    let statements = Arc::new(AtomicU64::new(0));
    let pages = Arc::new(AtomicU64::new(0));
    let mut deps = linked.app.deps.clone();
    let (s, p) = (statements.clone(), pages.clone());
    deps.db.set_metric_callback(move |info| {
        s.fetch_add(1, Ordering::Relaxed);

        if info
            .statement
            .sql
            .starts_with("INSERT INTO \"sync_cursors\"")
        {
            p.fetch_add(1, Ordering::Relaxed);
        }
    });
    // Pages only: Outlook's newest mail stored ahead of its listing is not a page, and no
    // page is cut into chunks by the clock.
    let options = SyncOptions {
        page_size,
        newest_first: 0,
        commit_every: std::time::Duration::from_secs(3600),
        ..options()
    };
    let report = sync::sync_account_with(&deps, linked.account_id, &options)
        .await
        .expect("the pass succeeds");
    assert!(report.counts.stored >= messages as u64, "{report:?}");
    let pages = pages.load(Ordering::Relaxed);
    assert!(pages > 0, "pages are counted");
    (statements.load(Ordering::Relaxed), pages)
}

#[allow(clippy::cast_precision_loss, reason = "small counts")]
async fn bounded_per_page(mailbox: Mailbox) {
    let mut per_page = Vec::new();
    for (messages, page_size) in [(40, 10), (160, 10), (40, 40), (160, 40)] {
        let (statements, pages) = first_sync(mailbox, messages, page_size).await;
        let each = statements as f64 / pages as f64;
        eprintln!(
            "{}: {messages} messages, pages of {page_size}: {statements} statements over \
             {pages} pages = {each:.1} per page",
            mailbox.provider
        );
        assert!(
            each <= BOUND,
            "{each:.1} statements per page at {messages}/{page_size}"
        );
        per_page.push(each);
    }
    let (small, large) = (per_page[0].max(per_page[1]), per_page[2].max(per_page[3]));
    assert!(
        large <= small + 6.0,
        "pages four times larger cost {large:.1} statements each against {small:.1}"
    );
    assert!(
        per_page[1] <= per_page[0] + 3.0 && per_page[3] <= per_page[2] + 3.0,
        "a larger mailbox costs more per page: {per_page:?}"
    );
}

#[tokio::test]
async fn gmail_pages_take_a_bounded_number_of_statements() {
    bounded_per_page(GMAIL).await;
}

#[tokio::test]
async fn outlook_pages_take_a_bounded_number_of_statements() {
    bounded_per_page(OUTLOOK).await;
}
