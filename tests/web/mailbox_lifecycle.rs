//! A linked mailbox's life: refresh (Google keeps, Microsoft rotates the refresh token),
//! revocation and reconnect, disconnect keeping or purging mail, key checks and rotation.
use reqwest::StatusCode;
use threadline::mailboxes::credentials::{self, CredentialError};

use crate::mailbox_fixtures::{
    add_email, all_accounts, email_count, linked_app, outlook_app, GMAIL,
};
use crate::support::inspect::{dump, execute};
use crate::support::location;
use crate::support::mail::approve;

#[tokio::test]
async fn google_refresh_keeps_the_refresh_token() {
    let app = linked_app().await;
    let account = all_accounts(&app).await.remove(0);
    let before = credentials::open(&app.deps.keys, &account).unwrap();
    let fresh = credentials::refresh_after_401(&app.deps, account.id, &before.access_token)
        .await
        .unwrap();
    assert_ne!(fresh, before.access_token);
    let after = credentials::open(&app.deps.keys, &all_accounts(&app).await[0]).unwrap();
    assert_eq!(
        after.refresh_token, before.refresh_token,
        "Google does not rotate"
    );
    assert_eq!(after.access_token, fresh);
    // A token that is still fresh is returned without a refresh.
    assert_eq!(
        credentials::access_token(&app.deps, account.id)
            .await
            .unwrap(),
        fresh
    );
}

#[tokio::test]
async fn a_revoked_grant_needs_reconnect_and_reconnecting_resumes() {
    let app = linked_app().await;
    let account = all_accounts(&app).await.remove(0);
    let cursor = format!(
        "INSERT INTO sync_cursors (organization_id, account_id, scope, cursor, phase, updated_at) \
         VALUES ({}, {}, '', '12345', 'incremental', '2026-01-01T00:00:00Z')",
        account.organization_id, account.id
    );
    execute(&app.db, &cursor).await;

    app.revoke_tokens(GMAIL).await;
    let stale = credentials::open(&app.deps.keys, &account)
        .unwrap()
        .access_token;
    let err = credentials::refresh_after_401(&app.deps, account.id, &stale)
        .await
        .unwrap_err();
    assert!(matches!(err, CredentialError::NeedsReconnect), "{err:?}");
    let account = all_accounts(&app).await.remove(0);
    assert_eq!(account.status.as_str(), "needs_reconnect");
    let home = app.get_html("/").await;
    assert!(
        home.contains("Gmail mailbox ada@gmail-user.test needs reconnecting"),
        "banner: {home}"
    );
    assert!(matches!(
        credentials::access_token(&app.deps, account.id).await,
        Err(CredentialError::NeedsReconnect)
    ));
    let list = app.get_html("/mailboxes").await;
    assert!(list.contains("Paused: needs reconnecting"), "{list}");
    assert!(list.contains("Reconnect</button>"), "{list}");
    let page = app.get_html(&format!("/mailboxes/{}", account.id)).await;
    assert!(page.contains("Paused: needs reconnecting"), "{page}");
    assert!(page.contains("Paused until reconnected"), "{page}");
    assert!(page.contains("Reconnect</button>"), "{page}");

    let res = app.reconnect(account.id, approve(GMAIL)).await;
    assert_eq!(location(&res), "/mailboxes");
    assert!(app
        .get_html("/mailboxes")
        .await
        .contains("Reconnected Gmail mailbox"));
    let again = all_accounts(&app).await;
    assert_eq!(again.len(), 1);
    assert_eq!(
        (again[0].id, again[0].status.as_str()),
        (account.id, "active")
    );
    assert!(!app.get_html("/").await.contains("needs reconnecting"));
    let token = credentials::access_token(&app.deps, account.id)
        .await
        .unwrap();
    assert_ne!(token, stale);
    let kept = dump(&app.db).await;
    assert!(
        kept.contains("\"cursor\":\"12345\""),
        "the sync cursor survives reconnect"
    );
}

#[tokio::test]
async fn reconnecting_with_another_mailbox_is_refused() {
    let app = linked_app().await;
    let account = all_accounts(&app).await.remove(0);
    let res = app
        .reconnect(account.id, approve("other@gmail-user.test"))
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("but this mailbox is ada@gmail-user.test"));
    assert_eq!(all_accounts(&app).await.len(), 1);
}

#[tokio::test]
async fn disconnect_keeps_or_purges_the_mail() {
    let app = linked_app().await;
    let account = all_accounts(&app).await.remove(0);
    add_email(&app, &account).await;
    let confirm = app
        .get_html(&format!("/mailboxes/{}/disconnect", account.id))
        .await;
    assert!(confirm.contains("Disconnect, keep the mail") && confirm.contains("delete its mail"));

    let path = format!("/mailboxes/{}/disconnect", account.id);
    let res = app.post_form(&path, &[("purge", "false")]).await;
    assert_eq!(location(&res), "/mailboxes");
    let page = app.get_html("/mailboxes").await;
    assert!(
        page.contains("Its synced mail is kept.") && page.contains("Access was revoked"),
        "{page}"
    );
    let kept = all_accounts(&app).await.remove(0);
    assert_eq!(
        (kept.status.as_str(), kept.credentials.as_deref()),
        ("disconnected", None)
    );
    assert_eq!(email_count(&app).await, 1);
    let tokens = app.issued_tokens().await;
    assert!(
        tokens
            .iter()
            .filter(|t| t["mailbox"] == GMAIL)
            .all(|t| t["revoked"] == true),
        "{tokens:?}"
    );

    // Linking again reuses the mailbox and its mail; then purge removes both.
    assert_eq!(
        location(&app.connect("google", approve(GMAIL)).await),
        "/mailboxes"
    );
    let relinked = all_accounts(&app).await.remove(0);
    assert_eq!(
        (relinked.id, relinked.status.as_str()),
        (account.id, "active")
    );
    let res = app.post_form(&path, &[("purge", "true")]).await;
    assert_eq!(location(&res), "/mailboxes");
    assert!(app
        .get_html("/mailboxes")
        .await
        .contains("Its synced mail was deleted."));
    assert!(all_accounts(&app).await.is_empty());
    assert_eq!(email_count(&app).await, 0);
}

#[tokio::test]
async fn another_users_mailbox_cannot_be_touched() {
    let app = linked_app().await;
    let account = all_accounts(&app).await.remove(0);
    let bob = app.member_browser("bob@acme.test", "bob password").await;
    let path = format!("/mailboxes/{}/disconnect", account.id);
    assert_eq!(bob.get(&path).await.status(), StatusCode::NOT_FOUND);
    let res = bob.post_form(&path, &[("purge", "true")]).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = bob
        .post_form(&format!("/mailboxes/{}/reconnect", account.id), &[])
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(all_accounts(&app).await.len(), 1);
    assert!(!bob.get_html("/mailboxes").await.contains(GMAIL));
}

#[tokio::test]
async fn start_refuses_credentials_it_cannot_open_and_rotation_reseals() {
    let app = linked_app().await;
    let data_dir = app.test_db.dir.join("data");
    // Another key ring: the stored credentials name a key it lacks.
    let other = format!("x1:{}", base64_key(9));
    let settings = crate::support::settings(&app.test_db, &["--secret-key", &other]);
    let err = threadline::app::App::build(settings)
        .await
        .err()
        .expect("refuses to start");
    assert!(err.to_string().contains("not in the key ring"), "{err:#}");

    let ring = threadline::secrets::KeyRing::add_key_to_file(&data_dir).unwrap();
    assert_eq!(ring.current().id, "k2");
    let n = threadline::mailboxes::keys::reencrypt(&app.db, &ring)
        .await
        .unwrap();
    assert_eq!(n, 1);
    let account = all_accounts(&app).await.remove(0);
    assert!(account
        .credentials
        .as_deref()
        .unwrap()
        .starts_with("v1:k2:"));
    let creds = credentials::open(&ring, &account).unwrap();
    assert!(creds.refresh_token.is_some());
    // The app restarts with the rotated key file.
    let app = app.restart().await;
    assert!(app.get_html("/mailboxes").await.contains(GMAIL));
}

fn base64_key(byte: u8) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode([byte; 32])
}

#[tokio::test]
async fn microsoft_refresh_token_rotation_survives_three_refreshes() {
    let app = outlook_app().await;
    let id = all_accounts(&app).await[0].id;
    let mut seen_refresh = Vec::new();
    for round in 0..3 {
        let before = credentials::open(&app.deps.keys, &all_accounts(&app).await[0]).unwrap();
        seen_refresh.push(before.refresh_token.clone().unwrap());
        let fresh = credentials::refresh_after_401(&app.deps, id, &before.access_token)
            .await
            .unwrap();
        let after = credentials::open(&app.deps.keys, &all_accounts(&app).await[0]).unwrap();
        assert_eq!(after.access_token, fresh, "round {round}");
        let rotated = after.refresh_token.clone().unwrap();
        assert!(
            !seen_refresh.contains(&rotated),
            "round {round}: the rotated refresh token is stored"
        );
        let res = app
            .client
            .get(app.emulator_url("/v1.0/me"))
            .bearer_auth(fresh.expose())
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK, "round {round}");
    }
    // Concurrent refreshes of one mailbox: one holder at a time, everyone gets a working token.
    let stale = credentials::open(&app.deps.keys, &all_accounts(&app).await[0])
        .unwrap()
        .access_token;
    let tasks: Vec<_> = (0..4)
        .map(|_| {
            let deps = app.deps.clone();
            let stale = stale.clone();
            tokio::spawn(async move { credentials::refresh_after_401(&deps, id, &stale).await })
        })
        .collect();
    let mut tokens = Vec::new();
    for t in tasks {
        tokens.push(t.await.unwrap().unwrap());
    }
    tokens.dedup();
    assert_eq!(tokens.len(), 1, "one refresh served every waiter");
}
