//! Write-back vocabulary shared by the Gmail and Outlook suites: allowing it for the
//! organization, reconnecting a mailbox with write access through the app, marking an email
//! as its owner does, draining the outbox as a worker's step does, and reading what reached
//! the emulator.
#![allow(dead_code)]

use chrono::Duration;
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use threadline::db::email_actions::{self, Marks};
use threadline::db::entities::{emails, mail_accounts, write_back_outbox};
use threadline::domain::address::EmailAddress;
use threadline_emulator::control::TruthItem;

use crate::common::{emulator_stats, route_count, Linked};
use crate::support::mail::approve;
use crate::support::{location, ADMIN_EMAIL};

/// The Gmail route of batchModify and the Graph route of a message (PATCH; sync never GETs it).
pub const GMAIL_MODIFY_ROUTE: &str = "/gmail/v1/users/{userId}/messages/batchModify";
pub const GRAPH_MESSAGE_ROUTE: &str = "/v1.0/me/messages/{id}";

/// An admin allows write-back on /settings.
pub async fn allow_for_org(l: &Linked, on: bool) {
    let value = if on { "on" } else { "off" };
    let res = l
        .app
        .post_form("/settings/write-back", &[("enabled", value)])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let page = l.app.get_html("/settings").await;
    let shown = if on { "allowed" } else { "off" };
    assert!(
        page.contains(&format!(r#"write-back-state">{shown}<"#)),
        "{page}"
    );
}

/// The owner presses "Reconnect with write access" and approves the consent: the grant now
/// has the modify scope and the mailbox writes back.
pub async fn grant_write_access(l: &Linked, address: &str) {
    let res = l
        .app
        .post_form(&format!("/mailboxes/{}/write-access", l.account_id), &[])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let authorize = location(&res);
    assert!(
        authorize.contains("gmail.modify") || authorize.contains("Mail.ReadWrite"),
        "{authorize}"
    );
    let callback = l.app.consent(&authorize, &approve(address)).await;
    let res = l.app.client.get(callback).send().await.unwrap();
    assert_eq!(location(&res), "/mailboxes");
    assert_eq!(page_state(l).await, "on");
}

/// The write-back state the mailbox's page shows.
pub async fn page_state(l: &Linked) -> String {
    let page = l
        .app
        .get_html(&format!("/mailboxes/{}", l.account_id))
        .await;
    let marker = r#"write-back-state">"#;
    let at = page.find(marker).expect("the page shows write-back") + marker.len();
    page[at..].split('<').next().unwrap_or_default().to_string()
}

/// The owner's mailbox switch on its page.
pub async fn switch_mailbox(l: &Linked, on: bool) -> reqwest::Response {
    let value = if on { "on" } else { "off" };
    l.app
        .post_form(
            &format!("/mailboxes/{}/write-back", l.account_id),
            &[("enabled", value)],
        )
        .await
}

/// The stored copy of the provider's message `provider_id`.
pub async fn email_of(l: &Linked, provider_id: &str) -> emails::Model {
    emails::Entity::find()
        .filter(emails::Column::AccountId.eq(l.account_id))
        .filter(emails::Column::ProviderMessageId.eq(provider_id))
        .one(&l.app.db)
        .await
        .unwrap()
        .expect("the message is stored")
}

/// Mark the email read / unread (`"read"`) or starred / unstarred (`"star"`) as its reader.
pub async fn mark(l: &Linked, email_id: i64, what: &str, on: bool) {
    let value = if on { "on" } else { "off" };
    let res = l
        .app
        .post_form(&format!("/emails/{email_id}/{what}"), &[("value", value)])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
}

/// The signed-in admin's marks on the email.
pub async fn marks(l: &Linked, email: &emails::Model) -> Marks {
    let email_address = EmailAddress::parse(ADMIN_EMAIL).unwrap();
    let user = threadline::db::users::find_by_email(&l.app.db, &email_address)
        .await
        .unwrap()
        .unwrap();
    email_actions::marks(&l.app.db, user.id, &email.message_key)
        .await
        .unwrap()
}

/// One worker step of write-back now; how many writes reached the provider.
pub async fn drain(l: &Linked) -> usize {
    drain_at(l, Duration::zero()).await
}

/// The same step `later` from now (rows that failed are due again by then).
pub async fn drain_at(l: &Linked, later: Duration) -> usize {
    drain_as(l, "test-writer", later).await
}

/// The step of worker `worker`, `later` from now.
pub async fn drain_as(l: &Linked, worker: &str, later: Duration) -> usize {
    let at = threadline::db::now() + later;
    threadline::sync::write_back::drain_due(&l.app.deps, worker, at)
        .await
        .expect("the write-back step runs")
}

/// What waits in the outbox.
pub async fn outbox(l: &Linked) -> Vec<write_back_outbox::Model> {
    write_back_outbox::Entity::find()
        .all(&l.app.db)
        .await
        .unwrap()
}

/// The emulator's ground truth of one message.
pub async fn truth_of(l: &Linked, address: &str, provider_id: &str) -> TruthItem {
    crate::common::messages_in(&l.app, address)
        .await
        .into_iter()
        .find(|m| m.id == provider_id)
        .expect("the message is in the mailbox")
}

/// Requests the emulator answered on `route`.
pub async fn requests(l: &Linked, route: &str) -> u64 {
    route_count(&emulator_stats(&l.app).await, route, None)
}

/// The mailbox's account row.
pub async fn account(l: &Linked) -> mail_accounts::Model {
    mail_accounts::Entity::find_by_id(l.account_id)
        .one(&l.app.db)
        .await
        .unwrap()
        .unwrap()
}
