//! `threadline bench timeline --after-sync`: pages as a real installation serves them right
//! after its first sync. A generated Gmail mailbox (`--messages`, 40,000 by default) is linked
//! through the real OAuth flow and synced through the app against an emulator child (quota
//! off), with the corpus's businesses in the directory so its mail is linked as ingest links
//! it. Nothing else touches the database: what the planner knows is what the app's own upkeep
//! left at the end of the pass (`db::maintenance`). Then My mail and the busiest business's
//! timeline are loaded with wrk; then a manual `ANALYZE`, and the same load again. The ratio of
//! the two rates says how much an operator's `ANALYZE` would still add (the target: within
//! 20%, a ratio of at least 0.8).
use std::path::Path;
use std::time::Instant;

use anyhow::Context;
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use super::emulator::EmulatorProcess;
use super::timeline::{check, pg_bench_database, reset};
use super::wrk::{self, Figures, Load};
use crate::tools::args::BenchTimelineArgs;
use crate::tools::driver::Browser;
use threadline::accounts::{self, NewUser};
use threadline::app::App;
use threadline::config::Settings;
use threadline::db::directory::businesses::{self, BusinessInput};
use threadline::db::mail_accounts;
use threadline::domain::domains::{registrable, Domain};
use threadline_emulator::corpus::{mailbox_info, people::BUSINESSES};
use threadline_emulator::{Latency, Quota};

const ADMIN: &str = "bench@bench.test";
const PASSWORD: &str = "bench-password-123";
/// The emulator's corpus seed (the same as `bench sync`'s default).
const SEED: u64 = 7;
/// Connections of the load, as in the measurement that found the problem.
const CONNECTIONS: u32 = 8;

#[derive(Debug, Serialize)]
struct Case {
    name: &'static str,
    path: String,
    after_sync: Figures,
    after_analyze: Figures,
    /// Requests per second right after the sync over those after a manual ANALYZE.
    ratio: f64,
}

#[derive(Debug, Serialize)]
struct Report {
    database: &'static str,
    messages: usize,
    stored: u64,
    sync_seconds: f64,
    connections: u32,
    seconds_per_case: u64,
    cases: Vec<Case>,
}

pub(super) async fn run(
    mut settings: Settings,
    args: &BenchTimelineArgs,
    dir: &Path,
) -> anyhow::Result<()> {
    let dir = dir.join("after-sync");
    std::fs::create_dir_all(&dir)?;
    let database = if settings.is_sqlite() {
        "sqlite"
    } else {
        settings.database_url =
            pg_bench_database(&settings.database_url, &args.pg_database).await?;
        reset(&settings, "postgres", &dir).await?;
        "postgres"
    };
    eprintln!("starting the emulator with {} messages ...", args.messages);
    let emulator = EmulatorProcess::start(SEED, 2, args.messages, Quota::Off, Latency::Off).await?;
    settings.data_dir = dir;
    // A fresh SQLite file under `dir/bench` (PostgreSQL: the database emptied above), the
    // providers at the emulator, quota off, no workers.
    super::sync::prepare(&mut settings, &emulator.base_url, Quota::Off)?;
    let app = App::build(settings).await?;
    let base = app.settings.base_url.clone();
    let wrk_dir = app.settings.data_dir.clone();
    let deps = app.mail_deps();
    let shutdown = CancellationToken::new();
    let server = tokio::spawn(app.run(shutdown.clone()));

    let admin = accounts::setup(&deps.db, "Bench", NewUser::parse(ADMIN, "Bench", PASSWORD)?)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    for b in BUSINESSES {
        let domain = registrable(b.mail_domain).unwrap_or_else(|| b.mail_domain.to_string());
        let input = BusinessInput {
            name: b.name.to_string(),
            notes: String::new(),
            domains: vec![Domain::parse(&domain)?],
        };
        businesses::create(&deps.db, admin.organization_id, admin.id, &input)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    let browser = Browser::new(&base)?;
    browser.sign_in(ADMIN, PASSWORD).await?;
    let info = mailbox_info(0);
    browser.connect("google", &info.address).await?;
    let account = mail_accounts::all(&deps.db)
        .await?
        .into_iter()
        .find(|a| a.address.eq_ignore_ascii_case(&info.address))
        .context("the linked mailbox is not stored")?;
    eprintln!("syncing {} ...", info.address);
    let started = Instant::now();
    let report = threadline::sync::sync_account(&deps, account.id).await?;
    let sync_seconds = started.elapsed().as_secs_f64();
    eprintln!(
        "stored {} messages in {sync_seconds:.1} s",
        report.counts.stored
    );

    let cookie = browser
        .cookie_header()
        .context("no session cookie after signing in")?;
    let business = busiest_business(&deps.db).await?;
    let paths = [
        ("my mail", "/mail".to_string()),
        ("business timeline", format!("/businesses/{business}")),
    ];
    let load = |path: &str| -> Vec<String> { vec![path.to_string()] };
    let mut first = Vec::new();
    for (name, path) in &paths {
        eprintln!("{name} right after the sync ...");
        check(&browser, path).await?;
        first.push(measure(&wrk_dir, &base, &cookie, &load(path), args).await?);
    }
    eprintln!("manual ANALYZE ...");
    analyze(&deps.db).await?;
    let mut cases = Vec::new();
    for ((name, path), after_sync) in paths.into_iter().zip(first) {
        eprintln!("{name} after ANALYZE ...");
        check(&browser, &path).await?;
        let after_analyze = measure(&wrk_dir, &base, &cookie, &load(&path), args).await?;
        let ratio = after_sync.requests_per_second / after_analyze.requests_per_second.max(1e-9);
        cases.push(Case {
            name,
            path,
            after_sync,
            after_analyze,
            ratio,
        });
    }
    shutdown.cancel();
    let _ = server.await;
    emulator.stop().await;
    let report = Report {
        database,
        messages: args.messages,
        stored: report.counts.stored,
        sync_seconds,
        connections: CONNECTIONS,
        seconds_per_case: args.seconds,
        cases,
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print(&report);
    }
    Ok(())
}

/// Warm-up, then the measured load of `paths`.
async fn measure(
    dir: &Path,
    base: &str,
    cookie: &str,
    paths: &[String],
    args: &BenchTimelineArgs,
) -> anyhow::Result<Figures> {
    let load = |seconds| Load {
        base,
        cookie,
        paths,
        connections: CONNECTIONS,
        seconds,
    };
    if args.warmup > 0 {
        wrk::run(dir, &load(args.warmup)).await?;
    }
    wrk::run(dir, &load(args.seconds)).await
}

/// What an operator would run: `ANALYZE` of everything. SQLite's other pooled connections
/// reload statistics only when the schema changes, so the schema is touched too (as the app's
/// upkeep does), or the second load would still plan with the first one's statistics.
async fn analyze(db: &DatabaseConnection) -> anyhow::Result<()> {
    if threadline::db::is_postgres(db) {
        db.execute_unprepared("ANALYZE").await?;
    } else {
        db.execute_unprepared(
            "ANALYZE; CREATE VIEW bench_statistics_reload AS SELECT 1; \
             DROP VIEW bench_statistics_reload",
        )
        .await?;
    }
    Ok(())
}

/// The business with the most live links.
async fn busiest_business(db: &DatabaseConnection) -> anyhow::Result<i64> {
    let row = db
        .query_one(Statement::from_string(
            db.get_database_backend(),
            "SELECT business_id FROM email_links WHERE business_id IS NOT NULL \
             AND tombstone = FALSE GROUP BY business_id ORDER BY COUNT(*) DESC LIMIT 1",
        ))
        .await?
        .context("the synced mail is linked to no business")?;
    Ok(row.try_get_by_index(0)?)
}

fn print(r: &Report) {
    println!(
        "timeline right after a sync on {}: {} of {} messages stored in {:.1} s; \
         {} connections, {} s per load",
        r.database, r.stored, r.messages, r.sync_seconds, r.connections, r.seconds_per_case
    );
    println!(
        "{:<18} {:>22} {:>22} {:>7}",
        "case", "after sync req/s p99", "after ANALYZE", "ratio"
    );
    for c in &r.cases {
        let cell = |f: &Figures| format!("{:.0} / {:.1} ms", f.requests_per_second, f.p99_ms);
        println!(
            "{:<18} {:>22} {:>22} {:>7.2}",
            c.name,
            cell(&c.after_sync),
            cell(&c.after_analyze),
            c.ratio
        );
    }
}
