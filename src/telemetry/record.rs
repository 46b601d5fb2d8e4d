//! Recording helpers: the only place that names labels, so every series stays of low
//! cardinality (no per-message or per-user labels; a mailbox label only on the quota
//! histogram, and only when the operator turns it on with `THREADLINE_METRICS_MAILBOX_LABELS`).
//! Without an installed recorder (metrics not served) every call is a no-op.
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use metrics::{counter, gauge, histogram};

use super::exporter as names;
use crate::db::sync_runs::RunCounts;
use crate::domain::provider::Provider;
use crate::domain::sync_run::RunKind;

/// Outcomes of a sync pass: it got through, it failed, or another holder took the mailbox
/// over (its lease ran out).
pub const OUTCOMES: [&str; 3] = ["ok", "failed", "interrupted"];

/// The reasons sync records in the ledger (`sync::session::Skip`, exclusion rules), whose
/// series start at zero.
pub const LEDGER_REASONS: [&str; 3] = ["gone", "provider_error", "excluded"];

static MAILBOX_LABELS: AtomicBool = AtomicBool::new(false);

/// `THREADLINE_METRICS_MAILBOX_LABELS`: label the quota histogram with the mailbox's id.
pub fn set_mailbox_labels(on: bool) {
    MAILBOX_LABELS.store(on, Ordering::Relaxed);
}

/// The method as a label: the standard ones by name, anything else as `other`.
fn method_label(method: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    [
        Method::GET,
        Method::HEAD,
        Method::POST,
        Method::PUT,
        Method::PATCH,
        Method::DELETE,
        Method::OPTIONS,
    ]
    .iter()
    .find(|m| *m == method)
    .map_or("other", Method::as_str)
}

/// One answered HTTP request; `route` is the matched path template (`unmatched` when none).
pub fn http_request(method: &axum::http::Method, route: &str, status: u16, elapsed: Duration) {
    let method = method_label(method);
    let route = route.to_string();
    counter!(names::HTTP_REQUESTS, "method" => method, "route" => route.clone(),
        "status" => status.to_string())
    .increment(1);
    histogram!(names::HTTP_DURATION, "method" => method, "route" => route)
        .record(elapsed.as_secs_f64());
}

/// A finished sync pass.
pub fn sync_pass(provider: Provider, kind: RunKind, outcome: &'static str, elapsed: Duration) {
    let (p, k) = (provider.as_str(), kind.as_str());
    counter!(names::SYNC_PASSES, "provider" => p, "kind" => k, "outcome" => outcome).increment(1);
    histogram!(names::SYNC_PASS_DURATION, "provider" => p, "kind" => k)
        .record(elapsed.as_secs_f64());
}

/// What a committed page or chunk stored, updated and skipped.
pub fn sync_committed(provider: Provider, delta: &RunCounts) {
    let p = provider.as_str();
    for (result, n) in [
        ("stored", delta.stored),
        ("updated", delta.updated),
        ("skipped", delta.skipped),
    ] {
        if n > 0 {
            counter!(names::SYNC_MESSAGES, "provider" => p, "result" => result).increment(n);
        }
    }
}

/// `n` messages ledgered as not stored for `reason` (one of the ledger's fixed reasons).
pub fn sync_skipped(provider: Provider, reason: &'static str, n: u64) {
    if n > 0 {
        counter!(names::SYNC_SKIPPED, "provider" => provider.as_str(), "reason" => reason)
            .increment(n);
    }
}

/// Send one provider request and record it under `endpoint`, a fixed name such as
/// `messages.get` (never an id), with its status (`error` when no answer came) and its time to
/// the response headers.
pub async fn provider_request(
    provider: Provider,
    endpoint: &'static str,
    request: reqwest::RequestBuilder,
) -> Result<reqwest::Response, reqwest::Error> {
    let began = Instant::now();
    let result = request.send().await;
    let status = result.as_ref().ok().map(|res| res.status().as_u16());
    provider_answered(provider, endpoint, status, began.elapsed());
    result
}

/// A provider request sent by other means (the OAuth client): its status, None when no answer
/// came, and its time.
pub fn provider_answered(
    provider: Provider,
    endpoint: &'static str,
    status: Option<u16>,
    elapsed: Duration,
) {
    let status = status.map_or_else(|| "error".to_string(), |s| s.to_string());
    let p = provider.as_str();
    counter!(names::PROVIDER_REQUESTS, "provider" => p, "endpoint" => endpoint,
        "status" => status)
    .increment(1);
    histogram!(names::PROVIDER_DURATION, "provider" => p, "endpoint" => endpoint)
        .record(elapsed.as_secs_f64());
}

/// A throttle of `requests` requests (a batch's parts each count) that a pass waits out for
/// `wait` (the provider's Retry-After or a backoff step).
pub fn throttle(provider: Provider, requests: u64, wait: Duration) {
    let p = provider.as_str();
    counter!(names::PROVIDER_THROTTLES, "provider" => p).increment(requests);
    // Whole seconds: a counter; sub-second waits round up so none counts as free.
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    counter!(names::PROVIDER_RETRY_AFTER, "provider" => p).increment(secs);
}

/// The share of its quota a mailbox's pass used, at the pass's end.
pub fn quota_used(provider: Provider, mailbox: i64, ratio: f64) {
    let p = provider.as_str();
    if MAILBOX_LABELS.load(Ordering::Relaxed) {
        histogram!(names::QUOTA_USED, "provider" => p, "mailbox" => mailbox.to_string())
            .record(ratio);
    } else {
        histogram!(names::QUOTA_USED, "provider" => p).record(ratio);
    }
}

/// From a push notification's receipt to the end of the pass it woke.
pub fn push_to_stored(provider: Provider, elapsed: Duration) {
    histogram!(names::PUSH_TO_STORED, "provider" => provider.as_str())
        .record(elapsed.as_secs_f64());
}

/// A sync worker claimed a mailbox whose previous holder's lease had run out mid-pass.
pub fn lease_takeover() {
    counter!(names::LEASE_TAKEOVERS).increment(1);
}

/// Counts one lease in `threadline_sync_leases_held` while it lives.
pub struct LeaseHeld(());

impl LeaseHeld {
    pub fn new() -> Self {
        gauge!(names::LEASES_HELD).increment(1.0);
        Self(())
    }
}

impl Default for LeaseHeld {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for LeaseHeld {
    fn drop(&mut self) {
        gauge!(names::LEASES_HELD).decrement(1.0);
    }
}

#[cfg(test)]
mod tests {
    use super::method_label;

    #[test]
    fn unknown_methods_share_one_label() {
        assert_eq!(method_label(&axum::http::Method::GET), "GET");
        assert_eq!(method_label(&axum::http::Method::DELETE), "DELETE");
        let odd = axum::http::Method::from_bytes(b"PROPFIND").unwrap();
        assert_eq!(method_label(&odd), "other");
    }
}
