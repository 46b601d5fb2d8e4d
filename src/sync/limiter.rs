//! A per-mailbox client-side limiter: a token bucket of quota units plus a cap on requests in
//! flight, so a pass stays under the provider's per-user quota and concurrency cap instead of
//! learning them from throttles. When the provider throttles anyway, [`Limiter::throttled`]
//! empties the bucket and pauses it, so every task of the pass backs off, not only the one
//! refused.
//!
//! Requests in flight are counted as the provider counts them: each part of a Gmail batch is a
//! request of its own (Google runs the parts at once and each counts against "Too many
//! concurrent requests for user"), so a batch takes one slot per part
//! ([`Limiter::acquire_slots`]).
//!
//! The bucket never lets more through than the provider's window allows, whatever the window:
//! it starts with `burst` units and refills at `margin * units` per `window`, so any window
//! sees at most `burst + margin * units`. Gmail's per-minute quota is itself a bucket that
//! starts full, so its burst is a whole window; Outlook counts 10,000 requests in any 10
//! minutes, so its burst is what the margin leaves (`(1 - margin) * units`, a little less).
//!
//! State lives in the pass's [`super::Session`]: a mailbox is synced by one lease holder at a
//! time (see `worker`), so one in-process bucket per pass is the whole client side of that
//! mailbox's quota, on one instance or many. Two passes in quick succession each start with a
//! full bucket; the provider's own bucket may not be full yet, which costs at most a throttle
//! (a wait, never a failure).
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

/// The provider's published limits for one mailbox.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Profile {
    /// Units the provider grants per `window`.
    pub units: u32,
    pub window: Duration,
    /// Requests in flight at once, each part of a batch counting as one.
    pub concurrency: usize,
    /// Share of `units` per window we allow ourselves (0 < margin <= 1): the rest absorbs
    /// clock skew and requests the provider counts that we do not see (e.g. other clients of
    /// the same grant).
    pub margin: f64,
    /// Units the bucket holds (what may be spent at once, e.g. at the start of a pass).
    pub burst: u32,
}

impl Profile {
    /// Gmail: `units_per_minute` per user (6,000 for projects created from 2026-05-01, 15,000
    /// for older ones), a bucket that starts full, and about 10 parallel requests per user
    /// (batch parts included); we keep 8 in flight and use 95% of the units.
    pub fn gmail(units_per_minute: u32) -> Self {
        let units = units_per_minute.max(1);
        Self {
            units,
            window: Duration::from_secs(60),
            concurrency: 8,
            margin: 0.95,
            burst: scaled(units, 0.95),
        }
    }

    /// Microsoft Graph (Outlook): 10,000 requests in any 10 minutes and 4 concurrent requests
    /// per app and mailbox; every request costs 1. We use 95% of the rate and a burst of 4% of
    /// the budget, so no 10-minute window sees more than 99% of it.
    pub fn graph(requests_per_10_minutes: u32) -> Self {
        let units = requests_per_10_minutes.max(1);
        Self {
            units,
            window: Duration::from_secs(600),
            concurrency: 4,
            margin: 0.95,
            burst: scaled(units, 0.04).max(20),
        }
    }

    /// Units we may spend at once, and the bucket's size.
    fn capacity(&self) -> f64 {
        f64::from(self.burst.max(1))
    }

    /// Refill per second.
    fn per_second(&self) -> f64 {
        (f64::from(self.units) * self.margin.clamp(0.01, 1.0)).max(1.0)
            / self.window.as_secs_f64().max(0.001)
    }
}

/// `units * share`, at least 1.
fn scaled(units: u32, share: f64) -> u32 {
    // At most `units`, a u32, and at least 1.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let v = (f64::from(units) * share).floor().max(1.0) as u32;
    v
}

struct Bucket {
    tokens: f64,
    at: Instant,
    /// No unit is handed out before this (set by a provider throttle).
    paused_until: Option<Instant>,
}

/// Cheap to clone; clones share the bucket and the slots.
#[derive(Clone)]
pub struct Limiter {
    profile: Profile,
    bucket: Arc<Mutex<Bucket>>,
    slots: Arc<Semaphore>,
}

/// A request slot, held while the request runs.
pub struct Permit {
    _slot: OwnedSemaphorePermit,
}

impl Limiter {
    /// A full bucket: a pass may spend its first window's budget at once.
    pub fn new(profile: Profile) -> Self {
        Self {
            profile,
            bucket: Arc::new(Mutex::new(Bucket {
                tokens: profile.capacity(),
                at: Instant::now(),
                paused_until: None,
            })),
            slots: Arc::new(Semaphore::new(profile.concurrency.max(1))),
        }
    }

    pub fn profile(&self) -> Profile {
        self.profile
    }

    /// Units we allow ourselves per window (the bucket's size): no single call should cost
    /// more.
    pub fn budget(&self) -> u32 {
        // capacity() is at most `units`, a u32, and at least 1.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let budget = self.profile.capacity().floor() as u32;
        budget
    }

    /// The share of the provider's quota that `units` spent over `elapsed` used: of one
    /// window's units when the pass was shorter than a window, else of what its windows allow.
    pub fn used_ratio(&self, units: u64, elapsed: Duration) -> f64 {
        let window = self.profile.window.as_secs_f64().max(0.001);
        let windows = (elapsed.as_secs_f64() / window).max(1.0);
        // Unit counts stay far below 2^52.
        #[allow(clippy::cast_precision_loss)]
        let units = units as f64;
        units / (f64::from(self.profile.units.max(1)) * windows)
    }

    /// Requests we keep in flight at most (a batch's parts each count).
    pub fn slots(&self) -> usize {
        self.profile.concurrency.max(1)
    }

    /// Wait for a request slot and `cost` units (a cost above the bucket's size waits for a
    /// full bucket), then take them.
    pub async fn acquire(&self, cost: u32) -> Permit {
        self.acquire_slots(cost, 1).await
    }

    /// [`Limiter::acquire`] for a request the provider counts as `slots` requests in flight
    /// (a Gmail batch of `slots` parts); more than [`Limiter::slots`] waits for all of them.
    pub async fn acquire_slots(&self, cost: u32, slots: usize) -> Permit {
        let n = u32::try_from(slots.clamp(1, self.slots())).unwrap_or(1);
        // The semaphore is never closed, so acquiring cannot fail; if it ever did, running
        // without a slot is safer than failing the pass.
        let slot = loop {
            if let Ok(p) = self.slots.clone().acquire_many_owned(n).await {
                break p;
            }
            tokio::task::yield_now().await;
        };
        let cost = f64::from(cost).min(self.profile.capacity());
        loop {
            let wait = {
                let mut b = self.bucket.lock();
                let now = Instant::now();
                self.refill(&mut b, now);
                match b.paused_until {
                    Some(until) if until > now => until - now,
                    _ if b.tokens >= cost => {
                        b.tokens -= cost;
                        return Permit { _slot: slot };
                    }
                    _ => Duration::from_secs_f64(
                        ((cost - b.tokens) / self.profile.per_second()).max(0.001),
                    ),
                }
            };
            tokio::time::sleep(wait).await;
        }
    }

    /// The provider refused a request for quota: empty the bucket and hand out nothing for
    /// `retry_after` (or one second when it gave none).
    pub fn throttled(&self, retry_after: Option<Duration>) {
        let mut b = self.bucket.lock();
        let now = Instant::now();
        self.refill(&mut b, now);
        b.tokens = 0.0;
        let until = now + retry_after.unwrap_or(Duration::from_secs(1));
        b.paused_until = Some(b.paused_until.map_or(until, |p| p.max(until)));
    }

    fn refill(&self, b: &mut Bucket, now: Instant) {
        // A paused bucket does not fill: the pause stands for the provider's empty bucket.
        let from = match b.paused_until {
            Some(until) if until > now => {
                b.at = now;
                return;
            }
            Some(until) => {
                b.paused_until = None;
                until.max(b.at)
            }
            None => b.at,
        };
        let elapsed = now.saturating_duration_since(from).as_secs_f64();
        b.tokens = (b.tokens + elapsed * self.profile.per_second()).min(self.profile.capacity());
        b.at = now;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> Profile {
        Profile {
            units: 600,
            window: Duration::from_secs(60),
            concurrency: 2,
            margin: 1.0,
            burst: 600,
        }
    }

    #[tokio::test(start_paused = true)]
    async fn the_first_window_is_spent_at_once_then_units_refill_at_the_rate() {
        let l = Limiter::new(small());
        let start = Instant::now();
        for _ in 0..60 {
            drop(l.acquire(10).await);
        }
        assert!(start.elapsed() < Duration::from_millis(10));
        // 10 units per second refill: the next 100 units take 10 seconds.
        for _ in 0..10 {
            drop(l.acquire(10).await);
        }
        let took = start.elapsed();
        assert!(
            took >= Duration::from_secs(10) && took < Duration::from_millis(10_100),
            "{took:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn sustained_use_stays_under_the_budget_and_near_it() {
        let mut p = Profile::gmail(6_000);
        p.concurrency = 4;
        let l = Limiter::new(p);
        let start = Instant::now();
        let mut spent = 0u64;
        // Spend for three minutes of (virtual) time in batches of 50 gets.
        while start.elapsed() < Duration::from_secs(180) {
            drop(l.acquire(250).await);
            spent += 250;
        }
        let minutes = start.elapsed().as_secs_f64() / 60.0;
        // A full bucket at start plus the refill: never more than the quota allows.
        let allowed = 6_000.0 + 6_000.0 * minutes;
        #[allow(clippy::cast_precision_loss)]
        let spent = spent as f64;
        assert!(spent <= allowed, "{spent} > {allowed}");
        assert!(spent >= 0.9 * allowed, "{spent} < 90% of {allowed}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_throttle_pauses_every_caller_and_empties_the_bucket() {
        let l = Limiter::new(small());
        l.throttled(Some(Duration::from_secs(5)));
        let start = Instant::now();
        drop(l.acquire(1).await);
        let took = start.elapsed();
        assert!(took >= Duration::from_secs(5), "{took:?}");
        assert!(took < Duration::from_millis(5_200), "{took:?}");
        // The bucket refills from empty after the pause: 50 units take 5 more seconds.
        let start = Instant::now();
        drop(l.acquire(50).await);
        assert!(start.elapsed() >= Duration::from_millis(4_800));
    }

    #[tokio::test(start_paused = true)]
    async fn concurrency_is_capped() {
        let l = Limiter::new(small());
        let a = l.acquire(1).await;
        let _b = l.acquire(1).await;
        let waiting = tokio::time::timeout(Duration::from_secs(1), l.acquire(1)).await;
        assert!(waiting.is_err(), "a third request waits for a slot");
        drop(a);
        let third = tokio::time::timeout(Duration::from_secs(1), l.acquire(1)).await;
        assert!(third.is_ok());
    }

    #[tokio::test(start_paused = true)]
    async fn a_cost_above_the_bucket_waits_for_a_full_bucket_instead_of_forever() {
        let l = Limiter::new(small());
        drop(l.acquire(600).await);
        let start = Instant::now();
        drop(l.acquire(10_000).await);
        let took = start.elapsed();
        assert!(took >= Duration::from_secs(59) && took <= Duration::from_secs(61));
    }

    #[tokio::test(start_paused = true)]
    async fn no_ten_minute_window_of_graph_sees_more_than_its_budget() {
        let l = Limiter::new(Profile::graph(10_000));
        let start = Instant::now();
        let mut spent = 0u64;
        while start.elapsed() < Duration::from_secs(600) {
            drop(l.acquire(1).await);
            spent += 1;
        }
        // The first 10 minutes: the burst plus 95% of the rate, under 10,000, near it.
        assert!(spent <= 10_000, "{spent}");
        assert!(spent >= 9_500, "{spent}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_batch_takes_one_slot_per_part() {
        let l = Limiter::new(Profile::gmail(6_000));
        let batch = l.acquire_slots(20, 4).await;
        let _more = l.acquire_slots(20, 4).await;
        let waiting = tokio::time::timeout(Duration::from_secs(1), l.acquire(5)).await;
        assert!(waiting.is_err(), "8 parts in flight fill Gmail's 8 slots");
        drop(batch);
        let next = tokio::time::timeout(Duration::from_secs(1), l.acquire_slots(20, 4)).await;
        assert!(next.is_ok());
    }

    #[test]
    fn graph_profile_is_four_concurrent_and_ten_thousand_per_ten_minutes() {
        let g = Profile::graph(10_000);
        assert_eq!(
            (g.units, g.window, g.concurrency),
            (10_000, Duration::from_secs(600), 4)
        );
    }
}
