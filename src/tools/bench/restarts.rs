//! `threadline bench sync --kill-every MIN-MAX`: a mailbox's first sync while the app is killed
//! again and again (deploys, crashes). The sync runs in a `threadline serve` child (one sync
//! worker, a fixed instance id, so a restarted instance takes its own leases back at once)
//! that is killed with SIGKILL after a random time in the range and started again at once,
//! until the first sync has completed. The stored count is sampled at every kill.
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::Context;
use rand::Rng as _;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter};
use serde::Serialize;
use tokio::process::Command;

use threadline::config::Settings;
use threadline::db::entities::{emails, sync_runs};
use threadline::domain::sync_run::{RunKind, RunStatus};

/// What the app had stored when it was killed.
#[derive(Debug, Clone, Serialize)]
pub struct Kill {
    pub at_seconds: f64,
    pub stored: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct KilledSync {
    /// Seconds from the first start until the first sync completed (None: it did not within
    /// the time limit).
    pub completed_after_seconds: Option<f64>,
    pub stored_messages: u64,
    pub kills: Vec<Kill>,
}

/// Run the first sync of `account_id` in `serve` children killed every `range` seconds.
pub async fn run(
    settings: &Settings,
    db: &DatabaseConnection,
    account_id: i64,
    range: (u64, u64),
    limit: Duration,
) -> anyhow::Result<KilledSync> {
    let started = Instant::now();
    let mut kills = Vec::new();
    let mut done = None;
    while done.is_none() && started.elapsed() < limit {
        let mut child = serve(settings)?;
        let life =
            Duration::from_millis(rand::thread_rng().gen_range(range.0 * 1000..=range.1 * 1000));
        let until = Instant::now() + life;
        while Instant::now() < until {
            tokio::time::sleep(Duration::from_millis(200)).await;
            if completed(db, account_id).await? {
                done = Some(started.elapsed());
                break;
            }
            if let Some(status) = child.try_wait()? {
                anyhow::bail!("threadline serve exited by itself ({status})");
            }
        }
        child.start_kill()?;
        let _ = child.wait().await;
        let stored = stored(db, account_id).await?;
        let at = started.elapsed().as_secs_f64();
        eprintln!("  killed after {at:.1} s: {stored} stored");
        kills.push(Kill {
            at_seconds: at,
            stored,
        });
    }
    Ok(KilledSync {
        completed_after_seconds: done.map(|d| d.as_secs_f64()),
        stored_messages: stored(db, account_id).await?,
        kills,
    })
}

/// `threadline serve` (this executable) on the bench's database and emulator: one sync worker,
/// a fixed instance id, any free port.
fn serve(settings: &Settings) -> anyhow::Result<tokio::process::Child> {
    let exe = std::env::current_exe().context("cannot find the threadline executable")?;
    let urls = &settings.provider_urls;
    let mut cmd = Command::new(exe);
    cmd.arg("serve")
        .env("DATABASE_URL", &settings.database_url)
        .env("THREADLINE_DATA_DIR", &settings.data_dir)
        .env("THREADLINE_BIND", "127.0.0.1:0")
        .env("THREADLINE_BASE_URL", &settings.base_url)
        .env("THREADLINE_INSTANCE_ID", "bench-killed")
        .env("THREADLINE_SYNC_WORKERS", "1")
        .env("THREADLINE_JOB_WORKERS", "0")
        .env(
            "THREADLINE_GMAIL_UNITS_PER_MINUTE",
            settings.gmail_units_per_minute.to_string(),
        )
        .env(
            "THREADLINE_GRAPH_REQUESTS_PER_10_MINUTES",
            settings.graph_requests_per_10_minutes.to_string(),
        )
        .env("GOOGLE_ACCOUNTS_URL", &urls.google_accounts)
        .env("GOOGLE_OAUTH2_URL", &urls.google_oauth2)
        .env("GOOGLE_OPENID_URL", &urls.google_openid)
        .env("GMAIL_API_URL", &urls.gmail_api)
        .env("MICROSOFT_LOGIN_URL", &urls.microsoft_login)
        .env("GRAPH_API_URL", &urls.graph_api)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true);
    if let Some(key) = &settings.secret_key {
        cmd.env("THREADLINE_SECRET_KEY", key);
    }
    if let Some(g) = &settings.google {
        cmd.env("GOOGLE_CLIENT_ID", &g.client_id)
            .env("GOOGLE_CLIENT_SECRET", &g.client_secret);
    }
    if let Some(m) = &settings.microsoft {
        cmd.env("MICROSOFT_CLIENT_ID", &m.client_id)
            .env("MICROSOFT_CLIENT_SECRET", &m.client_secret)
            .env("MICROSOFT_TENANT", &settings.microsoft_tenant);
    }
    cmd.spawn().context("cannot start threadline serve")
}

/// Whether a first sync (initial or resync) of the mailbox has succeeded.
async fn completed(db: &DatabaseConnection, account_id: i64) -> anyhow::Result<bool> {
    let n = sync_runs::Entity::find()
        .filter(sync_runs::Column::AccountId.eq(account_id))
        .filter(sync_runs::Column::Status.eq(RunStatus::Succeeded))
        .filter(sync_runs::Column::Kind.is_in([RunKind::Initial, RunKind::Resync]))
        .count(db)
        .await?;
    Ok(n > 0)
}

async fn stored(db: &DatabaseConnection, account_id: i64) -> anyhow::Result<u64> {
    Ok(emails::Entity::find()
        .filter(emails::Column::AccountId.eq(account_id))
        .count(db)
        .await?)
}
