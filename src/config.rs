//! Typed settings resolved from the command line and environment. Secrets are redacted in
//! `Debug` and never logged.
use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;

use crate::cli::SettingsArgs;

/// OAuth client registration for one provider.
#[derive(Clone)]
pub struct OAuthClient {
    pub client_id: String,
    pub client_secret: String,
}

impl fmt::Debug for OAuthClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthClient")
            .field("client_id", &self.client_id)
            .field("client_secret", &"[redacted]")
            .finish()
    }
}

/// Base URLs of every provider host; each can point at an emulator.
#[derive(Debug, Clone)]
pub struct ProviderUrls {
    pub google_accounts: String,
    pub google_oauth2: String,
    pub google_openid: String,
    pub gmail_api: String,
    pub microsoft_login: String,
    pub graph_api: String,
    /// Google Admin SDK (Directory API) host, for Workspace connections.
    pub google_admin: String,
}

impl ProviderUrls {
    /// Every provider host served by one emulator at `base`.
    pub fn all_at(base: &str) -> Self {
        let base = base.trim_end_matches('/').to_string();
        Self {
            google_accounts: base.clone(),
            google_oauth2: base.clone(),
            google_openid: base.clone(),
            gmail_api: base.clone(),
            microsoft_login: base.clone(),
            graph_api: base.clone(),
            google_admin: base,
        }
    }
}

#[derive(Clone)]
pub struct Settings {
    pub database_url: String,
    pub bind: SocketAddr,
    /// Public URL without a trailing slash.
    pub base_url: String,
    pub data_dir: PathBuf,
    pub secret_key: Option<String>,
    pub json_logs: bool,
    /// Background sync workers `App::run` starts.
    pub sync_workers: usize,
    /// Gmail quota per user per minute the sync stays under.
    pub gmail_units_per_minute: u32,
    pub graph_requests_per_10_minutes: u32,
    /// Background re-association workers `App::run` starts.
    pub job_workers: usize,
    /// Days sync runs and ledger history are kept (`THREADLINE_RETENTION_DAYS`); 0: forever.
    pub retention_days: u32,
    /// Stable across restarts; worker ids are `{instance_id}-sync-{i}` and `-jobs-{i}`.
    pub instance_id: String,
    /// A sync worker's lease on a mailbox (renewed every third of it).
    pub sync_lease: std::time::Duration,
    /// How long a worker's pass runs before it lets another mailbox go next.
    pub sync_slice: std::time::Duration,
    /// The bound on a graceful shutdown (`THREADLINE_SHUTDOWN_SECONDS`).
    pub shutdown_timeout: std::time::Duration,
    pub google: Option<OAuthClient>,
    pub microsoft: Option<OAuthClient>,
    pub microsoft_tenant: String,
    pub provider_urls: ProviderUrls,
    pub push: crate::config_push::PushSettings,
    /// `THREADLINE_METRICS_TOKEN`: GET /metrics on `bind` requires it as a bearer token; unset,
    /// /metrics there answers 404.
    pub metrics_token: Option<String>,
    /// `THREADLINE_METRICS_BIND`: /metrics served without a token on this address of its own.
    pub metrics_bind: Option<SocketAddr>,
    /// `THREADLINE_METRICS_MAILBOX_LABELS`: the quota histogram carries a `mailbox` label (the
    /// mailbox's id), one series set per mailbox.
    pub metrics_mailbox_labels: bool,
    /// `THREADLINE_WEBHOOK_ALLOW_PRIVATE`: webhook deliveries may reach loopback and private
    /// addresses.
    pub webhook_allow_private: bool,
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("database_url", &redact_url(&self.database_url))
            .field("bind", &self.bind)
            .field("base_url", &self.base_url)
            .field("data_dir", &self.data_dir)
            .field(
                "secret_key",
                &self.secret_key.as_ref().map(|_| "[redacted]"),
            )
            .field("google", &self.google)
            .field("microsoft", &self.microsoft)
            .field("microsoft_tenant", &self.microsoft_tenant)
            .field("provider_urls", &self.provider_urls)
            .field("push", &self.push)
            .field(
                "metrics_token",
                &self.metrics_token.as_ref().map(|_| "[redacted]"),
            )
            .field("metrics_bind", &self.metrics_bind)
            .field("webhook_allow_private", &self.webhook_allow_private)
            .finish_non_exhaustive()
    }
}

impl Settings {
    pub fn from_args(args: &SettingsArgs) -> Self {
        let data_dir = args.data_dir.clone();
        let database_url = args.database_url.clone().unwrap_or_else(|| {
            format!(
                "sqlite://{}?mode=rwc",
                data_dir.join("threadline.db").display()
            )
        });
        let client = |id: &Option<String>, secret: &Option<String>| match (id, secret) {
            (Some(id), Some(secret)) if !id.is_empty() && !secret.is_empty() => Some(OAuthClient {
                client_id: id.clone(),
                client_secret: secret.clone(),
            }),
            _ => None,
        };
        Self {
            database_url,
            bind: args.bind,
            base_url: args
                .base_url
                .as_deref()
                .filter(|u| !u.is_empty())
                .map_or_else(|| format!("http://{}", args.bind), trim),
            data_dir,
            secret_key: args.secret_key.clone().filter(|k| !k.is_empty()),
            json_logs: args.log_format.eq_ignore_ascii_case("json"),
            sync_workers: args.sync_workers,
            gmail_units_per_minute: args.gmail_units_per_minute.max(1),
            graph_requests_per_10_minutes: args.graph_requests_per_10_minutes.max(1),
            job_workers: args.job_workers,
            retention_days: args.retention_days,
            instance_id: args
                .instance_id
                .clone()
                .filter(|i| !i.trim().is_empty())
                .unwrap_or_else(|| default_instance_id(args.bind)),
            sync_lease: std::time::Duration::from_secs(args.sync_lease_seconds.max(3)),
            sync_slice: std::time::Duration::from_secs(args.sync_slice_seconds.max(1)),
            shutdown_timeout: std::time::Duration::from_secs(args.shutdown_seconds),
            google: client(&args.google_client_id, &args.google_client_secret),
            microsoft: client(&args.microsoft_client_id, &args.microsoft_client_secret),
            microsoft_tenant: args.microsoft_tenant.clone(),
            provider_urls: ProviderUrls {
                google_accounts: trim(&args.google_accounts_url),
                google_oauth2: trim(&args.google_oauth2_url),
                google_openid: trim(&args.google_openid_url),
                gmail_api: trim(&args.gmail_api_url),
                microsoft_login: trim(&args.microsoft_login_url),
                graph_api: trim(&args.graph_api_url),
                google_admin: trim(&args.google_admin_url),
            },
            push: crate::config_push::PushSettings::from_args(&args.push),
            metrics_token: args.metrics_token.clone().filter(|t| !t.trim().is_empty()),
            metrics_bind: args.metrics_bind,
            metrics_mailbox_labels: args.metrics_mailbox_labels,
            webhook_allow_private: args.webhook_allow_private,
        }
    }

    /// Whether this process serves /metrics anywhere (and so records metrics at all).
    pub fn metrics_enabled(&self) -> bool {
        self.metrics_token.is_some() || self.metrics_bind.is_some()
    }

    /// Cookies get `Secure` (and the `__Host-` prefix) when the public URL is https.
    pub fn secure_cookies(&self) -> bool {
        self.base_url.starts_with("https://")
    }

    pub fn is_sqlite(&self) -> bool {
        self.database_url.starts_with("sqlite:")
    }
}

/// The host name and the bind port: the same after a restart, different for two instances on
/// one host.
pub fn default_instance_id(bind: SocketAddr) -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/proc/sys/kernel/hostname").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into());
    format!("{host}-{}", bind.port())
}

fn trim(url: &str) -> String {
    url.trim_end_matches('/').to_string()
}

/// `postgres://user:secret@host/db` -> `postgres://user:***@host/db`.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_string(),
    }
}
