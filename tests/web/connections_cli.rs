//! `threadline tenant add|list|test|remove` through the real binary against an in-process
//! emulator: secrets from files or standard input (never argv, never echoed), Test connection's
//! verdict and exit status, removal only with --yes.
use threadline_emulator::microsoft::app_control::PatchApp;
use threadline_emulator::{self as emulator, EmulatorConfig};

use crate::connections_fixtures::{self as fx, DIRECTORY, GMAIL};
use crate::org_cli::{run, text};
use crate::support::TestDb;

// Multi-threaded: the binary runs blocking (`wait_with_output`) while the emulator serves it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenant_commands_through_the_binary() {
    let e = emulator::start("127.0.0.1:0".parse().unwrap(), EmulatorConfig::default())
        .await
        .unwrap();
    let client = e.client();
    let base = e.base_url.clone();
    let db = TestDb::new().await;
    let out = run(
        &db,
        &[
            "org",
            "create",
            "--name",
            "Acme",
            "--admin-email",
            "root@acme.test",
        ],
        "root password 1\n",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let urls = [
        "--microsoft-login-url",
        base.as_str(),
        "--graph-api-url",
        base.as_str(),
        "--google-oauth2-url",
        base.as_str(),
        "--gmail-api-url",
        base.as_str(),
        "--google-admin-url",
        base.as_str(),
    ];
    let tenant = |args: &[&str], stdin: &str| {
        let mut all = vec!["tenant"];
        all.extend_from_slice(args);
        all.extend_from_slice(&urls);
        run(&db, &all, stdin)
    };

    let t = fx::tenant_on(&client, false).await;
    let secret_file = db.dir.join("secret.txt");
    std::fs::write(&secret_file, format!("{}\n", t.secret)).unwrap();
    let secret_path = secret_file.display().to_string();
    let out = tenant(
        &[
            "add",
            "--kind",
            "microsoft365",
            "--name",
            "contoso",
            "--tenant",
            &t.id,
            "--client-id",
            &t.client_id,
            "--secret-file",
            &secret_path,
        ],
        "",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("added Microsoft 365 connection contoso"));
    assert!(
        !text(&out.stdout).contains(&t.secret),
        "the secret is never echoed"
    );
    // A secret on standard input.
    let out = tenant(
        &[
            "add",
            "--kind",
            "microsoft365",
            "--name",
            "piped",
            "--tenant",
            &t.id,
            "--client-id",
            &t.client_id,
        ],
        "wrong-secret-value\n",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    // Bad input names what is wrong.
    let out = tenant(
        &[
            "add",
            "--kind",
            "microsoft365",
            "--name",
            "x",
            "--tenant",
            "common",
            "--client-id",
            &t.client_id,
        ],
        "s\n",
    );
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("never works with common"),
        "{}",
        text(&out.stderr)
    );

    let out = tenant(&["test", "contoso"], "");
    assert!(!out.status.success(), "consent missing fails the test");
    let said = text(&out.stdout);
    assert!(
        said.contains("FAILED") && said.contains("admin consent is missing"),
        "{said}"
    );
    assert!(said.contains("fix: Click Grant admin consent"), "{said}");
    let out = tenant(&["test", "piped"], "");
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("bad_secret"),
        "{}",
        text(&out.stderr)
    );

    client
        .update_app(
            &t.id,
            &t.client_id,
            &PatchApp {
                admin_consent: Some(true),
                ..PatchApp::default()
            },
        )
        .await
        .unwrap();
    let out = tenant(&["test", "contoso", "--json"], "");
    assert!(
        out.status.success(),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["ok"], true);
    assert_eq!(report["steps"].as_array().unwrap().len(), 3);

    // Google Workspace with a key file.
    let w = fx::workspace_on(&client, &[DIRECTORY, GMAIL]).await;
    let key_file = db.dir.join("key.json");
    std::fs::write(&key_file, &w.key_json).unwrap();
    let key_path = key_file.display().to_string();
    let out = tenant(
        &[
            "add",
            "--kind",
            "google-workspace",
            "--name",
            "acme",
            "--domain",
            &w.domain,
            "--admin-email",
            &w.admin,
            "--key-file",
            &key_path,
        ],
        "",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = tenant(&["test", "acme", "--mailbox", "sam@acme-corp.test"], "");
    assert!(!out.status.success());
    assert!(
        text(&out.stdout).contains("is suspended"),
        "{}",
        text(&out.stdout)
    );
    let out = tenant(&["test", "acme"], "");
    assert!(out.status.success(), "{}", text(&out.stdout));

    let out = tenant(&["list", "--json"], "");
    assert!(out.status.success());
    let listed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let names: Vec<_> = listed["connections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, ["acme", "contoso", "piped"]);
    assert_eq!(listed["connections"][1]["consent"], "granted");
    assert_eq!(listed["connections"][1]["last_test_ok"], true);
    let all = format!(
        "{}{}",
        text(&out.stdout),
        text(&tenant(&["list"], "").stdout)
    );
    assert!(!all.contains(&t.secret) && !all.contains("PRIVATE KEY"));

    let out = tenant(&["remove", "contoso"], "");
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("--yes"));
    let out = tenant(&["remove", "contoso", "--yes"], "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = tenant(&["test", "contoso"], "");
    assert!(text(&out.stderr).contains("no connection named"));
    e.shutdown().await;
}
