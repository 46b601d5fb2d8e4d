//! Test vocabulary shared by the black-box suites: a fresh database per test (SQLite, or
//! PostgreSQL when `TEST_DATABASE_URL` is set), the real app on port 0, and a browser-like
//! client with a cookie jar.
#![allow(dead_code)]

pub mod consent;
mod db;
pub mod inspect;
pub mod mail;
pub mod timeline_model;
pub mod webhooks;

pub use db::TestDb;

use std::sync::Arc;

use clap::Parser;
use reqwest::redirect::Policy;
use reqwest::{Client, Response, StatusCode};
use sea_orm::DatabaseConnection;
use threadline::app::App;
use threadline::cli::Cli;
use threadline::config::Settings;
use threadline_emulator::{self as emulator, EmulatorConfig, RunningEmulator};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub const ADMIN_EMAIL: &str = "admin@acme.test";
pub const ADMIN_PASSWORD: &str = "correct horse battery";

/// Settings as an operator would give them on the command line.
pub fn settings(db: &TestDb, extra: &[&str]) -> Settings {
    let data_dir = db.dir.join("data");
    let mut args = vec![
        "threadline".to_string(),
        "--database-url".into(),
        db.url.clone(),
        "--bind".into(),
        "127.0.0.1:0".into(),
        "--data-dir".into(),
        data_dir.display().to_string(),
    ];
    // Tests drive sync explicitly (sync_account, worker::sync_next_due); a test that wants the
    // background worker passes `--sync-workers N` in `extra`.
    if !extra.contains(&"--sync-workers") {
        args.extend(["--sync-workers".to_string(), "0".to_string()]);
    }
    // Likewise re-association jobs (`reassociation::job::run_next`).
    if !extra.contains(&"--job-workers") {
        args.extend(["--job-workers".to_string(), "0".to_string()]);
    }
    args.extend(extra.iter().map(|s| (*s).to_string()));
    let cli = Cli::try_parse_from(args).expect("test settings parse");
    Settings::from_args(&cli.settings)
}

/// The real application on port 0, with a browser-like client.
pub struct TestApp {
    pub base: String,
    pub deps: threadline::mailboxes::MailDeps,
    /// The in-process provider emulator the app's providers point at, when started with one.
    pub emulator: Option<Arc<RunningEmulator>>,
    pub db: DatabaseConnection,
    pub client: Client,
    pub test_db: Arc<TestDb>,
    shutdown: CancellationToken,
    handle: Option<JoinHandle<anyhow::Result<()>>>,
}

pub fn client() -> Client {
    Client::builder()
        .cookie_store(true)
        .redirect(Policy::none())
        .build()
        .expect("client")
}

impl TestApp {
    pub async fn spawn() -> Self {
        let db = Arc::new(TestDb::new().await);
        Self::spawn_with(db, client(), &[]).await
    }

    /// A fresh app with its first admin set up and signed in.
    pub async fn spawn_admin() -> Self {
        let app = Self::spawn().await;
        app.setup_admin().await;
        app
    }

    pub async fn spawn_with(test_db: Arc<TestDb>, client: Client, extra: &[&str]) -> Self {
        Self::spawn_full(test_db, client, None, extra).await
    }

    /// The app with Google and Microsoft OAuth clients configured against a fresh emulator.
    pub async fn spawn_with_emulator() -> Self {
        Self::spawn_with_emulator_args(&[]).await
    }

    /// [`TestApp::spawn_with_emulator`], with `extra` command-line flags.
    pub async fn spawn_with_emulator_args(extra: &[&str]) -> Self {
        let emulator = emulator::start("127.0.0.1:0".parse().unwrap(), EmulatorConfig::default())
            .await
            .expect("emulator starts");
        let db = Arc::new(TestDb::new().await);
        Self::spawn_full(db, client(), Some(Arc::new(emulator)), extra).await
    }

    pub async fn spawn_full(
        test_db: Arc<TestDb>,
        client: Client,
        emulator: Option<Arc<RunningEmulator>>,
        extra: &[&str],
    ) -> Self {
        let mut args: Vec<String> = extra.iter().map(|s| (*s).to_string()).collect();
        if let Some(e) = &emulator {
            let base = e.base_url.clone();
            for (flag, value) in [
                (
                    "--google-client-id",
                    "threadline-test.apps.googleusercontent.com",
                ),
                ("--google-client-secret", "google-test-secret"),
                (
                    "--microsoft-client-id",
                    "6731de76-14a6-49ae-97bc-6eba6914391e",
                ),
                ("--microsoft-client-secret", "microsoft-test-secret"),
                ("--google-accounts-url", &base),
                ("--google-oauth2-url", &base),
                ("--google-openid-url", &base),
                ("--gmail-api-url", &base),
                ("--microsoft-login-url", &base),
                ("--graph-api-url", &base),
                ("--google-admin-url", &base),
            ] {
                args.push(flag.to_string());
                args.push(value.to_string());
            }
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let app = App::build(settings(&test_db, &args))
            .await
            .expect("app builds");
        let base = format!("http://{}", app.addr);
        let db = app.db.clone();
        let deps = app.mail_deps();
        let shutdown = CancellationToken::new();
        let handle = tokio::spawn(app.run(shutdown.clone()));
        Self {
            base,
            deps,
            emulator,
            db,
            client,
            test_db,
            shutdown,
            handle: Some(handle),
        }
    }

    /// Stop this instance and start a new one on the same database, keeping the client.
    pub async fn restart(mut self) -> Self {
        self.stop().await;
        Self::spawn_full(
            self.test_db.clone(),
            self.client.clone(),
            self.emulator.clone(),
            &[],
        )
        .await
    }

    pub async fn stop(&mut self) {
        self.shutdown.cancel();
        if let Some(handle) = self.handle.take() {
            handle.await.expect("server task").expect("server ran");
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn get(&self, path: &str) -> Response {
        self.client.get(self.url(path)).send().await.expect("GET")
    }

    /// GET a page that must answer 200, returning its HTML.
    pub async fn get_html(&self, path: &str) -> String {
        let res = self.get(path).await;
        assert_eq!(res.status(), StatusCode::OK, "GET {path}");
        res.text().await.expect("body")
    }

    /// The CSRF token of this client's session, read from a page's form.
    pub async fn csrf(&self, page: &str) -> String {
        csrf_in(&self.get_html(page).await)
    }

    /// The CSRF token of this client's session (created if the session has none yet), read
    /// from the account page or wherever it redirects (sign-in, first-run setup).
    pub async fn session_csrf(&self) -> String {
        let mut path = "/account".to_string();
        for _ in 0..4 {
            let res = self.get(&path).await;
            if res.status().is_redirection() {
                path = location(&res);
                continue;
            }
            return csrf_in(&res.text().await.expect("body"));
        }
        panic!("no page with a form reached from /account (last: {path})")
    }

    /// POST a urlencoded form as a browser would (same origin), with the session's CSRF token.
    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> Response {
        let token = self.session_csrf().await;
        self.post_form_with(path, Some(&token), fields).await
    }

    /// POST a urlencoded form (same origin) with exactly the given token, or none.
    pub async fn post_form_with(
        &self,
        path: &str,
        token: Option<&str>,
        fields: &[(&str, &str)],
    ) -> Response {
        let mut form: Vec<(&str, &str)> = fields.to_vec();
        if let Some(token) = token {
            form.push(("csrf_token", token));
        }
        self.client
            .post(self.url(path))
            .header("Origin", &self.base)
            .form(&form)
            .send()
            .await
            .expect("POST")
    }

    /// POST a form as htmx sends it (`HX-Request`, and `HX-Target` when given), with the
    /// session's CSRF token.
    pub async fn htmx_post(
        &self,
        path: &str,
        target: Option<&str>,
        fields: &[(&str, &str)],
    ) -> Response {
        let token = self.session_csrf().await;
        let mut form: Vec<(&str, &str)> = fields.to_vec();
        form.push(("csrf_token", &token));
        let mut req = self
            .client
            .post(self.url(path))
            .header("Origin", &self.base)
            .header("HX-Request", "true");
        if let Some(target) = target {
            req = req.header("HX-Target", target);
        }
        req.form(&form).send().await.expect("POST")
    }

    /// First-run setup: organization "Acme" and its admin, signed in on this client.
    pub async fn setup_admin(&self) {
        let res = self
            .post_form(
                "/setup",
                &[
                    ("organization", "Acme"),
                    ("name", "Ada Admin"),
                    ("email", ADMIN_EMAIL),
                    ("password", ADMIN_PASSWORD),
                    ("password_confirm", ADMIN_PASSWORD),
                ],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "setup redirects home");
    }

    pub async fn sign_in(&self, email: &str, password: &str) -> Response {
        self.post_form("/login", &[("email", email), ("password", password)])
            .await
    }

    pub async fn sign_out(&self) -> Response {
        self.post_form("/logout", &[]).await
    }

    /// Another browser on the same app (its own cookie jar).
    pub fn other_browser(&self) -> Self {
        Self {
            base: self.base.clone(),
            deps: self.deps.clone(),
            emulator: self.emulator.clone(),
            db: self.db.clone(),
            client: client(),
            test_db: self.test_db.clone(),
            shutdown: self.shutdown.clone(),
            handle: None,
        }
    }

    /// Create a user in the first organization directly (as `threadline user create` does).
    /// A member `email` created in the admin's organization, signed in on a browser of their
    /// own.
    pub async fn member_browser(&self, email: &str, password: &str) -> Self {
        self.create_user(email, password, false).await;
        let member = self.other_browser();
        member.sign_in(email, password).await;
        member
    }

    pub async fn create_user(&self, email: &str, password: &str, admin: bool) -> i64 {
        use threadline::accounts::{create_user, NewUser};
        use threadline::domain::user::Role;
        let org = threadline::db::organizations::first(&self.db)
            .await
            .unwrap()
            .expect("org");
        let role = if admin { Role::Admin } else { Role::Member };
        let new = NewUser::parse(email, "Test User", password).unwrap();
        create_user(&self.db, org.id, None, new, role)
            .await
            .unwrap()
            .id
    }
}

/// The value of the first `csrf_token` hidden field in a page.
pub fn csrf_in(html: &str) -> String {
    let marker = "name=\"csrf_token\" value=\"";
    let start = html
        .find(marker)
        .unwrap_or_else(|| panic!("no csrf_token in page:\n{html}"))
        + marker.len();
    let end = html[start..].find('"').expect("closing quote") + start;
    html[start..end].to_string()
}

/// A form refused with 422 whose page says `want`.
pub async fn assert_form_error(res: Response, want: &str) {
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = res.text().await.expect("body");
    assert!(page.contains(want), "{want:?} missing from:\n{page}");
}

/// Where a redirect points.
pub fn location(res: &Response) -> String {
    res.headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}
