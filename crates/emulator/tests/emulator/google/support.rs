//! Test vocabulary: start an emulator, create mailboxes, deliver mail, get tokens through the
//! real OAuth code + PKCE flow.

use std::sync::Arc;

use serde_json::Value;
use threadline_emulator::store::Mailbox;
use threadline_emulator::{EmulatorConfig, Quota, RunningEmulator, Tunables};

use crate::support::{http_client, pkce_challenge, start};

pub const CLIENT_ID: &str = "test-client.apps.googleusercontent.com";
pub const CLIENT_SECRET: &str = "test-secret";
pub const REDIRECT: &str = "http://127.0.0.1:9/oauth/callback";
pub const READONLY: &str = "https://www.googleapis.com/auth/gmail.readonly";
pub const MODIFY: &str = "https://www.googleapis.com/auth/gmail.modify";
pub const METADATA: &str = "https://www.googleapis.com/auth/gmail.metadata";
pub const FULL: &str = "https://mail.google.com/";

pub struct Emu {
    pub running: RunningEmulator,
    pub http: reqwest::Client,
}

pub fn config() -> EmulatorConfig {
    EmulatorConfig {
        quota: Quota::Off,
        ..EmulatorConfig::default()
    }
}

impl Emu {
    pub async fn start() -> Self {
        Self::with(config()).await
    }

    pub async fn with(config: EmulatorConfig) -> Self {
        Self {
            running: start(config).await,
            http: http_client(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.running.base_url)
    }

    pub async fn mailbox(&self, provider: &str, address: &str) {
        let r = self
            .http
            .post(self.url("/_emulator/mailboxes"))
            .json(&serde_json::json!({"provider": provider, "address": address, "display_name": "Test User"}))
            .send()
            .await
            .expect("create mailbox");
        assert_eq!(r.status(), 201, "create mailbox {address}");
    }

    /// The emulator's own store of a mailbox, for what goes around HTTP (imports).
    pub fn stored_mailbox(&self, address: &str) -> Arc<Mailbox> {
        self.running.state.store.get(address).expect("mailbox")
    }

    /// Deliver raw bytes with a query such as `labels=INBOX,UNREAD`; returns the id.
    pub async fn deliver(&self, address: &str, query: &str, raw: impl Into<Vec<u8>>) -> String {
        let r = self
            .http
            .post(self.url(&format!("/_emulator/mailboxes/{address}/messages?{query}")))
            .header("content-type", "message/rfc822")
            .body(raw.into())
            .send()
            .await
            .expect("deliver");
        assert_eq!(r.status(), 201);
        let v: Value = r.json().await.expect("json");
        v["id"].as_str().expect("id").to_string()
    }

    /// `deliver` to the test mailbox `me@ourco.test`.
    pub async fn deliver_me(&self, query: &str, raw: impl Into<Vec<u8>>) -> String {
        self.deliver("me@ourco.test", query, raw).await
    }

    /// Deliver a `simple` message without extra headers to `me@ourco.test`; returns the id.
    pub async fn deliver_simple(&self, query: &str, id: &str, subject: &str, body: &str) -> String {
        self.deliver_me(query, simple(id, subject, "", body)).await
    }

    pub async fn get(&self, token: &str, path: &str) -> (u16, Value) {
        let r = self
            .http
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .expect("get");
        let status = r.status().as_u16();
        let text = r.text().await.expect("body");
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    pub async fn post(&self, token: &str, path: &str, body: Value) -> (u16, Value) {
        let r = self
            .http
            .post(self.url(path))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .expect("post");
        let status = r.status().as_u16();
        let text = r.text().await.expect("body");
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    pub async fn control(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = self.http.request(method, self.url(path));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.expect("control");
        let status = r.status().as_u16();
        let text = r.text().await.expect("body");
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// `GET` a control-plane path.
    pub async fn control_get(&self, path: &str) -> (u16, Value) {
        self.control(reqwest::Method::GET, path, None).await
    }

    /// `DELETE` a control-plane path.
    pub async fn control_delete(&self, path: &str) -> (u16, Value) {
        self.control(reqwest::Method::DELETE, path, None).await
    }

    /// Run the authorize + consent + token flow; `approve` picks the scopes to keep.
    pub async fn authorize(
        &self,
        address: &str,
        scopes: &[&str],
        extra: &str,
    ) -> reqwest::Response {
        let challenge = pkce_challenge(VERIFIER);
        let url = format!(
            "{}?client_id={CLIENT_ID}&redirect_uri={}&response_type=code&scope={}&state=st4te&code_challenge={challenge}&code_challenge_method=S256&login_hint={address}{extra}",
            self.url("/o/oauth2/v2/auth"),
            urlencode(REDIRECT),
            urlencode(&scopes.join(" ")),
        );
        self.http.get(url).send().await.expect("authorize")
    }

    /// Approve the consent page (keeping `keep` scopes, all when `None`); returns the redirect.
    pub async fn consent(
        &self,
        page: &str,
        address: &str,
        keep: Option<&[&str]>,
        decision: &str,
    ) -> url::Url {
        let request = between(page, "name=\"request\" value=\"", "\"").expect("request id");
        let mut form: Vec<(String, String)> = vec![
            ("request".into(), request),
            ("mailbox".into(), address.into()),
            ("decision".into(), decision.into()),
        ];
        let offered: Vec<String> = page
            .split("type=\"checkbox\" name=\"scope\" value=\"")
            .skip(1)
            .filter_map(|s| s.split('"').next().map(str::to_string))
            .collect();
        for s in offered {
            if keep.is_none_or(|k| k.contains(&s.as_str()))
                || page.contains(&format!("type=\"hidden\" name=\"scope\" value=\"{s}\""))
            {
                form.push(("scope".into(), s));
            }
        }
        let r = self
            .http
            .post(self.url("/o/oauth2/v2/auth/decision"))
            .form(&form)
            .send()
            .await
            .expect("decision");
        assert_eq!(r.status(), 302, "decision redirects");
        location(&r)
    }

    /// Approve the consent page answering `r` for `me@ourco.test`, keeping `keep` scopes.
    pub async fn approve(&self, r: reqwest::Response, keep: Option<&[&str]>) -> url::Url {
        let page = r.text().await.expect("page");
        self.consent(&page, "me@ourco.test", keep, "approve").await
    }

    /// Exchange the code of a consent redirect (test verifier and redirect URI).
    pub async fn exchange_redirect(&self, redirect: &url::Url) -> (u16, Value) {
        let code = query(redirect, "code").expect("code");
        self.exchange(&code, VERIFIER, REDIRECT).await
    }

    /// Exchange a code (with the test PKCE verifier).
    pub async fn exchange(&self, code: &str, verifier: &str, redirect: &str) -> (u16, Value) {
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
            ("redirect_uri", redirect),
            ("code_verifier", verifier),
        ];
        self.token_form(&form).await
    }

    pub async fn refresh(&self, refresh_token: &str) -> (u16, Value) {
        let form = [
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
        ];
        self.token_form(&form).await
    }

    /// `POST /token` with a form: the status and the JSON answer (`null` when not JSON).
    pub async fn token_form(&self, form: &[(&str, &str)]) -> (u16, Value) {
        let r = self
            .http
            .post(self.url("/token"))
            .form(form)
            .send()
            .await
            .expect("token");
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }

    /// Full flow, all scopes approved; returns the token response.
    pub async fn token_response(&self, address: &str, scopes: &[&str]) -> Value {
        let r = self
            .authorize(address, scopes, "&access_type=offline")
            .await;
        let redirect = if r.status() == 302 {
            location(&r)
        } else {
            let page = r.text().await.expect("page");
            self.consent(&page, address, None, "approve").await
        };
        let code = query(&redirect, "code").expect("code in redirect");
        let (status, body) = self.exchange(&code, VERIFIER, REDIRECT).await;
        assert_eq!(status, 200, "token exchange: {body}");
        body
    }

    pub async fn token(&self, address: &str, scopes: &[&str]) -> String {
        self.token_response(address, scopes).await["access_token"]
            .as_str()
            .expect("access_token")
            .to_string()
    }
}

pub const VERIFIER: &str = "verifier-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFGHIJ";

pub fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

pub fn between(text: &str, start: &str, end: &str) -> Option<String> {
    let rest = &text[text.find(start)? + start.len()..];
    Some(rest[..rest.find(end)?].to_string())
}

pub fn location(r: &reqwest::Response) -> url::Url {
    let loc = r
        .headers()
        .get("location")
        .expect("location")
        .to_str()
        .expect("ascii");
    url::Url::parse(loc).expect("absolute location")
}

pub fn query(url: &url::Url, key: &str) -> Option<String> {
    url.query_pairs()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

/// The message ids of a `messages.list` answer, in order.
pub fn ids(v: &Value) -> Vec<String> {
    v["messages"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|m| m["id"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// A simple message.
pub fn simple(message_id: &str, subject: &str, extra_headers: &str, body: &str) -> Vec<u8> {
    format!(
        "From: Oliver Smith <oliver@mail.acme.co.uk>\r\nTo: me@ourco.test\r\nSubject: {subject}\r\nDate: Mon, 01 Jan 2024 10:00:00 +0000\r\nMessage-ID: <{message_id}>\r\n{extra_headers}MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    )
    .into_bytes()
}

/// A Google mailbox with a token holding `scopes`.
pub async fn google_with(scopes: &[&str]) -> (Emu, String) {
    google_on(Emu::start().await, scopes).await
}

/// `google_with` on an emulator with realistic quotas and these tunables.
pub async fn google_throttled(tunables: Tunables, scopes: &[&str]) -> (Emu, String) {
    let emu = Emu::with(EmulatorConfig {
        quota: Quota::Realistic,
        tunables,
        ..config()
    })
    .await;
    google_on(emu, scopes).await
}

async fn google_on(emu: Emu, scopes: &[&str]) -> (Emu, String) {
    emu.mailbox("google", "me@ourco.test").await;
    let token = emu.token("me@ourco.test", scopes).await;
    (emu, token)
}
