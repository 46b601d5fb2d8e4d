//! Organization-wide access: managed Microsoft tenants (app-only tokens with secrets and
//! certificates, the directory, consent, mailbox scope) and Google Workspace domains
//! (service accounts, domain-wide delegation, the Directory API), driven through the typed
//! control-plane client and the providers' real endpoints.

mod google;
mod microsoft;
mod microsoft_cert;
mod microsoft_mail;
mod microsoft_rename;

use serde_json::Value;

use crate::support::{http_client, start};
use threadline_emulator::{EmulatorConfig, RunningEmulator};

pub struct Org {
    pub emu: RunningEmulator,
    pub http: reqwest::Client,
}

impl Org {
    pub async fn start() -> Self {
        Self {
            emu: start(EmulatorConfig::default()).await,
            http: http_client(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.emu.base_url)
    }

    /// POST a form; status and JSON body.
    pub async fn form(&self, path: &str, form: &[(&str, &str)]) -> (u16, Value) {
        let r = self
            .http
            .post(self.url(path))
            .form(form)
            .send()
            .await
            .expect("send");
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// GET with a bearer token and extra headers; status and body (JSON, else a string).
    pub async fn get(&self, token: &str, path: &str, headers: &[(&str, &str)]) -> (u16, Value) {
        let mut request = self.http.get(self.url(path)).bearer_auth(token);
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        let r = request.send().await.expect("send");
        let status = r.status().as_u16();
        let text = r.text().await.unwrap_or_default();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }
}

/// Seconds since the epoch.
pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}
