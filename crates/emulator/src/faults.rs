//! Injected faults (`POST /_emulator/faults`): per mailbox and/or route, a status with optional
//! Retry-After, applied to a fraction of requests (`rate`) or to the next `count` requests,
//! with optional added latency. Both providers' handlers consult it through `gate`.

use std::time::Duration;

use parking_lot::Mutex;
use rand::Rng as _;
use serde::{Deserialize, Serialize};

/// One fault rule as posted to the control plane.
///
/// `route` matches when it is a substring of the request path (e.g. `/messages/`,
/// `/history`, `/token`) or equals the route template (e.g.
/// `/gmail/v1/users/{userId}/messages/{id}`). Without `rate` and `count` the rule hits every
/// matching request until cleared.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct FaultRule {
    #[serde(default)]
    pub mailbox: Option<String>,
    #[serde(default)]
    pub route: Option<String>,
    pub status: u16,
    #[serde(default)]
    pub retry_after: Option<u64>,
    #[serde(default)]
    pub rate: Option<f64>,
    #[serde(default)]
    pub count: Option<u32>,
    #[serde(default)]
    pub latency_ms: Option<u64>,
    /// Cut the connection after the headers and part of the body instead of answering (Graph
    /// routes; Gmail routes answer with `status`; inside a Graph `$batch` the sub-request gets
    /// a 504).
    #[serde(default)]
    pub drop: bool,
}

impl FaultRule {
    /// A rule answering `status` to every request until cleared (set the other fields to narrow
    /// it).
    pub fn status(status: u16) -> Self {
        Self {
            status,
            ..Self::default()
        }
    }
}

/// A fault to render instead of the real response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FaultHit {
    pub status: u16,
    pub retry_after: Option<u64>,
    pub drop: bool,
}

#[derive(Default)]
pub struct Faults {
    rules: Mutex<Vec<FaultRule>>,
}

impl Faults {
    /// Validate and add a rule.
    pub fn add(&self, rule: FaultRule) -> Result<(), String> {
        if ![429, 500, 502, 503, 504].contains(&rule.status) {
            return Err("status must be 429, 500, 502, 503 or 504".into());
        }
        if rule.rate.is_some_and(|r| !(0.0..=1.0).contains(&r)) {
            return Err("rate must be between 0 and 1".into());
        }
        if rule.rate.is_some() && rule.count.is_some() {
            return Err("give rate or count, not both".into());
        }
        self.rules.lock().push(rule);
        Ok(())
    }

    pub fn clear(&self) {
        self.rules.lock().clear();
    }

    pub fn list(&self) -> Vec<FaultRule> {
        self.rules.lock().clone()
    }

    /// Decide whether this request fails; returns the latency to add and the hit.
    pub fn check(
        &self,
        path: &str,
        template: &str,
        mailbox: Option<&str>,
    ) -> (Duration, Option<FaultHit>) {
        let mut rules = self.rules.lock();
        if rules.is_empty() {
            return (Duration::ZERO, None);
        }
        let mut latency = Duration::ZERO;
        let mut hit = None;
        for rule in rules.iter_mut() {
            let mailbox_ok = rule
                .mailbox
                .as_deref()
                .is_none_or(|m| mailbox.is_some_and(|actual| actual.eq_ignore_ascii_case(m)));
            let route_ok = rule
                .route
                .as_deref()
                .is_none_or(|r| r == template || path.contains(r));
            if !mailbox_ok || !route_ok {
                continue;
            }
            latency = latency.max(Duration::from_millis(rule.latency_ms.unwrap_or(0)));
            if hit.is_some() {
                continue;
            }
            let fires = match (rule.rate, rule.count.as_mut()) {
                (Some(rate), _) => rand::thread_rng().gen_bool(rate),
                (None, Some(count)) if *count > 0 => {
                    *count -= 1;
                    true
                }
                (None, Some(_)) => false,
                (None, None) => true,
            };
            if fires {
                hit = Some(FaultHit {
                    status: rule.status,
                    retry_after: rule.retry_after,
                    drop: rule.drop,
                });
            }
        }
        rules.retain(|r| r.count != Some(0));
        (latency, hit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(count: Option<u32>) -> FaultRule {
        FaultRule {
            mailbox: Some("a@x.test".into()),
            route: Some("/messages".into()),
            status: 503,
            retry_after: Some(2),
            rate: None,
            count,
            latency_ms: None,
            drop: false,
        }
    }

    #[test]
    fn count_limited_faults_fire_that_many_times_for_the_matching_mailbox_only() {
        let faults = Faults::default();
        assert!(faults.add(rule(Some(2))).is_ok());
        assert!(faults
            .check("/gmail/v1/users/me/messages", "", Some("b@x.test"))
            .1
            .is_none());
        assert!(faults
            .check("/gmail/v1/users/me/profile", "", Some("a@x.test"))
            .1
            .is_none());
        for _ in 0..2 {
            let hit = faults
                .check("/gmail/v1/users/me/messages", "", Some("a@x.test"))
                .1;
            assert_eq!(
                hit,
                Some(FaultHit {
                    status: 503,
                    retry_after: Some(2),
                    drop: false,
                })
            );
        }
        assert!(faults
            .check("/gmail/v1/users/me/messages", "", Some("a@x.test"))
            .1
            .is_none());
    }

    #[test]
    fn bad_rules_are_refused() {
        let faults = Faults::default();
        let mut bad = rule(None);
        bad.status = 404;
        assert!(faults.add(bad).is_err());
    }
}
