//! Shared setup of the mailbox tests: emulator mailboxes linked through the app.
use reqwest::StatusCode;
use sea_orm::EntityTrait;
use threadline::db::entities::mail_accounts::{self, Model as MailAccount};

use crate::support::inspect::execute;
use crate::support::mail::approve;
use crate::support::{location, TestApp};

pub const GMAIL: &str = "ada@gmail-user.test";

pub async fn linked_app() -> TestApp {
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

pub async fn all_accounts(app: &TestApp) -> Vec<MailAccount> {
    mail_accounts::Entity::find().all(&app.db).await.unwrap()
}

pub const OUTLOOK: &str = "ada@contoso.test";

pub async fn outlook_app() -> TestApp {
    let app = TestApp::spawn_with_emulator().await;
    app.setup_admin().await;
    app.create_mailbox(
        "microsoft",
        OUTLOOK,
        "Ada Admin",
        Some("0f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a"),
    )
    .await;
    let res = app.connect("microsoft", approve(OUTLOOK)).await;
    assert_eq!(
        location(&res),
        "/mailboxes",
        "{}",
        res.text().await.unwrap()
    );
    app
}

pub async fn add_email(app: &TestApp, account: &MailAccount) {
    let sql = format!(
        "INSERT INTO emails (organization_id, account_id, provider_message_id, message_key, \
         thread_key, received_at, created_at, updated_at) VALUES ({org}, {id}, 'm1', '<m1@x>', \
         't1', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')",
        org = account.organization_id,
        id = account.id
    );
    execute(&app.db, &sql).await;
}

pub async fn email_count(app: &TestApp) -> usize {
    threadline::db::entities::emails::Entity::find()
        .all(&app.db)
        .await
        .unwrap()
        .len()
}
