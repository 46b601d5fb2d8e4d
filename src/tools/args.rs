//! The tooling subcommands' arguments (`demo`, `emulator`, `bench`), parsed beside the
//! product's command line (`threadline::cli`).

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Subcommand};
use threadline_emulator::{Latency, Quota};

// The tooling subcommands, added to the product's command line by `main` (no doc comment:
// clap would make it the `--help` text of the whole command line).
#[derive(Debug, Subcommand)]
pub enum Tool {
    /// `serve` plus an in-process provider emulator with seeded mailboxes and a demo admin.
    Demo(DemoArgs),
    /// The Google + Microsoft provider emulator alone.
    Emulator(EmulatorArgs),
    /// Benchmarks against the provider emulator (build with --release for real figures).
    #[command(subcommand)]
    Bench(BenchCommand),
}

/// Quota enforcement of the emulator (`--quota realistic|off`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum QuotaArg {
    Realistic,
    Off,
}

impl LatencyArg {
    /// `bench sync`'s default: realistic under a realistic quota, off without one.
    pub fn default_for(quota: QuotaArg) -> Self {
        match quota {
            QuotaArg::Realistic => Self::Realistic,
            QuotaArg::Off => Self::Off,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Realistic => "realistic",
            Self::Off => "off",
        }
    }
}

impl From<QuotaArg> for Quota {
    fn from(arg: QuotaArg) -> Self {
        match arg {
            QuotaArg::Realistic => Quota::Realistic,
            QuotaArg::Off => Quota::Off,
        }
    }
}

/// Service times of the emulator (`--latency realistic|off`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LatencyArg {
    /// Each endpoint answers after a service time drawn from the real providers' figures.
    Realistic,
    /// Answer at once (throughput work).
    Off,
}

impl From<LatencyArg> for Latency {
    fn from(arg: LatencyArg) -> Self {
        match arg {
            LatencyArg::Realistic => Latency::Realistic,
            LatencyArg::Off => Latency::Off,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Link a generated Gmail and/or Outlook mailbox and time one full sync pass: messages per
    /// second, CPU time per message, peak RSS, provider requests per 1,000 messages, time until
    /// the first 50 threads are visible, and quota use. Uses a fresh SQLite database under
    /// the data directory unless DATABASE_URL names an (empty) PostgreSQL database.
    Sync(BenchSyncArgs),
    /// Seed stored mail (default 1,000,000 emails over 10,000 business domains) and time the
    /// re-association after adding a domain to a business: a typical domain, and a heavy one
    /// that ~50,000 emails copy. Uses a fresh SQLite database under the data directory unless
    /// DATABASE_URL names an (empty) PostgreSQL database.
    Reassociate(BenchReassociateArgs),
    /// Seed stored mail (default 1,000,000 emails over 10,000 businesses), serve it, sign in and
    /// load the timelines with wrk (32 connections): median, p90 and p99 latency and requests
    /// per second per case. SQLite under the data directory unless DATABASE_URL names
    /// PostgreSQL, where the database `--pg-database` (default `threadline_bench_timeline`) on
    /// that server is used. `--after-sync` measures pages right after a real sync instead.
    Timeline(BenchTimelineArgs),
    /// Push against the emulator (realistic latency): N generated mailboxes (half Gmail, half
    /// Outlook) linked and first-synced by one `threadline serve`; provider requests per idle
    /// mailbox per hour while polling (THREADLINE_PUSH=off, every 5 min) and with push on, and
    /// the latency from a message's delivery in the emulator until its email row is stored
    /// (p50, p95, max) with push on. Binds ports 4700-4702. Uses a fresh SQLite database under
    /// the data directory unless DATABASE_URL (or --database-url) names an empty PostgreSQL one.
    Push(BenchPushArgs),
}

#[derive(Debug, Args)]
pub struct BenchPushArgs {
    /// Generated mailboxes (Gmail and Outlook in turn, or only `--provider`'s).
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..))]
    pub mailboxes: u32,
    #[arg(long, value_enum, default_value_t = BenchProvider::Both)]
    pub provider: BenchProvider,
    /// Messages delivered at random mailboxes for the latency figures, at `--rate` per second.
    #[arg(long, default_value_t = 100)]
    pub messages: u32,
    /// Deliveries per second.
    #[arg(long, default_value_t = 2.0)]
    pub rate: f64,
    /// Each idle window (polling, then push) in seconds; 300 sees every mailbox poll once.
    #[arg(long, default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..))]
    pub seconds: u64,
    /// How long to wait for the delivered messages to be stored before counting them missing.
    #[arg(long, default_value_t = 360)]
    pub wait_seconds: u64,
    /// Messages already in each generated mailbox (its first sync).
    #[arg(long, default_value_t = 20)]
    pub corpus: usize,
    /// The emulator's service times.
    #[arg(long, value_enum, default_value_t = LatencyArg::Realistic)]
    pub latency: LatencyArg,
    /// Seed of the generated mailboxes and of the choice of mailboxes.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Print the figures as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct BenchTimelineArgs {
    /// Stored emails to seed (one in ten is a copy in a colleague's mailbox).
    #[arg(long, default_value_t = 1_000_000)]
    pub emails: u64,
    /// Businesses the mail is spread over; the first gets about 2% of all mail.
    #[arg(long, default_value_t = 10_000)]
    pub businesses: u64,
    /// Concurrent connections.
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u32).range(1..))]
    pub connections: u32,
    /// Seconds of measured load per case.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..))]
    pub seconds: u64,
    /// Seconds of unmeasured load before each case.
    #[arg(long, default_value_t = 3)]
    pub warmup: u64,
    /// Only the cases whose name contains this (e.g. `random business`).
    #[arg(long = "case")]
    pub case: Option<String>,
    /// Keep the database seeded by an earlier run with the same sizes.
    #[arg(long)]
    pub reuse: bool,
    /// Instead of seeding: sync one generated Gmail mailbox of `--messages` through the app
    /// from an emulator child, load My mail and the busiest business's timeline as the sync
    /// left them, then again after a manual ANALYZE, and report both and their ratio.
    #[arg(long)]
    pub after_sync: bool,
    /// Messages of the mailbox `--after-sync` syncs.
    #[arg(long, default_value_t = 40_000)]
    pub messages: usize,
    /// The PostgreSQL database (on the server DATABASE_URL names) the benchmark uses; it is
    /// created when missing and emptied when seeding.
    #[arg(long, default_value = "threadline_bench_timeline")]
    pub pg_database: String,
    /// Visibility levels of the colleagues' mailboxes: `full` (all of them, as after an
    /// upgrade: no level is checked) or `mixed` (subject, metadata, private and full in turn,
    /// so every walked link is checked). Applied to a reused database too.
    #[arg(long, default_value = "full", value_parser = ["full", "mixed"])]
    pub visibility: String,
    /// Print the figures as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct BenchReassociateArgs {
    /// Stored emails to seed.
    #[arg(long, default_value_t = 1_000_000)]
    pub emails: u64,
    /// Business domains the mail is spread over.
    #[arg(long, default_value_t = 10_000)]
    pub domains: u64,
    /// Emails that also copy the heavy domain.
    #[arg(long, default_value_t = 50_000)]
    pub heavy: u64,
    /// Print the figures as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BenchProvider {
    Google,
    Microsoft,
    Both,
}

#[derive(Debug, Args)]
pub struct BenchSyncArgs {
    #[arg(long, value_enum, default_value_t = BenchProvider::Both)]
    pub provider: BenchProvider,
    /// Messages in each generated mailbox.
    #[arg(long, default_value_t = 50_000)]
    pub messages: usize,
    /// `off` measures Threadline itself; `realistic` measures behaviour under the providers'
    /// quotas (combine with --max-seconds: a large mailbox takes long at Gmail's quota).
    #[arg(long, value_enum, default_value_t = QuotaArg::Off)]
    pub quota: QuotaArg,
    /// The emulator's service times; by default `realistic` with `--quota realistic` (behaviour
    /// under quota) and `off` with `--quota off` (throughput).
    #[arg(long, value_enum)]
    pub latency: Option<LatencyArg>,
    /// Stop each pass after this many seconds and report what it achieved.
    #[arg(long)]
    pub max_seconds: Option<u64>,
    /// Seed of the generated mailboxes.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Print the figures as JSON.
    #[arg(long)]
    pub json: bool,
    /// Multi-mailbox mode when above 1: this many generated mailboxes (Gmail and Outlook in
    /// turn) are linked, then synced by `--instances` `threadline serve` processes sharing the
    /// database (--provider is then ignored).
    #[arg(long, default_value_t = 1)]
    pub mailboxes: usize,
    /// Multi-mailbox mode: the mailboxes are organization mailboxes instead of linked ones: the
    /// Outlook ones of an emulated Microsoft 365 tenant (app-only, client secret), the Gmail
    /// ones of a Google Workspace domain (domain-wide delegation), one connection each.
    #[arg(long)]
    pub organization: bool,
    /// Multi-mailbox mode: `threadline serve` processes syncing at once.
    #[arg(long, default_value_t = 2)]
    pub instances: usize,
    /// Multi-mailbox mode: sync workers per instance (default: the product's default).
    #[arg(long)]
    pub workers: Option<usize>,
    /// Multi-mailbox mode: the workers' time slice in seconds (default: the product's).
    #[arg(long)]
    pub slice_seconds: Option<u64>,
    /// Kill the app every MIN-MAX seconds (e.g. `4-9`): each mailbox's first sync runs in a
    /// `threadline serve` child that is killed (SIGKILL) after a random time in the range and
    /// started again at once, until the sync completes; reports the stored count at every kill.
    #[arg(long, value_parser = parse_range)]
    pub kill_every: Option<(u64, u64)>,
    /// Time every statement of each pass and print where the database time went.
    #[arg(long)]
    pub statements: bool,
}

/// `MIN-MAX` seconds.
fn parse_range(s: &str) -> Result<(u64, u64), String> {
    let (a, b) = s.split_once('-').ok_or("expected MIN-MAX, e.g. 4-9")?;
    let (a, b): (u64, u64) = (
        a.trim().parse().map_err(|_| "MIN is not a number")?,
        b.trim().parse().map_err(|_| "MAX is not a number")?,
    );
    if a == 0 || b < a {
        return Err("expected 0 < MIN <= MAX".into());
    }
    Ok((a, b))
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Where the in-process emulator listens.
    #[arg(long, default_value = "127.0.0.1:4010")]
    pub emulator_bind: SocketAddr,
    /// Password of the demo admin (admin@demo.test).
    #[arg(long, default_value = "demo")]
    pub admin_password: String,
    /// The emulator's service times: the real providers' (`realistic`) or none (`off`).
    #[arg(long, value_enum, default_value_t = LatencyArg::Realistic)]
    pub latency: LatencyArg,
}

#[derive(Debug, Args)]
pub struct EmulatorArgs {
    #[arg(long, default_value = "127.0.0.1:4010")]
    pub bind: SocketAddr,
    /// Seed of the deterministic corpus generator.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Number of generated mailboxes.
    #[arg(long, default_value_t = 2)]
    pub mailboxes: usize,
    /// Generated messages per mailbox.
    #[arg(long, default_value_t = 200)]
    pub messages: usize,
    /// Enforce the providers' quotas (`realistic`) or not (`off`, for throughput work).
    #[arg(long, value_enum, default_value_t = QuotaArg::Realistic)]
    pub quota: QuotaArg,
    /// Service times of the real providers per endpoint (`realistic`, see the emulator's
    /// README) or none (`off`, for throughput work).
    #[arg(long, value_enum, default_value_t = LatencyArg::Realistic)]
    pub latency: LatencyArg,
    /// Multiplies every service time of the latency model (0.05 = 20 times faster).
    #[arg(long, default_value_t = 1.0)]
    pub latency_scale: f64,
    /// Approve OAuth consent without showing the consent page.
    #[arg(long)]
    pub auto_consent: bool,
    /// Accept only the OAuth clients registered in this JSON file.
    #[arg(long)]
    pub clients: Option<PathBuf>,
    /// Import an mbox file or a folder of .eml files at start (into --import-into).
    #[arg(long, requires = "import_into")]
    pub import: Option<PathBuf>,
    /// The mailbox (address) that --import delivers into; created as a Gmail mailbox if absent.
    #[arg(long, requires = "import")]
    pub import_into: Option<String>,
}
