//! The one shared state behind every handler: store, tokens, faults, quota, statistics,
//! runtime-tunable settings and a typed extension slot for provider-specific state.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::{Mutex, RwLock};
use serde::{Deserialize, Serialize};

use super::faults::Faults;
use super::latency::{Endpoint, Latency, LatencyModel};
use super::quota::QuotaTracker;
use super::stats::Stats;
use super::store::Store;
use super::tokens::Tokens;
use super::EmulatorConfig;

/// Gmail per-method quota units (provider-apis.md §B.10, values current in 2026).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct GmailCosts {
    pub get_profile: u32,
    pub labels: u32,
    pub history_list: u32,
    pub messages_list: u32,
    pub messages_get: u32,
    pub attachments_get: u32,
    pub messages_modify: u32,
    pub messages_trash: u32,
    pub messages_delete: u32,
    pub batch_modify: u32,
    pub threads: u32,
    pub watch: u32,
    pub stop: u32,
}

impl Default for GmailCosts {
    fn default() -> Self {
        Self {
            get_profile: 1,
            labels: 1,
            history_list: 2,
            messages_list: 5,
            messages_get: 5,
            attachments_get: 5,
            messages_modify: 5,
            messages_trash: 5,
            messages_delete: 10,
            batch_modify: 50,
            threads: 10,
            watch: 100,
            stop: 50,
        }
    }
}

/// Settings a test may change at run time (`PATCH /_emulator/settings`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Tunables {
    /// Access-token lifetime in seconds (Google: 3599).
    pub access_token_ttl_secs: u64,
    /// Authorization-code lifetime in seconds.
    pub code_ttl_secs: u64,
    /// Live refresh tokens per client and mailbox before the oldest dies (Google: 100).
    pub refresh_token_cap: usize,
    /// Gmail units per user per minute: 6,000 for projects created from 2026-05-01, 15,000
    /// for older ones.
    pub gmail_units_per_minute: u32,
    /// Parallel Gmail requests per user before 429 "Too many concurrent requests for user".
    pub gmail_concurrency: usize,
    /// Form of a per-user quota refusal: `"429"` (`rateLimitExceeded`, "User-rate limit
    /// exceeded. Retry after ..."), `"403"` (`rateLimitExceeded`, "Quota exceeded for quota
    /// metric 'Queries' ...") or `"403-legacy"` (`userRateLimitExceeded`).
    pub gmail_quota_error: String,
    pub gmail_costs: GmailCosts,
    /// How long an issued attachmentId stays valid, in seconds.
    pub attachment_id_ttl_secs: u64,
    /// Minimum interval between two push notifications of one mailbox, in milliseconds.
    pub push_interval_ms: u64,
    /// Outlook: requests per app and mailbox per minute (10,000 per 10 minutes).
    pub graph_requests_per_minute: u32,
    /// Outlook: concurrent requests per app and mailbox.
    pub graph_concurrency: usize,
    /// Free-form settings of the Microsoft views (merged by `PATCH /_emulator/settings`).
    pub microsoft: serde_json::Value,
    /// Approve consent without showing the consent page (`--auto-consent`; changeable at run
    /// time, e.g. by the demo once its own mailboxes are linked).
    pub auto_consent: bool,
    /// Service times of provider requests: `off` answers at once, `realistic` sleeps each
    /// endpoint's drawn service time while the request holds its concurrency slot.
    pub latency: Latency,
    /// Multiplies every drawn service time (1.0 = real time; 0.05 runs the model 20 times
    /// faster, so a test stays quick and overlapping requests still overlap).
    pub latency_scale: f64,
}

impl Default for Tunables {
    fn default() -> Self {
        Self {
            access_token_ttl_secs: 3599,
            code_ttl_secs: 600,
            refresh_token_cap: 100,
            gmail_units_per_minute: 6_000,
            gmail_concurrency: 10,
            gmail_quota_error: "429".into(),
            gmail_costs: GmailCosts::default(),
            attachment_id_ttl_secs: 3600,
            push_interval_ms: 1000,
            graph_requests_per_minute: 1000,
            graph_concurrency: 4,
            microsoft: serde_json::Value::Object(serde_json::Map::new()),
            auto_consent: false,
            latency: Latency::Off,
            latency_scale: 1.0,
        }
    }
}

impl Tunables {
    pub fn access_token_ttl(&self) -> Duration {
        Duration::from_secs(self.access_token_ttl_secs)
    }
}

/// A typed map so provider modules can keep their own state without new fields here.
#[derive(Default)]
pub struct Extensions {
    map: Mutex<HashMap<TypeId, Arc<dyn Any + Send + Sync>>>,
}

impl Extensions {
    /// The `T` of this emulator, created with `Default` on first use.
    pub fn get<T: Any + Send + Sync + Default>(&self) -> Arc<T> {
        let mut map = self.map.lock();
        let entry = map
            .entry(TypeId::of::<T>())
            .or_insert_with(|| Arc::new(T::default()));
        if let Ok(value) = Arc::clone(entry).downcast::<T>() {
            return value;
        }
        // Unreachable: the entry under TypeId::of::<T>() always holds a T.
        let fresh = Arc::new(T::default());
        *entry = fresh.clone();
        fresh
    }
}

pub struct EmulatorState {
    pub config: EmulatorConfig,
    pub settings: RwLock<Tunables>,
    pub store: Store,
    pub tokens: Tokens,
    pub faults: Faults,
    pub quota: QuotaTracker,
    pub stats: Stats,
    /// Draws service times (seeded with the corpus seed).
    pub latency: LatencyModel,
    pub ext: Extensions,
    /// `http://host:port`, set once bound.
    pub base_url: RwLock<String>,
    /// An HTTP client for outgoing pushes (Gmail Pub/Sub, Graph notifications).
    pub http: reqwest::Client,
}

pub type SharedState = Arc<EmulatorState>;

impl EmulatorState {
    pub fn new(config: EmulatorConfig) -> Self {
        Self {
            settings: RwLock::new(Tunables {
                auto_consent: config.auto_consent || config.tunables.auto_consent,
                ..config.tunables.clone()
            }),
            quota: QuotaTracker::new(config.quota),
            latency: LatencyModel::new(config.seed),
            config,
            store: Store::default(),
            tokens: Tokens::default(),
            faults: Faults::default(),
            stats: Stats::default(),
            ext: Extensions::default(),
            base_url: RwLock::new(String::new()),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(Duration::from_secs(10))
                .build()
                .unwrap_or_default(),
        }
    }

    pub fn tunables(&self) -> Tunables {
        self.settings.read().clone()
    }

    /// Sleep one service time of `endpoint` (nothing when latency is off).
    pub async fn serve(&self, endpoint: Endpoint) {
        let (mode, scale) = {
            let t = self.settings.read();
            (t.latency, t.latency_scale)
        };
        if mode == Latency::Off {
            return;
        }
        super::latency::serve(mode, scale, self.latency.draw(endpoint)).await;
    }

    /// Sleep `time` (drawn by the caller from [`LatencyModel`]) when latency is realistic.
    pub async fn serve_for(&self, time: std::time::Duration) {
        let (mode, scale) = {
            let t = self.settings.read();
            (t.latency, t.latency_scale)
        };
        super::latency::serve(mode, scale, time).await;
    }
}
