//! One pass's provider session: the current access token (refreshed once after a 401), the
//! retry policy (Retry-After on throttles, exponential backoff with jitter on transient
//! failures), run counters, and bounded-concurrency raw fetches.
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use rand::Rng as _;
use tokio::task::JoinSet;

use super::{SyncError, SyncOptions};
use crate::db::emails::Owner;
use crate::db::sync_state::RunCounts;
use crate::mailboxes::{credentials, MailDeps};
use crate::providers::gmail::{self, GmailClient};
use crate::providers::graph::GraphClient;
use crate::providers::message::NormalizedMessage;
use crate::providers::{ProviderError, Secret};

/// A message deliberately not stored: recorded in the sync ledger.
#[derive(Debug, Clone)]
pub struct Skip {
    pub id: String,
    pub reason: &'static str,
    pub detail: String,
}

#[derive(Default)]
struct Counters {
    listed: AtomicU64,
    fetched: AtomicU64,
    stored: AtomicU64,
    updated: AtomicU64,
    skipped: AtomicU64,
    deleted: AtomicU64,
    throttled: AtomicU64,
    requests: AtomicU64,
}

/// Cheap to clone: fetch tasks share one session.
#[derive(Clone)]
pub struct Session(Arc<Inner>);

struct Inner {
    deps: MailDeps,
    owner: Owner,
    options: SyncOptions,
    gmail: GmailClient,
    graph: GraphClient,
    token: Mutex<Option<Secret>>,
    counters: Counters,
}

impl Session {
    pub fn new(deps: MailDeps, owner: Owner, options: SyncOptions) -> Self {
        let gmail = GmailClient::new(&deps.providers);
        let graph = GraphClient::new(&deps.providers);
        Self(Arc::new(Inner {
            deps,
            owner,
            options,
            gmail,
            graph,
            token: Mutex::new(None),
            counters: Counters::default(),
        }))
    }

    pub fn deps(&self) -> &MailDeps {
        &self.0.deps
    }

    pub fn owner(&self) -> Owner {
        self.0.owner
    }

    pub fn options(&self) -> &SyncOptions {
        &self.0.options
    }

    pub fn gmail(&self) -> &GmailClient {
        &self.0.gmail
    }

    pub fn graph(&self) -> &GraphClient {
        &self.0.graph
    }

    pub fn counts(&self) -> RunCounts {
        let c = &self.0.counters;
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        RunCounts {
            listed: get(&c.listed),
            fetched: get(&c.fetched),
            stored: get(&c.stored),
            updated: get(&c.updated),
            skipped: get(&c.skipped),
            deleted: get(&c.deleted),
            throttled: get(&c.throttled),
            requests: get(&c.requests),
        }
    }

    /// Add to the counters after a committed page.
    pub fn add(&self, delta: &RunCounts) {
        let c = &self.0.counters;
        let add = |a: &AtomicU64, n: u64| a.fetch_add(n, Ordering::Relaxed);
        add(&c.listed, delta.listed);
        add(&c.fetched, delta.fetched);
        add(&c.stored, delta.stored);
        add(&c.updated, delta.updated);
        add(&c.skipped, delta.skipped);
        add(&c.deleted, delta.deleted);
    }

    async fn token(&self) -> Result<Secret, SyncError> {
        if let Some(t) = self.0.token.lock().clone() {
            return Ok(t);
        }
        let t = credentials::access_token(&self.0.deps, self.0.owner.account_id).await?;
        *self.0.token.lock() = Some(t.clone());
        Ok(t)
    }

    /// Run one provider call under the retry policy. A throttle is a wait, never a failure,
    /// until it repeats `throttle_tries` times; transient failures back off exponentially.
    pub async fn call<T, F, Fut>(&self, op: F) -> Result<T, SyncError>
    where
        F: Fn(Secret) -> Fut,
        Fut: Future<Output = Result<T, ProviderError>>,
    {
        let opts = &self.0.options;
        let (mut refreshed, mut throttles, mut failures) = (false, 0u32, 0u32);
        loop {
            let token = self.token().await?;
            self.0.counters.requests.fetch_add(1, Ordering::Relaxed);
            match op(token.clone()).await {
                Ok(v) => return Ok(v),
                Err(ProviderError::Unauthorized) if !refreshed => {
                    refreshed = true;
                    let fresh = credentials::refresh_after_401(
                        &self.0.deps,
                        self.0.owner.account_id,
                        &token,
                    )
                    .await?;
                    *self.0.token.lock() = Some(fresh);
                }
                Err(ProviderError::RateLimited { retry_after })
                    if throttles < opts.throttle_tries =>
                {
                    throttles += 1;
                    self.0.counters.throttled.fetch_add(1, Ordering::Relaxed);
                    let wait = retry_after
                        .unwrap_or_else(|| backoff(opts.backoff_base, throttles))
                        .min(opts.max_retry_after);
                    tracing::debug!(?wait, "throttled by the provider; waiting");
                    tokio::time::sleep(wait).await;
                }
                Err(ProviderError::Transient(detail)) if failures + 1 < opts.transient_tries => {
                    failures += 1;
                    let wait = backoff(opts.backoff_base, failures);
                    tracing::debug!(?wait, %detail, "transient provider failure; backing off");
                    tokio::time::sleep(wait).await;
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Fetch and normalize `ids` (at most `concurrency` at a time). Messages gone meanwhile or
    /// refused as malformed come back as skips; any other failure fails the whole batch.
    pub async fn fetch_all(
        &self,
        ids: Vec<String>,
    ) -> Result<(Vec<NormalizedMessage>, Vec<Skip>), SyncError> {
        let mut messages = Vec::with_capacity(ids.len());
        let mut skips = Vec::new();
        let mut pending = ids.into_iter();
        let mut tasks = JoinSet::new();
        let limit = self.0.options.concurrency.max(1);
        loop {
            while tasks.len() < limit {
                let Some(id) = pending.next() else { break };
                let session = self.clone();
                tasks.spawn(async move { session.fetch_one(id).await });
            }
            let Some(joined) = tasks.join_next().await else {
                break;
            };
            match joined.map_err(|e| SyncError::Internal(e.to_string()))? {
                Ok(Ok(m)) => messages.push(m),
                Ok(Err(skip)) => skips.push(skip),
                Err(e) => {
                    tasks.abort_all();
                    return Err(e);
                }
            }
        }
        Ok((messages, skips))
    }

    async fn fetch_one(&self, id: String) -> Result<Result<NormalizedMessage, Skip>, SyncError> {
        let gmail = self.0.gmail.clone();
        let got = self
            .call(|token| {
                let gmail = gmail.clone();
                let id = id.clone();
                async move { gmail.raw(&token, &id).await }
            })
            .await;
        let skip = |reason, detail: String| {
            Ok(Err(Skip {
                id: id.clone(),
                reason,
                detail,
            }))
        };
        match got {
            Ok(Some(raw)) => {
                self.0.counters.fetched.fetch_add(1, Ordering::Relaxed);
                Ok(Ok(gmail::normalize(raw, &self.0.options.limits)))
            }
            Ok(None) => skip(
                "gone",
                "deleted in the provider before it was fetched".into(),
            ),
            Err(SyncError::Provider(ProviderError::Permanent(detail))) => {
                skip("provider_error", detail)
            }
            Err(e) => Err(e),
        }
    }
}

/// `base * 2^(n-1)`, capped at a minute, plus up to 50% jitter.
fn backoff(base: Duration, n: u32) -> Duration {
    let exp = base.saturating_mul(1u32 << n.saturating_sub(1).min(16));
    let exp = exp.min(Duration::from_secs(60));
    let jitter = rand::thread_rng().gen_range(0.0..0.5);
    exp + exp.mul_f64(jitter)
}

#[cfg(test)]
mod tests {
    use super::backoff;
    use std::time::Duration;

    #[test]
    fn backoff_grows_and_stays_bounded() {
        let base = Duration::from_millis(100);
        for n in 1..20 {
            let d = backoff(base, n);
            let floor = base
                .saturating_mul(1 << (n - 1).min(16))
                .min(Duration::from_secs(60));
            assert!(d >= floor && d <= floor.mul_f64(1.5), "{n}: {d:?}");
        }
    }
}
