//! Linking mailboxes through OAuth against the emulator: connect, refuse forged or replayed
//! callbacks, partial consent, conflicts, revocation and reconnect, disconnect.
use reqwest::StatusCode;
use sea_orm::EntityTrait;
use threadline::db::entities::mail_accounts::{self, Model as MailAccount};
use threadline::db::mail_accounts as accounts;
use threadline::mailboxes::credentials::{self, CredentialError};

use crate::support::consent::Choice;
use crate::support::inspect::{capture_logs, dump, execute};
use crate::support::mail::approve;
use crate::support::{location, TestApp};

const GMAIL: &str = "ada@gmail-user.test";

async fn linked_app() -> TestApp {
    let app = TestApp::spawn_with_emulator().await;
    app.setup_admin().await;
    app.provider_mailbox("google", GMAIL, "Ada Admin").await;
    app.provider_mailbox("google", "other@gmail-user.test", "Someone Else")
        .await;
    let res = app.connect("google", approve(GMAIL)).await;
    assert_eq!(
        res.status(),
        StatusCode::SEE_OTHER,
        "{}",
        res.text().await.unwrap()
    );
    assert_eq!(location(&res), "/mailboxes");
    app
}

async fn all_accounts(app: &TestApp) -> Vec<MailAccount> {
    mail_accounts::Entity::find().all(&app.db).await.unwrap()
}

#[tokio::test]
async fn gmail_connect_links_the_mailbox_with_sealed_tokens() {
    let app = linked_app().await;
    let page = app.get_html("/mailboxes").await;
    assert!(
        page.contains("Linked Gmail mailbox ada@gmail-user.test."),
        "{page}"
    );
    assert!(page.contains("Connected"));
    let accounts = all_accounts(&app).await;
    assert_eq!(accounts.len(), 1);
    let account = &accounts[0];
    assert_eq!(
        (account.provider.as_str(), account.address.as_str()),
        ("google", GMAIL)
    );
    assert!(account.credentials.as_deref().unwrap().starts_with("v1:"));
    assert!(account.granted_scopes.contains("gmail.readonly"));
    let creds = credentials::open(&app.deps.keys, account).unwrap();
    assert!(creds.refresh_token.is_some(), "offline access was granted");
    // The stored access token works against the provider.
    let res = app
        .client
        .get(app.emulator_url("/gmail/v1/users/me/profile"))
        .bearer_auth(creds.access_token.expose())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn forged_and_replayed_callbacks_are_refused() {
    let app = TestApp::spawn_with_emulator().await;
    app.setup_admin().await;
    app.provider_mailbox("google", GMAIL, "Ada").await;
    let token = app.csrf("/mailboxes").await;
    let start = app
        .post_form("/mailboxes/connect/google", Some(&token), &[])
        .await;
    let callback = app.consent(&location(&start), &approve(GMAIL)).await;

    let forged = callback.replace("state=", "state=x");
    let res = app.client.get(&forged).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("did not match the sign-in Threadline started"));
    assert!(all_accounts(&app).await.is_empty());

    // The refused attempt consumed the pending sign-in: the genuine callback now counts as a
    // replay too. Start again, succeed once, and replay the same callback.
    let start = app
        .post_form("/mailboxes/connect/google", Some(&token), &[])
        .await;
    let callback = app.consent(&location(&start), &approve(GMAIL)).await;
    assert_eq!(
        location(&app.client.get(&callback).send().await.unwrap()),
        "/mailboxes"
    );
    let replay = app.client.get(&callback).send().await.unwrap();
    assert_eq!(replay.status(), StatusCode::BAD_REQUEST);
    assert!(replay
        .text()
        .await
        .unwrap()
        .contains("already used or has expired"));
    assert_eq!(all_accounts(&app).await.len(), 1);
}

#[tokio::test]
async fn a_wrong_pkce_verifier_is_rejected_by_the_provider() {
    let app = TestApp::spawn_with_emulator().await;
    app.setup_admin().await;
    app.provider_mailbox("google", GMAIL, "Ada").await;
    let token = app.csrf("/mailboxes").await;
    let start = app
        .post_form("/mailboxes/connect/google", Some(&token), &[])
        .await;
    let authorize = location(&start);
    assert!(
        authorize.contains("code_challenge_method=S256"),
        "{authorize}"
    );
    let callback = app.consent(&authorize, &approve(GMAIL)).await;
    let code = url::Url::parse(&callback)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .unwrap();
    let redirect_uri = format!("{}/mailboxes/oauth/google/callback", app.base);
    let res = app
        .client
        .post(app.emulator_url("/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("client_id", "threadline-test.apps.googleusercontent.com"),
            ("client_secret", "google-test-secret"),
            ("redirect_uri", &redirect_uri),
            (
                "code_verifier",
                "a-verifier-that-does-not-match-the-challenge-0123456789",
            ),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"], "invalid_grant", "{body}");
}

#[tokio::test]
async fn partial_consent_says_what_is_missing_and_links_nothing() {
    let app = TestApp::spawn_with_emulator().await;
    app.setup_admin().await;
    app.provider_mailbox("google", GMAIL, "Ada").await;
    let choice = Choice {
        mailbox: GMAIL,
        approve: true,
        drop_scopes: &["https://www.googleapis.com/auth/gmail.readonly"],
    };
    let res = app.connect("google", choice).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let page = res.text().await.unwrap();
    assert!(
        page.contains("Permissions missing") && page.contains("Read your email"),
        "{page}"
    );
    assert!(all_accounts(&app).await.is_empty());
}

#[tokio::test]
async fn declined_consent_links_nothing() {
    let app = TestApp::spawn_with_emulator().await;
    app.setup_admin().await;
    app.provider_mailbox("google", GMAIL, "Ada").await;
    let res = app
        .connect(
            "google",
            Choice {
                mailbox: GMAIL,
                approve: false,
                drop_scopes: &[],
            },
        )
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("You declined access in Gmail"));
    assert!(all_accounts(&app).await.is_empty());
}

#[tokio::test]
async fn a_mailbox_linked_by_a_colleague_is_refused() {
    let app = linked_app().await;
    app.create_user("bob@acme.test", "bob password", false)
        .await;
    let bob = app.other_browser();
    assert_eq!(
        bob.sign_in("bob@acme.test", "bob password").await.status(),
        StatusCode::SEE_OTHER
    );
    let res = bob.connect("google", approve(GMAIL)).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    let page = res.text().await.unwrap();
    assert!(
        page.contains("ada@gmail-user.test is already linked by Ada Admin"),
        "{page}"
    );
    assert_eq!(all_accounts(&app).await.len(), 1);
}

#[tokio::test]
async fn providers_without_credentials_are_unavailable_not_broken() {
    let app = TestApp::spawn().await;
    app.setup_admin().await;
    let page = app.get_html("/mailboxes").await;
    assert!(page.contains("Gmail: not configured on this server"));
    assert!(page.contains("Outlook: not configured on this server"));
    let token = app.csrf("/mailboxes").await;
    let res = app
        .post_form("/mailboxes/connect/google", Some(&token), &[])
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn no_issued_token_appears_in_the_database_or_the_logs() {
    let logs = capture_logs();
    let app = linked_app().await;
    let account = all_accounts(&app).await.remove(0);
    let current = credentials::open(&app.deps.keys, &account)
        .unwrap()
        .access_token;
    credentials::refresh_after_401(&app.deps, account.id, &current)
        .await
        .unwrap();
    let tokens = app.issued_tokens().await;
    assert!(
        tokens.len() >= 3,
        "code exchange and refresh issued tokens: {tokens:?}"
    );
    let dump = dump(&app.db).await;
    assert!(dump.contains("mail_accounts"), "the dump covers the tables");
    let logs = logs.text();
    assert!(
        logs.contains("access token refreshed"),
        "the logs were captured"
    );
    for t in &tokens {
        let token = t["token"].as_str().unwrap();
        assert!(!dump.contains(token), "{} token stored in clear", t["kind"]);
        assert!(!logs.contains(token), "{} token logged", t["kind"]);
    }
    assert!(!dump.contains("google-test-secret") && !logs.contains("google-test-secret"));
}

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

    app.emulator_post(&format!("/_emulator/mailboxes/{GMAIL}/revoke-tokens"))
        .await;
    let stale = credentials::open(&app.deps.keys, &account)
        .unwrap()
        .access_token;
    let err = credentials::refresh_after_401(&app.deps, account.id, &stale)
        .await
        .unwrap_err();
    assert!(matches!(err, CredentialError::NeedsReconnect), "{err:?}");
    let account = all_accounts(&app).await.remove(0);
    assert_eq!(account.status, accounts::NEEDS_RECONNECT);
    let home = app.get_html("/").await;
    assert!(
        home.contains("Gmail mailbox ada@gmail-user.test needs reconnecting"),
        "banner: {home}"
    );
    assert!(matches!(
        credentials::access_token(&app.deps, account.id).await,
        Err(CredentialError::NeedsReconnect)
    ));

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
        (account.id, accounts::ACTIVE)
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

async fn add_email(app: &TestApp, account: &MailAccount) {
    let sql = format!(
        "INSERT INTO emails (organization_id, account_id, provider_message_id, message_key, \
         thread_key, received_at, created_at, updated_at) VALUES ({org}, {id}, 'm1', '<m1@x>', \
         't1', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')",
        org = account.organization_id,
        id = account.id
    );
    execute(&app.db, &sql).await;
}

async fn email_count(app: &TestApp) -> usize {
    threadline::db::entities::emails::Entity::find()
        .all(&app.db)
        .await
        .unwrap()
        .len()
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

    let token = app.csrf("/mailboxes").await;
    let path = format!("/mailboxes/{}/disconnect", account.id);
    let res = app
        .post_form(&path, Some(&token), &[("purge", "false")])
        .await;
    assert_eq!(location(&res), "/mailboxes");
    let page = app.get_html("/mailboxes").await;
    assert!(
        page.contains("Its synced mail is kept.") && page.contains("Access was revoked"),
        "{page}"
    );
    let kept = all_accounts(&app).await.remove(0);
    assert_eq!(
        (kept.status.as_str(), kept.credentials.as_deref()),
        (accounts::DISCONNECTED, None)
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
        (account.id, accounts::ACTIVE)
    );
    let res = app
        .post_form(&path, Some(&token), &[("purge", "true")])
        .await;
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
    app.create_user("bob@acme.test", "bob password", false)
        .await;
    let bob = app.other_browser();
    bob.sign_in("bob@acme.test", "bob password").await;
    let token = bob.csrf("/mailboxes").await;
    let path = format!("/mailboxes/{}/disconnect", account.id);
    assert_eq!(bob.get(&path).await.status(), StatusCode::NOT_FOUND);
    let res = bob
        .post_form(&path, Some(&token), &[("purge", "true")])
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = bob
        .post_form(
            &format!("/mailboxes/{}/reconnect", account.id),
            Some(&token),
            &[],
        )
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

const OUTLOOK: &str = "ada@contoso.test";

async fn outlook_app() -> TestApp {
    let app = TestApp::spawn_with_emulator().await;
    app.setup_admin().await;
    let res = app
        .client
        .post(app.emulator_url("/_emulator/mailboxes"))
        .json(&serde_json::json!({
            "provider": "microsoft", "address": OUTLOOK, "display_name": "Ada Admin",
            "tenant": "0f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a"
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let res = app.connect("microsoft", approve(OUTLOOK)).await;
    assert_eq!(
        location(&res),
        "/mailboxes",
        "{}",
        res.text().await.unwrap()
    );
    app
}

#[tokio::test]
async fn outlook_connect_links_the_mailbox() {
    let app = outlook_app().await;
    assert!(app
        .get_html("/mailboxes")
        .await
        .contains("Linked Outlook mailbox ada@contoso.test."));
    let account = all_accounts(&app).await.remove(0);
    assert_eq!(
        (account.provider.as_str(), account.address.as_str()),
        ("microsoft", OUTLOOK)
    );
    assert!(
        account.granted_scopes.contains("Mail.Read"),
        "{}",
        account.granted_scopes
    );
    let creds = credentials::open(&app.deps.keys, &account).unwrap();
    let res = app
        .client
        .get(app.emulator_url("/v1.0/me/mailFolders/inbox"))
        .bearer_auth(creds.access_token.expose())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
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
