//! The command line (`shared/CONTRACTS.md`): subcommands, and every setting as a flag that falls
//! back to its environment variable.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "threadline",
    version,
    about = "Threadline: a self-hosted CRM email timeline for Gmail and Outlook mailboxes",
    long_about = "Threadline syncs linked Gmail and Outlook / Microsoft 365 mailboxes and shows \
                  each business's and contact's email history as thread-grouped timelines.\n\n\
                  Settings come from the environment (a .env file in the working directory is \
                  read first, then the file of --demo or THREADLINE_ENV_FILE) or from the flags \
                  under \"Settings\" below; flags win. They apply to every command; the \
                  operator's guide is docs/operator-guide.md."
)]
pub struct Cli {
    #[command(flatten)]
    pub settings: SettingsArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Web app + background sync workers (the default); migrates the database first.
    Serve,
    /// Apply pending database migrations, then exit.
    Migrate,
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// Organizations hosted by this installation (platform operator commands).
    #[command(subcommand)]
    Org(OrgCommand),
    /// One sync pass in the foreground; prints a summary, exits non-zero on failure.
    Sync(SyncArgs),
    /// Per mailbox: messages, threads, last sync, status, errors.
    Stats(StatsArgs),
    /// Organization-wide connections: Microsoft 365 tenants (app-only) and Google Workspace
    /// domains (domain-wide delegation).
    ///
    /// Secrets are never taken on the command line: a client secret is read from
    /// `--secret-file` or standard input, a certificate (PEM with the certificate and its private
    /// key) from `--certificate-file`, a Google service account JSON key from `--key-file` or
    /// standard input (`-` as a file name means standard input). With several organizations on
    /// this installation, choose one with `--org ID` (see `threadline org list`).
    #[command(subcommand)]
    Tenant(TenantCommand),
    /// The directories of organization-wide connections (Microsoft 365, Google Workspace).
    #[command(subcommand)]
    Directory(DirectoryCommand),
    /// Manage the keys that encrypt stored OAuth tokens.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Ask a running `threadline serve` whether it is healthy: GET its /healthz (or --path) on
    /// the bind address, exit 0 on 200 and 1 otherwise (a container's HEALTHCHECK).
    Healthcheck(crate::healthcheck::HealthcheckArgs),
    /// Copy the SQLite database to a file while Threadline runs: a consistent snapshot, mode
    /// 0600. Not the key that encrypts its stored tokens: keep that apart. PostgreSQL: use
    /// pg_dump (see the README).
    Backup(BackupArgs),
}

#[derive(Debug, Args)]
pub struct BackupArgs {
    /// Where to write the copy.
    #[arg(long, value_name = "PATH")]
    pub to: PathBuf,
    /// Overwrite PATH if it exists.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Re-encrypt every stored token with the newest key. With the generated key file, a new
    /// key is added to it first; with THREADLINE_SECRET_KEY, append the new key there
    /// (`old:...,new:...`) before running this. Remove old keys only afterwards.
    Rotate,
}

#[derive(Debug, Subcommand)]
pub enum DirectoryCommand {
    /// Re-read the connections' directories and apply their mailbox rules now: users the rules
    /// select get a mailbox; removed, disabled or suspended users have theirs paused and
    /// flagged (stored mail stays); re-enabled users resume; renamed users keep their mailbox.
    /// Prints each connection's summary; exits non-zero if any failed. `serve` also does this
    /// every hour.
    Sync(DirectorySyncArgs),
}

#[derive(Debug, Args)]
pub struct DirectorySyncArgs {
    /// Only the connection with this name (as `threadline tenant list` shows it); default
    /// every connection.
    #[arg(long)]
    pub tenant: Option<String>,
    /// Only connections of this organization (its id, as `threadline org list` shows it).
    #[arg(long)]
    pub org: Option<i64>,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user; the password is read from standard input.
    Create {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        admin: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum OrgCommand {
    /// Create an organization with its first admin; the admin's password is read from
    /// standard input.
    Create {
        /// The organization's name.
        #[arg(long)]
        name: String,
        /// The first admin's email address (must not belong to any user yet).
        #[arg(long)]
        admin_email: String,
        /// The first admin's display name [default: the address's part before the @].
        #[arg(long)]
        admin_name: Option<String>,
    },
    /// List the organizations: id, name, users, active admins.
    List,
}

/// `threadline tenant ...` (secrets from files or standard input, never from argv).
#[derive(Debug, Subcommand)]
pub enum TenantCommand {
    /// Add a connection. Microsoft 365: --tenant, --client-id and a secret or (preferred) a
    /// certificate. Google Workspace: --domain, --admin-email and --key-file.
    Add(TenantAddArgs),
    /// List the organization's connections: name, kind, tenant or domain, credential, consent,
    /// status, last test.
    List {
        #[command(flatten)]
        org: OrgChoice,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Test a connection: get a token, list one user, read one mailbox; says exactly what is
    /// wrong and how to fix it. Exits non-zero when a step fails.
    Test {
        /// The connection's name (or id).
        connection: String,
        /// The mailbox to read (default: one the directory lists).
        #[arg(long)]
        mailbox: Option<String>,
        #[command(flatten)]
        org: OrgChoice,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Remove a connection: its mailboxes are paused and flagged, their stored mail stays.
    Remove {
        /// The connection's name (or id).
        connection: String,
        #[command(flatten)]
        org: OrgChoice,
        /// Confirm the removal (required).
        #[arg(long)]
        yes: bool,
    },
}

/// Which organization (needed only when the installation hosts several; see `org list`).
#[derive(Debug, Clone, Args)]
pub struct OrgChoice {
    /// The organization's id (default: the only one).
    #[arg(long = "org", value_name = "ID")]
    pub org: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TenantKind {
    /// Microsoft 365 (Entra app registration, app-only Graph access).
    Microsoft365,
    /// Google Workspace (service account with domain-wide delegation).
    GoogleWorkspace,
}

#[derive(Debug, Args)]
pub struct TenantAddArgs {
    #[arg(long, value_enum)]
    pub kind: TenantKind,
    /// A short name for the connection, unique in the organization.
    #[arg(long)]
    pub name: String,
    /// Microsoft 365: the tenant id (GUID) or a verified domain.
    #[arg(long, required_if_eq("kind", "microsoft365"))]
    pub tenant: Option<String>,
    /// Microsoft 365: the application (client) id of the app registration.
    #[arg(long, required_if_eq("kind", "microsoft365"))]
    pub client_id: Option<String>,
    /// Microsoft 365: a file holding the client secret's value (`-`: standard input; default
    /// when no certificate is given).
    #[arg(long, conflicts_with = "certificate_file")]
    pub secret_file: Option<PathBuf>,
    /// Microsoft 365 (preferred): a PEM file with the certificate and its unencrypted private key.
    #[arg(long)]
    pub certificate_file: Option<PathBuf>,
    /// Google Workspace: the primary domain.
    #[arg(long, required_if_eq("kind", "google-workspace"))]
    pub domain: Option<String>,
    /// Google Workspace: an administrator to act as when reading the directory.
    #[arg(long, required_if_eq("kind", "google-workspace"))]
    pub admin_email: Option<String>,
    /// Google Workspace: the service account's JSON key file (`-` or absent: standard input).
    #[arg(long)]
    pub key_file: Option<PathBuf>,
    #[command(flatten)]
    pub org: OrgChoice,
}

#[derive(Debug, Args)]
pub struct SyncArgs {
    /// Only this mailbox (its address); default every active mailbox.
    #[arg(long, conflicts_with = "tenant")]
    pub account: Option<String>,
    /// Only the organization mailboxes of this organization-wide connection (its name, or its
    /// tenant id / Workspace domain): Microsoft 365 app-only or Google Workspace delegation.
    #[arg(long)]
    pub tenant: Option<String>,
    /// With --tenant: only the connection's mailboxes whose directory users match this filter,
    /// asked of the directory (Microsoft Graph `$filter`, e.g. "department eq 'Sales'";
    /// Google Directory query, e.g. "orgUnitPath='/Sales'").
    #[arg(long, requires = "tenant")]
    pub filter: Option<String>,
    /// With --tenant: at most this many mailboxes (by address).
    #[arg(long, requires = "tenant")]
    pub max_users: Option<usize>,
    /// Only mail received on or after this date (YYYY-MM-DD).
    #[arg(long)]
    pub since: Option<chrono::NaiveDate>,
    /// Only these folders / labels (comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub folders: Vec<String>,
}

#[derive(Debug, Args)]
pub struct StatsArgs {
    /// Print JSON: {"accounts":[{"address","provider","status","messages","threads",...}]}
    #[arg(long)]
    pub json: bool,
}

/// The help heading of the settings (defined beside the push settings, which `cli` flattens
/// in: a constant here would make the two modules import each other).
pub use crate::config_push::SETTINGS_HEADING;

/// Every setting; each flag falls back to the environment variable of the same name.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = SETTINGS_HEADING)]
pub struct SettingsArgs {
    /// Run against the demo: read the file `threadline demo` wrote, <data dir>/demo/demo.env
    /// (its values win over the environment's).
    #[arg(long, global = true, help_heading = None::<&str>, display_order = 900)]
    pub demo: bool,
    /// Read settings from this KEY=value file first (its values win over the environment's;
    /// flags win over both).
    #[arg(
        long,
        global = true,
        env = "THREADLINE_ENV_FILE",
        help_heading = None::<&str>,
        display_order = 901
    )]
    pub env_file: Option<PathBuf>,
    /// Database: SQLite (default) or PostgreSQL (`postgres://user@host/db`).
    #[arg(long, global = true, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// Address the web server listens on.
    #[arg(
        long,
        global = true,
        env = "THREADLINE_BIND",
        default_value = "127.0.0.1:3000"
    )]
    pub bind: SocketAddr,
    /// Public URL of this Threadline; OAuth redirect URIs derive from it; https means Secure cookies.
    /// [default: http://BIND, that is <http://127.0.0.1:3000>]
    #[arg(long, global = true, env = "THREADLINE_BASE_URL")]
    pub base_url: Option<String>,
    /// Data directory: the SQLite file and the generated key file (mode 0600).
    #[arg(
        long,
        global = true,
        env = "THREADLINE_DATA_DIR",
        default_value = "threadline-data"
    )]
    pub data_dir: PathBuf,
    /// Encryption key(s) for stored OAuth tokens; unset: a key file in the data dir is generated.
    #[arg(
        long,
        global = true,
        env = "THREADLINE_SECRET_KEY",
        hide_env_values = true
    )]
    pub secret_key: Option<String>,
    /// Log format: `text` or `json`.
    #[arg(
        long,
        global = true,
        env = "THREADLINE_LOG_FORMAT",
        default_value = "text"
    )]
    pub log_format: String,
    /// Background sync workers in `serve`: mailboxes synced at once by this instance (0:
    /// mailboxes sync only through `threadline sync`). A worker mostly waits on the provider,
    /// and holds a database connection (of its own small pool) only while it reads or writes.
    #[arg(
        long,
        global = true,
        env = "THREADLINE_SYNC_WORKERS",
        default_value_t = crate::domain::sync_run::DEFAULT_WORKERS
    )]
    pub sync_workers: usize,
    /// How long a worker's sync pass runs before it stops at a committed page, so the next
    /// mailbox that has had the least goes next (the mailbox resumes from its cursor).
    #[arg(
        long,
        global = true,
        env = "THREADLINE_SYNC_SLICE_SECONDS",
        default_value_t = crate::domain::sync_run::DEFAULT_SLICE.as_secs()
    )]
    pub sync_slice_seconds: u64,
    /// Gmail API quota units per user per minute of the Google project: 6000 for projects
    /// created from May 2026, 15000 for older ones. Sync uses 95% of it.
    #[arg(
        long,
        global = true,
        env = "THREADLINE_GMAIL_UNITS_PER_MINUTE",
        default_value_t = 6000
    )]
    pub gmail_units_per_minute: u32,
    /// Microsoft Graph requests per app and mailbox per 10 minutes (Outlook allows 10,000).
    /// Sync uses 95% of it.
    #[arg(
        long,
        global = true,
        env = "THREADLINE_GRAPH_REQUESTS_PER_10_MINUTES",
        default_value_t = 10_000
    )]
    pub graph_requests_per_10_minutes: u32,
    /// This instance's name, stable across restarts: its workers' leases carry it, so a restarted
    /// instance takes its own mailboxes back at once. Default: the host name and the bind port
    /// (two instances on one host differ by port).
    #[arg(long, global = true, env = "THREADLINE_INSTANCE_ID")]
    pub instance_id: Option<String>,
    /// How long a sync worker's lease on a mailbox lasts without a heartbeat (renewed every
    /// third of it while a pass runs): another instance takes a dead one's mailboxes over
    /// within this plus an idle worker's 5-second poll.
    #[arg(
        long,
        global = true,
        env = "THREADLINE_SYNC_LEASE_SECONDS",
        default_value_t = 20
    )]
    pub sync_lease_seconds: u64,
    /// How long `serve` takes at most to stop after SIGTERM or Ctrl-C: it stops claiming work
    /// at once, running sync passes stop at their next committed page and give their mailboxes
    /// back; what is still running after this is left (its leases expire as a crash's would).
    #[arg(
        long,
        global = true,
        env = "THREADLINE_SHUTDOWN_SECONDS",
        default_value_t = 30
    )]
    pub shutdown_seconds: u64,
    /// Background workers for re-association after large directory edits in `serve`; with at
    /// least 1, `serve` also runs the hourly directory sync of organization-wide connections.
    #[arg(
        long,
        global = true,
        env = "THREADLINE_JOB_WORKERS",
        default_value_t = 1
    )]
    pub job_workers: usize,
    /// Days sync runs and ledger history are kept (pruned daily by `serve`); 0 keeps them
    /// forever.
    #[arg(
        long,
        global = true,
        env = "THREADLINE_RETENTION_DAYS",
        default_value_t = 30
    )]
    pub retention_days: u32,
    /// Google OAuth client id; unset: Gmail linking disabled.
    #[arg(long, global = true, env = "GOOGLE_CLIENT_ID")]
    pub google_client_id: Option<String>,
    /// Google OAuth client secret.
    #[arg(
        long,
        global = true,
        env = "GOOGLE_CLIENT_SECRET",
        hide_env_values = true
    )]
    pub google_client_secret: Option<String>,
    /// Microsoft application (client) id; unset: Outlook linking disabled.
    #[arg(long, global = true, env = "MICROSOFT_CLIENT_ID")]
    pub microsoft_client_id: Option<String>,
    /// Microsoft client secret.
    #[arg(
        long,
        global = true,
        env = "MICROSOFT_CLIENT_SECRET",
        hide_env_values = true
    )]
    pub microsoft_client_secret: Option<String>,
    /// Microsoft tenant (`common`, `organizations` or a tenant id).
    #[arg(
        long,
        global = true,
        env = "MICROSOFT_TENANT",
        default_value = "common"
    )]
    pub microsoft_tenant: String,
    /// Google authorize host.
    #[arg(
        long,
        global = true,
        env = "GOOGLE_ACCOUNTS_URL",
        default_value = "https://accounts.google.com"
    )]
    pub google_accounts_url: String,
    /// Google token and revoke host.
    #[arg(
        long,
        global = true,
        env = "GOOGLE_OAUTH2_URL",
        default_value = "https://oauth2.googleapis.com"
    )]
    pub google_oauth2_url: String,
    /// Google OpenID userinfo host.
    #[arg(
        long,
        global = true,
        env = "GOOGLE_OPENID_URL",
        default_value = "https://openidconnect.googleapis.com"
    )]
    pub google_openid_url: String,
    /// Gmail API host.
    #[arg(
        long,
        global = true,
        env = "GMAIL_API_URL",
        default_value = "https://gmail.googleapis.com"
    )]
    pub gmail_api_url: String,
    /// Microsoft identity platform host.
    #[arg(
        long,
        global = true,
        env = "MICROSOFT_LOGIN_URL",
        default_value = "https://login.microsoftonline.com"
    )]
    pub microsoft_login_url: String,
    /// Microsoft Graph host.
    #[arg(
        long,
        global = true,
        env = "GRAPH_API_URL",
        default_value = "https://graph.microsoft.com"
    )]
    pub graph_api_url: String,
    /// Google Admin SDK host (the Directory API Google Workspace connections read users from).
    #[arg(
        long,
        global = true,
        env = "GOOGLE_ADMIN_URL",
        default_value = "https://admin.googleapis.com"
    )]
    pub google_admin_url: String,
    /// Bearer token that GET /metrics (Prometheus text format) on the web server's address
    /// requires; unset: /metrics answers 404 there.
    #[arg(
        long,
        global = true,
        env = "THREADLINE_METRICS_TOKEN",
        hide_env_values = true
    )]
    pub metrics_token: Option<String>,
    /// Serve /metrics without a token on this address of its own (keep it private, e.g.
    /// 127.0.0.1:9464); unset: not served apart. `demo`: 127.0.0.1:9464.
    #[arg(long, global = true, env = "THREADLINE_METRICS_BIND")]
    pub metrics_bind: Option<SocketAddr>,
    /// Label the per-mailbox quota histogram with each mailbox's id (true/false): one series
    /// set per mailbox, so only where the mailboxes are few enough to bound it.
    #[arg(
        long,
        global = true,
        env = "THREADLINE_METRICS_MAILBOX_LABELS",
        default_value_t = false,
        action = clap::ArgAction::Set,
        value_name = "BOOL",
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    pub metrics_mailbox_labels: bool,
    /// Let webhooks reach loopback and private addresses (true/false); off, a delivery to
    /// 127.0.0.1, 10.x, 192.168.x, link-local and the like is refused.
    #[arg(
        long,
        global = true,
        env = "THREADLINE_WEBHOOK_ALLOW_PRIVATE",
        default_value_t = false,
        action = clap::ArgAction::Set,
        value_name = "BOOL",
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    pub webhook_allow_private: bool,
    #[command(flatten)]
    pub push: crate::config_push::PushArgs,
}
