//! The latency model: per-endpoint service times, drawn per request from a log-normal
//! distribution given by its median and 95th percentile (figures and sources in the crate's
//! README, "Latency"). Admission (`gate::admit`, Graph's `admit`) sleeps the drawn time while it
//! holds the request's concurrency slot, so requests stay in flight as long as at a real
//! provider and the concurrency caps can trip. `Latency::Off` answers at once.
//!
//! Draws come from one generator seeded with the corpus seed: the same seed gives the same
//! sequence of service times (which request gets which depends on arrival order).

use std::time::Duration;

use parking_lot::Mutex;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

/// Latency mode (`--latency realistic|off`, `PATCH /_emulator/settings {"latency": ...}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Latency {
    /// Answer as fast as the machine allows (throughput work, most tests).
    #[default]
    Off,
    /// Service times of the real providers (see [`Endpoint::service`]).
    Realistic,
}

/// What is being served, as far as its service time goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// `POST /token` (Google): code exchange and refresh.
    GoogleToken,
    /// getProfile, labels, watch/stop, threads and other small Gmail reads.
    GmailSmall,
    /// `users.messages.list` (up to 500 ids a page).
    GmailList,
    /// `users.history.list`.
    GmailHistory,
    /// `users.messages.get` (also each part of a batch) and attachments.get.
    GmailGet,
    /// modify / trash / delete / batchModify.
    GmailWrite,
    /// The batch envelope itself (parse, fan out, assemble): added to the slowest part.
    GmailBatch,
    /// `POST /{tenant}/oauth2/v2.0/token`.
    GraphToken,
    /// A `/messages/delta` page (light `$select`).
    GraphDelta,
    /// A messages list page.
    GraphList,
    /// One message (`GET /messages/{id}` with `$select`).
    GraphGet,
    /// One message as MIME (`/messages/{id}/$value`).
    GraphValue,
    /// Mail folders, users, `/me`, subscriptions and other small Graph calls.
    GraphSmall,
    /// PATCH of a message.
    GraphWrite,
    /// The `$batch` envelope (its sub-requests carry their own times).
    GraphBatch,
}

/// Per part of a Gmail batch, added to the envelope (the reply is assembled part by part), so
/// a batch's time grows with its size: about 1 s for 100 `messages.get`.
const GMAIL_BATCH_PER_PART_MS: f64 = 6.0;

/// z of the 95th percentile of the standard normal distribution.
const Z95: f64 = 1.644_853_6;

impl Endpoint {
    /// Median and 95th percentile of the service time, milliseconds.
    pub fn service(self) -> (f64, f64) {
        match self {
            Self::GoogleToken => (90.0, 250.0),
            Self::GmailSmall => (60.0, 180.0),
            Self::GmailList => (220.0, 600.0),
            Self::GmailHistory => (120.0, 400.0),
            Self::GmailGet => (80.0, 250.0),
            Self::GmailWrite => (150.0, 450.0),
            Self::GmailBatch => (60.0, 200.0),
            Self::GraphToken => (130.0, 400.0),
            Self::GraphDelta => (450.0, 1_500.0),
            Self::GraphList => (300.0, 900.0),
            Self::GraphGet | Self::GraphSmall => (120.0, 350.0),
            Self::GraphValue => (180.0, 400.0),
            Self::GraphWrite => (200.0, 600.0),
            Self::GraphBatch => (40.0, 120.0),
        }
    }

    /// The Gmail endpoint of a method template (`users.messages.get`, ...).
    pub fn gmail(template: &str) -> Self {
        match template {
            "users.messages.list" => Self::GmailList,
            "users.history.list" => Self::GmailHistory,
            "users.messages.get" | "users.messages.attachments.get" => Self::GmailGet,
            "users.messages.modify"
            | "users.messages.trash"
            | "users.messages.delete"
            | "users.messages.batchModify" => Self::GmailWrite,
            _ => Self::GmailSmall,
        }
    }

    /// The Graph endpoint of a request (a write or a read, path without the query).
    pub fn graph(write: bool, path: &str) -> Self {
        let lower = path.to_ascii_lowercase();
        if write {
            return if lower.contains("/messages/") {
                Self::GraphWrite
            } else {
                Self::GraphSmall
            };
        }
        if lower.ends_with("/$value") {
            Self::GraphValue
        } else if lower.ends_with("/delta") {
            Self::GraphDelta
        } else if lower.contains("/messages/") {
            Self::GraphGet
        } else if lower.ends_with("/messages") {
            Self::GraphList
        } else {
            Self::GraphSmall
        }
    }
}

/// Draws service times; shared by every handler.
pub struct LatencyModel {
    rng: Mutex<StdRng>,
}

impl LatencyModel {
    pub fn new(seed: u64) -> Self {
        Self {
            rng: Mutex::new(StdRng::seed_from_u64(seed ^ 0x6c61_7465_6e63_7921)),
        }
    }

    /// One service time of `endpoint`, before scaling.
    pub fn draw(&self, endpoint: Endpoint) -> Duration {
        let (median, p95) = endpoint.service();
        let sigma = (p95 / median).ln() / Z95;
        let z = self.standard_normal();
        // Capped at 20 times the median: a log-normal tail is long, a provider's timeout is not.
        let ms = (median * (sigma * z).exp()).min(median * 20.0);
        Duration::from_secs_f64(ms / 1_000.0)
    }

    /// The envelope of a Gmail batch of `parts` parts, before scaling.
    pub fn gmail_batch(&self, parts: usize) -> Duration {
        #[allow(clippy::cast_precision_loss)]
        let per_part = GMAIL_BATCH_PER_PART_MS * parts as f64;
        self.draw(Endpoint::GmailBatch) + Duration::from_secs_f64(per_part / 1_000.0)
    }

    /// Box–Muller.
    fn standard_normal(&self) -> f64 {
        let mut rng = self.rng.lock();
        let u1: f64 = rng.gen_range(f64::EPSILON..1.0);
        let u2: f64 = rng.gen_range(0.0..1.0);
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }
}

/// Sleep `time` scaled by `scale` when the mode is realistic.
pub async fn serve(mode: Latency, scale: f64, time: Duration) {
    if mode == Latency::Off || scale.is_nan() || scale <= 0.0 {
        return;
    }
    let scaled = time.mul_f64(scale.min(1_000.0));
    if !scaled.is_zero() {
        tokio::time::sleep(scaled).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_follow_the_median_and_p95() {
        let model = LatencyModel::new(1);
        for endpoint in [
            Endpoint::GmailGet,
            Endpoint::GraphValue,
            Endpoint::GraphDelta,
        ] {
            let mut ms: Vec<f64> = (0..4_000)
                .map(|_| model.draw(endpoint).as_secs_f64() * 1_000.0)
                .collect();
            ms.sort_by(f64::total_cmp);
            let (median, p95) = endpoint.service();
            let got_median = ms[2_000];
            let got_p95 = ms[3_800];
            assert!(
                (got_median / median - 1.0).abs() < 0.1,
                "{endpoint:?} median {got_median} vs {median}"
            );
            assert!(
                (got_p95 / p95 - 1.0).abs() < 0.15,
                "{endpoint:?} p95 {got_p95} vs {p95}"
            );
        }
    }

    #[test]
    fn the_same_seed_draws_the_same_times() {
        let (a, b) = (LatencyModel::new(7), LatencyModel::new(7));
        let xs: Vec<_> = (0..50).map(|_| a.draw(Endpoint::GmailList)).collect();
        let ys: Vec<_> = (0..50).map(|_| b.draw(Endpoint::GmailList)).collect();
        assert_eq!(xs, ys);
        let c = LatencyModel::new(8);
        let zs: Vec<_> = (0..50).map(|_| c.draw(Endpoint::GmailList)).collect();
        assert_ne!(xs, zs);
    }

    #[test]
    fn a_gmail_batch_grows_with_its_parts() {
        let model = LatencyModel::new(3);
        let mean = |parts| {
            (0..500)
                .map(|_| model.gmail_batch(parts).as_secs_f64())
                .sum::<f64>()
                / 500.0
        };
        let (small, large) = (mean(5), mean(100));
        assert!(large > small + 0.4, "{small} vs {large}");
    }

    #[test]
    fn graph_paths_map_to_their_endpoints() {
        assert_eq!(
            Endpoint::graph(false, "/v1.0/me/messages/AAMk/$value"),
            Endpoint::GraphValue
        );
        assert_eq!(
            Endpoint::graph(false, "/v1.0/me/mailFolders/inbox/messages/delta"),
            Endpoint::GraphDelta
        );
        assert_eq!(
            Endpoint::graph(false, "/v1.0/users/a@b/messages/AAMk"),
            Endpoint::GraphGet
        );
        assert_eq!(
            Endpoint::graph(true, "/v1.0/me/messages/AAMk"),
            Endpoint::GraphWrite
        );
        assert_eq!(
            Endpoint::graph(false, "/v1.0/me/mailFolders"),
            Endpoint::GraphSmall
        );
    }
}
