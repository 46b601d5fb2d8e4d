//! Push settings (issue 22): whether Threadline asks providers to call it when mail changes
//! (Graph change notifications, Gmail watch through Pub/Sub), and how it checks those calls.
//! Polling stays the safety net: with healthy push a mailbox polls every
//! `THREADLINE_PUSH_POLL_SECONDS`; without push it polls at its own interval, as before.
use clap::{Args, ValueEnum};

/// `THREADLINE_PUSH`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PushMode {
    /// Push when the public URL (`THREADLINE_BASE_URL`) is https, as providers require.
    Auto,
    /// Push whatever the public URL (an emulator may call plain http on loopback).
    On,
    /// Never push: poll only.
    Off,
}

/// The help heading of the settings: `threadline --help` and `serve --help` list them, every
/// other command's help points there (`crate::cli_help`).
pub const SETTINGS_HEADING: &str =
    "Settings (environment variables; a flag wins over its variable)";

#[derive(Debug, Clone, Args)]
#[command(next_help_heading = SETTINGS_HEADING)]
pub struct PushArgs {
    /// Push: `auto` (when THREADLINE_BASE_URL is https), `on`, or `off` (poll only).
    #[arg(long, global = true, env = "THREADLINE_PUSH", value_enum, default_value_t = PushMode::Auto)]
    pub push: PushMode,
    /// How often a mailbox whose push is healthy is still polled, as a safety net (seconds).
    #[arg(
        long,
        global = true,
        env = "THREADLINE_PUSH_POLL_SECONDS",
        default_value_t = 3600
    )]
    pub push_poll_seconds: u32,
    /// Gmail push: the Pub/Sub topic Gmail publishes to (`projects/P/topics/T`, with
    /// gmail-api-push@system.gserviceaccount.com allowed to publish). Unset: Gmail polls.
    #[arg(long, global = true, env = "GOOGLE_PUBSUB_TOPIC")]
    pub google_pubsub_topic: Option<String>,
    /// The audience of the push subscription's ID tokens. Default: the push endpoint's URL
    /// (`{THREADLINE_BASE_URL}/push/gmail`), as Pub/Sub defaults it.
    #[arg(long, global = true, env = "GOOGLE_PUBSUB_AUDIENCE")]
    pub google_pubsub_audience: Option<String>,
    /// The service account the push subscription authenticates as (the ID token's `email`).
    /// Required for Gmail push: unauthenticated pushes are never trusted.
    #[arg(long, global = true, env = "GOOGLE_PUBSUB_SERVICE_ACCOUNT")]
    pub google_pubsub_service_account: Option<String>,
    /// Where Google publishes the keys that sign Pub/Sub push tokens (JWKS).
    #[arg(
        long,
        global = true,
        env = "GOOGLE_CERTS_URL",
        default_value = "https://www.googleapis.com/oauth2/v3/certs"
    )]
    pub google_certs_url: String,
}

/// Gmail push through Pub/Sub, when configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GmailPush {
    pub topic: String,
    pub audience: String,
    pub service_account: String,
}

#[derive(Debug, Clone)]
pub struct PushSettings {
    pub mode: PushMode,
    pub poll_seconds: u32,
    pub pubsub_topic: Option<String>,
    pub pubsub_audience: Option<String>,
    pub pubsub_service_account: Option<String>,
    pub certs_url: String,
}

/// Paths of the push endpoints under the public URL.
pub const GRAPH_PATH: &str = "/push/graph";
pub const GRAPH_LIFECYCLE_PATH: &str = "/push/graph/lifecycle";
pub const GMAIL_PATH: &str = "/push/gmail";

impl PushSettings {
    pub fn from_args(args: &PushArgs) -> Self {
        let some = |v: &Option<String>| {
            v.clone()
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
        };
        Self {
            mode: args.push,
            poll_seconds: args.push_poll_seconds.max(60),
            pubsub_topic: some(&args.google_pubsub_topic),
            pubsub_audience: some(&args.google_pubsub_audience),
            pubsub_service_account: some(&args.google_pubsub_service_account),
            certs_url: args.google_certs_url.trim_end_matches('/').to_string(),
        }
    }

    /// Whether providers may be asked to call `base_url`, or why not (shown on mailbox pages).
    pub fn available(&self, base_url: &str) -> Result<(), String> {
        match self.mode {
            PushMode::Off => Err("push is turned off (THREADLINE_PUSH=off); polling".into()),
            PushMode::Auto if !base_url.starts_with("https://") => Err(format!(
                "no public https URL (THREADLINE_BASE_URL is {base_url}); providers only call \
                 https endpoints, so this mailbox polls"
            )),
            _ => Ok(()),
        }
    }

    /// Gmail push's topic, audience and service account, or why Gmail polls.
    pub fn gmail(&self, base_url: &str) -> Result<GmailPush, String> {
        self.available(base_url)?;
        let topic = self
            .pubsub_topic
            .clone()
            .ok_or("no Pub/Sub topic configured (GOOGLE_PUBSUB_TOPIC); polling")?;
        let service_account = self.pubsub_service_account.clone().ok_or(
            "no push service account configured (GOOGLE_PUBSUB_SERVICE_ACCOUNT), so pushes \
             cannot be verified; polling",
        )?;
        Ok(GmailPush {
            topic,
            audience: self
                .pubsub_audience
                .clone()
                .unwrap_or_else(|| format!("{base_url}{GMAIL_PATH}")),
            service_account,
        })
    }
}
