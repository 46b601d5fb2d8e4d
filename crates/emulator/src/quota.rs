//! Per-mailbox quota: a token bucket of units per minute (Gmail's per-user quota; the Microsoft
//! side may use it with its own cost table) and a cap on concurrent requests per mailbox.
//! `Quota::Off` disables both.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use parking_lot::Mutex;

use super::Quota;

/// Refused by the quota.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Throttle {
    /// Units per minute exhausted; retry after this many seconds.
    Rate { retry_after: u64 },
    /// Too many requests in flight for this mailbox.
    Concurrency,
}

struct Bucket {
    units: f64,
    at: Instant,
}

/// Holds a concurrency slot until dropped.
pub struct Permit {
    slot: Option<Arc<AtomicUsize>>,
}

impl Drop for Permit {
    fn drop(&mut self) {
        if let Some(slot) = &self.slot {
            slot.fetch_sub(1, Ordering::AcqRel);
        }
    }
}

pub struct QuotaTracker {
    mode: Quota,
    buckets: Mutex<HashMap<(String, &'static str), Bucket>>,
    in_flight: Mutex<HashMap<String, Arc<AtomicUsize>>>,
}

impl QuotaTracker {
    pub fn new(mode: Quota) -> Self {
        Self {
            mode,
            buckets: Mutex::new(HashMap::new()),
            in_flight: Mutex::new(HashMap::new()),
        }
    }

    pub fn enabled(&self) -> bool {
        self.mode == Quota::Realistic
    }

    /// Take a concurrency slot (`cap` per mailbox and `pool`) or refuse.
    pub fn enter(&self, mailbox: &str, cap: usize) -> Result<Permit, Throttle> {
        if !self.enabled() {
            return Ok(Permit { slot: None });
        }
        let slot = self
            .in_flight
            .lock()
            .entry(mailbox.to_string())
            .or_default()
            .clone();
        if slot.fetch_add(1, Ordering::AcqRel) >= cap {
            slot.fetch_sub(1, Ordering::AcqRel);
            return Err(Throttle::Concurrency);
        }
        Ok(Permit { slot: Some(slot) })
    }

    /// Charge `units` against `per_minute` for this mailbox in quota `pool` (e.g. "gmail").
    pub fn charge(
        &self,
        mailbox: &str,
        pool: &'static str,
        units: u32,
        per_minute: u32,
    ) -> Result<(), Throttle> {
        if !self.enabled() || per_minute == 0 {
            return Ok(());
        }
        let capacity = f64::from(per_minute);
        let rate = capacity / 60.0;
        let now = Instant::now();
        let mut buckets = self.buckets.lock();
        let bucket = buckets
            .entry((mailbox.to_string(), pool))
            .or_insert(Bucket {
                units: capacity,
                at: now,
            });
        let elapsed = now.duration_since(bucket.at).as_secs_f64();
        bucket.units = (bucket.units + elapsed * rate).min(capacity);
        bucket.at = now;
        let cost = f64::from(units);
        if bucket.units < cost {
            let wait = ((cost - bucket.units) / rate).ceil().max(1.0);
            // The wait is bounded by one minute of refill, so it fits easily in u64.
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let retry_after = wait as u64;
            return Err(Throttle::Rate { retry_after });
        }
        bucket.units -= cost;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bucket_refuses_past_the_minute_budget_with_a_retry_after() {
        let q = QuotaTracker::new(Quota::Realistic);
        assert!(q.charge("a", "gmail", 60, 100).is_ok());
        assert!(q.charge("a", "gmail", 40, 100).is_ok());
        match q.charge("a", "gmail", 5, 100) {
            Err(Throttle::Rate { retry_after }) => assert!(retry_after >= 1),
            other => panic!("expected a rate throttle, got {other:?}"),
        }
        assert!(
            q.charge("b", "gmail", 5, 100).is_ok(),
            "buckets are per mailbox"
        );
    }

    #[test]
    fn concurrency_slots_are_released_on_drop() {
        let q = QuotaTracker::new(Quota::Realistic);
        let a = q.enter("m", 1);
        assert!(a.is_ok());
        assert!(q.enter("m", 1).is_err());
        drop(a);
        assert!(q.enter("m", 1).is_ok());
    }

    #[test]
    fn off_never_refuses() {
        let q = QuotaTracker::new(Quota::Off);
        assert!(q.charge("a", "gmail", 1_000_000, 1).is_ok());
    }
}
