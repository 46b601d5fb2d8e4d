//! What `bench push` drives: linking the generated mailboxes through OAuth, one `threadline
//! serve` child with push on or off, and the database and emulator figures it watches.
use std::collections::{BTreeMap, HashSet};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::Context;
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};
use tokio::process::{Child, Command};
use tokio_util::sync::CancellationToken;

use super::sync::{ADMIN, PASSWORD};
use crate::tools::driver::Browser;
use threadline::accounts::{self, NewUser};
use threadline::app::App;
use threadline::config::Settings;
use threadline::config_push::GMAIL_PATH;
use threadline_emulator::corpus::mailbox_info;
use threadline_emulator::store::Provider as EmulatedProvider;
use threadline_emulator::EmulatorClient;

/// The Pub/Sub topic the Gmail mailboxes are watched on, and how its pushes are signed.
pub const TOPIC: &str = "projects/threadline-bench/topics/gmail";
pub const SERVICE_ACCOUNT: &str = "gmail-push@threadline-bench.iam.gserviceaccount.com";
pub const AUDIENCE: &str = "threadline-bench-gmail-push";

/// Sign up the bench organization and link the generated mailboxes `indexes` through the
/// OAuth flow on an in-process app without workers (listening on `bind`).
pub async fn link(settings: &Settings, indexes: &[usize]) -> anyhow::Result<BTreeMap<i64, String>> {
    let app = App::build(settings.clone()).await?;
    let base = app.settings.base_url.clone();
    let db = app.db.clone();
    let shutdown = CancellationToken::new();
    let server = tokio::spawn(app.run(shutdown.clone()));
    let admin = NewUser::parse(ADMIN, "Bench", PASSWORD)?;
    accounts::setup(&db, "Bench", admin)
        .await
        .context("the bench needs an empty database (unset DATABASE_URL for a fresh SQLite one)")?;
    let browser = Browser::new(&base)?;
    browser.sign_in(ADMIN, PASSWORD).await?;
    for &i in indexes {
        let info = mailbox_info(i);
        let provider = match info.provider {
            EmulatedProvider::Google => "google",
            EmulatedProvider::Microsoft => "microsoft",
        };
        browser
            .connect(provider, &info.address)
            .await
            .with_context(|| format!("linking {}", info.address))?;
    }
    shutdown.cancel();
    let _ = server.await;
    Ok(threadline::db::mail_accounts::all(&db)
        .await?
        .into_iter()
        .map(|a| (a.id, a.address))
        .collect())
}

/// Where the emulator pushes the bench topic's Gmail notifications, signed for [`AUDIENCE`].
pub async fn register_topic(emulator: &str, threadline: &str) -> anyhow::Result<()> {
    let topic = serde_json::json!({
        "topic": TOPIC,
        "push_endpoint": format!("{threadline}{GMAIL_PATH}"),
        "subscription": "projects/threadline-bench/subscriptions/gmail-push",
        "audience": AUDIENCE,
        "service_account": SERVICE_ACCOUNT,
    });
    reqwest::Client::new()
        .post(format!("{emulator}/_emulator/pubsub/topics"))
        .json(&topic)
        .send()
        .await?
        .error_for_status()?;
    Ok(())
}

/// `threadline serve` on `port` with the bench's database, data directory and emulator, push
/// on (against the emulator, plain http on loopback) or off (polling only).
pub fn spawn_serve(
    settings: &Settings,
    emulator: &str,
    port: u16,
    push: bool,
) -> anyhow::Result<Child> {
    let name = if push { "push-on" } else { "push-off" };
    let urls = &settings.provider_urls;
    let google = settings.google.as_ref().context("no Google client")?;
    let microsoft = settings.microsoft.as_ref().context("no Microsoft client")?;
    let log = std::fs::File::create(settings.data_dir.join(format!("serve-{name}.log")))?;
    let exe = std::env::current_exe().context("cannot find the threadline executable")?;
    let mut command = Command::new(exe);
    command
        .arg("serve")
        .args(["--database-url", &settings.database_url])
        .args(["--bind", &format!("127.0.0.1:{port}")])
        .env("THREADLINE_BASE_URL", format!("http://127.0.0.1:{port}"))
        .args(["--data-dir", &settings.data_dir.display().to_string()])
        .args([
            "--instance-id",
            &format!("bench-{name}"),
            "--job-workers",
            "0",
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
        .args(["--graph-api-url", &urls.graph_api]);
    if push {
        command
            .env("THREADLINE_PUSH", "on")
            .env("GOOGLE_PUBSUB_TOPIC", TOPIC)
            .env("GOOGLE_PUBSUB_SERVICE_ACCOUNT", SERVICE_ACCOUNT)
            .env("GOOGLE_PUBSUB_AUDIENCE", AUDIENCE)
            .env("GOOGLE_CERTS_URL", format!("{emulator}/oauth2/v3/certs"));
    } else {
        command.env("THREADLINE_PUSH", "off");
    }
    command
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .kill_on_drop(true)
        .spawn()
        .context("cannot start threadline serve")
}

/// Ask the instance to shut down (its workers give their leases back), then make sure.
pub async fn stop(mut child: Child) {
    super::multi::stop(&mut child).await;
}

async fn count(db: &DatabaseConnection, sql: &str) -> anyhow::Result<i64> {
    let row = db
        .query_one(Statement::from_string(db.get_database_backend(), sql))
        .await?;
    Ok(match row {
        Some(row) => row.try_get("", "n")?,
        None => 0,
    })
}

/// Mailboxes with a successful pass.
pub async fn synced(db: &DatabaseConnection) -> anyhow::Result<i64> {
    count(
        db,
        "SELECT COUNT(DISTINCT account_id) AS n FROM sync_runs WHERE status = 'succeeded'",
    )
    .await
}

/// Sync passes started so far.
pub async fn runs(db: &DatabaseConnection) -> anyhow::Result<i64> {
    count(db, "SELECT COUNT(*) AS n FROM sync_runs").await
}

/// Passes running now.
pub async fn running(db: &DatabaseConnection) -> anyhow::Result<i64> {
    count(
        db,
        "SELECT COUNT(*) AS n FROM jobs WHERE kind = 'sync_account' AND state = 'running'",
    )
    .await
}

/// Sync passes running now or due now (the instance still has work queued).
pub async fn busy(db: &DatabaseConnection) -> anyhow::Result<i64> {
    let backend = db.get_database_backend();
    let at = if backend == sea_orm::DbBackend::Postgres {
        "$1"
    } else {
        "?"
    };
    let sql = format!(
        "SELECT COUNT(*) AS n FROM jobs WHERE kind = 'sync_account' \
         AND (state = 'running' OR (state = 'queued' AND run_at <= {at}))"
    );
    let row = db
        .query_one(Statement::from_sql_and_values(
            backend,
            sql,
            [threadline::db::now().into()],
        ))
        .await?;
    Ok(match row {
        Some(row) => row.try_get("", "n")?,
        None => 0,
    })
}

/// Mailboxes by push state (`none` for those without a push row).
pub async fn push_states(
    db: &DatabaseConnection,
    mailboxes: usize,
) -> anyhow::Result<BTreeMap<String, u64>> {
    let rows = db
        .query_all(Statement::from_string(
            db.get_database_backend(),
            "SELECT state, COUNT(*) AS n FROM mailbox_push GROUP BY state",
        ))
        .await?;
    let mut out = BTreeMap::new();
    for row in rows {
        let n: i64 = row.try_get("", "n")?;
        out.insert(row.try_get("", "state")?, u64::try_from(n).unwrap_or(0));
    }
    let with_row: u64 = out.values().sum();
    let none = (mailboxes as u64).saturating_sub(with_row);
    if none > 0 {
        out.insert("none".into(), none);
    }
    Ok(out)
}

/// Stored emails after `after` (by id) whose Message-ID carries the bench's tag: the highest
/// id seen and the delivery numbers found.
pub async fn stored_tags(
    db: &DatabaseConnection,
    after: i64,
    tag: &str,
) -> anyhow::Result<(i64, Vec<usize>)> {
    let rows = db
        .query_all(Statement::from_sql_and_values(
            db.get_database_backend(),
            match db.get_database_backend() {
                sea_orm::DbBackend::Postgres => {
                    "SELECT id, message_key FROM emails WHERE id > $1 ORDER BY id"
                }
                _ => "SELECT id, message_key FROM emails WHERE id > ? ORDER BY id",
            },
            [after.into()],
        ))
        .await?;
    let mut max = after;
    let mut found = Vec::new();
    for row in rows {
        let id: i64 = row.try_get("", "id")?;
        let key: String = row.try_get("", "message_key")?;
        max = max.max(id);
        if let Some(at) = key.find(tag) {
            let digits: String = key[at + tag.len()..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            if let Ok(n) = digits.parse() {
                found.push(n);
            }
        }
    }
    Ok((max, found))
}

/// Provider requests the emulator counted for `mailboxes` so far.
pub async fn requests(client: &EmulatorClient, mailboxes: &HashSet<String>) -> anyhow::Result<u64> {
    let report = client.stats().await.context("emulator stats")?;
    Ok(report
        .requests
        .iter()
        .filter(|e| mailboxes.contains(&e.mailbox.to_ascii_lowercase()))
        .map(|e| e.stats.requests)
        .sum())
}

/// Wait until `done` says so (checked every half second), at most `limit`.
pub async fn wait_until<F, Fut>(limit: Duration, mut done: F) -> anyhow::Result<bool>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<bool>>,
{
    let started = Instant::now();
    loop {
        if done().await? {
            return Ok(true);
        }
        if started.elapsed() >= limit {
            return Ok(false);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}
