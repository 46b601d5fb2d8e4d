//! Google Workspace organization mailboxes (domain-wide delegation): delegated users sync
//! exactly through `users/{address}`; a user without Gmail, a suspended user and a scope not
//! granted each get the `refused` status with their own reason and do not stop the others.
use threadline::domain::mailbox::MailboxStatus;
use threadline::providers::{Provider, ProviderError};
use threadline::sync::{self, SyncError};

use super::setup::{self, account, api_requests, assert_exact, fill_gmail, GMAIL_READONLY};
use crate::common::options;

const DOMAIN: &str = "northwind.test";
const ANN: &str = "ann@northwind.test";
const SALES: &str = "sales@northwind.test";
const NOGMAIL: &str = "nogmail@northwind.test";
const GONE: &str = "gone@northwind.test";
const ADMIN: &str = "it@northwind.test";

#[tokio::test]
async fn workspace_mailboxes_sync_exactly_and_refusals_are_statuses() {
    let (app, org) = setup::app().await;
    let users = [
        (ANN, true, false),
        (SALES, true, false),
        (NOGMAIL, false, false),
        (GONE, true, true),
        (ADMIN, true, false),
    ];
    let w = setup::workspace(&app, DOMAIN, &users, &[GMAIL_READONLY]).await;
    let conn = w.connect(&app, org, "northwind", ADMIN).await;
    fill_gmail(&app, ANN, "Pat <pat@buyer.example>", 7).await;
    fill_gmail(&app, SALES, "Pat <pat@buyer.example>", 5).await;
    let mut ids = Vec::new();
    for address in [NOGMAIL, ANN, GONE, SALES] {
        ids.push((address, w.mailbox(&app, &conn, address).await));
    }
    for (address, id) in &ids {
        let result = sync::sync_account_with(&app.deps, *id, &options()).await;
        let a = account(&app, *id).await;
        let error = a.last_error.clone().unwrap_or_default();
        match *address {
            NOGMAIL => {
                assert!(
                    matches!(result, Err(SyncError::Provider(ProviderError::Refused(_)))),
                    "{result:?}"
                );
                assert_eq!(a.status, MailboxStatus::Refused);
                assert!(error.contains("Gmail is not enabled"), "{error}");
            }
            GONE => {
                assert!(
                    matches!(result, Err(SyncError::Provider(ProviderError::Refused(_)))),
                    "{result:?}"
                );
                assert_eq!(a.status, MailboxStatus::Refused);
                assert!(error.contains("northwind"), "names the connection: {error}");
            }
            _ => {
                assert!(result.is_ok(), "{address}: {result:?}");
                assert_eq!(a.status, MailboxStatus::Active);
                assert_exact(&app, *id, address, Provider::Google).await;
            }
        }
    }

    // While refused, a pass of the user without Gmail costs one Gmail request.
    let nogmail = ids[0].1;
    for _ in 0..2 {
        let before = api_requests(&app, "/gmail/v1/").await;
        let again = sync::sync_account_with(&app.deps, nogmail, &options()).await;
        assert!(again.is_err());
        assert_eq!(api_requests(&app, "/gmail/v1/").await - before, 1);
    }

    // The administrator takes the Gmail scope out of the delegation grant: the next pass of a
    // working mailbox is refused with `unauthorized_client`, and costs no Gmail request.
    app.emulator_client()
        .grant_delegation(
            DOMAIN,
            &w.key.client_id,
            &["https://www.googleapis.com/auth/admin.directory.user.readonly"],
        )
        .await
        .expect("grant changed");
    let ann = ids[1].1;
    // Its cached token expires (Google keeps honouring an issued token until then).
    threadline::mailboxes::connections::tokens::forget(
        &app.deps,
        conn.id,
        Some(ANN),
        &[GMAIL_READONLY],
    )
    .await
    .unwrap();
    let before = api_requests(&app, "/gmail/v1/").await;
    let refused = sync::sync_account_with(&app.deps, ann, &options()).await;
    assert!(
        matches!(refused, Err(SyncError::Provider(ProviderError::Refused(_)))),
        "{refused:?}"
    );
    assert_eq!(
        api_requests(&app, "/gmail/v1/").await,
        before,
        "no Gmail request"
    );
    let a = account(&app, ann).await;
    assert_eq!(a.status, MailboxStatus::Refused);
    let error = a.last_error.unwrap_or_default();
    assert!(error.contains("delegation"), "{error}");

    // Granted again: Ann syncs, active again, still exact.
    app.emulator_client()
        .grant_delegation(DOMAIN, &w.key.client_id, &[GMAIL_READONLY])
        .await
        .expect("grant restored");
    fill_gmail(&app, ANN, "Pat <pat@buyer.example>", 2).await;
    let r = sync::sync_account_with(&app.deps, ann, &options())
        .await
        .expect("Ann syncs again");
    assert_eq!(r.counts.stored, 2);
    assert_eq!(account(&app, ann).await.status, MailboxStatus::Active);
    assert_exact(&app, ann, ANN, Provider::Google).await;
}
