//! The `threadline` binary as an operator runs it.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use crate::support::{self, TestDb};

const SETTINGS: [&str; 19] = [
    "DATABASE_URL",
    "THREADLINE_BIND",
    "THREADLINE_BASE_URL",
    "THREADLINE_DATA_DIR",
    "THREADLINE_SECRET_KEY",
    "GOOGLE_CLIENT_ID",
    "GOOGLE_CLIENT_SECRET",
    "MICROSOFT_CLIENT_ID",
    "MICROSOFT_CLIENT_SECRET",
    "MICROSOFT_TENANT",
    "GOOGLE_ACCOUNTS_URL",
    "GOOGLE_OAUTH2_URL",
    "GOOGLE_OPENID_URL",
    "GMAIL_API_URL",
    "MICROSOFT_LOGIN_URL",
    "GRAPH_API_URL",
    "GOOGLE_ADMIN_URL",
    "THREADLINE_GMAIL_UNITS_PER_MINUTE",
    "THREADLINE_GRAPH_REQUESTS_PER_10_MINUTES",
];

/// `threadline serve` on a free port in `dir` (on the test's PostgreSQL database when it has
/// one), with `args` added; the child and the address it printed.
pub fn serve(dir: &std::path::Path, db: &TestDb, args: &[&str]) -> (std::process::Child, String) {
    let mut cmd = threadline(dir);
    cmd.args(["serve", "--bind", "127.0.0.1:0"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    if db.is_postgres() {
        cmd.env("DATABASE_URL", &db.url);
    }
    let mut child = cmd.spawn().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let line = lines.next().expect("a startup line").unwrap();
    let addr = line
        .split("listening on ")
        .nth(1)
        .expect("address")
        .trim_end_matches(')')
        .to_string();
    (child, addr)
}

pub fn threadline(dir: &std::path::Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_threadline"));
    cmd.current_dir(dir);
    for var in SETTINGS {
        cmd.env_remove(var);
    }
    cmd
}

#[test]
fn help_documents_every_setting() {
    let out = threadline(&std::env::temp_dir())
        .arg("--help")
        .output()
        .unwrap();
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for var in SETTINGS {
        assert!(help.contains(var), "--help does not mention {var}");
    }
    for cmd in [
        "serve", "demo", "emulator", "migrate", "user", "org", "tenant", "sync", "stats",
    ] {
        assert!(help.contains(cmd), "--help does not list `{cmd}`");
    }
}

/// The settings are listed once, by `threadline --help` (and `serve --help`), without the
/// values of secrets; any other command's help shows its own options and points there.
#[test]
fn each_command_s_help_shows_its_own_options_and_the_settings_once() {
    let help = |args: &[&str]| {
        let out = threadline(&std::env::temp_dir())
            .args(args)
            .env("GOOGLE_CLIENT_SECRET", "never-shown-google-secret")
            .env("THREADLINE_SECRET_KEY", "k1:never-shown-key")
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?}");
        String::from_utf8(out.stdout).unwrap()
    };
    let root = help(&["--help"]);
    assert!(root.contains("GOOGLE_CLIENT_SECRET"), "{root}");
    assert!(root.contains("--demo"), "{root}");
    for text in [&root, &help(&["serve", "--help"])] {
        assert!(text.contains("THREADLINE_SYNC_WORKERS"), "{text}");
        assert!(
            !text.contains("never-shown"),
            "a secret's value in help: {text}"
        );
    }
    let bench = help(&["bench", "sync", "--help"]);
    assert!(!bench.contains("GOOGLE_CLIENT_SECRET"), "{bench}");
    assert!(!bench.contains("--gmail-api-url"), "{bench}");
    assert!(
        bench.contains("--messages") && bench.contains("--quota"),
        "{bench}"
    );
    assert!(bench.contains("threadline --help"), "{bench}");
    // Lines of their own options only: a subcommand's help is short again.
    assert!(bench.lines().count() < root.lines().count() / 2, "{bench}");
    let sync = help(&["sync", "--help"]);
    assert!(
        sync.contains("--account") && !sync.contains("MICROSOFT_CLIENT_SECRET"),
        "{sync}"
    );
    // Hidden from the help, the settings still work after a subcommand.
    let dir = std::env::temp_dir().join(format!("tl-help-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = threadline(&dir)
        .args(["stats", "--json", "--data-dir", "elsewhere"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(dir.join("elsewhere/threadline.db").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn sync_and_stats_work_on_a_database_without_mailboxes() {
    let db = TestDb::new().await;
    let dir = db.dir.join("fresh");
    std::fs::create_dir_all(&dir).unwrap();
    let run = |args: &[&str]| {
        let mut cmd = threadline(&dir);
        cmd.args(args);
        if db.is_postgres() {
            cmd.env("DATABASE_URL", &db.url);
        }
        cmd.output().unwrap()
    };
    let out = run(&["sync"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("no active mailboxes"));
    let out = run(&["sync", "--account", "nobody@example.test"]);
    assert!(!out.status.success(), "an unknown mailbox is an error");
    assert!(String::from_utf8_lossy(&out.stderr).contains("nobody@example.test"));
    let out = run(&["stats", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json, serde_json::json!({"accounts": [], "tenants": []}));
}

#[tokio::test]
async fn serve_in_an_empty_directory_creates_its_data_and_answers_healthz() {
    let db = TestDb::new().await;
    let dir = db.dir.join("empty");
    std::fs::create_dir_all(&dir).unwrap();
    let (mut child, addr) = serve(&dir, &db, &[]);
    let health = reqwest::get(format!("http://{addr}/healthz"))
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    assert_eq!(health.text().await.unwrap(), "ok");
    let setup = reqwest::get(format!("http://{addr}/setup")).await.unwrap();
    assert!(setup.text().await.unwrap().contains("Create organization"));
    // The container's HEALTHCHECK: asked on the bind address, 0 while it answers, 1 once not.
    let healthcheck = || {
        threadline(&dir)
            .args(["healthcheck", "--bind", &addr])
            .output()
            .unwrap()
    };
    let out = healthcheck();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("/healthz: ok"));
    child.kill().unwrap();
    child.wait().unwrap();
    let out = healthcheck();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no answer"));
    assert!(
        dir.join("threadline-data/secret.key").exists(),
        "key file generated"
    );
    if !db.is_postgres() {
        assert!(
            dir.join("threadline-data/threadline.db").exists(),
            "SQLite database created"
        );
    }
}

#[tokio::test]
async fn user_create_reads_the_password_from_stdin() {
    let db = TestDb::new().await;
    let run = |args: &[&str], password: &str| {
        let mut child = threadline(&db.dir)
            .args(args)
            .env("DATABASE_URL", &db.url)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(password.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    };
    let member = ["user", "create", "--email", "m@acme.test", "--name", "M"];
    let out = run(&member, "member password\n");
    assert!(!out.status.success(), "the first user must be an admin");
    let admin = [
        "user",
        "create",
        "--email",
        "Root@Acme.test",
        "--name",
        "Root",
        "--admin",
    ];
    let out = run(&admin, "root password\n");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("created admin user root@acme.test"));
    let out = run(&member, "short\n");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("at least 8 characters"));
    let out = run(&member, "member password\n");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // The created users sign in through the web app.
    let app = support::TestApp::spawn_with(std::sync::Arc::new(db), support::client(), &[]).await;
    let res = app.sign_in("root@acme.test", "root password").await;
    assert_eq!(res.status(), 303);
    assert!(
        app.get_html("/").await.contains("acme.test"),
        "organization named after the domain"
    );
}

#[test]
fn migrate_applies_the_schema_and_is_repeatable() {
    let dir = std::env::temp_dir().join(format!("threadline-migrate-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    for _ in 0..2 {
        let out = threadline(&dir).arg("migrate").output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(String::from_utf8_lossy(&out.stdout).contains("up to date"));
    }
    assert!(dir.join("threadline-data/threadline.db").exists());
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn demo_links_the_admin_mailboxes_through_oauth_and_serves() {
    let db = TestDb::new().await;
    let dir = db.dir.join("demo");
    std::fs::create_dir_all(&dir).unwrap();
    let mut command = threadline(&dir);
    if db.is_postgres() {
        // The demo runs on an empty PostgreSQL database when DATABASE_URL names one.
        command.env("DATABASE_URL", &db.url);
    }
    let mut child = command
        .args([
            "demo",
            "--bind",
            "127.0.0.1:0",
            "--emulator-bind",
            "127.0.0.1:0",
            "--metrics-bind",
            "127.0.0.1:0",
        ])
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(dir.join("demo.log")).unwrap())
        .spawn()
        .unwrap();
    let _log = ShowLogOnFailure(dir.join("demo.log"));
    let stdout = child.stdout.take().unwrap();
    // The first seven lines, then the rest drained in the background: a closed pipe would
    // make the demo's next line fail (as it would for an operator who closed the terminal).
    let (first, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut lines = BufReader::new(stdout).lines();
        let head: Vec<String> = lines.by_ref().take(7).map_while(Result::ok).collect();
        let _ = first.send(head);
        for _ in lines {}
    });
    let lines = tokio::task::spawn_blocking(move || rx.recv().unwrap_or_default());
    let lines = tokio::time::timeout(std::time::Duration::from_secs(120), lines)
        .await
        .expect("the demo starts within two minutes")
        .unwrap();
    let text = lines.join("\n");
    assert!(
        text.contains("sign in as admin@demo.test with password \"demo\""),
        "{text}"
    );
    assert!(
        text.contains("linked through OAuth: alice@northwind-labs.test, bruno@northwind-labs.test"),
        "{text}"
    );
    // Organization-wide: the rules select the Sales users and the shared support@ mailbox of
    // the tenant, and the /Sales org unit (with the unit under it) of the domain.
    assert!(
        text.contains(
            "Microsoft 365 tenant northwind-uk.test (certificate; rules: department eq 'Sales', \
             shared mailbox support@northwind-uk.test) syncs eva@northwind-uk.test, \
             farid@northwind-uk.test, support@northwind-uk.test"
        ),
        "{text}"
    );
    assert!(
        text.contains("Google Workspace domain northwind-us.test")
            && text.contains("syncs hiro@northwind-us.test, lena@northwind-us.test"),
        "{text}"
    );
    let base = lines[0].rsplit(' ').next().unwrap().to_string();
    let client = support::client();
    // Its metrics, on their own address without a token.
    let metrics = lines
        .iter()
        .find_map(|l| l.strip_prefix("  Prometheus metrics (no token, this machine only) at "))
        .unwrap_or_else(|| panic!("no metrics line in {text}"));
    let scrape = page_text(&client, metrics).await;
    assert!(
        scrape.contains("# TYPE threadline_mailboxes gauge"),
        "{scrape}"
    );
    let login = page_text(&client, &format!("{base}/login")).await;
    let token = support::csrf_in(&login);
    let res = client
        .post(format!("{base}/login"))
        .form(&[
            ("email", "admin@demo.test"),
            ("password", "demo"),
            ("csrf_token", &token),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let page = page_text(&client, &format!("{base}/mailboxes")).await;
    assert!(
        page.contains("alice@northwind-labs.test") && page.contains("bruno@northwind-labs.test")
    );
    demo_organization_wide_capture(&client, &base).await;
    // Linking by hand now shows the provider's consent page to choose a mailbox.
    let token = support::csrf_in(&page);
    let res = client
        .post(format!("{base}/mailboxes/connect/google"))
        .form(&[("csrf_token", token.as_str())])
        .send()
        .await
        .unwrap();
    let authorize = support::location(&res);
    let consent = client.get(&authorize).send().await.unwrap();
    assert_eq!(
        consent.status(),
        200,
        "a consent page, not an automatic approval"
    );
    let consent = consent.text().await.unwrap();
    assert!(consent.contains("chloe@northwind-labs.test"), "{consent}");
    // Both linked mailboxes sync: Gmail (alice) and Outlook (bruno).
    let demo_db = if db.is_postgres() {
        db.url.clone()
    } else {
        format!(
            "sqlite://{}?mode=ro",
            dir.join("threadline-data/demo/demo.db").display()
        )
    };
    let synced = demo_mailboxes_synced(&demo_db).await;
    assert!(
        synced.contains(&(
            "google".to_string(),
            "alice@northwind-labs.test".to_string()
        )) && synced.contains(&(
            "microsoft".to_string(),
            "bruno@northwind-labs.test".to_string()
        )),
        "{synced:?}"
    );
    // The command line reaches the running demo's database and emulator through --demo: a
    // pass over Alice's mailbox (once no worker holds it) syncs against the emulator.
    let demo_env = dir.join("threadline-data/demo/demo.env");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&demo_env).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "demo.env holds client secrets");
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    loop {
        let out = threadline(&dir)
            .args(["--demo", "sync", "--account", "alice@northwind-labs.test"])
            .env_remove("DATABASE_URL")
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        if out.status.success() {
            assert!(stdout.contains("alice@northwind-labs.test: "), "{stdout}");
            assert!(stdout.contains("sync done"), "{stdout}");
            break;
        }
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("another worker is syncing it"), "{stderr}");
        assert!(std::time::Instant::now() < deadline, "{stderr}");
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    child.kill().unwrap();
    child.wait().unwrap();
    if !db.is_postgres() {
        assert!(dir.join("threadline-data/demo/demo.db").exists());
    }
    // And a stopped demo's database, from another directory with THREADLINE_ENV_FILE.
    let out = threadline(&std::env::temp_dir())
        .args(["stats", "--json"])
        .env_remove("DATABASE_URL")
        .env("THREADLINE_ENV_FILE", &demo_env)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stats: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let addresses: Vec<&str> = stats["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["address"].as_str())
        .collect();
    for address in ["alice@northwind-labs.test", "bruno@northwind-labs.test"] {
        assert!(addresses.contains(&address), "{stats}");
    }
    let out = threadline(&dir)
        .args(["--demo", "stats", "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let again: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(again["accounts"], stats["accounts"]);
}

/// `threadline bench sync` links a generated Gmail mailbox through OAuth, syncs it against an
/// emulator child process and reports what a user would notice, as JSON.
#[test]
fn bench_sync_reports_figures_for_a_generated_mailbox() {
    let dir = std::env::temp_dir().join(format!("tl-bench-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = threadline(&dir)
        .args([
            "bench",
            "sync",
            "--provider",
            "google",
            "--messages",
            "150",
            "--json",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["database"], "SQLite");
    let gmail = &report["results"][0];
    assert_eq!(gmail["provider"], "Gmail");
    assert_eq!(gmail["outcome"], "finished");
    // The generated mailbox files most mail in INBOX or SENT; spam and trash stay out.
    let stored = gmail["stored_messages"].as_u64().unwrap();
    assert!((100..=150).contains(&stored), "{report}");
    assert!(gmail["threads"].as_u64().unwrap() > 0);
    assert!(gmail["api_calls"].as_u64().unwrap() >= stored);
    // The first screen (100 messages) goes one request per message, the rest in batches (of 4
    // parts: Gmail counts each part against its concurrent-request cap), so the messages past
    // the first 100 take fewer HTTP requests than API calls: at least half of them saved.
    let saved = gmail["api_calls"].as_u64().unwrap() - gmail["http_requests"].as_u64().unwrap();
    assert!(saved >= (stored - 100) / 2, "{report}");
    assert_eq!(gmail["quota_errors"], 0);
    assert!(gmail["cpu_ms_per_message"].as_f64().unwrap() > 0.0);
    assert!(gmail["peak_rss_mib"].as_f64().unwrap() > 1.0);
    assert!(dir.join("threadline-data/bench/bench.db").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

/// As the demo admin: both connections on Connections (tested: active), the organization
/// mailboxes the rules selected on the admin mailbox console (and not the others), and a
/// request to the shared support@ mailbox on its business's timeline once the workers synced it.
async fn demo_organization_wide_capture(client: &reqwest::Client, base: &str) {
    let page = page_text(client, &format!("{base}/admin/connections")).await;
    for name in ["northwind-uk", "northwind-us", "northwind-us.test"] {
        assert!(page.contains(name), "{name}: {page}");
    }
    assert!(!page.contains("failing"), "{page}");
    let page = page_text(client, &format!("{base}/admin/mailboxes")).await;
    for address in [
        "eva@northwind-uk.test",
        "farid@northwind-uk.test",
        "support@northwind-uk.test",
        "hiro@northwind-us.test",
        "lena@northwind-us.test",
    ] {
        assert!(page.contains(address), "{address}: {page}");
    }
    for outside in ["grace@northwind-uk.test", "marco@northwind-us.test"] {
        assert!(!page.contains(outside), "{outside} is not selected: {page}");
    }
    let businesses = page_text(client, &format!("{base}/businesses")).await;
    let acme = businesses
        .split("<a href=\"/businesses/")
        .find_map(|part| {
            let (id, rest) = part.split_once('"')?;
            rest.starts_with(">Acme Trading Ltd<")
                .then(|| id.to_string())
        })
        .unwrap_or_else(|| panic!("Acme Trading Ltd is listed: {businesses}"));
    let timeline = format!("{base}/businesses/{acme}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    loop {
        let page = page_text(client, &timeline).await;
        if page.contains("Support request #4200: Pricing for Q3 order") {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "support@'s request is on Acme's timeline within two minutes: {page}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
}

/// `(provider, address)` of the demo's mailboxes with stored mail, once both linked ones (Alice
/// and Bruno) have some (or after a minute).
async fn demo_mailboxes_synced(url: &str) -> Vec<(String, String)> {
    use sea_orm::{ConnectionTrait, Database, Statement};
    let mut found = Vec::new();
    for _ in 0..120 {
        if let Ok(db) = Database::connect(url).await {
            let sql = "SELECT a.provider, a.address FROM mail_accounts a \
                       WHERE EXISTS (SELECT 1 FROM emails e WHERE e.account_id = a.id)";
            let stmt = Statement::from_string(db.get_database_backend(), sql);
            if let Ok(rows) = db.query_all(stmt).await {
                found = rows
                    .iter()
                    .filter_map(|r| {
                        Some((
                            r.try_get::<String>("", "provider").ok()?,
                            r.try_get::<String>("", "address").ok()?,
                        ))
                    })
                    .collect();
            }
            db.close().await.ok();
            // The organization mailboxes sync too: wait for the two linked ones by name.
            let has = |address: &str| found.iter().any(|(_, a)| a == address);
            if has("alice@northwind-labs.test") && has("bruno@northwind-labs.test") {
                break;
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    found
}

/// Prints the tail of a child's log when the test fails, so a crash says why.
struct ShowLogOnFailure(std::path::PathBuf);

impl Drop for ShowLogOnFailure {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let log = std::fs::read_to_string(&self.0).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(60).collect();
            eprintln!("--- the demo's log, last lines ---");
            for line in tail.iter().rev() {
                eprintln!("{line}");
            }
        }
    }
}

/// The text of the page at `url`.
async fn page_text(client: &reqwest::Client, url: &str) -> String {
    client.get(url).send().await.unwrap().text().await.unwrap()
}

#[test]
fn a_startup_error_says_its_cause_once() {
    let out = threadline(&std::env::temp_dir())
        .args(["migrate"])
        .env("DATABASE_URL", "postgres://127.0.0.1:1/x")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    let line = stderr
        .lines()
        .find(|l| l.starts_with("error: "))
        .unwrap_or_else(|| panic!("an error line: {stderr}"));
    assert!(line.contains("cannot open the database"), "{line}");
    assert!(
        line.to_lowercase().contains("refused"),
        "the real cause, not a pool timeout: {line}"
    );
    let parts: Vec<&str> = line.split(": ").collect();
    for (i, part) in parts.iter().enumerate() {
        assert!(
            !parts[i + 1..].contains(part),
            "`{part}` is said twice: {line}"
        );
    }
}

#[cfg(unix)]
#[tokio::test]
async fn a_key_file_others_can_read_is_refused_with_how_to_fix_it() {
    use std::os::unix::fs::PermissionsExt;
    let db = TestDb::new().await;
    let dir = db.dir.join("keys");
    std::fs::create_dir_all(&dir).unwrap();
    let run = || {
        let mut cmd = threadline(&dir);
        cmd.args(["keys", "rotate"]);
        if db.is_postgres() {
            cmd.env("DATABASE_URL", &db.url);
        }
        cmd.output().unwrap()
    };
    let out = run();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let key = dir.join("threadline-data/secret.key");
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&key), 0o600, "generated readable by its owner only");

    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let before = std::fs::read_to_string(&key).unwrap();
    let out = run();
    assert!(!out.status.success(), "a key others can read is refused");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("mode 0644"), "{stderr}");
    assert!(stderr.contains("chmod 600"), "{stderr}");
    assert_eq!(
        std::fs::read_to_string(&key).unwrap(),
        before,
        "left as it was"
    );
}
