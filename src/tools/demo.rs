//! `threadline demo`: Threadline plus an in-process provider emulator with seeded Gmail and
//! Outlook mailboxes, a demo admin whose first Gmail and Outlook mailboxes are linked through
//! the real OAuth flow (the demo drives its own web app like a browser), more mailboxes left to
//! link by hand, businesses and contacts that match the seeded mail, and an emulated Microsoft
//! 365 tenant and Google Workspace domain connected organization-wide (`demo_org`). Each run
//! starts from a fresh demo database in its own data directory.
use anyhow::Context;
use tokio_util::sync::CancellationToken;

use crate::tools::args::DemoArgs;
use crate::tools::demo_org;
use crate::tools::driver::Browser;
use threadline::accounts::{self, NewUser};
use threadline::app::App;
use threadline::config::{OAuthClient, ProviderUrls, Settings};
use threadline::config_push::{PushMode, PushSettings};
use threadline::db::directory;
use threadline::domain::address::EmailAddress;
use threadline::domain::domains::registrable;
use threadline_emulator::corpus::mailbox_info;
use threadline_emulator::corpus::people::{BUSINESSES, ORG_DOMAIN};
use threadline_emulator::store::Provider as EmuProvider;
use threadline_emulator::{self as emulator, EmulatorConfig, Quota, RunningEmulator, Tunables};

pub const ADMIN_EMAIL: &str = "admin@demo.test";
/// The Pub/Sub topic the demo's Gmail mailboxes are watched on, the service account its pushes
/// are signed as and their audience (registered on the emulator, given to Threadline).
const PUBSUB_TOPIC: &str = "projects/threadline-demo/topics/gmail";
const PUBSUB_SERVICE_ACCOUNT: &str = "gmail-push@threadline-demo.iam.gserviceaccount.com";
const PUBSUB_AUDIENCE: &str = "threadline-demo-gmail-push";
const SEEDED_MAILBOXES: usize = 4;
/// Where the demo serves /metrics by default (Prometheus exporters' customary port).
const DEMO_METRICS_PORT: u16 = 9464;
const MESSAGES_PER_MAILBOX: usize = 500;

/// Run the demo until a shutdown signal.
pub async fn run(
    mut settings: Settings,
    args: DemoArgs,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let config = EmulatorConfig {
        seed: 1,
        mailboxes: SEEDED_MAILBOXES,
        messages: MESSAGES_PER_MAILBOX,
        quota: Quota::Realistic,
        auto_consent: true,
        tunables: Tunables {
            latency: args.latency.into(),
            ..Tunables::default()
        },
        ..EmulatorConfig::default()
    };
    let emulator = emulator::start(args.emulator_bind, config)
        .await
        .with_context(|| {
            format!(
                "cannot start the provider emulator on {}",
                args.emulator_bind
            )
        })?;
    prepare_settings(&mut settings, &emulator)?;
    let app = App::build(settings).await?;
    let env_file = write_env_file(&app.settings).context("cannot write the demo's demo.env")?;
    let base = app.settings.base_url.clone();
    let metrics = app.metrics_addr.map(|a| format!("http://{a}/metrics"));
    let db = app.db.clone();
    let deps = app.mail_deps();
    let worker = format!("{}-demo", app.settings.instance_id);
    let push_on = app.settings.push.mode != PushMode::Off;
    let safety_net_min = app.settings.push.poll_seconds / 60;
    if push_on {
        register_topic(&emulator, &base)
            .await
            .context("cannot register the demo's Pub/Sub topic on the emulator")?;
    }
    let server = tokio::spawn(app.run(shutdown.clone()));

    // The contract's well-known demo password ("demo") is shorter than the password policy
    // allows; the demo admin is the one account created without that check.
    let admin = NewUser {
        email: EmailAddress::parse(ADMIN_EMAIL)?,
        name: "Demo Admin".into(),
        password: args.admin_password.clone(),
    };
    let user = accounts::setup(&db, "Northwind Labs", admin)
        .await
        .context(
        "the demo creates its own organization: unset DATABASE_URL to use the demo's own SQLite \
         database, or point it at an empty PostgreSQL database",
    )?;
    seed_directory(&db, user.organization_id).await?;
    let linked = link_admin_mailboxes(&base, &args.admin_password).await?;
    // From now on the emulator shows its consent page, so people choose which mailbox to link.
    emulator.state.settings.write().auto_consent = false;
    // The demo stays useful without them: the personal mailboxes still sync.
    let organization =
        match demo_org::connect(&emulator.client(), &deps, user.organization_id, &worker).await {
            Ok(lines) => lines,
            Err(err) => {
                eprintln!(
                    "warning: could not connect the emulated tenant and domain: {}",
                    threadline::commands::causes_once(&err)
                );
                Vec::new()
            }
        };

    println!("Threadline demo is running at {base}");
    println!(
        "  sign in as {ADMIN_EMAIL} with password {:?}",
        args.admin_password
    );
    println!("  linked through OAuth: {}", linked.join(", "));
    println!(
        "  provider emulator (Gmail, Outlook) at {}",
        emulator.base_url
    );
    if let Some(url) = &metrics {
        println!("  Prometheus metrics (no token, this machine only) at {url}");
    }
    for line in &organization {
        println!("  organization-wide (Connections): {line}");
    }
    if !organization.is_empty() {
        println!(
            "  see Connections, Mailboxes (all mailboxes) and the businesses' timelines \
             (support@ requests)"
        );
    }
    if push_on {
        println!(
            "  push on: Outlook mailboxes get Graph change notifications and Gmail mailboxes a \
             watch on {PUBSUB_TOPIC}, so new mail shows within seconds (polling every \
             {safety_net_min} min as a safety net); see each mailbox's page"
        );
    }
    println!(
        "  command line against this demo: threadline --demo stats (settings in {})",
        env_file.display()
    );
    server.await.context("web server task")??;
    emulator.shutdown().await;
    Ok(())
}

/// Demo data lives apart from a real installation, and every run starts fresh.
fn prepare_settings(settings: &mut Settings, emulator: &RunningEmulator) -> anyhow::Result<()> {
    let demo_dir = settings.data_dir.join("demo");
    if demo_dir.exists() {
        std::fs::remove_dir_all(&demo_dir)
            .with_context(|| format!("cannot reset {}", demo_dir.display()))?;
    }
    std::fs::create_dir_all(&demo_dir)?;
    // Absolute, so the demo.env written from these works from any directory.
    let demo_dir = demo_dir.canonicalize()?;
    if settings.is_sqlite() {
        settings.database_url = format!("sqlite://{}?mode=rwc", demo_dir.join("demo.db").display());
    }
    settings.data_dir = demo_dir;
    settings.provider_urls = ProviderUrls::all_at(&emulator.base_url);
    settings.google = Some(OAuthClient {
        client_id: "threadline-demo.apps.googleusercontent.com".into(),
        client_secret: "demo-google-secret".into(),
    });
    settings.microsoft = Some(OAuthClient {
        client_id: "0b4c3f2e-7d1a-4e5b-9c8f-3a2d1e0f9b8c".into(),
        client_secret: "demo-microsoft-secret".into(),
    });
    push_settings(&mut settings.push, &emulator.base_url);
    if settings.metrics_bind.is_none() {
        settings.metrics_bind = default_metrics_bind();
    }
    Ok(())
}

/// `/metrics` on 127.0.0.1:9464 unless the operator chose an address (`--metrics-bind`); when
/// that port is taken, the demo runs without it.
fn default_metrics_bind() -> Option<std::net::SocketAddr> {
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], DEMO_METRICS_PORT));
    match std::net::TcpListener::bind(addr) {
        Ok(probe) => {
            drop(probe);
            Some(addr)
        }
        Err(e) => {
            eprintln!("warning: not serving /metrics on {addr} ({e}); choose --metrics-bind");
            None
        }
    }
}

/// `<demo data dir>/demo.env` (0600): what a command needs to reach this demo's database and
/// emulator, read by `threadline --demo <command>`.
fn write_env_file(settings: &Settings) -> anyhow::Result<std::path::PathBuf> {
    let urls = &settings.provider_urls;
    let mut vars = vec![
        ("DATABASE_URL", settings.database_url.clone()),
        (
            "THREADLINE_DATA_DIR",
            settings.data_dir.display().to_string(),
        ),
        ("THREADLINE_BASE_URL", settings.base_url.clone()),
        ("GOOGLE_ACCOUNTS_URL", urls.google_accounts.clone()),
        ("GOOGLE_OAUTH2_URL", urls.google_oauth2.clone()),
        ("GOOGLE_OPENID_URL", urls.google_openid.clone()),
        ("GMAIL_API_URL", urls.gmail_api.clone()),
        ("GOOGLE_ADMIN_URL", urls.google_admin.clone()),
        ("MICROSOFT_LOGIN_URL", urls.microsoft_login.clone()),
        ("GRAPH_API_URL", urls.graph_api.clone()),
        ("MICROSOFT_TENANT", settings.microsoft_tenant.clone()),
    ];
    for (id, secret, client) in [
        ("GOOGLE_CLIENT_ID", "GOOGLE_CLIENT_SECRET", &settings.google),
        (
            "MICROSOFT_CLIENT_ID",
            "MICROSOFT_CLIENT_SECRET",
            &settings.microsoft,
        ),
    ] {
        if let Some(client) = client {
            vars.push((id, client.client_id.clone()));
            vars.push((secret, client.client_secret.clone()));
        }
    }
    // A command's pass keeps push up as the demo's own workers do.
    let push = &settings.push;
    let mode = if push.mode == PushMode::Off {
        "off"
    } else {
        "on"
    };
    vars.push(("THREADLINE_PUSH", mode.into()));
    for (key, value) in [
        ("GOOGLE_PUBSUB_TOPIC", &push.pubsub_topic),
        (
            "GOOGLE_PUBSUB_SERVICE_ACCOUNT",
            &push.pubsub_service_account,
        ),
        ("GOOGLE_PUBSUB_AUDIENCE", &push.pubsub_audience),
    ] {
        if let Some(value) = value {
            vars.push((key, value.clone()));
        }
    }
    vars.push(("GOOGLE_CERTS_URL", push.certs_url.clone()));
    // The demo's tokens are sealed with this key when one was given (else the key file in
    // THREADLINE_DATA_DIR).
    if let Some(key) = &settings.secret_key {
        vars.push(("THREADLINE_SECRET_KEY", key.clone()));
    }
    let path = settings.data_dir.join(threadline::env_file::DEMO_FILE);
    threadline::env_file::write(
        &path,
        "Written by `threadline demo` at each start: the demo's database, emulator and OAuth\n\
         clients. `threadline --demo <command>` (or THREADLINE_ENV_FILE=this file) reads it.",
        &vars,
    )?;
    Ok(path)
}

/// Push on against the emulator (which may call Threadline's plain-http loopback URL), unless
/// the operator turned it off with THREADLINE_PUSH=off: Gmail watches on the demo topic,
/// pushes verified with the emulator's keys.
fn push_settings(push: &mut PushSettings, emulator_url: &str) {
    if push.mode == PushMode::Off {
        return;
    }
    push.mode = PushMode::On;
    push.pubsub_topic = Some(PUBSUB_TOPIC.into());
    push.pubsub_service_account = Some(PUBSUB_SERVICE_ACCOUNT.into());
    push.pubsub_audience = Some(PUBSUB_AUDIENCE.into());
    push.certs_url = format!("{emulator_url}/oauth2/v3/certs");
}

/// Tell the emulator where the demo topic's pushes go and how to sign them
/// (`POST /_emulator/pubsub/topics` with its `audience` and `service_account`).
async fn register_topic(emulator: &RunningEmulator, base: &str) -> anyhow::Result<()> {
    let topic = serde_json::json!({
        "topic": PUBSUB_TOPIC,
        "push_endpoint": format!("{base}{}", threadline::config_push::GMAIL_PATH),
        "subscription": "projects/threadline-demo/subscriptions/gmail-push",
        "audience": PUBSUB_AUDIENCE,
        "service_account": PUBSUB_SERVICE_ACCOUNT,
    });
    reqwest::Client::new()
        .post(format!("{}/_emulator/pubsub/topics", emulator.base_url))
        .json(&topic)
        .send()
        .await?
        .error_for_status()?;
    Ok(())
}

/// The organization's internal domain, and a business and contacts per seeded business.
async fn seed_directory(db: &sea_orm::DatabaseConnection, org_id: i64) -> anyhow::Result<()> {
    directory::add_internal_domain(db, org_id, ORG_DOMAIN).await?;
    for business in BUSINESSES {
        let domain =
            registrable(business.mail_domain).unwrap_or_else(|| business.mail_domain.into());
        let row = directory::create_business(db, org_id, business.name, &[domain]).await?;
        for (name, local) in business.contacts {
            let address = format!("{local}@{}", business.mail_domain);
            directory::create_contact(db, org_id, Some(row.id), name, &[address]).await?;
        }
    }
    Ok(())
}

/// Sign in as the admin and press "Connect Gmail" and "Connect Outlook" for the first two
/// seeded mailboxes (one of each provider), answering consent as that mailbox.
async fn link_admin_mailboxes(base: &str, password: &str) -> anyhow::Result<Vec<String>> {
    let browser = Browser::new(base)?;
    browser.sign_in(ADMIN_EMAIL, password).await?;
    let mut linked = Vec::new();
    for index in 0..2 {
        let info = mailbox_info(index);
        let path = match info.provider {
            EmuProvider::Google => "google",
            EmuProvider::Microsoft => "microsoft",
        };
        match browser.connect(path, &info.address).await {
            Ok(()) => linked.push(info.address),
            // The demo stays useful without it: the mailbox can be linked by hand.
            Err(err) => eprintln!(
                "warning: could not link {}: {}",
                info.address,
                threadline::commands::causes_once(&err)
            ),
        }
    }
    Ok(linked)
}
