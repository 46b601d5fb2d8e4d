//! Microsoft 365 organization mailboxes (app-only): users and a shared mailbox sync exactly
//! through `/users/{id}`, with a client secret or a certificate; a mailbox outside the app's
//! RBAC scope and a user without a mailbox get the `refused` status, cost one request per pass
//! while refused, do not stop the others, and sync once the scope allows them.
use threadline::domain::mailbox::MailboxStatus;
use threadline::providers::{Provider, ProviderError};
use threadline::sync::{self, SyncError};
use threadline_emulator::microsoft::app_control::PatchApp;
use threadline_emulator::microsoft::tenants::MailboxKind;

use super::setup::{self, account, api_requests, assert_exact, fill_outlook};
use crate::common::options;

const ANN: &str = "ann@contoso.test";
const BOB: &str = "bob@contoso.test";
const SUPPORT: &str = "support@contoso.test";
const CARL: &str = "carl@contoso.test";
const NOMAIL: &str = "nomail@contoso.test";

fn refused(result: &Result<sync::SyncReport, SyncError>) -> bool {
    matches!(result, Err(SyncError::Provider(ProviderError::Refused(_))))
}

#[tokio::test]
async fn tenant_mailboxes_sync_exactly_and_policy_refusals_are_statuses() {
    let (app, org) = setup::app().await;
    let users = [
        (ANN, MailboxKind::User, Some("Sales")),
        (BOB, MailboxKind::User, Some("Sales")),
        (SUPPORT, MailboxKind::Shared, None),
        (CARL, MailboxKind::User, Some("Finance")),
        (NOMAIL, MailboxKind::None, Some("Sales")),
    ];
    // The app may read Ann's, Bob's and the shared mailbox, not Carl's.
    let scope = vec![ANN.to_string(), BOB.to_string(), SUPPORT.to_string()];
    let m = setup::m365(&app, "contoso.test", &users, Some(scope)).await;
    let conn = m.connect_secret(&app, org, "contoso").await;
    for (address, n) in [(ANN, 9), (BOB, 4), (SUPPORT, 6), (CARL, 3)] {
        fill_outlook(&app, address, "Pat Buyer <pat@buyer.example>", n).await;
    }
    let mut ids = Vec::new();
    for (address, ..) in users {
        ids.push((address, m.mailbox(&app, &conn, address).await));
    }

    // One pass each, in order: the refused ones in the middle stop nobody.
    let mut outcomes = Vec::new();
    for (address, id) in &ids {
        outcomes.push((
            *address,
            sync::sync_account_with(&app.deps, *id, &options()).await,
        ));
    }
    for (address, result) in &outcomes {
        match *address {
            CARL | NOMAIL => assert!(refused(result), "{address}: {result:?}"),
            _ => assert!(result.is_ok(), "{address}: {result:?}"),
        }
    }
    for (address, id) in &ids {
        let a = account(&app, *id).await;
        match *address {
            CARL => {
                assert_eq!(a.status, MailboxStatus::Refused);
                let e = a.last_error.unwrap_or_default();
                assert!(e.contains("ErrorAccessDenied") && e.contains("RBAC"), "{e}");
            }
            NOMAIL => {
                assert_eq!(a.status, MailboxStatus::Refused);
                let e = a.last_error.unwrap_or_default();
                assert!(e.contains("MailboxNotEnabledForRESTAPI"), "{e}");
                assert!(e.contains("no Exchange Online mailbox"), "{e}");
            }
            _ => {
                assert_eq!(a.status, MailboxStatus::Active, "{address}");
                assert_exact(&app, *id, address, Provider::Microsoft).await;
            }
        }
    }

    // While refused, a pass costs one request to the mailbox.
    let carl = ids.iter().find(|(a, _)| *a == CARL).unwrap().1;
    for _ in 0..2 {
        let before = api_requests(&app, "/v1.0/").await;
        let again = sync::sync_account_with(&app.deps, carl, &options()).await;
        assert!(refused(&again), "{again:?}");
        let after = api_requests(&app, "/v1.0/").await;
        assert_eq!(
            after - before,
            1,
            "one request per refused pass: {}",
            crate::common::emulator_stats(&app).await
        );
    }

    // The Exchange administrator adds Carl to the app's scope: the next pass syncs him and
    // the mailbox is active again.
    app.emulator_client()
        .update_app(
            &m.tenant,
            &m.client_id,
            &PatchApp {
                mailbox_scope: Some(serde_json::Value::Null),
                ..PatchApp::default()
            },
        )
        .await
        .expect("scope lifted");
    sync::sync_account_with(&app.deps, carl, &options())
        .await
        .expect("Carl syncs");
    let a = account(&app, carl).await;
    assert_eq!(a.status, MailboxStatus::Active);
    assert_eq!(a.last_error, None);
    assert_exact(&app, carl, CARL, Provider::Microsoft).await;

    // Later passes are incremental and exact.
    fill_outlook(&app, SUPPORT, "Pat Buyer <pat@buyer.example>", 2).await;
    let support = ids.iter().find(|(a, _)| *a == SUPPORT).unwrap().1;
    let r = sync::sync_account_with(&app.deps, support, &options())
        .await
        .unwrap();
    assert_eq!(r.kind.as_str(), "incremental");
    assert_eq!(r.counts.stored, 2);
    assert_exact(&app, support, SUPPORT, Provider::Microsoft).await;
}

#[tokio::test]
async fn a_certificate_connection_syncs_a_mailbox() {
    let (app, org) = setup::app().await;
    let m = setup::m365(
        &app,
        "fabrikam.test",
        &[("dana@fabrikam.test", MailboxKind::User, None)],
        None,
    )
    .await;
    let conn = m.connect_certificate(&app, org, "fabrikam").await;
    fill_outlook(&app, "dana@fabrikam.test", "Pat <pat@buyer.example>", 8).await;
    let id = m.mailbox(&app, &conn, "dana@fabrikam.test").await;
    let r = sync::sync_account_with(&app.deps, id, &options())
        .await
        .expect("syncs");
    assert_eq!(r.counts.stored, 8);
    assert_exact(&app, id, "dana@fabrikam.test", Provider::Microsoft).await;
    // Every Graph request went to the user's mailbox path, none to /me.
    let report = crate::common::emulator_stats(&app).await;
    for r in report["requests"].as_array().unwrap() {
        let route = r["route"].as_str().unwrap_or_default();
        assert!(
            !route.contains("/me/") && !route.ends_with("/me"),
            "{route}"
        );
    }
}
