//! `threadline bench sync --mailboxes N [--instances K]`: many mailboxes at once. The emulator
//! (a child process) generates N mailboxes, Gmail and Outlook in turn; they are all linked
//! through the real OAuth flow first (the worst case: a whole team rolled out at once), then K
//! `threadline serve` child processes share the database and sync them. Reported: total time,
//! each mailbox's completion time (slowest to fastest) and how far the least advanced mailbox
//! was when the first completed, time until every mailbox shows its first page, how busy the
//! workers were (pass time against worker time), peak memory and database connections per
//! instance, runs of one mailbox that overlapped (double passes), and whether every mailbox
//! ends exactly at the ground truth.
use std::collections::{BTreeMap, HashMap};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::Context;
use serde::Serialize;
use tokio::process::{Child, Command};

use super::emulator::EmulatorProcess;
use super::multi_watch::{self as watch, Runs};
use super::sync::{prepare, quota_name};
use crate::tools::args::{BenchSyncArgs, LatencyArg};
use threadline::config::Settings;
use threadline_emulator::{Latency, Quota};

#[derive(Debug, Serialize)]
struct Instance {
    name: String,
    peak_rss_mib: f64,
    /// Most connections to the database seen at once (sampled every second).
    peak_db_connections: u64,
}

#[derive(Debug, Serialize)]
struct Report {
    database: &'static str,
    /// linked (each through its owner's OAuth grant) | organization (tenant-wide connections)
    mailbox_kind: &'static str,
    quota: &'static str,
    latency: &'static str,
    mailboxes: usize,
    messages_per_mailbox: usize,
    instances: usize,
    workers_per_instance: usize,
    slice_seconds: u64,
    /// finished | stopped (--max-seconds) | instances exited
    outcome: String,
    link_seconds: f64,
    /// From the instances' start until every mailbox was complete (or the stop).
    total_seconds: f64,
    messages_stored: u64,
    messages_per_second: f64,
    /// Until every mailbox had stored something.
    all_first_pages_seconds: Option<f64>,
    fastest_mailbox_seconds: Option<f64>,
    slowest_mailbox_seconds: Option<f64>,
    slowest_to_fastest: Option<f64>,
    /// When the first mailbox completed: the fewest messages any mailbox had stored (how far
    /// the histories had advanced in step).
    least_stored_at_first_completion: Option<u64>,
    /// The runs' time against the workers' (instances x workers x total): how much of it went
    /// to passes rather than to claiming, scheduling and idling.
    workers_busy: f64,
    complete_mailboxes: usize,
    instances_seen: Vec<Instance>,
    runs: Runs,
    ground_truth_mismatches: Vec<String>,
}

pub async fn run(mut settings: Settings, args: &BenchSyncArgs) -> anyhow::Result<()> {
    let quota = Quota::from(args.quota);
    let latency = args
        .latency
        .unwrap_or_else(|| LatencyArg::default_for(args.quota));
    eprintln!(
        "starting the emulator with {} mailboxes of {} messages (quota {}, latency {})…",
        args.mailboxes,
        args.messages,
        quota_name(quota),
        latency.name()
    );
    let emulator = EmulatorProcess::start(
        args.seed,
        args.mailboxes,
        args.messages,
        quota,
        Latency::from(latency),
    )
    .await?;
    prepare(&mut settings, &emulator.base_url, quota)?;
    let linking = Instant::now();
    let mailboxes = if args.organization {
        super::multi_org::enroll_all(&settings, &emulator.client(), args.mailboxes).await?
    } else {
        link_all(&settings, args.mailboxes).await?
    };
    let link_seconds = linking.elapsed().as_secs_f64();
    eprintln!(
        "{} {} mailboxes in {link_seconds:.1} s",
        if args.organization {
            "enrolled"
        } else {
            "linked"
        },
        mailboxes.len()
    );
    let db = threadline::db::connect_sized(&settings.database_url, Some(1)).await?;
    let workers = args
        .workers
        .unwrap_or(threadline::sync::worker::DEFAULT_WORKERS);
    let slice = args
        .slice_seconds
        .unwrap_or(threadline::sync::worker::DEFAULT_SLICE.as_secs());
    let mut children = Vec::new();
    for i in 0..args.instances {
        children.push(spawn_serve(&settings, i, workers, slice)?);
    }
    let started = Instant::now();
    let expected = u64::try_from(args.messages).unwrap_or(u64::MAX);
    let (mut first, mut done) = (HashMap::new(), HashMap::new());
    let mut least_at_first_done = None;
    let mut peak_conns: HashMap<String, u64> = HashMap::new();
    let mut last_line = Instant::now();
    let outcome = loop {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let at = started.elapsed();
        let stored = watch::stored(&db).await?;
        for (id, n) in &stored {
            if *n > 0 {
                first.entry(*id).or_insert(at);
            }
            if *n >= expected {
                done.entry(*id).or_insert(at);
            }
        }
        if least_at_first_done.is_none() && !done.is_empty() {
            let least = mailboxes
                .keys()
                .map(|id| stored.get(id).copied().unwrap_or(0));
            least_at_first_done = least.min();
        }
        for (name, n) in connections(&db, &children, &settings).await? {
            let peak = peak_conns.entry(name).or_insert(0);
            *peak = (*peak).max(n);
        }
        if last_line.elapsed() >= Duration::from_secs(10) {
            eprintln!(
                "{:>5.0} s: {} of {} mailboxes started, {} complete",
                at.as_secs_f64(),
                first.len(),
                mailboxes.len(),
                done.len()
            );
            last_line = Instant::now();
        }
        if done.len() >= mailboxes.len() {
            break "finished".to_string();
        }
        if args.max_seconds.is_some_and(|m| at.as_secs() >= m) {
            break "stopped".to_string();
        }
        if children
            .iter_mut()
            .all(|c| c.1.try_wait().ok().flatten().is_some())
        {
            break "instances exited".to_string();
        }
    };
    let total = started.elapsed().as_secs_f64();
    let mut seen = Vec::new();
    for (name, child) in &children {
        let rss = child.id().map_or(0, watch::peak_rss);
        seen.push(Instance {
            name: name.clone(),
            peak_rss_mib: mib(rss),
            peak_db_connections: peak_conns.get(name).copied().unwrap_or(0),
        });
    }
    for (_, child) in &mut children {
        stop(child).await;
    }
    let runs = watch::runs(&db).await?;
    let mismatches = watch::truth_mismatches(&db, &emulator.client(), &mailboxes).await?;
    emulator.stop().await;
    let stored: u64 = watch::stored(&db).await?.values().sum();
    let secs = |d: Option<&Duration>| d.map(Duration::as_secs_f64);
    let complete = done.len() == mailboxes.len();
    let (fast, slow) = (
        secs(done.values().min()).filter(|_| complete),
        secs(done.values().max()).filter(|_| complete),
    );
    let report = Report {
        database: if settings.is_sqlite() {
            "SQLite"
        } else {
            "PostgreSQL"
        },
        mailbox_kind: if args.organization {
            "organization"
        } else {
            "linked"
        },
        quota: quota_name(quota),
        latency: latency.name(),
        mailboxes: mailboxes.len(),
        messages_per_mailbox: args.messages,
        instances: args.instances,
        workers_per_instance: workers,
        slice_seconds: slice,
        outcome,
        link_seconds,
        total_seconds: total,
        messages_stored: stored,
        #[allow(clippy::cast_precision_loss, reason = "a report figure")]
        messages_per_second: stored as f64 / total.max(1e-9),
        all_first_pages_seconds: secs(first.values().max())
            .filter(|_| first.len() == mailboxes.len()),
        fastest_mailbox_seconds: fast,
        slowest_mailbox_seconds: slow,
        slowest_to_fastest: fast.zip(slow).map(|(f, s)| s / f.max(1e-9)),
        least_stored_at_first_completion: least_at_first_done,
        #[allow(clippy::cast_precision_loss, reason = "a report figure")]
        workers_busy: runs.pass_seconds / ((args.instances * workers) as f64 * total).max(1e-9),
        complete_mailboxes: done.len(),
        instances_seen: seen,
        runs,
        ground_truth_mismatches: mismatches,
    };
    print(&report, args.json)
}

#[allow(clippy::cast_precision_loss, reason = "a report figure")]
fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// Sign up the bench organization and link every generated mailbox through the OAuth flow, on
/// an in-process app without sync workers; account ids with addresses.
async fn link_all(settings: &Settings, n: usize) -> anyhow::Result<BTreeMap<i64, String>> {
    let indexes: Vec<usize> = (0..n).collect();
    super::push_serve::link(settings, &indexes).await
}

/// `threadline serve` as instance `i`: its own port and instance id, the bench's database and
/// data directory (so the same key ring), the emulator as every provider.
fn spawn_serve(
    settings: &Settings,
    i: usize,
    workers: usize,
    slice: u64,
) -> anyhow::Result<(String, Child)> {
    let name = format!("threadline-bench-{i}");
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let url = if settings.is_sqlite() {
        settings.database_url.clone()
    } else {
        let sep = if settings.database_url.contains('?') {
            '&'
        } else {
            '?'
        };
        format!("{}{sep}application_name={name}", settings.database_url)
    };
    let urls = &settings.provider_urls;
    let google = settings.google.as_ref().context("no Google client")?;
    let microsoft = settings.microsoft.as_ref().context("no Microsoft client")?;
    let log = std::fs::File::create(settings.data_dir.join(format!("{name}.log")))?;
    let exe = std::env::current_exe().context("cannot find the threadline executable")?;
    let child = Command::new(exe)
        .arg("serve")
        .args([
            "--database-url",
            &url,
            "--bind",
            &format!("127.0.0.1:{port}"),
        ])
        .args(["--data-dir", &settings.data_dir.display().to_string()])
        .args(["--instance-id", &name, "--job-workers", "0"])
        .args(["--sync-workers", &workers.to_string()])
        .args(["--sync-slice-seconds", &slice.to_string()])
        .args([
            "--gmail-units-per-minute",
            &settings.gmail_units_per_minute.to_string(),
            "--graph-requests-per-10-minutes",
            &settings.graph_requests_per_10_minutes.to_string(),
        ])
        .args(["--google-client-id", &google.client_id])
        .args(["--google-client-secret", &google.client_secret])
        .args(["--microsoft-client-id", &microsoft.client_id])
        .args(["--microsoft-client-secret", &microsoft.client_secret])
        .args(["--google-accounts-url", &urls.google_accounts])
        .args(["--google-oauth2-url", &urls.google_oauth2])
        .args(["--google-openid-url", &urls.google_openid])
        .args(["--gmail-api-url", &urls.gmail_api])
        .args(["--microsoft-login-url", &urls.microsoft_login])
        .args(["--graph-api-url", &urls.graph_api])
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .kill_on_drop(true)
        .spawn()
        .context("cannot start threadline serve")?;
    Ok((name, child))
}

/// Connections per instance now: PostgreSQL by application name, SQLite by open descriptors.
async fn connections(
    db: &sea_orm::DatabaseConnection,
    children: &[(String, Child)],
    settings: &Settings,
) -> anyhow::Result<HashMap<String, u64>> {
    if settings.is_sqlite() {
        let file = settings.data_dir.join("bench.db");
        return Ok(children
            .iter()
            .filter_map(|(name, c)| Some((name.clone(), watch::sqlite_connections(c.id()?, &file))))
            .collect());
    }
    watch::pg_connections(db).await
}

/// Ask an instance to shut down (its workers give their leases back), then make sure it is gone.
pub(super) async fn stop(child: &mut Child) {
    if let Some(pid) = child.id() {
        let _ = Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .await;
        if tokio::time::timeout(Duration::from_secs(30), child.wait())
            .await
            .is_ok()
        {
            return;
        }
    }
    let _ = child.kill().await;
}

fn print(r: &Report, json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(r)?);
        return Ok(());
    }
    let s = |v: Option<f64>| v.map_or_else(|| "-".to_string(), |v| format!("{v:.1} s"));
    println!(
        "threadline bench sync: {} {} mailboxes of {} messages, {} instances x {} workers, slice {} s, quota {}, latency {}, {}",
        r.mailboxes, r.mailbox_kind, r.messages_per_mailbox, r.instances, r.workers_per_instance, r.slice_seconds, r.quota, r.latency, r.database
    );
    println!(
        "  {}: {} messages in {:.1} s = {:.0} msg/s (linking took {:.1} s before)",
        r.outcome, r.messages_stored, r.total_seconds, r.messages_per_second, r.link_seconds
    );
    println!(
        "  every mailbox's first page after {}; mailboxes complete {} of {}: fastest {}, slowest {}, ratio {}",
        s(r.all_first_pages_seconds),
        r.complete_mailboxes,
        r.mailboxes,
        s(r.fastest_mailbox_seconds),
        s(r.slowest_mailbox_seconds),
        r.slowest_to_fastest.map_or_else(|| "-".to_string(), |v| format!("{v:.2}"))
    );
    println!(
        "  when the first mailbox completed, the least advanced had {} of {} messages; workers busy {:.0}% of the time",
        r.least_stored_at_first_completion
            .map_or_else(|| "-".to_string(), |n| n.to_string()),
        r.messages_per_mailbox,
        r.workers_busy * 100.0
    );
    for i in &r.instances_seen {
        println!(
            "  {}: peak RSS {:.0} MiB, peak database connections {}",
            i.name, i.peak_rss_mib, i.peak_db_connections
        );
    }
    println!(
        "  runs {}: double passes {}, interrupted {}, failed {}; ground truth {}",
        r.runs.total,
        r.runs.double_passes,
        r.runs.interrupted,
        r.runs.failed,
        if r.ground_truth_mismatches.is_empty() {
            "exact for every mailbox".to_string()
        } else {
            format!("WRONG for {}", r.ground_truth_mismatches.len())
        }
    );
    for m in r.ground_truth_mismatches.iter().take(10) {
        println!("    {m}");
    }
    Ok(())
}
