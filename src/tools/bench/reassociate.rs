//! `threadline bench reassociate`: seed stored mail in bulk, then time re-association after a
//! domain is added to a business, through the same path as the edit form's Apply (small sets
//! in the request, large ones through the background job, run here to the end).
use std::time::Instant;

use anyhow::Context;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};
use serde::Serialize;

use super::seed::{self, Plan};
use crate::tools::args::BenchReassociateArgs;
use threadline::config::Settings;
use threadline::db::directory::businesses::{self, BusinessInput};
use threadline::db::{organizations, users};
use threadline::domain::address::EmailAddress;
use threadline::domain::domains::Domain;
use threadline::domain::user::Role;
use threadline::reassociation::{self, job, Edit};

#[derive(Debug, Serialize)]
struct Case {
    name: &'static str,
    domain: &'static str,
    affected_emails: u64,
    gained: u64,
    lost: u64,
    queued: bool,
    seconds: f64,
}

#[derive(Debug, Serialize)]
struct Report {
    database: &'static str,
    emails: u64,
    domains: u64,
    seed_seconds: f64,
    cases: Vec<Case>,
}

pub async fn run(mut settings: Settings, args: &BenchReassociateArgs) -> anyhow::Result<()> {
    let database = if settings.is_sqlite() {
        let dir = settings.data_dir.join("bench-reassociate");
        if dir.exists() {
            std::fs::remove_dir_all(&dir)?;
        }
        std::fs::create_dir_all(&dir)?;
        settings.database_url = format!("sqlite://{}?mode=rwc", dir.join("bench.db").display());
        "sqlite"
    } else {
        "postgres"
    };
    let db = threadline::db::connect(&settings.database_url).await?;
    if database == "postgres" {
        ensure_empty(&db).await?;
    }
    threadline::db::migrate(&db).await?;
    let org = organizations::create(&db, "Bench").await?;
    let email = EmailAddress::parse("bench@ourco.com")?;
    let actor = users::create(&db, org.id, &email, "Bench", Role::Admin, "-".into())
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .id;
    let plan = Plan {
        emails: args.emails,
        domains: args.domains,
        heavy: args.heavy,
        businesses: true,
    };
    eprintln!(
        "seeding {} emails over {} domains ...",
        args.emails, args.domains
    );
    let started = Instant::now();
    seed::seed(&db, org.id, plan).await?;
    if database == "postgres" {
        db.execute_unprepared("ANALYZE").await?;
    }
    let seed_seconds = started.elapsed().as_secs_f64();
    let mut input = BusinessInput {
        name: "Target".into(),
        notes: String::new(),
        domains: vec![Domain::parse("target.com")?],
    };
    let target = businesses::create(&db, org.id, actor, &input).await?;
    let mut cases = Vec::new();
    for (name, domain) in [
        ("one domain", "benchco0.com"),
        ("heavy domain", "heavyco.com"),
    ] {
        input.domains.push(Domain::parse(domain)?);
        cases.push(measure(&db, org.id, actor, target, &input, name, domain).await?);
    }
    let report = Report {
        database,
        emails: args.emails,
        domains: args.domains,
        seed_seconds,
        cases,
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!(
            "{} emails, {} domains on {database}; seeded in {:.1}s",
            report.emails, report.domains, report.seed_seconds
        );
        for c in &report.cases {
            println!(
                "add {:<13} {:>7} emails affected, {:>7} gained, {:>3} lost, {} in {:.3}s",
                c.domain,
                c.affected_emails,
                c.gained,
                c.lost,
                if c.queued { "job" } else { "inline" },
                c.seconds
            );
        }
    }
    Ok(())
}

async fn measure(
    db: &DatabaseConnection,
    org_id: i64,
    actor: i64,
    target: i64,
    input: &BusinessInput,
    name: &'static str,
    domain: &'static str,
) -> anyhow::Result<Case> {
    let started = Instant::now();
    let saved = reassociation::save(db, org_id, actor, Edit::UpdateBusiness(target, input)).await?;
    let queued = saved.done.is_none();
    let mut done = saved.done.unwrap_or_default();
    if queued {
        while let Some(counts) = job::run_next(db, "bench").await? {
            done = counts;
        }
    }
    Ok(Case {
        name,
        domain,
        affected_emails: saved.affected,
        gained: done.gained,
        lost: done.lost,
        queued,
        seconds: started.elapsed().as_secs_f64(),
    })
}

async fn ensure_empty(db: &DatabaseConnection) -> anyhow::Result<()> {
    let row = db
        .query_one(Statement::from_string(
            DbBackend::Postgres,
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'",
        ))
        .await?
        .context("no answer")?;
    let tables: i64 = row.try_get_by_index(0)?;
    anyhow::ensure!(
        tables == 0,
        "DATABASE_URL must name an empty PostgreSQL database (it has {tables} tables)"
    );
    Ok(())
}
