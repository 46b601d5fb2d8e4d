//! `threadline bench push`: what push changes for people and for the providers. N generated
//! mailboxes (Gmail and Outlook in turn, or one provider) are linked through OAuth and synced
//! by one `threadline serve` child against an emulator child with realistic latency:
//! 1. push off (THREADLINE_PUSH=off): after the first syncs, the provider requests of an idle
//!    window of `--seconds` (each mailbox polls at its 5-minute interval);
//! 2. push on (a restarted instance, every mailbox woken so its pass sets push up): messages
//!    delivered at random mailboxes at `--rate` per second, each timed from the emulator's
//!    201 until an email row with its Message-ID is stored (checked every 50 ms), then the
//!    provider requests of another idle window.
//!
//! Requests per idle mailbox per hour are the window's count / mailboxes x 3600 / window.
//! Ports: the emulator 4700, the instance 4701, the linking app 4702.
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use rand::{Rng, SeedableRng};
use serde::Serialize;

use super::emulator::EmulatorProcess;
use super::push_serve::{self as serve, requests};
use super::sync::prepare;
use crate::tools::args::{BenchProvider, BenchPushArgs};
use threadline::config::Settings;
use threadline::config_push::PushMode;
use threadline_emulator::control::DeliverQuery;
use threadline_emulator::corpus::mailbox_info;
use threadline_emulator::store::Provider as EmulatedProvider;
use threadline_emulator::{Latency, Quota};

const EMULATOR_PORT: u16 = 4700;
const SERVE_PORT: u16 = 4701;
const LINK_PORT: u16 = 4702;
/// The Message-ID tag of the delivered messages: `<pushbench-N.RUN@bench.test>`.
const TAG: &str = "pushbench-";
/// A mailbox's own sync interval (the product's default), polled at while push is off.
const POLL_SECONDS: u64 = 300;

#[derive(Debug, Serialize)]
struct Idle {
    mode: &'static str,
    window_seconds: u64,
    requests: u64,
    /// Sync passes that started in the window, and provider requests per pass.
    passes: i64,
    requests_per_pass: Option<f64>,
    /// The window's requests / mailboxes x 3600 / window.
    per_mailbox_per_hour: f64,
}

#[derive(Debug, Serialize)]
struct Latencies {
    delivered: usize,
    stored: usize,
    missing: usize,
    p50_seconds: Option<f64>,
    p95_seconds: Option<f64>,
    max_seconds: Option<f64>,
    /// Under 2 s at the 95th percentile.
    target_met: bool,
}

#[derive(Debug, Serialize)]
struct Report {
    database: &'static str,
    latency_model: &'static str,
    mailboxes: usize,
    gmail: usize,
    outlook: usize,
    corpus_per_mailbox: usize,
    link_seconds: f64,
    first_sync_seconds: f64,
    polling: Idle,
    /// Mailboxes by push state once the push-on instance set it up.
    push_states: BTreeMap<String, u64>,
    /// How the delivered mail reached Threadline: `push` when every mailbox had push active,
    /// `partly push` or `polling` (no mailbox had push active: the latencies are polling's).
    delivery_mode: &'static str,
    delivery_to_stored: Latencies,
    /// The same, for the messages delivered to Gmail mailboxes only.
    delivery_to_stored_gmail: Latencies,
    /// The same, for the messages delivered to Outlook mailboxes only.
    delivery_to_stored_outlook: Latencies,
    push: Idle,
    /// Polling from its passes: requests per idle pass x 3600 / 300 (one pass per 5 minutes),
    /// independent of where the window fell in the mailboxes' 5-minute cycles.
    polling_from_passes_per_mailbox_per_hour: Option<f64>,
    /// Idle polling at the safety-net interval alone: requests per idle pass x 3600 /
    /// THREADLINE_PUSH_POLL_SECONDS (3600).
    push_safety_net_estimate_per_mailbox_per_hour: Option<f64>,
}

pub async fn run(mut settings: Settings, args: &BenchPushArgs) -> anyhow::Result<()> {
    let wanted = args.mailboxes as usize;
    let indexes: Vec<usize> = (0..wanted * 2)
        .filter(|&i| {
            matches!(
                (args.provider, mailbox_info(i).provider),
                (BenchProvider::Both, _)
                    | (BenchProvider::Google, EmulatedProvider::Google)
                    | (BenchProvider::Microsoft, EmulatedProvider::Microsoft)
            )
        })
        .take(wanted)
        .collect();
    let generated = indexes.last().map_or(0, |i| i + 1);
    eprintln!("starting the emulator with {generated} mailboxes…");
    let emulator = EmulatorProcess::start_on(
        EMULATOR_PORT,
        args.seed,
        generated,
        args.corpus,
        Quota::Realistic,
        Latency::from(args.latency),
    )
    .await?;
    let client = emulator.client();
    prepare(&mut settings, &emulator.base_url, Quota::Realistic)?;
    settings.bind = format!("127.0.0.1:{LINK_PORT}").parse()?;
    settings.base_url = format!("http://127.0.0.1:{LINK_PORT}");
    settings.push.mode = PushMode::Off;
    let linking = Instant::now();
    let accounts = serve::link(&settings, &indexes).await?;
    let link_seconds = linking.elapsed().as_secs_f64();
    let n = accounts.len();
    let addresses: HashSet<String> = accounts.values().map(|a| a.to_ascii_lowercase()).collect();
    let gmail = indexes
        .iter()
        .filter(|&&i| mailbox_info(i).provider == EmulatedProvider::Google)
        .count();
    eprintln!("linked {n} mailboxes in {link_seconds:.1} s");
    let db = threadline::db::connect_sized(&settings.database_url, Some(2)).await?;

    // 1. Polling: first syncs, then an idle window.
    let child = serve::spawn_serve(&settings, &emulator.base_url, SERVE_PORT, false)?;
    let started = Instant::now();
    let all = i64::try_from(n).unwrap_or(i64::MAX);
    let done = serve::wait_until(Duration::from_secs(3600), || async {
        Ok(serve::synced(&db).await? >= all)
    })
    .await?;
    anyhow::ensure!(done, "the first syncs did not finish within an hour");
    let first_sync_seconds = started.elapsed().as_secs_f64();
    eprintln!("first syncs done in {first_sync_seconds:.1} s; idle window, polling…");
    let polling = idle(
        &db,
        &client,
        &addresses,
        "polling every 5 min",
        args.seconds,
    )
    .await?;
    serve::stop(child).await;

    // 2. Push on: set up, deliveries, idle window.
    let serve_url = format!("http://127.0.0.1:{SERVE_PORT}");
    serve::register_topic(&emulator.base_url, &serve_url).await?;
    let child = serve::spawn_serve(&settings, &emulator.base_url, SERVE_PORT, true)?;
    for id in accounts.keys() {
        threadline::sync::wake::wake(&db, *id).await?;
    }
    serve::wait_until(Duration::from_secs(60), || async {
        // Set up (or refused) by this instance: the push-off passes left every row `off`.
        let states = serve::push_states(&db, n).await?;
        Ok(["pending", "none", "off"]
            .iter()
            .all(|s| states.get(*s).copied().unwrap_or(0) == 0))
    })
    .await?;
    // The set-up passes (and those their own notifications caused) finish before the first
    // delivery: the deliveries measure an instance at rest, as in steady use.
    let quiet = std::sync::atomic::AtomicU32::new(0);
    serve::wait_until(Duration::from_secs(120), || {
        let (db, quiet) = (db.clone(), &quiet);
        async move {
            use std::sync::atomic::Ordering::Relaxed;
            let idle = serve::busy(&db).await? == 0;
            let n = if idle { quiet.load(Relaxed) + 1 } else { 0 };
            quiet.store(n, Relaxed);
            Ok(n >= 3)
        }
    })
    .await?;
    let push_states = serve::push_states(&db, n).await?;
    eprintln!(
        "push states: {push_states:?}; delivering {} messages…",
        args.messages
    );
    let targets: Vec<(String, bool)> = indexes
        .iter()
        .map(|&i| {
            let info = mailbox_info(i);
            (info.address, info.provider == EmulatedProvider::Google)
        })
        .collect();
    let [delivery, delivery_gmail, delivery_outlook] =
        deliveries(&db, &client, &targets, args).await?;
    let push = idle(&db, &client, &addresses, "push on", args.seconds).await?;
    serve::stop(child).await;
    emulator.stop().await;

    #[allow(clippy::cast_precision_loss, reason = "a report figure")]
    let from_passes = polling
        .requests_per_pass
        .map(|r| r * 3600.0 / POLL_SECONDS as f64);
    let safety_net = polling
        .requests_per_pass
        .map(|r| r * 3600.0 / f64::from(settings.push.poll_seconds.max(60)));
    let report = Report {
        database: if settings.is_sqlite() {
            "SQLite"
        } else {
            "PostgreSQL"
        },
        latency_model: args.latency.name(),
        mailboxes: n,
        gmail,
        outlook: n - gmail,
        corpus_per_mailbox: args.corpus,
        link_seconds,
        first_sync_seconds,
        polling,
        delivery_mode: match push_states.get("active").copied().unwrap_or(0) {
            0 => "polling",
            a if usize::try_from(a).is_ok_and(|a| a == n) => "push",
            _ => "partly push",
        },
        push_states,
        delivery_to_stored: delivery,
        delivery_to_stored_gmail: delivery_gmail,
        delivery_to_stored_outlook: delivery_outlook,
        push,
        polling_from_passes_per_mailbox_per_hour: from_passes,
        push_safety_net_estimate_per_mailbox_per_hour: safety_net,
    };
    print(&report, args.json)
}

/// Provider requests over an idle window of `seconds`, after running passes ended.
async fn idle(
    db: &sea_orm::DatabaseConnection,
    client: &threadline_emulator::EmulatorClient,
    addresses: &HashSet<String>,
    mode: &'static str,
    seconds: u64,
) -> anyhow::Result<Idle> {
    serve::wait_until(Duration::from_secs(120), || async {
        Ok(serve::running(db).await? == 0)
    })
    .await?;
    let before = requests(client, addresses).await?;
    let runs_before = serve::runs(db).await?;
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    let used = requests(client, addresses).await?.saturating_sub(before);
    let passes = serve::runs(db).await? - runs_before;
    #[allow(clippy::cast_precision_loss, reason = "a report figure")]
    let per_hour = used as f64 / addresses.len().max(1) as f64 * 3600.0 / seconds as f64;
    eprintln!(
        "{mode}: {used} provider requests in {seconds} s = {per_hour:.1} per mailbox per hour"
    );
    #[allow(clippy::cast_precision_loss, reason = "a report figure")]
    let requests_per_pass = (passes > 0).then(|| used as f64 / passes as f64);
    Ok(Idle {
        mode,
        window_seconds: seconds,
        requests: used,
        passes,
        requests_per_pass,
        per_mailbox_per_hour: per_hour,
    })
}

/// Deliver `--messages` at random mailboxes at `--rate` per second; time each until stored.
/// The latencies of all, of those delivered to Gmail and of those delivered to Outlook.
async fn deliveries(
    db: &sea_orm::DatabaseConnection,
    client: &threadline_emulator::EmulatorClient,
    targets: &[(String, bool)],
    args: &BenchPushArgs,
) -> anyhow::Result<[Latencies; 3]> {
    let run = uuid::Uuid::new_v4().simple().to_string();
    let delivered: Arc<Mutex<HashMap<usize, Instant>>> = Arc::default();
    let mut to_gmail: HashSet<usize> = HashSet::new();
    let stored: Arc<Mutex<HashMap<usize, Instant>>> = Arc::default();
    let stop = tokio_util::sync::CancellationToken::new();
    let (after, _) = serve::stored_tags(db, 0, TAG).await?;
    let watcher = {
        let (db, stored, stop) = (db.clone(), stored.clone(), stop.clone());
        tokio::spawn(async move {
            let mut after = after;
            while !stop.is_cancelled() {
                if let Ok((max, found)) = serve::stored_tags(&db, after, TAG).await {
                    after = max;
                    let now = Instant::now();
                    let mut stored = stored.lock();
                    for i in found {
                        stored.entry(i).or_insert(now);
                    }
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
    };
    let mut rng = rand::rngs::StdRng::seed_from_u64(args.seed);
    let gap = Duration::from_secs_f64(1.0 / args.rate.max(0.01));
    let start = Instant::now();
    for i in 0..args.messages as usize {
        tokio::time::sleep_until((start + gap * u32::try_from(i).unwrap_or(u32::MAX)).into()).await;
        let (address, gmail) = &targets[rng.gen_range(0..targets.len())];
        if *gmail {
            to_gmail.insert(i);
        }
        let raw = format!(
            "From: Quinn Customer <quinn@customer-{i}.test>\r\nTo: <{address}>\r\n\
             Subject: Push bench {i}\r\nMessage-ID: <{TAG}{i}.{run}@bench.test>\r\n\
             Date: {}\r\n\r\nA reply that should show at once.\r\n",
            chrono::Utc::now().to_rfc2822()
        );
        client
            .deliver(address, raw, &DeliverQuery::default())
            .await?;
        delivered.lock().insert(i, Instant::now());
    }
    let want = args.messages as usize;
    serve::wait_until(Duration::from_secs(args.wait_seconds), || async {
        Ok(stored.lock().len() >= want)
    })
    .await?;
    stop.cancel();
    let _ = watcher.await;
    let delivered = delivered.lock().clone();
    let stored = stored.lock().clone();
    let of = |keep: &dyn Fn(usize) -> bool| {
        let mine: HashMap<usize, Instant> = delivered
            .iter()
            .filter(|(i, _)| keep(**i))
            .map(|(i, at)| (*i, *at))
            .collect();
        summarize(&mine, &stored)
    };
    Ok([
        of(&|_| true),
        of(&|i| to_gmail.contains(&i)),
        of(&|i| !to_gmail.contains(&i)),
    ])
}

/// p50, p95 and max of delivery → stored over `delivered`.
fn summarize(delivered: &HashMap<usize, Instant>, stored: &HashMap<usize, Instant>) -> Latencies {
    let mut secs: Vec<f64> = delivered
        .iter()
        .filter_map(|(i, at)| {
            stored
                .get(i)
                .map(|s| s.saturating_duration_since(*at).as_secs_f64())
        })
        .collect();
    secs.sort_by(f64::total_cmp);
    let pick = |q: f64| -> Option<f64> {
        #[allow(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            clippy::cast_precision_loss,
            reason = "an index into a short list"
        )]
        let at = ((secs.len() as f64 * q).ceil() as usize).clamp(1, secs.len().max(1)) - 1;
        secs.get(at).copied()
    };
    let p95 = pick(0.95);
    Latencies {
        delivered: delivered.len(),
        stored: secs.len(),
        missing: delivered.len() - secs.len(),
        p50_seconds: pick(0.5),
        p95_seconds: p95,
        max_seconds: secs.last().copied(),
        target_met: secs.len() == delivered.len() && p95.is_some_and(|p| p < 2.0),
    }
}

fn print(r: &Report, json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(r)?);
        return Ok(());
    }
    let s = |v: Option<f64>| v.map_or_else(|| "-".to_string(), |v| format!("{v:.2} s"));
    println!(
        "threadline bench push: {} mailboxes ({} Gmail, {} Outlook) of {} messages, latency {}, {}",
        r.mailboxes, r.gmail, r.outlook, r.corpus_per_mailbox, r.latency_model, r.database
    );
    println!(
        "  linked in {:.1} s, first syncs done {:.1} s after the instance started",
        r.link_seconds, r.first_sync_seconds
    );
    println!("  push states with push on: {:?}", r.push_states);
    let d = &r.delivery_to_stored;
    println!(
        "  delivery in the emulator -> stored ({}): {} delivered, {} stored, {} missing; \
         p50 {}, p95 {}, max {} (target p95 < 2 s: {})",
        r.delivery_mode,
        d.delivered,
        d.stored,
        d.missing,
        s(d.p50_seconds),
        s(d.p95_seconds),
        s(d.max_seconds),
        if d.target_met { "met" } else { "NOT met" }
    );
    for (who, d) in [
        ("to Gmail", &r.delivery_to_stored_gmail),
        ("to Outlook", &r.delivery_to_stored_outlook),
    ] {
        println!(
            "    {who}: {} delivered, {} stored; p50 {}, p95 {}, max {}",
            d.delivered,
            d.stored,
            s(d.p50_seconds),
            s(d.p95_seconds),
            s(d.max_seconds)
        );
    }
    for idle in [&r.polling, &r.push] {
        println!(
            "  idle, {}: {} provider requests and {} passes in {} s = {:.1} per mailbox per hour",
            idle.mode, idle.requests, idle.passes, idle.window_seconds, idle.per_mailbox_per_hour
        );
    }
    let f = |v: Option<f64>| v.map_or_else(|| "-".to_string(), |v| format!("{v:.1}"));
    println!(
        "  from requests per idle pass: polling every 5 min {} per mailbox per hour, push's \
         safety-net poll alone {}",
        f(r.polling_from_passes_per_mailbox_per_hour),
        f(r.push_safety_net_estimate_per_mailbox_per_hour)
    );
    Ok(())
}
