//! `threadline bench sync`: link a generated mailbox per provider through the real OAuth flow
//! and time one sync pass against the emulator, which runs as a child process so that CPU time
//! and memory are Threadline's own (the database, when SQLite, is in-process and counted).
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use parking_lot::Mutex;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect};
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use super::emulator::{usage, EmulatorProcess, Usage};
use super::measure;
use super::restarts::{self, KilledSync};
use crate::tools::args::{BenchProvider, BenchSyncArgs, LatencyArg};
use crate::tools::driver::Browser;
use threadline::accounts::{self, NewUser};
use threadline::app::App;
use threadline::config::{OAuthClient, ProviderUrls, Settings};
use threadline::db::entities::emails;
use threadline::db::mail_accounts;
use threadline::mailboxes::MailDeps;
use threadline::providers::Provider;
use threadline_emulator::corpus::mailbox_info;
use threadline_emulator::{EmulatorClient, Latency, Quota};

pub(super) const ADMIN: &str = "bench@bench.test";
pub(super) const PASSWORD: &str = "bench-password-123";
/// Limiter budget that never binds (quota off).
const UNLIMITED: u32 = 1_000_000_000;
/// "Time until the first N threads are visible".
const FIRST_THREADS: u64 = 50;

/// One provider's figures.
#[derive(Debug, Clone, Serialize)]
pub struct SyncFigures {
    pub provider: &'static str,
    pub mailbox: String,
    /// finished | stopped (the time limit ended the pass) | failed: ...
    pub outcome: String,
    pub stored_messages: u64,
    pub threads: u64,
    pub wall_seconds: f64,
    pub messages_per_second: f64,
    pub cpu_ms_per_message: f64,
    pub peak_rss_mib: f64,
    /// Of the resident memory, the highest anonymous (heap) and file-backed (memory-mapped
    /// database pages, the executable) parts, sampled every 50 ms.
    pub peak_rss_anon_mib: f64,
    pub peak_rss_file_mib: f64,
    /// Provider API calls as the provider counts them (each part of a batch is one call).
    pub api_calls: u64,
    pub api_calls_per_1000_messages: f64,
    /// HTTP requests Threadline sent (a batch is one), known when the pass finished.
    pub http_requests: Option<u64>,
    pub http_requests_per_1000_messages: Option<f64>,
    pub first_50_threads_seconds: Option<f64>,
    /// Quota used over the pass as a fraction of the most the provider allows in that time: a
    /// full window's budget at the start (Gmail a minute, Outlook 10 minutes) plus the rate.
    pub quota_fraction: f64,
    /// Sustained quota use over the steady part of the pass (its second half, and not its first
    /// [`STEADY_AFTER_SECONDS`]), as a fraction of the provider's rate (Gmail units per minute,
    /// Outlook requests per 10 minutes); None when the pass was too short to tell.
    pub sustained_quota_fraction: Option<f64>,
    /// 429 / quota errors the provider returned.
    pub quota_errors: u64,
    /// The database's own rate for the same rows (plain multi-row INSERTs of the stored
    /// emails, bodies and participants into scratch tables; see `baseline`).
    pub raw_insert_messages_per_second: Option<f64>,
    /// `messages_per_second` / `raw_insert_messages_per_second`.
    pub ratio_to_raw_insert: Option<f64>,
    /// The emulator's refusals during the pass by kind (`gmail_rate`, `gmail_concurrency`,
    /// `graph_rate`, `graph_concurrency`).
    pub throttles: BTreeMap<String, u64>,
}

/// The earliest a pass's use counts as sustained: its start spends the full bucket it begins
/// with (Gmail grants a minute's units at once).
const STEADY_AFTER_SECONDS: f64 = 60.0;
/// How often the bench samples the emulator's counters during a pass.
const SAMPLE_EVERY: Duration = Duration::from_secs(5);

#[derive(Debug, Serialize)]
struct Report {
    messages_per_mailbox: usize,
    quota: &'static str,
    latency: &'static str,
    database: &'static str,
    results: Vec<SyncFigures>,
}

pub async fn run(mut settings: Settings, args: &BenchSyncArgs) -> anyhow::Result<()> {
    let quota = Quota::from(args.quota);
    let latency_arg = args
        .latency
        .unwrap_or_else(|| LatencyArg::default_for(args.quota));
    let latency = Latency::from(latency_arg);
    let providers: Vec<Provider> = match args.provider {
        BenchProvider::Google => vec![Provider::Google],
        BenchProvider::Microsoft => vec![Provider::Microsoft],
        BenchProvider::Both => vec![Provider::Google, Provider::Microsoft],
    };
    eprintln!(
        "starting the emulator with {} messages per mailbox (quota {}, latency {})…",
        args.messages,
        quota_name(quota),
        latency_arg.name()
    );
    let emulator = EmulatorProcess::start(args.seed, 2, args.messages, quota, latency).await?;
    prepare(&mut settings, &emulator.base_url, quota)?;
    let child_settings = settings.clone();
    let database = if settings.is_sqlite() {
        "SQLite"
    } else {
        "PostgreSQL"
    };
    let app = App::build(settings).await?;
    let base = app.settings.base_url.clone();
    let deps = app.mail_deps();
    let shutdown = CancellationToken::new();
    let server = tokio::spawn(app.run(shutdown.clone()));
    let admin = NewUser::parse(ADMIN, "Bench", PASSWORD)?;
    accounts::setup(&deps.db, "Bench", admin)
        .await
        .context("the bench needs an empty database (unset DATABASE_URL for a fresh SQLite one)")?;
    let browser = Browser::new(&base)?;
    browser.sign_in(ADMIN, PASSWORD).await?;

    let mut results = Vec::new();
    let mut killed = Vec::new();
    for provider in providers {
        let info = mailbox_info(usize::from(provider == Provider::Microsoft));
        browser
            .connect(provider.as_str(), &info.address)
            .await
            .with_context(|| format!("linking {}", info.address))?;
        if let Some(range) = args.kill_every {
            let account = account_id(&deps, &info.address).await?;
            eprintln!(
                "syncing {} ({}), killing the app every {}-{} s…",
                info.address,
                provider.label(),
                range.0,
                range.1
            );
            let limit = Duration::from_secs(args.max_seconds.unwrap_or(3600));
            let run = restarts::run(&child_settings, &deps.db, account, range, limit).await?;
            killed.push((provider.label(), run));
            continue;
        }
        eprintln!("syncing {} ({})…", info.address, provider.label());
        // Boxed: the pass's future is large (the sync pass, its samplers and profile).
        let mut figures = Box::pin(measure_pass(
            &deps,
            &emulator,
            provider,
            &info.address,
            args,
        ))
        .await?;
        if figures.stored_messages > 0 {
            eprintln!("timing the database's raw insert of the same rows…");
            let account = account_id(&deps, &info.address).await?;
            let raw = super::baseline::raw_insert(&deps.db, account).await?;
            figures.raw_insert_messages_per_second = Some(raw.messages_per_second);
            figures.ratio_to_raw_insert =
                Some(figures.messages_per_second / raw.messages_per_second.max(1e-9));
        }
        eprintln!("{}", line(&figures));
        results.push(figures);
    }
    shutdown.cancel();
    let _ = server.await;
    emulator.stop().await;
    if args.kill_every.is_some() {
        return print_killed(args, database, &killed);
    }
    let report = Report {
        messages_per_mailbox: args.messages,
        quota: quota_name(quota),
        latency: latency_arg.name(),
        database,
        results,
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!(
            "threadline bench sync: {} messages per mailbox, quota {}, latency {}, {}",
            report.messages_per_mailbox, report.quota, report.latency, report.database
        );
        for r in &report.results {
            println!("{}", line(r));
        }
    }
    Ok(())
}

fn print_killed(
    args: &BenchSyncArgs,
    database: &str,
    killed: &[(&'static str, KilledSync)],
) -> anyhow::Result<()> {
    if args.json {
        let runs: Vec<serde_json::Value> = killed
            .iter()
            .map(|(p, r)| serde_json::json!({"provider": p, "run": r}))
            .collect();
        println!("{}", serde_json::to_string_pretty(&runs)?);
        return Ok(());
    }
    let (lo, hi) = args.kill_every.unwrap_or_default();
    println!(
        "threadline bench sync --kill-every {lo}-{hi}: {} messages per mailbox, {database}",
        args.messages
    );
    for (provider, r) in killed {
        let done = r.completed_after_seconds.map_or_else(
            || "not completed".to_string(),
            |s| format!("completed after {s:.0} s"),
        );
        let at: Vec<String> = r
            .kills
            .iter()
            .map(|k| format!("{:.0}s:{}", k.at_seconds, k.stored))
            .collect();
        println!(
            "  {provider:<7} {done}, {} stored, {} kills; stored at each kill: {}",
            r.stored_messages,
            r.kills.len(),
            at.join(" ")
        );
    }
    Ok(())
}

pub(super) fn quota_name(q: Quota) -> &'static str {
    match q {
        Quota::Realistic => "realistic",
        Quota::Off => "off",
    }
}

fn line(r: &SyncFigures) -> String {
    let first = r
        .first_50_threads_seconds
        .map_or_else(|| "never".to_string(), |s| format!("{s:.2} s"));
    format!(
        "  {:<7} {}: {} messages, {} threads in {:.1} s = {:.0} msg/s; CPU {:.3} ms/msg; \
         peak RSS {:.0} MiB (anon {:.0}, file {:.0}); {:.0} API calls and {} HTTP requests per 1000 msgs; first {FIRST_THREADS} threads after {first}; \
         quota used {:.0}% (sustained {}); quota errors {} {:?}; {}",
        r.provider,
        r.outcome,
        r.stored_messages,
        r.threads,
        r.wall_seconds,
        r.messages_per_second,
        r.cpu_ms_per_message,
        r.peak_rss_mib,
        r.peak_rss_anon_mib,
        r.peak_rss_file_mib,
        r.api_calls_per_1000_messages,
        r.http_requests_per_1000_messages
            .map_or_else(|| "?".to_string(), |h| format!("{h:.0}")),
        r.quota_fraction * 100.0,
        r.sustained_quota_fraction
            .map_or_else(|| "?".to_string(), |f| format!("{:.1}%", f * 100.0)),
        r.quota_errors,
        r.throttles,
        match (r.raw_insert_messages_per_second, r.ratio_to_raw_insert) {
            (Some(raw), Some(ratio)) => format!(
                "raw INSERT of the same rows {raw:.0} msg/s (Threadline at {:.0}% of it)",
                ratio * 100.0
            ),
            _ => "no raw INSERT baseline".to_string(),
        }
    )
}

/// A fresh bench database and data directory (unless DATABASE_URL names PostgreSQL), and
/// providers at the emulator.
pub(super) fn prepare(settings: &mut Settings, emulator: &str, quota: Quota) -> anyhow::Result<()> {
    let dir = settings.data_dir.join("bench");
    if dir.exists() {
        std::fs::remove_dir_all(&dir).with_context(|| format!("cannot reset {}", dir.display()))?;
    }
    std::fs::create_dir_all(&dir)?;
    if settings.is_sqlite() {
        settings.database_url = format!("sqlite://{}?mode=rwc", dir.join("bench.db").display());
    }
    settings.data_dir = dir;
    settings.bind = "127.0.0.1:0".parse()?;
    settings.base_url = "http://127.0.0.1:0".into();
    settings.sync_workers = 0;
    if quota == Quota::Off {
        // Measure Threadline, not the providers' quotas: lift the sync limiter's budgets too.
        settings.gmail_units_per_minute = UNLIMITED;
        settings.graph_requests_per_10_minutes = UNLIMITED;
    }
    settings.provider_urls = ProviderUrls::all_at(emulator);
    settings.google = Some(OAuthClient {
        client_id: "threadline-bench.apps.googleusercontent.com".into(),
        client_secret: "bench-google-secret".into(),
    });
    settings.microsoft = Some(OAuthClient {
        client_id: "2d7f0c1e-8b3a-4c5d-9e6f-1a2b3c4d5e6f".into(),
        client_secret: "bench-microsoft-secret".into(),
    });
    Ok(())
}

#[allow(
    clippy::cast_precision_loss,
    reason = "counts far below 2^52; these are report figures"
)]
async fn measure_pass(
    deps: &MailDeps,
    emulator: &EmulatorProcess,
    provider: Provider,
    address: &str,
    args: &BenchSyncArgs,
) -> anyhow::Result<SyncFigures> {
    let account = account_id(deps, address).await?;
    let before = emulator.usage(address).await?;
    let profile = args.statements.then(super::statements::Profile::default);
    let mut profiled = deps.clone();
    if let Some(p) = &profile {
        p.attach(&mut profiled.db);
    }
    measure::reset_peak_rss();
    let rss_parts = measure::RssPeaks::start();
    let cpu_before = measure::cpu_time();
    let started = Instant::now();
    let first = Arc::new(Mutex::new(None::<Duration>));
    let watcher = tokio::spawn(watch_threads(
        deps.db.clone(),
        account,
        started,
        first.clone(),
    ));
    let samples = Arc::new(Mutex::new(Vec::new()));
    let usage_task = tokio::spawn(sample_usage(
        emulator.client(),
        address.to_string(),
        started,
        samples.clone(),
    ));
    let pass = threadline::sync::sync_account(&profiled, account);
    let result = match args.max_seconds {
        Some(limit) => tokio::time::timeout(Duration::from_secs(limit), pass)
            .await
            .ok(),
        None => Some(pass.await),
    };
    let (outcome, http) = match result {
        Some(Ok(report)) => ("finished".to_string(), Some(report.counts.requests)),
        Some(Err(e)) => (format!("failed: {e}"), None),
        None => ("stopped".to_string(), None),
    };
    let wall = started.elapsed();
    let cpu = measure::cpu_time().saturating_sub(cpu_before);
    if let Some(p) = &profile {
        eprint!("{}", p.report(wall));
    }
    let rss = measure::peak_rss();
    let (anon, file) = rss_parts.peaks();
    drop(rss_parts);
    watcher.abort();
    usage_task.abort();
    let after = emulator.usage(address).await?;
    let (stored, threads) = counts(&deps.db, account).await?;
    let first_threads = *first.lock();
    let requests = after.requests.saturating_sub(before.requests);
    let secs = wall.as_secs_f64().max(1e-9);
    // The most the provider allows in `secs`: Gmail a minute's bucket plus the per-minute
    // rate; Outlook its 10-minute budget plus the rate (10,000 per 10 minutes).
    let allowed = match provider {
        Provider::Google => f64::from(emulator.limits.gmail_units_per_minute) * (1.0 + secs / 60.0),
        Provider::Microsoft => {
            f64::from(emulator.limits.graph_requests_per_minute) * (10.0 + secs / 60.0)
        }
    };
    let used = match provider {
        Provider::Google => after.units.saturating_sub(before.units),
        Provider::Microsoft => requests,
    };
    let per_message = |v: f64| if stored == 0 { 0.0 } else { v / stored as f64 };
    let mut samples = samples.lock().clone();
    samples.push((wall, used_of(&after)));
    // Rate per second the provider allows: Gmail units per minute, Outlook 10,000 per 10 min.
    let rate = match provider {
        Provider::Google => f64::from(emulator.limits.gmail_units_per_minute) / 60.0,
        Provider::Microsoft => f64::from(emulator.limits.graph_requests_per_minute) / 60.0,
    };
    let sustained = sustained(&samples, rate);
    Ok(SyncFigures {
        provider: provider.label(),
        mailbox: address.to_string(),
        outcome,
        stored_messages: stored,
        threads,
        wall_seconds: secs,
        messages_per_second: stored as f64 / secs,
        cpu_ms_per_message: per_message(cpu.as_secs_f64() * 1000.0),
        peak_rss_mib: rss as f64 / (1024.0 * 1024.0),
        peak_rss_anon_mib: anon as f64 / (1024.0 * 1024.0),
        peak_rss_file_mib: file as f64 / (1024.0 * 1024.0),
        api_calls: requests,
        api_calls_per_1000_messages: per_message(requests as f64 * 1000.0),
        http_requests: http,
        http_requests_per_1000_messages: http.map(|h| per_message(h as f64 * 1000.0)),
        first_50_threads_seconds: first_threads.map(|d| d.as_secs_f64()),
        quota_fraction: used as f64 / allowed.max(1e-9),
        sustained_quota_fraction: sustained,
        quota_errors: after.throttled.saturating_sub(before.throttled),
        raw_insert_messages_per_second: None,
        ratio_to_raw_insert: None,
        throttles: after.throttles_since(&before),
    })
}

async fn account_id(deps: &MailDeps, address: &str) -> anyhow::Result<i64> {
    Ok(mail_accounts::all(&deps.db)
        .await?
        .into_iter()
        .find(|a| a.address.eq_ignore_ascii_case(address))
        .context("the linked mailbox is not stored")?
        .id)
}

/// What counts against the provider's quota: Gmail units, Outlook requests
/// (The emulator charges Gmail units, and one per admitted Graph request.)
fn used_of(usage: &Usage) -> u64 {
    usage.units
}

/// Sample the emulator's count of what the mailbox used, every [`SAMPLE_EVERY`].
async fn sample_usage(
    client: EmulatorClient,
    address: String,
    started: Instant,
    samples: Arc<Mutex<Vec<(Duration, u64)>>>,
) {
    loop {
        if let Ok(u) = usage(&client, &address).await {
            samples.lock().push((started.elapsed(), used_of(&u)));
        }
        tokio::time::sleep(SAMPLE_EVERY).await;
    }
}

/// Use per second over the second half of the pass (and not before
/// [`STEADY_AFTER_SECONDS`]), as a fraction of `rate` per second; None without at least 30 s of
/// steady samples. The first half holds the burst a pass may spend at once (Gmail's bucket
/// starts full), which a fast client spends over its first minute or two.
#[allow(clippy::cast_precision_loss, reason = "report figures")]
fn sustained(samples: &[(Duration, u64)], rate: f64) -> Option<f64> {
    let to = samples.last()?;
    let start = (to.0.as_secs_f64() / 2.0).max(STEADY_AFTER_SECONDS);
    let from = samples.iter().find(|(t, _)| t.as_secs_f64() >= start)?;
    let span = to.0.saturating_sub(from.0).as_secs_f64();
    if span < 30.0 || rate <= 0.0 {
        return None;
    }
    Some(to.1.saturating_sub(from.1) as f64 / span / rate)
}

/// Poll until the mailbox shows [`FIRST_THREADS`] threads; note when.
async fn watch_threads(
    db: DatabaseConnection,
    account_id: i64,
    started: Instant,
    first: Arc<Mutex<Option<Duration>>>,
) {
    loop {
        if let Ok((_, threads)) = counts(&db, account_id).await {
            if threads >= FIRST_THREADS {
                *first.lock() = Some(started.elapsed());
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// `(live messages, threads)` of a mailbox.
async fn counts(db: &DatabaseConnection, account_id: i64) -> anyhow::Result<(u64, u64)> {
    let row: Option<(i64, i64)> = emails::Entity::find()
        .select_only()
        .column_as(Expr::cust("COUNT(*)"), "messages")
        .column_as(Expr::cust("COUNT(DISTINCT thread_key)"), "threads")
        .filter(emails::Column::AccountId.eq(account_id))
        .filter(emails::Column::DeletedInProviderAt.is_null())
        .into_tuple()
        .one(db)
        .await?;
    let (m, t) = row.unwrap_or_default();
    Ok((u64::try_from(m).unwrap_or(0), u64::try_from(t).unwrap_or(0)))
}
