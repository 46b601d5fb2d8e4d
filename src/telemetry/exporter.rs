//! The process's Prometheus recorder (`metrics` facade, `metrics-exporter-prometheus`):
//! installed once per process (several apps in one test process share it), with the name,
//! help text and buckets of every metric Threadline exports. Recording goes through
//! [`super::record`]; rendering is [`render`].
use std::sync::OnceLock;

use metrics::{describe_counter, describe_gauge, describe_histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::domain::provider::Provider;
use crate::domain::sync_run::RunKind;

pub const HTTP_REQUESTS: &str = "threadline_http_requests_total";
pub const HTTP_DURATION: &str = "threadline_http_request_duration_seconds";
pub const SYNC_PASSES: &str = "threadline_sync_passes_total";
pub const SYNC_PASS_DURATION: &str = "threadline_sync_pass_duration_seconds";
pub const SYNC_MESSAGES: &str = "threadline_sync_messages_total";
pub const SYNC_SKIPPED: &str = "threadline_sync_skipped_total";
pub const PROVIDER_REQUESTS: &str = "threadline_provider_requests_total";
pub const PROVIDER_DURATION: &str = "threadline_provider_request_duration_seconds";
pub const PROVIDER_THROTTLES: &str = "threadline_provider_throttles_total";
pub const PROVIDER_RETRY_AFTER: &str = "threadline_provider_retry_after_seconds_total";
pub const QUOTA_USED: &str = "threadline_mailbox_quota_used_ratio";
pub const SYNC_LAG: &str = "threadline_sync_lag_seconds";
pub const MAILBOXES: &str = "threadline_mailboxes";
pub const PUSH_TO_STORED: &str = "threadline_push_notification_to_stored_seconds";
pub const LEASES_HELD: &str = "threadline_sync_leases_held";
pub const LEASE_TAKEOVERS: &str = "threadline_sync_lease_takeovers_total";
pub const JOBS_DUE: &str = "threadline_jobs_due";
pub const DB_POOL: &str = "threadline_db_pool_connections";
pub const RECONCILIATION: &str = "threadline_reconciliation_mailboxes";

/// Every metric name above, for tests and the dashboard check.
pub const ALL: [&str; 19] = [
    HTTP_REQUESTS,
    HTTP_DURATION,
    SYNC_PASSES,
    SYNC_PASS_DURATION,
    SYNC_MESSAGES,
    SYNC_SKIPPED,
    PROVIDER_REQUESTS,
    PROVIDER_DURATION,
    PROVIDER_THROTTLES,
    PROVIDER_RETRY_AFTER,
    QUOTA_USED,
    SYNC_LAG,
    MAILBOXES,
    PUSH_TO_STORED,
    LEASES_HELD,
    LEASE_TAKEOVERS,
    JOBS_DUE,
    DB_POOL,
    RECONCILIATION,
];

/// Seconds: from a fast page to a slow provider call or a long sync slice.
const SECONDS: [f64; 14] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0,
];
/// Sync passes run for up to a slice (default 20 s) and first passes for minutes.
const PASS_SECONDS: [f64; 12] = [
    0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 300.0, 900.0,
];
/// Push: a notification's pass is due at once; polling is the safety net after minutes.
const PUSH_SECONDS: [f64; 11] = [
    0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 900.0,
];
const RATIO: [f64; 10] = [0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 1.0];

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// The process's recorder, installed on first use. When another recorder was installed first
/// (nothing in Threadline does that), the handle renders an empty page and a warning is logged.
pub fn install() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let recorder = builder().build_recorder();
        let handle = recorder.handle();
        if let Err(e) = metrics::set_global_recorder(recorder) {
            tracing::warn!(error = %e, "another metrics recorder is installed; /metrics stays empty");
        }
        describe();
        zeroes();
        handle
    })
}

/// The current figures in Prometheus text format (recorder installed on first use).
pub fn render() -> String {
    install().render()
}

fn builder() -> PrometheusBuilder {
    let buckets = [
        (Matcher::Suffix("_seconds".into()), &SECONDS[..]),
        (Matcher::Full(SYNC_PASS_DURATION.into()), &PASS_SECONDS[..]),
        (Matcher::Full(PUSH_TO_STORED.into()), &PUSH_SECONDS[..]),
        (Matcher::Full(QUOTA_USED.into()), &RATIO[..]),
    ];
    buckets
        .into_iter()
        .fold(PrometheusBuilder::new(), |b, (matcher, values)| {
            // Bucket lists are constants and never empty.
            b.set_buckets_for_metric(matcher, values)
                .expect("non-empty buckets")
        })
}

fn describe() {
    describe_counter!(
        HTTP_REQUESTS,
        "HTTP requests answered, by method, matched route template and status"
    );
    describe_histogram!(
        HTTP_DURATION,
        "Time to the response's headers, by method and matched route template"
    );
    describe_counter!(
        SYNC_PASSES,
        "Sync passes finished, by provider, kind (initial|incremental|resync) and outcome \
         (ok|failed|interrupted)"
    );
    describe_histogram!(
        SYNC_PASS_DURATION,
        "Sync pass duration, by provider and kind"
    );
    describe_counter!(
        SYNC_MESSAGES,
        "Messages committed by sync, by provider and result (stored|updated|skipped)"
    );
    describe_counter!(
        SYNC_SKIPPED,
        "Messages recorded in the sync ledger as not stored, by provider and ledger reason"
    );
    describe_counter!(
        PROVIDER_REQUESTS,
        "Requests to the provider APIs, by provider, endpoint name and HTTP status (error: no \
         answer)"
    );
    describe_histogram!(
        PROVIDER_DURATION,
        "Time to the provider's response headers, by provider and endpoint name"
    );
    describe_counter!(
        PROVIDER_THROTTLES,
        "Throttles (429/503) a sync pass waited out"
    );
    describe_counter!(
        PROVIDER_RETRY_AFTER,
        "Seconds sync waited because of throttles (Retry-After, or backoff without one)"
    );
    describe_histogram!(
        QUOTA_USED,
        "Share of the provider's per-mailbox quota a pass used, at the pass's end"
    );
    describe_gauge!(
        SYNC_LAG,
        "Largest time since an active mailbox's last successful pass (its link when it has \
         none yet)"
    );
    describe_gauge!(MAILBOXES, "Mailboxes by provider and sync status");
    describe_histogram!(
        PUSH_TO_STORED,
        "From a push notification's receipt to the end of the pass it woke"
    );
    describe_gauge!(LEASES_HELD, "Mailbox sync leases this instance holds");
    describe_counter!(
        LEASE_TAKEOVERS,
        "Mailboxes taken over from a holder whose lease expired mid-pass"
    );
    describe_gauge!(JOBS_DUE, "Background jobs due now and not running, by kind");
    describe_gauge!(
        DB_POOL,
        "Database connections of this instance's pools, by state (in_use|idle)"
    );
    describe_gauge!(
        RECONCILIATION,
        "Syncing mailboxes by reconciliation status against the provider's own counts \
         (matches|differs|unknown)"
    );
}

/// Series of bounded label sets start at zero, so rates and alerts see them before the first
/// event (a takeover, a throttle, a failed pass).
fn zeroes() {
    metrics::counter!(LEASE_TAKEOVERS).absolute(0);
    metrics::gauge!(LEASES_HELD).increment(0.0);
    for provider in [Provider::Google, Provider::Microsoft] {
        let p = provider.as_str();
        metrics::counter!(PROVIDER_THROTTLES, "provider" => p).absolute(0);
        metrics::counter!(PROVIDER_RETRY_AFTER, "provider" => p).absolute(0);
        let _ = metrics::histogram!(PUSH_TO_STORED, "provider" => p);
        for reason in super::record::LEDGER_REASONS {
            metrics::counter!(SYNC_SKIPPED, "provider" => p, "reason" => reason).absolute(0);
        }
        for kind in [RunKind::Initial, RunKind::Incremental, RunKind::Resync] {
            for outcome in super::record::OUTCOMES {
                metrics::counter!(SYNC_PASSES, "provider" => p, "kind" => kind.as_str(),
                    "outcome" => outcome)
                .absolute(0);
            }
        }
    }
}
