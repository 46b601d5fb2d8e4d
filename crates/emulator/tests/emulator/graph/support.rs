//! Test vocabulary: start an emulator, seed Microsoft mailboxes, get tokens through the real
//! OAuth endpoints, call Graph.

use std::collections::HashMap;

use serde_json::Value;
use threadline_emulator::store::{MailboxInfo, MessageState, Provider};
use threadline_emulator::{EmulatorConfig, Quota, RunningEmulator};

use crate::support::{http_client, pkce_challenge, start};

pub const TENANT: &str = "8f3c2a91-5b7d-4e0a-9c61-2d4b7e9f1a03";
pub const OTHER_TENANT: &str = "11111111-2222-4333-8444-555555555555";
pub const ME: &str = "ada@ourco.test";
pub const COLLEAGUE: &str = "bob@ourco.test";
pub const CLIENT: &str = "threadline-test-client";
pub const REDIRECT: &str = "http://127.0.0.1:9/callback";

/// The `.default` scope of Graph (app-only).
pub const GRAPH_DEFAULT: &str = "https://graph.microsoft.com/.default";

pub struct Emu {
    pub emu: RunningEmulator,
    pub http: reqwest::Client,
}

/// Start an emulator with two tenant mailboxes (`ME`, `COLLEAGUE`), one in another tenant
/// and one personal account.
pub async fn emulator(quota: Quota, auto_consent: bool) -> Emu {
    let config = EmulatorConfig {
        quota,
        auto_consent,
        ..EmulatorConfig::default()
    };
    let emu = start(config).await;
    for (address, tenant, name) in [
        (ME, Some(TENANT), "Ada Lovelace"),
        (COLLEAGUE, Some(TENANT), "Bob Builder"),
        ("eve@elsewhere.test", Some(OTHER_TENANT), "Eve Else"),
        ("pat@outlook.test", None, "Pat Personal"),
    ] {
        emu.state
            .store
            .create(MailboxInfo {
                provider: Provider::Microsoft,
                address: address.into(),
                display_name: name.into(),
                tenant: tenant.map(str::to_string),
            })
            .expect("mailbox");
    }
    Emu {
        emu,
        http: http_client(),
    }
}

/// A simple RFC 5322 message.
pub fn raw(id: &str, subject: &str, extra_headers: &str, body: &str) -> Vec<u8> {
    format!(
        "From: Carol Client <carol@client.test>\r\nTo: Ada Lovelace <{ME}>\r\nSubject: {subject}\r\nMessage-ID: <{id}>\r\nDate: Tue, 01 Oct 2024 10:00:00 +0000\r\n{extra_headers}MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    )
    .into_bytes()
}

impl Emu {
    pub fn base(&self) -> &str {
        &self.emu.base_url
    }

    /// Deliver into a mailbox folder; returns the store (= immutable) id.
    pub fn deliver(&self, address: &str, raw: Vec<u8>, folder: &str, date_ms: i64) -> String {
        let mailbox = self.emu.state.store.get(address).expect("mailbox");
        let state = MessageState {
            folder: Some(folder.into()),
            ..MessageState::default()
        };
        mailbox
            .deliver(raw.into(), state, date_ms)
            .expect("delivered")
    }

    /// Move a message as the user would in Outlook.
    pub fn move_to(&self, address: &str, id: &str, folder: &str) {
        let mailbox = self.emu.state.store.get(address).expect("mailbox");
        mailbox
            .update_state(id, |s| s.folder = Some(folder.into()))
            .expect("moved");
    }

    pub async fn token_request(&self, tenant: &str, form: &[(&str, &str)]) -> (u16, Value) {
        let r = self
            .http
            .post(format!("{}/{tenant}/oauth2/v2.0/token", self.base()))
            .form(form)
            .send()
            .await
            .expect("token request");
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// A client-credentials token request of the test client (any secret works by default).
    pub async fn client_credentials(&self, tenant: &str, scope: &str) -> (u16, Value) {
        let form = [
            ("client_id", CLIENT),
            ("client_secret", "s3cret"),
            ("grant_type", "client_credentials"),
            ("scope", scope),
        ];
        self.token_request(tenant, &form).await
    }

    /// An app-only token for a tenant.
    pub async fn app_token(&self, tenant: &str) -> String {
        let (status, body) = self.client_credentials(tenant, GRAPH_DEFAULT).await;
        assert_eq!(status, 200, "{body}");
        body["access_token"]
            .as_str()
            .expect("access_token")
            .to_string()
    }

    /// Run the authorization-code flow with PKCE (auto consent) and return the token response.
    pub async fn delegated(&self, address: &str, scope: &str) -> Value {
        let code = self.authorize_code(address, scope, "xyz").await;
        let (status, body) = self
            .redeem(&code, REDIRECT, VERIFIER, &[("scope", scope)])
            .await;
        assert_eq!(status, 200, "{body}");
        body
    }

    /// Redeem an authorization code at `common` (the test client), with `extra` form fields.
    pub async fn redeem(
        &self,
        code: &str,
        redirect_uri: &str,
        verifier: &str,
        extra: &[(&str, &str)],
    ) -> (u16, Value) {
        let mut form = vec![
            ("code", code),
            ("redirect_uri", redirect_uri),
            ("code_verifier", verifier),
        ];
        form.extend_from_slice(extra);
        self.grant("authorization_code", &form).await
    }

    /// A token request of the test client at `common` with `grant_type` and `fields`.
    pub async fn grant(&self, grant_type: &str, fields: &[(&str, &str)]) -> (u16, Value) {
        let mut form = vec![("client_id", CLIENT), ("grant_type", grant_type)];
        form.extend_from_slice(fields);
        self.token_request("common", &form).await
    }

    /// A delegated access token with mail read/write.
    pub async fn user_token(&self, address: &str) -> String {
        let body = self
            .delegated(
                address,
                "openid email offline_access User.Read Mail.ReadWrite",
            )
            .await;
        body["access_token"]
            .as_str()
            .expect("access_token")
            .to_string()
    }

    /// GET the authorize endpoint with `login_hint`; the code from the redirect.
    pub async fn authorize_code(&self, address: &str, scope: &str, state: &str) -> String {
        let location = self.authorize("common", address, scope, state).await;
        let query = query_of(&location);
        assert_eq!(
            query.get("state").map(String::as_str),
            Some(state),
            "{location}"
        );
        query
            .get("code")
            .cloned()
            .unwrap_or_else(|| panic!("no code in {location}"))
    }

    /// The Location of an authorize redirect.
    pub async fn authorize(&self, tenant: &str, address: &str, scope: &str, state: &str) -> String {
        let challenge = pkce_challenge(VERIFIER);
        let r = self
            .http
            .get(format!("{}/{tenant}/oauth2/v2.0/authorize", self.base()))
            .query(&[
                ("client_id", CLIENT),
                ("response_type", "code"),
                ("redirect_uri", REDIRECT),
                ("scope", scope),
                ("state", state),
                ("login_hint", address),
                ("code_challenge", &challenge),
                ("code_challenge_method", "S256"),
            ])
            .send()
            .await
            .expect("authorize");
        assert_eq!(r.status().as_u16(), 302, "authorize did not redirect");
        r.headers()["location"]
            .to_str()
            .expect("location")
            .to_string()
    }

    /// GET a Graph path (`/v1.0/...` or an absolute link) with a bearer token.
    pub async fn get(&self, token: &str, path: &str) -> (u16, Value) {
        self.get_with(token, path, &[]).await
    }

    pub async fn get_with(
        &self,
        token: &str,
        path: &str,
        headers: &[(&str, &str)],
    ) -> (u16, Value) {
        let (status, _, body) = self.get_full(token, path, headers).await;
        (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
    }

    pub async fn get_full(
        &self,
        token: &str,
        path: &str,
        headers: &[(&str, &str)],
    ) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
        let url = if path.starts_with("http") {
            path.to_string()
        } else {
            format!("{}{path}", self.base())
        };
        let mut req = self.http.get(url).bearer_auth(token);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let r = req.send().await.expect("graph request");
        let status = r.status().as_u16();
        let h = r.headers().clone();
        (status, h, r.bytes().await.expect("body").to_vec())
    }

    pub async fn send_json(
        &self,
        method: reqwest::Method,
        token: &str,
        path: &str,
        body: &Value,
    ) -> (u16, reqwest::header::HeaderMap, Value) {
        let r = self
            .http
            .request(method, format!("{}{path}", self.base()))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .expect("graph request");
        let status = r.status().as_u16();
        let h = r.headers().clone();
        (status, h, r.json().await.unwrap_or(Value::Null))
    }

    /// `POST /v1.0/$batch`: the status and the JSON answer.
    pub async fn batch(&self, token: &str, body: &Value) -> (u16, Value) {
        let (status, _, out) = self
            .send_json(reqwest::Method::POST, token, "/v1.0/$batch", body)
            .await;
        (status, out)
    }

    /// Arm a fault through the control plane; the status it answered.
    pub async fn fault(&self, fault: Value) -> u16 {
        let r = self
            .http
            .post(format!("{}/_emulator/faults", self.base()))
            .json(&fault)
            .send()
            .await
            .expect("fault");
        r.status().as_u16()
    }

    /// Follow nextLinks, collecting `value` items; returns them and the final page.
    pub async fn all_pages(
        &self,
        token: &str,
        first: &str,
        headers: &[(&str, &str)],
    ) -> (Vec<Value>, Value) {
        let mut items = Vec::new();
        let mut url = first.to_string();
        for _ in 0..10_000 {
            let (status, page) = self.get_with(token, &url, headers).await;
            assert_eq!(status, 200, "{url}: {page}");
            items.extend(page["value"].as_array().cloned().unwrap_or_default());
            match page["@odata.nextLink"].as_str() {
                Some(next) => url = next.to_string(),
                None => return (items, page),
            }
        }
        panic!("too many pages");
    }
}

pub const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk-emulator-verifier";

pub fn query_of(location: &str) -> HashMap<String, String> {
    let url = url::Url::parse(location).expect("redirect url");
    url.query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// The `error.code` of a Graph error body.
pub fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or_default()
}

/// The response of a `$batch` answer with this `id` (`null` when absent).
pub fn batch_item(out: &Value, id: &str) -> Value {
    out["responses"]
        .as_array()
        .and_then(|r| r.iter().find(|x| x["id"] == id))
        .cloned()
        .unwrap_or(Value::Null)
}
