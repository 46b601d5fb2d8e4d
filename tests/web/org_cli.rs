//! `threadline org create` / `org list`: one installation hosts several organizations, each
//! with its own first admin, created by the platform operator through the real binary (the
//! admin's password on standard input); bad input is refused with a clear message and
//! creates nothing.
use std::io::Write;
use std::process::{Output, Stdio};

use crate::cli::threadline;
use crate::support::{self, TestDb};

/// Run the binary on `db`'s database with `stdin` as its standard input.
pub fn run(db: &TestDb, args: &[&str], stdin: &str) -> Output {
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
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test]
async fn org_create_and_list_through_the_binary() {
    let db = TestDb::new().await;
    let acme = [
        "org",
        "create",
        "--name",
        "Acme",
        "--admin-email",
        "root@acme.test",
    ];
    let out = run(&db, &acme, "root password\n");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("created organization Acme (id"),
        "{}",
        text(&out.stdout)
    );
    let bravo = [
        "org",
        "create",
        "--name",
        "Bravo",
        "--admin-email",
        "Boss@Bravo.test",
        "--admin-name",
        "Bo Boss",
    ];
    let out = run(&db, &bravo, "bravo password\r\n");
    assert!(out.status.success(), "{}", text(&out.stderr));

    let refused: [(&[&str], &str, &str); 7] = [
        (
            &["--name", "  ", "--admin-email", "c@c.test"],
            "c password\n",
            "--name: enter a name",
        ),
        (
            &["--name", "C", "--admin-email", "not-an-address"],
            "c password\n",
            "--admin-email",
        ),
        (
            &["--name", "C", "--admin-email", ""],
            "c password\n",
            "--admin-email",
        ),
        (
            &["--name", "C", "--admin-email", "ROOT@acme.test"],
            "c password\n",
            "--admin-email: a user with this email address exists",
        ),
        (
            &["--name", "C", "--admin-email", "c@c.test"],
            "",
            "no password",
        ),
        (
            &["--name", "C", "--admin-email", "c@c.test"],
            "\n",
            "no password",
        ),
        (
            &["--name", "C", "--admin-email", "c@c.test"],
            "short\n",
            "the password (standard input): use at least 8 characters",
        ),
    ];
    for (args, stdin, want) in refused {
        let mut full = vec!["org", "create"];
        full.extend_from_slice(args);
        let out = run(&db, &full, stdin);
        assert!(!out.status.success(), "{args:?} succeeded");
        let err = text(&out.stderr);
        assert!(err.contains(want), "{args:?}: {want:?} missing from {err}");
        assert!(!err.contains("panicked"), "{err}");
    }

    let out = run(&db, &["org", "list"], "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let listed = text(&out.stdout);
    let lines: Vec<Vec<&str>> = listed.lines().map(|l| l.split('\t').collect()).collect();
    assert_eq!(lines[0], ["id", "name", "users", "active_admins"]);
    let rows: Vec<(&str, &str, &str)> = lines[1..].iter().map(|l| (l[1], l[2], l[3])).collect();
    assert_eq!(rows, [("Acme", "1", "1"), ("Bravo", "1", "1")], "{listed}");

    // Each admin signs in to their own organization, audited there.
    let app = support::TestApp::spawn_with(std::sync::Arc::new(db), support::client(), &[]).await;
    let res = app.sign_in("boss@bravo.test", "bravo password").await;
    assert_eq!(res.status(), 303);
    let home = app.get_html("/").await;
    assert!(
        home.contains("<h1>Bravo</h1>") && home.contains("Bo Boss"),
        "{home}"
    );
    let audit = app.get_html("/admin/audit").await;
    assert!(audit.contains("organization.create"), "{audit}");
    let users = app.get_html("/admin/users").await;
    assert!(!users.contains("root@acme.test"), "{users}");
    assert_eq!(
        app.get("/setup").await.headers()["location"],
        "/login",
        "setup is closed once organizations exist"
    );
}
