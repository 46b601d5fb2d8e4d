//! Mailboxes in the emulator and linking them through the app, as a person would.
use reqwest::{Response, StatusCode};
use serde_json::{json, Value};

use super::consent::{submission, Choice};
use super::{location, TestApp};

impl TestApp {
    pub fn emulator_url(&self, path: &str) -> String {
        format!(
            "{}{path}",
            self.emulator
                .as_ref()
                .expect("started with an emulator")
                .base_url
        )
    }

    /// Create a mailbox at the emulated provider (`google` or `microsoft`).
    pub async fn provider_mailbox(&self, provider: &str, address: &str, name: &str) {
        let res = self
            .client
            .post(self.emulator_url("/_emulator/mailboxes"))
            .json(&json!({ "provider": provider, "address": address, "display_name": name }))
            .send()
            .await
            .unwrap();
        assert_eq!(
            res.status(),
            StatusCode::CREATED,
            "{}",
            res.text().await.unwrap()
        );
    }

    /// Every token the emulator issued (for leak checks).
    pub async fn issued_tokens(&self) -> Vec<Value> {
        let res = self
            .client
            .get(self.emulator_url("/_emulator/tokens"))
            .send()
            .await
            .unwrap();
        res.json::<Vec<Value>>().await.unwrap()
    }

    pub async fn emulator_post(&self, path: &str) -> Value {
        let res = self
            .client
            .post(self.emulator_url(path))
            .send()
            .await
            .unwrap();
        assert!(res.status().is_success(), "{path}: {}", res.status());
        res.json().await.unwrap_or(Value::Null)
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
