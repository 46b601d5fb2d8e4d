//! Request statistics for `GET /_emulator/stats`: requests and errors per route template and
//! mailbox, quota units charged per mailbox.

use std::collections::{BTreeMap, HashMap};

use parking_lot::Mutex;
use serde::{Deserialize, Serialize};

use super::quota::Throttle;

#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct RouteStats {
    pub requests: u64,
    pub errors: u64,
    /// Error responses by HTTP status.
    #[serde(deserialize_with = "status_keys")]
    pub statuses: BTreeMap<u16, u64>,
}

/// Status keys are JSON strings; inside the flattened `RouteEntry` serde will not parse them
/// as numbers itself.
fn status_keys<'de, D: serde::Deserializer<'de>>(d: D) -> Result<BTreeMap<u16, u64>, D::Error> {
    let raw = BTreeMap::<String, u64>::deserialize(d)?;
    raw.into_iter()
        .map(|(k, v)| Ok((k.parse().map_err(serde::de::Error::custom)?, v)))
        .collect()
}

#[derive(Default)]
pub struct Stats {
    routes: Mutex<HashMap<(String, String), RouteStats>>,
    units: Mutex<HashMap<String, u64>>,
    throttles: Mutex<BTreeMap<String, u64>>,
}

/// The JSON of `GET /_emulator/stats`.
#[derive(Debug, Serialize, Deserialize)]
pub struct StatsReport {
    pub requests: Vec<RouteEntry>,
    pub quota_units: BTreeMap<String, u64>,
    pub total_requests: u64,
    pub total_errors: u64,
    /// Quota and concurrency refusals by kind: `gmail_rate`, `gmail_concurrency`,
    /// `graph_rate` (the 10-minute budget), `graph_concurrency` (`MailboxConcurrency`).
    #[serde(default)]
    pub throttles: BTreeMap<String, u64>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct RouteEntry {
    pub route: String,
    /// `""` when the request carried no recognisable mailbox.
    pub mailbox: String,
    #[serde(flatten)]
    pub stats: RouteStats,
}

impl Stats {
    pub fn record(&self, route: &str, mailbox: &str, status: u16) {
        let mut routes = self.routes.lock();
        let entry = routes
            .entry((route.to_string(), mailbox.to_string()))
            .or_default();
        entry.requests += 1;
        if status >= 400 {
            entry.errors += 1;
            *entry.statuses.entry(status).or_default() += 1;
        }
    }

    /// A quota or concurrency refusal of `pool` (`gmail`, `graph`).
    pub fn throttle(&self, pool: &str, throttle: Throttle) {
        let kind = match throttle {
            Throttle::Rate { .. } => "rate",
            Throttle::Concurrency => "concurrency",
        };
        *self
            .throttles
            .lock()
            .entry(format!("{pool}_{kind}"))
            .or_default() += 1;
    }

    pub fn charge(&self, mailbox: &str, units: u32) {
        *self.units.lock().entry(mailbox.to_string()).or_default() += u64::from(units);
    }

    pub fn report(&self) -> StatsReport {
        let mut requests: Vec<RouteEntry> = self
            .routes
            .lock()
            .iter()
            .map(|((route, mailbox), stats)| RouteEntry {
                route: route.clone(),
                mailbox: mailbox.clone(),
                stats: stats.clone(),
            })
            .collect();
        requests.sort_by(|a, b| (&a.route, &a.mailbox).cmp(&(&b.route, &b.mailbox)));
        let total_requests = requests.iter().map(|r| r.stats.requests).sum();
        let total_errors = requests.iter().map(|r| r.stats.errors).sum();
        let quota_units = self
            .units
            .lock()
            .iter()
            .map(|(k, v)| (k.clone(), *v))
            .collect();
        StatsReport {
            requests,
            quota_units,
            total_requests,
            total_errors,
            throttles: self.throttles.lock().clone(),
        }
    }
}
