//! `threadline bench timeline`: seed a million stored emails over ten thousand businesses, serve
//! them with the real web app, sign in as a user would, and load the timelines from a second
//! process (wrk, 32 connections by default): median, p90 and p99 latency and requests per second
//! per case. The seeded database is kept under the data directory (SQLite) or in the PostgreSQL
//! database `--pg-database` (default `threadline_bench_timeline`) beside the one DATABASE_URL
//! names, for `--reuse`. After seeding, the app's own upkeep (`db::maintenance`) settles it, as
//! after a sync pass; `--after-sync` (`timeline_after_sync`) measures a really synced mailbox.
use std::time::Instant;

use anyhow::Context;
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use super::timeline_seed::{self, Plan, Seeded, MAILBOXES};
use super::wrk::{self, Figures, Load};
use crate::tools::args::BenchTimelineArgs;
use crate::tools::driver::Browser;
use threadline::accounts::{self, NewUser};
use threadline::app::App;
use threadline::config::Settings;
use threadline::db::timeline::sql::Sql;
use threadline::db::users;
use threadline::domain::address::EmailAddress;
use threadline::domain::user::Role;

/// Named with the seed's version, so `--reuse` never picks up a database seeded by other rules.
const ORGANIZATION: &str = "Bench timeline (seed 2)";
const READER: &str = "reader@ourco.com";
const PASSWORD: &str = "bench-timeline-password";

/// One load case's figures.
#[derive(Debug, Serialize)]
struct Case {
    name: &'static str,
    example: String,
    #[serde(flatten)]
    figures: Figures,
}

#[derive(Debug, Serialize)]
struct Report {
    database: &'static str,
    emails: u64,
    businesses: u64,
    heavy_business_emails: u64,
    connections: u32,
    seconds_per_case: u64,
    /// None when the seeded database was reused.
    seed_seconds: Option<f64>,
    cases: Vec<Case>,
}

pub async fn run(mut settings: Settings, args: &BenchTimelineArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        wrk::available(),
        "this benchmark loads the server with wrk: install it (apt-get install wrk)"
    );
    anyhow::ensure!(
        CASES.iter().any(|name| wanted(args, name)),
        "no case is named like {:?}; the cases: {}",
        args.case.as_deref().unwrap_or_default(),
        CASES.join("; ")
    );
    let dir = settings.data_dir.join("bench-timeline");
    std::fs::create_dir_all(&dir)?;
    if args.after_sync {
        return super::timeline_after_sync::run(settings, args, &dir).await;
    }
    let database = if settings.is_sqlite() {
        settings.database_url = format!("sqlite://{}?mode=rwc", dir.join("bench.db").display());
        "sqlite"
    } else {
        settings.database_url =
            pg_bench_database(&settings.database_url, &args.pg_database).await?;
        "postgres"
    };
    let db = threadline::db::connect(&settings.database_url).await?;
    threadline::db::migrate(&db).await?;
    let (seeded, seed_seconds) = match reusable(&db, args).await? {
        Some(seeded) if args.reuse => {
            eprintln!("reusing the seeded database");
            (seeded, None)
        }
        _ => {
            drop(db);
            reset(&settings, database, &dir).await?;
            let db = threadline::db::connect(&settings.database_url).await?;
            threadline::db::migrate(&db).await?;
            let started = Instant::now();
            let seeded = seed(&db, args).await?;
            (seeded, Some(started.elapsed().as_secs_f64()))
        }
    };
    let db = threadline::db::connect(&settings.database_url).await?;
    levels(&db, &args.visibility).await?;
    // The state the app's own upkeep leaves after a large write (as at the end of a sync pass
    // that stored mail, or every few minutes in `serve`): planner statistics where they are
    // due, and on PostgreSQL the visibility map index-only scans depend on. No manual ANALYZE
    // the app would not run.
    let analyzed = threadline::db::maintenance::upkeep(&db).await?;
    eprintln!("upkeep analyzed: {}", analyzed.join(", "));
    let heavy = heavy_emails(&db, seeded.first_business).await?;

    settings.data_dir = dir.clone();
    settings.bind = "127.0.0.1:0".parse()?;
    settings.base_url = "http://127.0.0.1:0".into();
    settings.sync_workers = 0;
    settings.job_workers = 0;
    let app = App::build(settings).await?;
    let base = app.settings.base_url.clone();
    let shutdown = CancellationToken::new();
    let server = tokio::spawn(app.run(shutdown.clone()));

    let browser = Browser::new(&base)?;
    browser.sign_in(READER, PASSWORD).await?;
    let cookie = browser
        .cookie_header()
        .context("no session cookie after signing in")?;
    let mut cases = Vec::new();
    let chosen = cases_for(&seeded, args.emails)
        .into_iter()
        .filter(|(name, _)| wanted(args, name));
    for (name, paths) in chosen {
        check(&browser, &paths[0]).await?;
        let load = |seconds| Load {
            base: &base,
            cookie: &cookie,
            paths: &paths,
            connections: args.connections,
            seconds,
        };
        eprintln!("{name}: warming up, then {} s of load ...", args.seconds);
        if args.warmup > 0 {
            wrk::run(&dir, &load(args.warmup)).await?;
        }
        let figures = wrk::run(&dir, &load(args.seconds)).await?;
        check(&browser, &paths[0]).await?;
        cases.push(Case {
            name,
            example: paths[0].clone(),
            figures,
        });
    }
    shutdown.cancel();
    server.await??;

    let report = Report {
        database,
        emails: args.emails,
        businesses: seeded.businesses,
        heavy_business_emails: heavy,
        connections: args.connections,
        seconds_per_case: args.seconds,
        seed_seconds,
        cases,
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print(&report);
    }
    Ok(())
}

/// The cases, in the order they run.
const CASES: [&str; 7] = [
    "business timeline, random business",
    "business timeline, heavy business",
    "heavy business, unread only",
    "heavy business, search \"invoice\"",
    "random business, search \"invoice\"",
    "heavy business, search a thread number",
    "my mail",
];

/// A thread of the heavy business (a multiple of 49) halfway through the seeded mail, searched
/// for by its number.
fn rare_thread(emails: u64) -> u64 {
    (emails / 3 / 2 / 49).max(1) * 49
}

/// Does `--case` (when given) pick the case `name`?
fn wanted(args: &BenchTimelineArgs, name: &str) -> bool {
    args.case.as_deref().is_none_or(|c| name.contains(c))
}

/// The paths each case requests at random, by the names in [`CASES`].
fn cases_for(s: &Seeded, emails: u64) -> Vec<(&'static str, Vec<String>)> {
    let heavy = s.first_business;
    let typical: Vec<i64> = (1..i64::try_from(s.businesses).unwrap_or(i64::MAX))
        .map(|k| heavy + k)
        .collect();
    let each = |f: &dyn Fn(i64) -> String| typical.iter().map(|id| f(*id)).collect::<Vec<_>>();
    vec![
        (CASES[0], each(&|id| format!("/businesses/{id}"))),
        (CASES[1], vec![format!("/businesses/{heavy}")]),
        (CASES[2], vec![format!("/businesses/{heavy}?unread=1")]),
        (CASES[3], vec![format!("/businesses/{heavy}?q=invoice")]),
        (CASES[4], each(&|id| format!("/businesses/{id}?q=invoice"))),
        // A word of one thread in the whole organization (the subject's "#n"): rare, so a walk
        // of the heavy business's links would test them all.
        (
            CASES[5],
            vec![format!("/businesses/{heavy}?q={}", rare_thread(emails))],
        ),
        (CASES[6], vec!["/mail".to_string()]),
    ]
}

/// The page answers 200 with threads on it (a lost session would redirect to sign-in).
pub(super) async fn check(browser: &Browser, path: &str) -> anyhow::Result<()> {
    let (status, body) = browser.get(path).await?;
    anyhow::ensure!(
        status == 200 && body.contains("class=\"thread"),
        "{path} answered {status} without threads; the figures would be meaningless"
    );
    Ok(())
}

/// The database `name` on the server of `url`, created when missing.
pub(super) async fn pg_bench_database(url: &str, name: &str) -> anyhow::Result<String> {
    anyhow::ensure!(
        !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
        "--pg-database takes letters, digits and underscores"
    );
    let mut bench = reqwest::Url::parse(url).context("DATABASE_URL is not a URL")?;
    bench.set_path(&format!("/{name}"));
    let admin = threadline::db::connect(url).await?;
    let exists = admin
        .query_one(Statement::from_string(
            admin.get_database_backend(),
            format!("SELECT 1 FROM pg_database WHERE datname = '{name}'"),
        ))
        .await?
        .is_some();
    if !exists {
        admin
            .execute_unprepared(&format!("CREATE DATABASE {name}"))
            .await?;
    }
    Ok(bench.to_string())
}

/// Start from an empty database.
pub(super) async fn reset(
    settings: &Settings,
    database: &str,
    dir: &std::path::Path,
) -> anyhow::Result<()> {
    if database == "sqlite" {
        for name in ["bench.db", "bench.db-wal", "bench.db-shm"] {
            let path = dir.join(name);
            if path.exists() {
                std::fs::remove_file(&path)?;
            }
        }
        return Ok(());
    }
    let db = threadline::db::connect(&settings.database_url).await?;
    db.execute_unprepared("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
        .await?;
    Ok(())
}

/// The seed already in `db`, when it matches the arguments.
async fn reusable(
    db: &DatabaseConnection,
    args: &BenchTimelineArgs,
) -> anyhow::Result<Option<Seeded>> {
    let Some(org) = threadline::db::organizations::first(db).await? else {
        return Ok(None);
    };
    if org.name != ORGANIZATION {
        return Ok(None);
    }
    let (first, count) = timeline_seed::business_range(db, org.id).await?;
    let emails = scalar(db, "SELECT COUNT(*) FROM emails").await?;
    let fits = u64::try_from(emails).ok() == Some(args.emails)
        && u64::try_from(count).ok() == Some(args.businesses.max(2));
    Ok(fits.then_some(Seeded {
        first_business: first,
        businesses: args.businesses.max(2),
    }))
}

async fn seed(db: &DatabaseConnection, args: &BenchTimelineArgs) -> anyhow::Result<Seeded> {
    let reader = accounts::setup(
        db,
        ORGANIZATION,
        NewUser {
            email: EmailAddress::parse(READER)?,
            name: "Rita Reader".into(),
            password: PASSWORD.into(),
        },
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let org = reader.organization_id;
    let mut mailboxes = Vec::new();
    for slot in 0..MAILBOXES {
        let owner = if slot == 0 {
            reader.id
        } else {
            let email = EmailAddress::parse(&format!("user{slot}@ourco.com"))?;
            let name = format!("Colleague {slot}");
            users::create(db, org, &email, &name, Role::Member, "-".into())
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?
                .id
        };
        mailboxes.push(mailbox(db, org, owner, slot).await?);
    }
    let plan = Plan {
        emails: args.emails,
        businesses: args.businesses,
    };
    eprintln!(
        "seeding {} emails over {} businesses ...",
        args.emails, args.businesses
    );
    let step = Instant::now();
    let seeded = timeline_seed::seed(db, org, reader.id, &mailboxes, plan, |what| {
        eprintln!("  {what} ({:.0} s)", step.elapsed().as_secs_f64());
    })
    .await?;
    Ok(seeded)
}

/// A Gmail mailbox `user{slot}@ourco.com` owned by `owner`.
async fn mailbox(
    db: &DatabaseConnection,
    org: i64,
    owner: i64,
    slot: usize,
) -> anyhow::Result<i64> {
    let backend = db.get_database_backend();
    let address = format!("user{slot}@ourco.com");
    let now = chrono::Utc::now();
    let mut sql = Sql::default();
    sql.push("INSERT INTO mail_accounts (organization_id, owner_user_id, provider, address, created_at, updated_at) VALUES (")
        .bind(org)
        .push(", ")
        .bind(owner)
        .push(", 'google', ")
        .bind(address.clone())
        .push(", ")
        .bind(now)
        .push(", ")
        .bind(now)
        .push(")");
    db.execute(sql.build(backend)).await?;
    let mut sql = Sql::default();
    sql.push("SELECT id FROM mail_accounts WHERE address = ")
        .bind(address);
    let row = db
        .query_one(sql.build(backend))
        .await?
        .context("the bench mailbox vanished")?;
    Ok(row.try_get_by_index(0)?)
}

/// `--visibility`: every mailbox `full`, or the colleagues' (not the reader's) at the four
/// levels in turn.
async fn levels(db: &DatabaseConnection, visibility: &str) -> anyhow::Result<()> {
    let sql = if visibility == "mixed" {
        format!(
            "UPDATE mail_accounts SET visibility = CASE WHEN owner_user_id = (SELECT id FROM \
             users WHERE email = '{READER}') THEN 'full' ELSE CASE id % 4 WHEN 0 THEN 'subject' \
             WHEN 1 THEN 'metadata' WHEN 2 THEN 'private' ELSE 'full' END END"
        )
    } else {
        "UPDATE mail_accounts SET visibility = 'full'".to_string()
    };
    db.execute(Statement::from_string(db.get_database_backend(), sql))
        .await?;
    eprintln!("visibility: {visibility}");
    Ok(())
}

async fn heavy_emails(db: &DatabaseConnection, business: i64) -> anyhow::Result<u64> {
    let n = scalar(
        db,
        &format!("SELECT COUNT(*) FROM email_links WHERE business_id = {business}"),
    )
    .await?;
    Ok(u64::try_from(n).unwrap_or(0))
}

async fn scalar(db: &DatabaseConnection, sql: &str) -> anyhow::Result<i64> {
    let row = db
        .query_one(Statement::from_string(db.get_database_backend(), sql))
        .await?
        .context("no row")?;
    Ok(row.try_get_by_index(0)?)
}

fn print(r: &Report) {
    println!(
        "timeline benchmark on {}: {} emails over {} businesses (the heavy one has {}), \
         {} connections, {} s per case",
        r.database,
        r.emails,
        r.businesses,
        r.heavy_business_emails,
        r.connections,
        r.seconds_per_case
    );
    match r.seed_seconds {
        Some(s) => println!("seeded in {s:.1} s"),
        None => println!("seeded database reused"),
    }
    println!(
        "{:<38} {:>8} {:>8} {:>8} {:>8} {:>8} {:>7}",
        "case", "p50 ms", "p90 ms", "p99 ms", "max ms", "req/s", "errors"
    );
    for c in &r.cases {
        let f = &c.figures;
        println!(
            "{:<38} {:>8.1} {:>8.1} {:>8.1} {:>8.1} {:>8.0} {:>7}",
            c.name,
            f.p50_ms,
            f.p90_ms,
            f.p99_ms,
            f.max_ms,
            f.requests_per_second,
            f.error_statuses + f.socket_errors
        );
    }
}
