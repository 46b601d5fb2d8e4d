//! Mailboxes in the emulator and linking them through the app, as a person would.
use reqwest::{Response, StatusCode};
use serde_json::{json, Value};

use sea_orm::EntityTrait;
use threadline::db::entities::{emails, mail_accounts};
use threadline_emulator::control::{CreateMailbox, DeliverQuery};
use threadline_emulator::EmulatorClient;

use super::consent::{submission, Choice};
use super::{location, TestApp};

impl TestApp {
    /// Sync the linked account once; the id of the first email stored.
    pub async fn sync_then_first_email(&self) -> i64 {
        let account = mail_accounts::Entity::find()
            .one(&self.db)
            .await
            .unwrap()
            .expect("a linked account");
        threadline::sync::sync_account(&self.deps, account.id)
            .await
            .unwrap();
        emails::Entity::find()
            .one(&self.db)
            .await
            .unwrap()
            .expect("an email stored")
            .id
    }

    pub fn emulator_url(&self, path: &str) -> String {
        format!(
            "{}{path}",
            self.emulator
                .as_ref()
                .expect("started with an emulator")
                .base_url
        )
    }

    /// The typed client of the emulator's control plane.
    pub fn emulator_client(&self) -> EmulatorClient {
        self.emulator
            .as_ref()
            .expect("started with an emulator")
            .client()
    }

    /// Create a mailbox at the emulated provider (`google` or `microsoft`).
    pub async fn provider_mailbox(&self, provider: &str, address: &str, name: &str) {
        self.create_mailbox(provider, address, name, None).await;
    }

    /// Create a mailbox at the emulated provider, in a Microsoft tenant when given.
    pub async fn create_mailbox(
        &self,
        provider: &str,
        address: &str,
        name: &str,
        tenant: Option<&str>,
    ) {
        let mailbox = CreateMailbox {
            provider: serde_json::from_value(json!(provider)).expect("google or microsoft"),
            address: address.to_string(),
            display_name: Some(name.to_string()),
            tenant: tenant.map(str::to_string),
        };
        self.emulator_client()
            .create_mailbox(&mailbox)
            .await
            .expect("mailbox created");
    }

    /// Deliver raw mail into a Gmail mailbox of the emulator with these labels (e.g. `INBOX`)
    /// and, when given, this internal date (epoch ms); the new message's id.
    pub async fn deliver_gmail(
        &self,
        address: &str,
        raw: impl Into<Vec<u8>>,
        labels: &str,
        internal_date: Option<i64>,
    ) -> String {
        let query = DeliverQuery {
            labels: Some(labels.to_string()),
            internal_date,
            ..DeliverQuery::default()
        };
        self.emulator_client()
            .deliver(address, raw, &query)
            .await
            .expect("delivered")
    }

    /// Every token the emulator issued (for leak checks).
    pub async fn issued_tokens(&self) -> Vec<Value> {
        let tokens = self.emulator_client().tokens().await.expect("tokens");
        tokens
            .iter()
            .map(|t| serde_json::to_value(t).expect("token as JSON"))
            .collect()
    }

    /// Revoke the mailbox's grants at the provider, as if its user removed the app.
    pub async fn revoke_tokens(&self, address: &str) {
        self.emulator_client()
            .revoke_tokens(address)
            .await
            .expect("grants revoked");
    }

    /// Press "Connect ..." and answer the provider's consent page; returns the response of the
    /// app's OAuth callback.
    pub async fn connect(&self, provider: &str, choice: Choice<'_>) -> Response {
        let res = self
            .post_form(&format!("/mailboxes/connect/{provider}"), &[])
            .await;
        assert_eq!(
            res.status(),
            StatusCode::SEE_OTHER,
            "connect starts a redirect"
        );
        let callback = self.consent(&location(&res), &choice).await;
        self.client.get(callback).send().await.unwrap()
    }

    /// Press "Reconnect" on a mailbox and answer the consent page.
    pub async fn reconnect(&self, account_id: i64, choice: Choice<'_>) -> Response {
        let res = self
            .post_form(&format!("/mailboxes/{account_id}/reconnect"), &[])
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let callback = self.consent(&location(&res), &choice).await;
        self.client.get(callback).send().await.unwrap()
    }

    /// Follow an authorize URL through the consent page; returns the redirect back to the app.
    pub async fn consent(&self, authorize_url: &str, choice: &Choice<'_>) -> String {
        let res = self.client.get(authorize_url).send().await.unwrap();
        if res.status().is_redirection() {
            return location(&res);
        }
        let html = res.text().await.unwrap();
        let (action, fields) = submission(&html, choice);
        let action = if action.is_empty() {
            // A form without an action posts back to the page's own URL.
            authorize_url.to_string()
        } else if action.starts_with("http") {
            action
        } else {
            self.emulator_url(&action)
        };
        let res = self.client.post(action).form(&fields).send().await.unwrap();
        assert!(
            res.status().is_redirection(),
            "consent answered {}: {}",
            res.status(),
            res.text().await.unwrap()
        );
        location(&res)
    }
}

pub fn approve(mailbox: &str) -> Choice<'_> {
    Choice {
        mailbox,
        approve: true,
        drop_scopes: &[],
    }
}
