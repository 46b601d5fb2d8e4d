//! One pass's provider session: the current access token (refreshed once after a 401), the
//! per-mailbox [`Limiter`] every call goes through, the retry policy (a throttle pauses the
//! limiter for Retry-After; transient failures back off exponentially with jitter) and run
//! counters. Message fetches (Gmail batches) are in `fetch`.
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use rand::Rng as _;

use super::limiter::{Limiter, Profile};
use super::org_access::{self, Access};
use super::reconcile::ProviderTotal;
use super::{SyncError, SyncOptions};
use crate::db::directory::cache::PassDirectory;
use crate::db::emails::Owner;
use crate::db::sync_runs::RunCounts;
use crate::mailboxes::{credentials, MailDeps};
use crate::providers::gmail::GmailClient;
use crate::providers::graph::GraphClient;
use crate::providers::{Provider, ProviderError, Secret};
use crate::telemetry::record;

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
    units: AtomicU64,
    commits: AtomicU64,
}

/// Cheap to clone: fetch tasks share one session.
#[derive(Clone)]
pub struct Session(Arc<Inner>);

struct Inner {
    deps: MailDeps,
    owner: Owner,
    /// The mailbox's provider: the label of the pass's metrics.
    provider: Provider,
    /// Whose authority the pass acts with: the owner's grant, or an organization connection's.
    access: Access,
    options: SyncOptions,
    gmail: GmailClient,
    graph: GraphClient,
    token: Mutex<Option<Secret>>,
    limiter: Limiter,
    counters: Counters,
    /// The directory new mail is associated with, kept for the pass (checked per page).
    directory: tokio::sync::Mutex<PassDirectory>,
    started: Instant,
    /// The pass stopped at its time slice with more to do.
    more: AtomicBool,
    /// Messages this pass stored, and the count at which it next refreshes planner statistics.
    grown: AtomicU64,
    next_upkeep: AtomicU64,
    /// Provider counts of the synced folders read during the pass (Graph's folder look-ups).
    provider_totals: Mutex<Vec<ProviderTotal>>,
}

/// Messages a pass stores before it first refreshes planner statistics; each refresh doubles
/// the next step. A first sync makes a fresh table many times larger than its statistics say
/// (nothing else analyzes it while autovacuum is off or behind), and look-ups of the page's
/// ids then walk the whole mailbox through the wrong index: refreshing at 1,000, 2,000,
/// 4,000, ... stored messages keeps their plans right for a total cost linear in the mailbox.
const FIRST_UPKEEP: u64 = 1_000;

impl Session {
    /// A Gmail session for the owner's own mailbox: the limiter follows
    /// `options.gmail_units_per_minute`.
    pub fn new(deps: MailDeps, owner: Owner, options: SyncOptions) -> Self {
        let limiter = Limiter::new(Profile::gmail(options.gmail_units_per_minute));
        Self::with_limiter(deps, owner, Provider::Google, options, limiter)
    }

    /// A session for the owner's own mailbox under another provider's limits (e.g.
    /// [`Profile::graph`]).
    pub fn with_limiter(
        deps: MailDeps,
        owner: Owner,
        provider: Provider,
        options: SyncOptions,
        limiter: Limiter,
    ) -> Self {
        Self::with_access(deps, owner, provider, Access::Own, options, limiter)
    }

    /// A session acting with `access`: an organization mailbox's clients address the
    /// directory user's mailbox (`/users/{id}` on Graph, `users/{address}` on Gmail) and its
    /// tokens come from the connection.
    pub fn with_access(
        deps: MailDeps,
        owner: Owner,
        provider: Provider,
        access: Access,
        options: SyncOptions,
        limiter: Limiter,
    ) -> Self {
        let mut gmail = GmailClient::new(&deps.providers);
        let mut graph = GraphClient::new(&deps.providers);
        if let Access::Org(org) = &access {
            gmail = gmail.for_user(&org.address);
            graph = graph.for_user(&org.directory_id);
        }
        Self(Arc::new(Inner {
            deps,
            owner,
            provider,
            access,
            options,
            gmail,
            graph,
            token: Mutex::new(None),
            limiter,
            counters: Counters::default(),
            directory: tokio::sync::Mutex::new(PassDirectory::new(
                owner.organization_id,
                owner.account_id,
            )),
            started: Instant::now(),
            more: AtomicBool::new(false),
            grown: AtomicU64::new(0),
            next_upkeep: AtomicU64::new(FIRST_UPKEEP),
            provider_totals: Mutex::new(Vec::new()),
        }))
    }

    /// Keep the provider's folder counts the pass read, for reconciliation at its end.
    pub fn set_provider_totals(&self, totals: Vec<ProviderTotal>) {
        *self.0.provider_totals.lock() = totals;
    }

    pub fn provider_totals(&self) -> Vec<ProviderTotal> {
        self.0.provider_totals.lock().clone()
    }

    pub fn limiter(&self) -> &Limiter {
        &self.0.limiter
    }

    /// Quota units spent so far (requests that reached the provider, retries included).
    pub fn units(&self) -> u64 {
        self.0.counters.units.load(Ordering::Relaxed)
    }

    pub fn deps(&self) -> &MailDeps {
        &self.0.deps
    }

    /// Where the pass keeps attachment content.
    pub fn store(&self) -> crate::db::blobs::Store {
        crate::db::blobs::Store {
            storage: self.0.options.attachment_storage,
            dir: self.0.deps.blobs.clone(),
        }
    }

    pub fn owner(&self) -> Owner {
        self.0.owner
    }

    /// The pass's directory, for the page being stored (one page at a time).
    pub async fn directory(&self) -> tokio::sync::MutexGuard<'_, PassDirectory> {
        self.0.directory.lock().await
    }

    /// Before a page is committed, in its transaction: extend the pass's lease, or fail with
    /// [`SyncError::LeaseLost`] when another holder took the mailbox over (nothing more is
    /// written). A pass without a lease (`threadline sync`) always goes on.
    pub async fn hold_lease(&self, txn: &impl sea_orm::ConnectionTrait) -> Result<(), SyncError> {
        let Some(h) = &self.options().holder else {
            return Ok(());
        };
        let until = crate::db::now()
            + chrono::Duration::from_std(h.lease).unwrap_or(chrono::Duration::seconds(30));
        if crate::db::jobs::heartbeat(txn, h.job_id, &h.worker, until).await? {
            crate::db::sync_runs::heartbeat(txn, &h.worker).await?;
            Ok(())
        } else {
            Err(SyncError::LeaseLost)
        }
    }

    /// Asked right after a page is committed, where the pass could go on: has it used its time
    /// slice (`SyncOptions::slice`)? Then it stops there with more to do; the committed cursor
    /// lets the next pass resume, and the worker queues the mailbox behind the ones that have
    /// had less ([`crate::db::jobs::claim`]). Once the instance shuts down
    /// (`SyncOptions::stop`) the slice counts as spent: the pass ends here like a slice, its
    /// mailbox due again at once for any instance. Never true for a pass with neither.
    pub fn slice_spent(&self) -> bool {
        let options = self.options();
        let stopping = options
            .stop
            .as_ref()
            .is_some_and(tokio_util::sync::CancellationToken::is_cancelled);
        let spent = stopping
            || options
                .slice
                .is_some_and(|slice| self.0.started.elapsed() >= slice);
        if spent {
            self.0.more.store(true, Ordering::Relaxed);
        }
        spent
    }

    /// Time since the pass began (the timeline in debug logs).
    pub fn elapsed(&self) -> Duration {
        self.0.started.elapsed()
    }

    /// Whether the pass stopped at its slice with more to do.
    pub fn more(&self) -> bool {
        self.0.more.load(Ordering::Relaxed)
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

    /// Count messages fetched (before they are stored).
    pub fn add_fetched(&self, n: u64) {
        self.0.counters.fetched.fetch_add(n, Ordering::Relaxed);
    }

    /// Pages and chunks this pass has committed.
    pub fn commits(&self) -> u64 {
        self.0.counters.commits.load(Ordering::Relaxed)
    }

    /// Add to the counters after a committed page or chunk.
    /// After a committed page or chunk that stored `stored` new messages: refresh planner
    /// statistics once the pass has grown the mailbox past the next step (see
    /// [`FIRST_UPKEEP`]). A failed refresh is logged, never the pass's.
    pub async fn grew(&self, stored: u64) {
        let total = self.0.grown.fetch_add(stored, Ordering::Relaxed) + stored;
        let next = self.0.next_upkeep.load(Ordering::Relaxed);
        if stored > 0 && total >= next {
            self.0
                .next_upkeep
                .store(total.saturating_mul(2), Ordering::Relaxed);
            crate::db::maintenance::logged(&self.0.deps.db, "while a pass grows a mailbox").await;
        }
    }

    pub fn add(&self, delta: &RunCounts) {
        record::sync_committed(self.0.provider, delta);
        let c = &self.0.counters;
        c.commits.fetch_add(1, Ordering::Relaxed);
        let add = |a: &AtomicU64, n: u64| a.fetch_add(n, Ordering::Relaxed);
        add(&c.listed, delta.listed);
        add(&c.fetched, delta.fetched);
        add(&c.stored, delta.stored);
        add(&c.updated, delta.updated);
        add(&c.skipped, delta.skipped);
        add(&c.deleted, delta.deleted);
    }

    /// After a committed page: the messages it recorded in the ledger (`skips`), and the new
    /// ones an exclusion rule kept out (`excluded`), counted by reason in the metrics.
    pub fn ledgered(&self, skips: &[Skip], excluded: u64) {
        for skip in skips {
            record::sync_skipped(self.0.provider, skip.reason, 1);
        }
        record::sync_skipped(self.0.provider, crate::db::exclusions::EXCLUDED, excluded);
    }

    async fn token(&self) -> Result<Secret, SyncError> {
        if let Some(t) = self.0.token.lock().clone() {
            return Ok(t);
        }
        let t = match &self.0.access {
            Access::Own => credentials::access_token(&self.0.deps, self.0.owner.account_id).await?,
            Access::Org(org) => org_access::access_token(&self.0.deps, org).await?,
        };
        *self.0.token.lock() = Some(t.clone());
        Ok(t)
    }

    /// After the provider refused `stale` with 401: a fresh token for every later call (an
    /// organization mailbox's cached connection token is forgotten and asked for again).
    pub async fn refresh(&self, stale: &Secret) -> Result<Secret, SyncError> {
        let fresh = match &self.0.access {
            Access::Own => {
                credentials::refresh_after_401(&self.0.deps, self.0.owner.account_id, stale).await?
            }
            Access::Org(org) => org_access::refresh_after_401(&self.0.deps, org).await?,
        };
        *self.0.token.lock() = Some(fresh.clone());
        Ok(fresh)
    }

    /// Whose authority the pass acts with.
    pub fn access(&self) -> &Access {
        &self.0.access
    }

    /// A throttle: count it, and pause the limiter (so every task of the pass waits) for the
    /// provider's Retry-After or, without one, the `n`th backoff step.
    pub fn note_throttle(&self, retry_after: Option<Duration>, parts: u64, n: u32) {
        let opts = &self.0.options;
        self.0
            .counters
            .throttled
            .fetch_add(parts, Ordering::Relaxed);
        let wait = retry_after
            .unwrap_or_else(|| backoff(opts.backoff_base, n))
            .min(opts.max_retry_after);
        tracing::debug!(?wait, parts, "throttled by the provider; waiting");
        record::throttle(self.0.provider, parts, wait);
        self.0.limiter.throttled(Some(wait));
    }

    /// Run one provider call costing 1 unit under the limiter and the retry policy (Graph
    /// counts requests, so this is every Graph call).
    pub async fn call<T, F, Fut>(&self, op: F) -> Result<T, SyncError>
    where
        F: Fn(Secret) -> Fut,
        Fut: Future<Output = Result<T, ProviderError>>,
    {
        self.call_cost(1, op).await
    }

    /// Run one provider call costing `cost` quota units. A throttle is a wait, never a
    /// failure, until it repeats `throttle_tries` times; transient failures back off
    /// exponentially.
    pub async fn call_cost<T, F, Fut>(&self, cost: u32, op: F) -> Result<T, SyncError>
    where
        F: Fn(Secret) -> Fut,
        Fut: Future<Output = Result<T, ProviderError>>,
    {
        self.call_with_token(cost, op).await.map(|(v, _)| v)
    }

    /// [`Session::call_cost`], also returning the token the call succeeded with.
    pub async fn call_with_token<T, F, Fut>(
        &self,
        cost: u32,
        op: F,
    ) -> Result<(T, Secret), SyncError>
    where
        F: Fn(Secret) -> Fut,
        Fut: Future<Output = Result<T, ProviderError>>,
    {
        self.call_with_slots(cost, 1, op).await
    }

    /// [`Session::call_with_token`] for a request the provider counts as `slots` requests in
    /// flight (a Gmail batch of `slots` parts).
    pub async fn call_with_slots<T, F, Fut>(
        &self,
        cost: u32,
        slots: usize,
        op: F,
    ) -> Result<(T, Secret), SyncError>
    where
        F: Fn(Secret) -> Fut,
        Fut: Future<Output = Result<T, ProviderError>>,
    {
        let opts = &self.0.options;
        let (mut refreshed, mut throttles, mut failures) = (false, 0u32, 0u32);
        loop {
            let token = self.token().await?;
            let permit = self.0.limiter.acquire_slots(cost, slots).await;
            self.0.counters.requests.fetch_add(1, Ordering::Relaxed);
            self.0
                .counters
                .units
                .fetch_add(u64::from(cost), Ordering::Relaxed);
            let result = op(token.clone()).await;
            drop(permit);
            match result {
                Ok(v) => return Ok((v, token)),
                Err(ProviderError::Unauthorized) if !refreshed => {
                    refreshed = true;
                    self.refresh(&token).await?;
                }
                Err(ProviderError::RateLimited { retry_after })
                    if throttles < opts.throttle_tries =>
                {
                    throttles += 1;
                    self.note_throttle(retry_after, 1, throttles);
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
}

/// `base * 2^(n-1)`, capped at a minute, plus up to 50% jitter.
pub fn backoff(base: Duration, n: u32) -> Duration {
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
