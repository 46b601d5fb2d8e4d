//! The sync engine: one pass over one mailbox (`sync_account`), recorded in `sync_runs` and on
//! the mailbox. Connectors live beside it (`gmail`, `graph` for Outlook; both use the same
//! session, ingest and cursor tables), and `session` holds what every provider call needs
//! (token refresh on 401, throttling, backoff, bounded-concurrency fetches).
pub mod attachments;
mod chunks;
mod fetch;
mod gmail;
mod graph;
pub mod limiter;
pub mod org_access;
pub mod push;
mod reconcile;
mod session;
pub mod stats;
pub mod tenant;
pub mod wake;
pub mod worker;
pub mod write_back;

use std::time::{Duration, Instant};

use chrono::NaiveDate;

use crate::db::emails::Owner;
use crate::db::sync_runs::{self, Finished, RunCounts};
use crate::db::{self, mail_accounts, sync_cursors};
use crate::domain::mailbox::MailboxStatus;
use crate::domain::sync_run::RunKind;
use crate::mailboxes::credentials::CredentialError;
use crate::mailboxes::MailDeps;
use crate::providers::mime::Limits;
use crate::providers::{Provider, ProviderError};

pub use session::Session;

/// Gmail's per-user quota for projects created from 2026-05-01 (provider-apis.md §B.10).
pub const DEFAULT_GMAIL_UNITS_PER_MINUTE: u32 = 6_000;

/// Default [`SyncOptions::commit_every`].
pub const COMMIT_EVERY: Duration = Duration::from_secs(2);

/// Default [`SyncOptions::newest_first`]: enough messages for the first screens of threads.
pub const NEWEST_FIRST: u32 = 200;

/// Parts per Gmail batch by default (see [`SyncOptions::batch_size`]).
pub const GMAIL_BATCH_PARTS: usize = 4;

/// Default [`SyncOptions::single_fetches`]: a first screen of threads.
pub const GMAIL_SINGLE_FETCHES: u64 = 100;

/// How a pass behaves; [`SyncOptions::default`] plus the configured quota
/// ([`SyncOptions::for_deps`]) is what production uses.
#[derive(Debug, Clone)]
pub struct SyncOptions {
    /// Messages per provider page; at most 500 for Gmail. A page's new messages are committed
    /// in chunks as they arrive (see `commit_every`), its cursor with its last chunk.
    pub page_size: u32,
    /// Longest time fetched messages wait before they are committed (a pass's first chunk
    /// waits a quarter of it): under provider latency a page takes minutes, and a pass killed
    /// every few seconds still makes progress.
    pub commit_every: Duration,
    /// Message fetches per Gmail batch request (at most 100). Google runs a batch's parts at
    /// once and each counts against its ~10 concurrent requests per user (a 100-part batch
    /// mostly fails with 429s), so batches are small: 4 parts, two batches in the limiter's 8
    /// slots.
    pub batch_size: usize,
    /// Gmail: how many messages a pass fetches one plain `messages.get` per request before it
    /// turns to batches (the first screen of threads, [`GMAIL_SINGLE_FETCHES`]): a lone request
    /// frees its slot when it is answered, a batch waits for its slowest part and its
    /// envelope, so the newest mail arrives about twice as fast for the same units. 0 batches
    /// from the first message.
    pub single_fetches: u64,
    /// Fetch requests in flight at once: Gmail batches (also bounded by the limiter's slots,
    /// one per part) and Outlook `$value` fetches (at most 4, Outlook's per-mailbox cap). Four
    /// keeps both busy under real latency.
    pub concurrency: usize,
    /// The Gmail project's quota per user (6,000 units a minute for projects created from
    /// 2026-05-01, 15,000 for older ones); the limiter keeps a pass just under it.
    pub gmail_units_per_minute: u32,
    /// Outlook's budget per app and mailbox: 10,000 requests per 10 minutes.
    pub graph_requests_per_10_minutes: u32,
    /// Longest Retry-After honoured; a longer one is waited for this long, then retried.
    pub max_retry_after: Duration,
    /// First backoff after a transient failure; doubled each time, with jitter.
    pub backoff_base: Duration,
    /// Transient failures of one call before the pass fails.
    pub transient_tries: u32,
    /// Throttles of one call before the pass fails (a throttle is a wait, but not forever).
    pub throttle_tries: u32,
    /// Overrides the mailbox's settings when set (`threadline sync --since/--folders`).
    pub since: Option<NaiveDate>,
    pub labels: Option<Vec<String>>,
    pub limits: Limits,
    /// The worker's lease on the mailbox's job, checked and extended before each committed
    /// page; None for a pass that holds no lease (`threadline sync`, tests).
    pub holder: Option<Holder>,
    /// How long a pass runs before it stops at the next committed page with more to do
    /// (workers: `THREADLINE_SYNC_SLICE_SECONDS`), so one long history does not hold a worker
    /// while other mailboxes wait; None runs to the end (`threadline sync`).
    pub slice: Option<Duration>,
    /// Cancelled when the instance shuts down: the pass then stops at its next committed page
    /// as if its slice were spent (workers; None for passes nothing stops early).
    pub stop: Option<tokio_util::sync::CancellationToken>,
    /// How many of a freshly linked Outlook mailbox's newest messages (across its synced
    /// folders) are stored from their Graph fields before any MIME text is fetched, so the
    /// timeline shows them within a second or two; their bodies and attachments follow
    /// (`db::mime_pending`). 0 fetches every message's MIME text before storing it.
    pub newest_first: u32,
    /// Reconciliation (the provider's counts against what is stored) runs at the end of a
    /// finished pass at most this often per mailbox: background workers use
    /// [`RECONCILE_EVERY`], so a mailbox woken by push many times an hour is not recounted each
    /// time; zero (`threadline sync`, tests) checks after every finished pass.
    pub reconcile_every: Duration,
    /// Where the pass stores attachment content (the organization's policy, read at the start
    /// of a pass together with the size limit in `limits`).
    pub attachment_storage: crate::domain::attachments::Storage,
}

/// How often a background worker's passes reconcile a mailbox.
pub const RECONCILE_EVERY: Duration = Duration::from_secs(600);

/// A worker's hold on a mailbox's sync job.
#[derive(Debug, Clone)]
pub struct Holder {
    pub job_id: i64,
    pub worker: String,
    pub lease: Duration,
}

impl Default for SyncOptions {
    fn default() -> Self {
        Self {
            page_size: 500,
            commit_every: COMMIT_EVERY,
            batch_size: GMAIL_BATCH_PARTS,
            single_fetches: GMAIL_SINGLE_FETCHES,
            concurrency: 4,
            gmail_units_per_minute: DEFAULT_GMAIL_UNITS_PER_MINUTE,
            graph_requests_per_10_minutes: 10_000,
            max_retry_after: Duration::from_secs(120),
            backoff_base: Duration::from_millis(500),
            transient_tries: 5,
            throttle_tries: 30,
            since: None,
            labels: None,
            limits: Limits::default(),
            holder: None,
            slice: None,
            stop: None,
            newest_first: NEWEST_FIRST,
            reconcile_every: Duration::ZERO,
            attachment_storage: crate::domain::attachments::Storage::Off,
        }
    }
}

impl SyncOptions {
    /// The defaults with what the deployment configured (`THREADLINE_GMAIL_UNITS_PER_MINUTE`).
    pub fn for_deps(deps: &MailDeps) -> Self {
        Self {
            gmail_units_per_minute: deps.providers.gmail_units_per_minute,
            graph_requests_per_10_minutes: deps.providers.graph_requests_per_10_minutes,
            ..Self::default()
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("no such mailbox")]
    NotFound,
    #[error("syncing {} mailboxes is not supported yet", .0.label())]
    Unsupported(Provider),
    #[error("the mailbox must be reconnected before it can sync")]
    NeedsReconnect,
    #[error("cannot obtain an access token: {0}")]
    Credentials(CredentialError),
    #[error(transparent)]
    Provider(#[from] ProviderError),
    /// The cause is in the message (stored as the run's error), so it is not also a `source`.
    #[error("database: {0}")]
    Db(sea_orm::DbErr),
    #[error("lease lost: another worker took the mailbox over")]
    LeaseLost,
    #[error("internal: {0}")]
    Internal(String),
}

impl From<sea_orm::DbErr> for SyncError {
    fn from(e: sea_orm::DbErr) -> Self {
        Self::Db(e)
    }
}

impl From<CredentialError> for SyncError {
    fn from(e: CredentialError) -> Self {
        match e {
            CredentialError::NeedsReconnect => Self::NeedsReconnect,
            CredentialError::Provider(p) => Self::Provider(p),
            other => Self::Credentials(other),
        }
    }
}

/// What one successful pass did.
#[derive(Debug, Clone)]
pub struct SyncReport {
    pub account_id: i64,
    pub address: String,
    /// initial | incremental | resync
    pub kind: RunKind,
    pub counts: RunCounts,
    /// Quota units the pass spent (Gmail units; Graph requests).
    pub units: u64,
    pub duration: Duration,
    /// The pass stopped at its time slice ([`SyncOptions::slice`]) with more to do.
    pub more: bool,
}

/// One pass over one mailbox with the default options.
pub async fn sync_account(deps: &MailDeps, account_id: i64) -> Result<SyncReport, SyncError> {
    sync_account_with(deps, account_id, &SyncOptions::for_deps(deps)).await
}

/// One pass: initial listing when there is no cursor (or it expired), else history. Every
/// provider page is stored with its cursor in one transaction, so a pass that fails or is
/// killed resumes from the last committed page.
pub async fn sync_account_with(
    deps: &MailDeps,
    account_id: i64,
    options: &SyncOptions,
) -> Result<SyncReport, SyncError> {
    let account = mail_accounts::find(&deps.db, account_id)
        .await?
        .ok_or(SyncError::NotFound)?;
    let provider = account.provider;
    let owner = Owner {
        organization_id: account.organization_id,
        account_id,
    };
    let stored = account.sync_settings.clone();
    let mut options = options.clone();
    let policy =
        crate::db::attachment_settings::for_mailbox(&deps.db, owner.organization_id, account_id)
            .await?;
    options.limits.max_message_bytes = usize::try_from(policy.limit_bytes).unwrap_or(usize::MAX);
    options.limits.keep_content = policy.storage != crate::domain::attachments::Storage::Off;
    options.attachment_storage = policy.storage;
    options.since = options.since.or(stored.since);
    if options.labels.as_ref().is_none_or(Vec::is_empty) {
        let defaults: &[&str] = match provider {
            Provider::Google => &crate::providers::gmail::DEFAULT_LABELS,
            Provider::Microsoft => &crate::providers::graph::DEFAULT_FOLDERS,
        };
        options.labels = Some(if stored.labels.is_empty() {
            defaults.iter().map(|l| (*l).to_string()).collect()
        } else {
            stored.labels
        });
    }
    let access = org_access::Access::of(&account)?;
    // An organization mailbox the tenant refused, or that never got through, is first asked
    // one cheap question: while the refusal lasts, a pass costs that one request.
    let probe = matches!(access, org_access::Access::Org(_))
        && (account.status == MailboxStatus::Refused || account.last_success_at.is_none());
    let started = Instant::now();
    let kind = sync_cursors::planned_kind(&deps.db, account_id).await?;
    let holder = options.holder.as_ref().map(|h| h.worker.as_str());
    let run_id = sync_runs::start_run(&deps.db, owner, kind, holder).await?;
    let graph_budget = options.graph_requests_per_10_minutes;
    let gmail_budget = options.gmail_units_per_minute;
    let limits = match provider {
        Provider::Google => limiter::Profile::gmail(gmail_budget),
        // Outlook: 4 concurrent requests and 10,000 per 10 minutes per app and mailbox.
        Provider::Microsoft => limiter::Profile::graph(graph_budget),
    };
    let session = Session::with_access(
        deps.clone(),
        owner,
        provider,
        access,
        options,
        limiter::Limiter::new(limits),
    );
    let probed = if probe {
        org_access::probe(&session).await.map_err(|e| (kind, e))
    } else {
        Ok(())
    };
    let result = match (probed, provider) {
        (Err(e), _) => Err(e),
        (Ok(()), Provider::Google) => gmail::pass(&session).await,
        (Ok(()), Provider::Microsoft) => graph::pass(&session).await,
    };
    if result.is_ok() && !session.more() {
        reconcile::after_pass(&session, provider).await;
    }
    let counts = session.counts();
    let units = session.units();
    let duration = started.elapsed();
    let duration_ms = u64::try_from(duration.as_millis()).unwrap_or(u64::MAX);
    let (kind, error) = match &result {
        Ok(kind) => (*kind, None),
        Err((kind, e)) => (*kind, Some(e.to_string())),
    };
    let finished = Finished {
        kind,
        counts: &counts,
        duration_ms,
        error: error.as_deref(),
    };
    let outcome = match &result {
        Ok(_) => "ok",
        Err((_, SyncError::LeaseLost)) => "interrupted",
        Err(_) => "failed",
    };
    crate::telemetry::record::sync_pass(provider, kind, outcome, duration);
    if units > 0 {
        let ratio = session.limiter().used_ratio(units, duration);
        crate::telemetry::record::quota_used(provider, account_id, ratio);
    }
    if matches!(result, Err((_, SyncError::LeaseLost))) {
        // Another worker holds the mailbox now: record nothing more (the new holder closes
        // this run as interrupted).
        tracing::warn!(account = account_id, "sync pass stopped: lease lost");
        return Err(SyncError::LeaseLost);
    }
    sync_runs::finish_run(&deps.db, run_id, finished).await?;
    match &result {
        // The credentials layer already put the reason on the mailbox; keep its wording.
        Err((_, SyncError::NeedsReconnect)) => {}
        _ => sync_runs::record_outcome(&deps.db, account_id, error.as_deref()).await?,
    }
    if account.connection_id.is_some() {
        match &result {
            Err((_, SyncError::Provider(ProviderError::Refused(reason)))) => {
                let marked = db::org_access::mark_refused(&deps.db, account_id, reason).await?;
                tracing::warn!(
                    account = account_id,
                    %reason,
                    marked,
                    "organization mailbox refused by its tenant's policy"
                );
            }
            Ok(_) if account.status == MailboxStatus::Refused => {
                db::org_access::lift_refused(&deps.db, account_id).await?;
            }
            _ => {}
        }
    }
    db::maintenance::after_pass(&deps.db, counts.stored).await;
    match result {
        Ok(kind) => {
            tracing::info!(
                account = account_id,
                kind = kind.as_str(),
                ?counts,
                units,
                "sync pass finished"
            );
            Ok(SyncReport {
                account_id,
                address: account.address,
                kind,
                counts,
                units,
                duration,
                more: session.more(),
            })
        }
        Err((kind, e)) => {
            tracing::warn!(account = account_id, kind = kind.as_str(), error = %e, "sync pass failed");
            Err(e)
        }
    }
}
