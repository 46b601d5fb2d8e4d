//! Our own web app driven like a browser (a cookie jar, no automatic redirects, forms with the
//! CSRF token): the demo and the benchmarks link mailboxes through the real OAuth flow with it.
use anyhow::Context;
use std::sync::Arc;

use reqwest::cookie::{CookieStore, Jar};
use reqwest::redirect::Policy;

/// A minimal browser: a cookie jar, no automatic redirects, forms with the CSRF token.
pub struct Browser {
    base: String,
    http: reqwest::Client,
    jar: Arc<Jar>,
}

impl Browser {
    pub fn new(base: &str) -> anyhow::Result<Self> {
        let jar = Arc::new(Jar::default());
        let http = reqwest::Client::builder()
            .cookie_provider(jar.clone())
            .redirect(Policy::none())
            .build()?;
        Ok(Self {
            base: base.to_string(),
            http,
            jar,
        })
    }

    /// The `Cookie` header this browser sends (its session, once signed in), for another client.
    pub fn cookie_header(&self) -> Option<String> {
        let url = reqwest::Url::parse(&self.base).ok()?;
        let value = self.jar.cookies(&url)?;
        value.to_str().ok().map(str::to_string)
    }

    async fn csrf(&self, path: &str) -> anyhow::Result<String> {
        let html = self
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .await?
            .text()
            .await?;
        let marker = "name=\"csrf_token\" value=\"";
        let start = html.find(marker).context("no CSRF token on the page")? + marker.len();
        let end = html[start..].find('"').context("malformed page")? + start;
        Ok(html[start..end].to_string())
    }

    async fn post(&self, path: &str, fields: &[(&str, &str)]) -> anyhow::Result<reqwest::Response> {
        let token = self
            .csrf(if path == "/login" {
                "/login"
            } else {
                "/mailboxes"
            })
            .await?;
        let mut form = fields.to_vec();
        form.push(("csrf_token", &token));
        Ok(self
            .http
            .post(format!("{}{path}", self.base))
            .form(&form)
            .send()
            .await?)
    }

    /// GET a page: its status and body.
    pub async fn get(&self, path: &str) -> anyhow::Result<(u16, String)> {
        let res = self.http.get(format!("{}{path}", self.base)).send().await?;
        let status = res.status().as_u16();
        Ok((status, res.text().await?))
    }

    pub async fn sign_in(&self, email: &str, password: &str) -> anyhow::Result<()> {
        let res = self
            .post("/login", &[("email", email), ("password", password)])
            .await?;
        anyhow::ensure!(
            res.status().is_redirection(),
            "demo sign-in failed ({})",
            res.status()
        );
        Ok(())
    }

    /// Connect, then follow the provider's redirects back to our callback.
    pub async fn connect(&self, provider: &str, address: &str) -> anyhow::Result<()> {
        let mut res = self
            .post(
                &format!("/mailboxes/connect/{provider}"),
                &[("login_hint", address)],
            )
            .await?;
        for _ in 0..5 {
            let Some(next) = res.headers().get("location").and_then(|l| l.to_str().ok()) else {
                break;
            };
            let next = if next.starts_with('/') {
                format!("{}{next}", self.base)
            } else {
                next.to_string()
            };
            if next == format!("{}/mailboxes", self.base) {
                return Ok(());
            }
            res = self.http.get(next).send().await?;
        }
        anyhow::bail!("linking {address} did not complete ({})", res.status())
    }
}
