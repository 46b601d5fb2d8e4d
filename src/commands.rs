//! What each subcommand does; `main` only parses and calls `run`.
use std::io::BufRead;
use std::process::ExitCode;

use anyhow::Context;
use tokio_util::sync::CancellationToken;

use crate::accounts::{self, AccountError, NewUser};
use crate::app::App;
use crate::cli::{
    Cli, Command, DirectoryCommand, KeysCommand, OrgCommand, StatsArgs, SyncArgs, UserCommand,
};
use crate::config::Settings;
use crate::db::{self, organizations};
use crate::domain::mailbox::MailboxStatus;
use crate::domain::user::Role;
use crate::mailboxes::MailDeps;
use crate::secrets::KeyRing;
use crate::sync::{self, SyncOptions};

/// Run one parsed command line to completion.
pub async fn run(cli: Cli) -> ExitCode {
    let settings = start(&cli.settings, false);
    exit_code(run_command(settings, cli.command.unwrap_or(Command::Serve)).await)
}

/// Resolve the settings and start logging (`quiet`: warnings and errors only); every command,
/// the binary's tooling ones too, starts here. The environment files were read before the
/// command line was parsed (`cli_help::matches`).
pub fn start(args: &crate::cli::SettingsArgs, quiet: bool) -> Settings {
    let settings = Settings::from_args(args);
    crate::telemetry::init(settings.json_logs, quiet);
    settings
}

/// Run one product command.
pub async fn run_command(settings: Settings, command: Command) -> anyhow::Result<()> {
    match command {
        Command::Serve => serve(settings).await,
        Command::Migrate => migrate(&settings).await,
        Command::User(UserCommand::Create { email, name, admin }) => {
            create_user(&settings, &email, &name, admin).await
        }
        Command::Org(OrgCommand::Create {
            name,
            admin_email,
            admin_name,
        }) => create_organization(&settings, &name, &admin_email, admin_name.as_deref()).await,
        Command::Org(OrgCommand::List) => list_organizations(&settings).await,
        Command::Tenant(command) => {
            // Boxed: its future is large, and every command's future is as large as the largest.
            Box::pin(crate::mailboxes::connections::commands::run(
                &settings, command,
            ))
            .await
        }
        Command::Keys(KeysCommand::Rotate) => rotate_keys(&settings).await,
        // Boxed: a tenant's directory look-up makes the pass's future large.
        Command::Sync(args) => Box::pin(sync(&settings, args)).await,
        Command::Stats(args) => stats(&settings, &args).await,
        Command::Directory(DirectoryCommand::Sync(args)) => {
            crate::directory_sync::cli::sync(&settings, &args).await
        }
        Command::Backup(args) => Ok(crate::backup::run(&settings, &args.to, args.force).await?),
        Command::Healthcheck(args) => {
            println!("{}", crate::healthcheck::check(settings.bind, &args).await?);
            Ok(())
        }
    }
}

/// Success, or the error's chain on stderr and a failure status.
pub fn exit_code(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {}", causes_once(&err));
            ExitCode::FAILURE
        }
    }
}

/// The error and its causes joined by `: `, each said once. Some layers (sea-orm's and sqlx's
/// among them) put their source in their own message too, which `{:#}` then repeats; a cause
/// whose text is already there is left out.
pub fn causes_once(err: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in err.chain() {
        let text = cause.to_string();
        if out.contains(&text) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&text);
    }
    out
}

/// One foreground pass over the active mailboxes (or the one named), with a line each.
async fn sync(settings: &Settings, args: SyncArgs) -> anyhow::Result<()> {
    let deps = MailDeps::open(settings)
        .await
        .context("cannot open the database")?;
    let named = args.account.is_some();
    let selected: Vec<_> = match (&args.account, &args.tenant) {
        (_, Some(tenant)) => {
            let picked =
                sync::tenant::select(&deps, tenant, args.filter.as_deref(), args.max_users).await?;
            for address in &picked.without_mailbox {
                eprintln!(
                    "{address}: matches the filter but has no mailbox of {} (its selection \
                     rules leave it out; `threadline directory sync` adds what they select)",
                    picked.connection.name
                );
            }
            println!(
                "tenant {}: {} mailbox(es) selected",
                picked.connection.name,
                picked.mailboxes.len()
            );
            picked
                .mailboxes
                .into_iter()
                .filter(|a| a.status != MailboxStatus::Disconnected)
                .collect()
        }
        (Some(address), None) => {
            let all = db::mail_accounts::all(&deps.db).await?;
            let picked: Vec<_> = all
                .into_iter()
                .filter(|a| a.address.eq_ignore_ascii_case(address))
                .collect();
            anyhow::ensure!(!picked.is_empty(), "no linked mailbox is called {address}");
            picked
        }
        (None, None) => db::mail_accounts::all(&deps.db)
            .await?
            .into_iter()
            .filter(|a| a.status != MailboxStatus::Disconnected)
            .collect(),
    };
    // A mailbox whose grant the provider refused, or whose owner was disabled, is paused: no
    // pass until it is reconnected (an organization mailbox: until it is resumed). A mailbox
    // its tenant's policy refused is tried (one request while the refusal lasts).
    let (paused, selected): (Vec<_>, Vec<_>) = selected.into_iter().partition(|a| {
        matches!(
            a.status,
            MailboxStatus::NeedsReconnect | MailboxStatus::Paused
        )
    });
    for account in &paused {
        let why = match account.connection_id {
            Some(_) => "paused (by the directory or an administrator; resume it first)",
            None => "paused: needs reconnecting (Reconnect it on its mailbox page)",
        };
        eprintln!("{}: {why}; not synced", account.address);
    }
    anyhow::ensure!(
        !(named && selected.is_empty() && !paused.is_empty()),
        "the mailbox needs reconnecting before it can sync"
    );
    if selected.is_empty() {
        println!("no active mailboxes to sync");
        return Ok(());
    }
    let options = SyncOptions {
        since: args.since,
        labels: (!args.folders.is_empty()).then_some(args.folders),
        ..SyncOptions::for_deps(&deps)
    };
    // The pass holds the mailbox's lease like a worker's: no worker syncs it meanwhile, and
    // if this process dies its run is closed as interrupted.
    let worker = format!("{}-cli", settings.instance_id);
    let mut failed = 0;
    for account in selected {
        let pass =
            sync::worker::sync_mailbox_now(&deps, &account, &worker, settings.sync_lease, &options);
        match pass.await {
            Ok(None) => {
                failed += 1;
                eprintln!(
                    "{}: not synced: another worker is syncing it right now",
                    account.address
                );
            }
            Ok(Some(r)) => {
                let c = &r.counts;
                println!(
                    "{}: {} sync done in {:.1}s: {} listed, {} fetched, {} stored, {} updated, \
                     {} skipped, {} deleted, {} throttled; {} requests, {} quota units",
                    r.address,
                    r.kind,
                    r.duration.as_secs_f64(),
                    c.listed,
                    c.fetched,
                    c.stored,
                    c.updated,
                    c.skipped,
                    c.deleted,
                    c.throttled,
                    c.requests,
                    r.units
                );
            }
            Err(e) => {
                failed += 1;
                eprintln!("{}: sync failed: {e}", account.address);
            }
        }
    }
    anyhow::ensure!(failed == 0, "{failed} mailbox(es) failed to sync");
    Ok(())
}

async fn stats(settings: &Settings, args: &StatsArgs) -> anyhow::Result<()> {
    let conn = db::connect(&settings.database_url)
        .await
        .context("cannot open the database")?;
    db::migrate(&conn).await.context("migration failed")?;
    let stats = sync::stats::collect(&conn).await?;
    if args.json {
        println!("{}", serde_json::to_string(&stats)?);
        return Ok(());
    }
    if stats.accounts.is_empty() {
        println!("no linked mailboxes");
    }
    for a in &stats.accounts {
        let last = a
            .last_sync_at
            .map_or_else(|| "never".to_string(), |t| t.to_rfc3339());
        let tenant = a
            .tenant
            .as_deref()
            .map(|t| format!(", tenant {t}"))
            .unwrap_or_default();
        let push = match (&a.push.state[..], &a.push.reason) {
            (mode, Some(reason)) => format!(", push {mode} ({reason})"),
            (mode, None) => format!(", push {mode}"),
        };
        println!(
            "{} ({}, {}{tenant}): {} messages, {} threads, last sync {last}{push}{}",
            a.address,
            a.provider,
            a.status,
            a.messages,
            a.threads,
            a.last_error
                .as_deref()
                .map(|e| format!(", last error: {e}"))
                .unwrap_or_default()
        );
    }
    for a in &stats.accounts {
        for line in a.reconciliation.lines(&a.address) {
            println!("{line}");
        }
    }
    for t in &stats.tenants {
        let last = t
            .last_sync_at
            .map_or_else(|| "never".to_string(), |t| t.to_rfc3339());
        println!(
            "tenant {}: {} mailboxes ({} active, {} refused, {} paused, {} failing), \
             {} messages, {} threads, last sync {last}",
            t.tenant, t.mailboxes, t.active, t.refused, t.paused, t.failing, t.messages, t.threads
        );
    }
    Ok(())
}

async fn serve(settings: Settings) -> anyhow::Result<()> {
    let app = App::build(settings).await?;
    let shutdown = CancellationToken::new();
    tracing::info!(addr = %app.addr, url = %app.settings.base_url, "Threadline is listening");
    println!(
        "Threadline is running at {} (listening on {})",
        app.settings.base_url, app.addr
    );
    let signal = shutdown.clone();
    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::info!("shutting down");
        signal.cancel();
        // A second signal while stopping: the operator will not wait for the bound.
        wait_for_signal().await;
        tracing::warn!("second signal: exiting at once; held leases expire by themselves");
        std::process::exit(130);
    });
    app.run(shutdown).await
}

/// Wait for Ctrl-C or SIGTERM.
pub async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

async fn migrate(settings: &Settings) -> anyhow::Result<()> {
    let conn = db::connect(&settings.database_url)
        .await
        .context("cannot open the database")?;
    db::migrate(&conn).await.context("migration failed")?;
    println!("database is up to date");
    Ok(())
}

async fn create_user(
    settings: &Settings,
    email: &str,
    name: &str,
    admin: bool,
) -> anyhow::Result<()> {
    let password = read_password()?;
    let new = NewUser::parse(email, name, &password)?;
    let conn = db::connect(&settings.database_url)
        .await
        .context("cannot open the database")?;
    db::migrate(&conn).await.context("migration failed")?;
    let role = if admin { Role::Admin } else { Role::Member };
    let user = match organizations::first(&conn).await? {
        Some(org) => accounts::create_user(&conn, org.id, None, new, role).await?,
        None if admin => {
            let org_name = new.email.domain().to_string();
            accounts::setup(&conn, &org_name, new).await?
        }
        None => {
            anyhow::bail!("no organization exists yet: the first user must be an admin (--admin)")
        }
    };
    println!("created {} user {} (id {})", role, user.email, user.id);
    Ok(())
}

/// The first line of standard input, without its line ending; empty is an error.
fn read_password() -> anyhow::Result<String> {
    let mut password = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut password)
        .context("cannot read the password from standard input")?;
    let password = password.trim_end_matches(['\r', '\n']);
    anyhow::ensure!(
        !password.is_empty(),
        "no password: give it on standard input (one line)"
    );
    Ok(password.to_string())
}

/// `threadline org create`: the arguments are checked before anything is read or written.
async fn create_organization(
    settings: &Settings,
    org_name: &str,
    admin_email: &str,
    admin_name: Option<&str>,
) -> anyhow::Result<()> {
    let flag = |field: &str| match field {
        "organization" => "--name",
        "email" => "--admin-email",
        "name" => "--admin-name",
        _ => "the password (standard input)",
    };
    let said = |e: AccountError| match e {
        AccountError::Invalid { field, message } => anyhow::anyhow!("{}: {message}", flag(field)),
        other => other.into(),
    };
    crate::domain::user::parse_name(org_name).map_err(|m| anyhow::anyhow!("--name: {m}"))?;
    let email = crate::domain::address::EmailAddress::parse(admin_email)
        .map_err(|e| anyhow::anyhow!("--admin-email: {e}"))?;
    let name = admin_name.unwrap_or_else(|| email.local_part()).to_string();
    let password = read_password()?;
    let admin = NewUser::parse(admin_email, &name, &password).map_err(said)?;
    let conn = db::connect(&settings.database_url)
        .await
        .context("cannot open the database")?;
    db::migrate(&conn).await.context("migration failed")?;
    let (org, user) = accounts::create_organization(&conn, org_name, admin)
        .await
        .map_err(said)?;
    println!(
        "created organization {} (id {}) with admin {} (user id {})",
        org.name, org.id, user.email, user.id
    );
    Ok(())
}

/// `threadline org list`: one line per organization, tab-separated, with a header.
async fn list_organizations(settings: &Settings) -> anyhow::Result<()> {
    let conn = db::connect(&settings.database_url)
        .await
        .context("cannot open the database")?;
    db::migrate(&conn).await.context("migration failed")?;
    println!("id\tname\tusers\tactive_admins");
    for o in organizations::list(&conn).await? {
        println!(
            "{}\t{}\t{}\t{}",
            o.organization.id, o.organization.name, o.users, o.active_admins
        );
    }
    Ok(())
}

async fn rotate_keys(settings: &Settings) -> anyhow::Result<()> {
    let conn = db::connect(&settings.database_url)
        .await
        .context("cannot open the database")?;
    db::migrate(&conn).await.context("migration failed")?;
    let ring = KeyRing::load_or_create(settings.secret_key.as_deref(), &settings.data_dir)?;
    // Everything stored must open before anything is rewritten.
    crate::mailboxes::keys::check(&conn, &ring).await?;
    let ring = if settings.secret_key.is_none() {
        let ring = KeyRing::add_key_to_file(&settings.data_dir)?;
        println!(
            "added key {} to {}",
            ring.current().id,
            settings.data_dir.join(crate::secrets::KEY_FILE).display()
        );
        ring
    } else {
        ring
    };
    let n = crate::mailboxes::keys::reencrypt(&conn, &ring).await?;
    println!(
        "re-encrypted {n} stored credential(s) with key {}",
        ring.current().id
    );
    Ok(())
}
