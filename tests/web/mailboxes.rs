//! Linking mailboxes through OAuth against the emulator: connect both providers, refuse forged
//! or replayed callbacks, wrong PKCE, partial or declined consent and conflicts; never leak tokens.
use reqwest::StatusCode;
use threadline::mailboxes::credentials;

use crate::mailbox_fixtures::{all_accounts, linked_app, outlook_app, GMAIL, OUTLOOK};
use crate::support::consent::Choice;
use crate::support::inspect::{capture_logs, dump};
use crate::support::mail::approve;
use crate::support::{location, TestApp};

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
    let start = app.post_form("/mailboxes/connect/google", &[]).await;
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
    let start = app.post_form("/mailboxes/connect/google", &[]).await;
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
    let start = app.post_form("/mailboxes/connect/google", &[]).await;
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
    let app = TestApp::spawn_admin().await;
    let page = app.get_html("/mailboxes").await;
    assert!(page.contains("Gmail: not configured on this server"));
    assert!(page.contains("Outlook: not configured on this server"));
    let res = app.post_form("/mailboxes/connect/google", &[]).await;
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
