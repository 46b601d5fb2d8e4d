//! `threadline sync --tenant T [--filter F] [--max-users N]` and `threadline stats` per tenant,
//! as an operator runs them.
use threadline::providers::Provider;
use threadline_emulator::microsoft::tenants::MailboxKind;

use super::setup::{self, assert_exact, fill_outlook};
use crate::common::Linked;

const SALES_1: &str = "ann@contoso.test";
const SALES_2: &str = "bob@contoso.test";
const SALES_3: &str = "dan@contoso.test";
const FINANCE: &str = "carl@contoso.test";
const OUTSIDE: &str = "eve@contoso.test";

async fn threadline(l: &Linked, args: &[&str]) -> std::process::Output {
    let client = [
        "--microsoft-client-id",
        "6731de76-14a6-49ae-97bc-6eba6914391e",
        "--microsoft-client-secret",
        "microsoft-test-secret",
    ];
    let urls = ["--microsoft-login-url", "--graph-api-url"];
    crate::common::threadline(l, args, client, &urls).await
}

fn text(out: &std::process::Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn sync_by_tenant_with_a_filter_and_a_maximum_then_stats_per_tenant() {
    let (app, org) = setup::app().await;
    let users = [
        (SALES_1, MailboxKind::User, Some("Sales")),
        (SALES_2, MailboxKind::User, Some("Sales")),
        (SALES_3, MailboxKind::User, Some("Sales")),
        (FINANCE, MailboxKind::User, Some("Finance")),
        (OUTSIDE, MailboxKind::User, Some("Sales")),
    ];
    let scope: Vec<String> = [SALES_1, SALES_2, SALES_3, FINANCE]
        .iter()
        .map(|s| (*s).to_string())
        .collect();
    let m = setup::m365(&app, "contoso.test", &users, Some(scope)).await;
    let conn = m.connect_secret(&app, org, "contoso").await;
    let mut ids = Vec::new();
    for (address, ..) in users {
        fill_outlook(&app, address, "Pat <pat@buyer.example>", 3).await;
        // Dan has no mailbox in Threadline (the selection rules left him out).
        if address != SALES_3 {
            ids.push((address, m.mailbox(&app, &conn, address).await));
        }
    }
    let l = setup::linked(&app, ids[0].1);

    // Sales, at most one: Ann (by address).
    let out = threadline(
        &l,
        &[
            "sync",
            "--tenant",
            "contoso",
            "--filter",
            "department eq 'Sales'",
            "--max-users",
            "1",
        ],
    )
    .await;
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("tenant contoso: 1 mailbox(es) selected"),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("{SALES_1}: initial sync done")),
        "{stdout}"
    );
    assert!(!stdout.contains(SALES_2), "{stdout}");
    assert!(
        stderr.contains(&format!("{SALES_3}: matches the filter but has no mailbox")),
        "{stderr}"
    );
    assert_exact(&app, ids[0].1, SALES_1, Provider::Microsoft).await;

    // Every Sales mailbox: Eve is outside the app's scope; she fails with her status, the
    // others sync, and the command says so with a failure exit.
    let out = threadline(
        &l,
        &[
            "sync",
            "--tenant",
            "contoso",
            "--filter",
            "department eq 'Sales'",
        ],
    )
    .await;
    let (stdout, stderr) = text(&out);
    assert!(!out.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("tenant contoso: 3 mailbox(es) selected"),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("{SALES_2}: initial sync done")),
        "{stdout}"
    );
    assert!(
        stderr.contains(&format!("{OUTSIDE}: sync failed")),
        "{stderr}"
    );
    assert!(stderr.contains("ErrorAccessDenied"), "{stderr}");
    assert!(stderr.contains("1 mailbox(es) failed"), "{stderr}");
    assert!(!stdout.contains(FINANCE) && !stderr.contains(FINANCE));
    assert_exact(&app, ids[1].1, SALES_2, Provider::Microsoft).await;

    // The whole tenant: Carl too.
    let out = threadline(&l, &["sync", "--tenant", "contoso"]).await;
    let (stdout, _) = text(&out);
    assert!(
        stdout.contains(&format!("{FINANCE}: initial sync done")),
        "{stdout}"
    );

    let out = threadline(&l, &["stats", "--json"]).await;
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    let stats: serde_json::Value = serde_json::from_str(&stdout).expect("JSON");
    let accounts = stats["accounts"].as_array().unwrap();
    assert_eq!(accounts.len(), 4);
    assert!(
        accounts.iter().all(|a| a["tenant"] == "contoso"),
        "{stdout}"
    );
    let eve = accounts.iter().find(|a| a["address"] == OUTSIDE).unwrap();
    assert_eq!(eve["status"], "refused");
    let tenant = &stats["tenants"][0];
    assert_eq!(tenant["tenant"], "contoso");
    assert_eq!(tenant["mailboxes"], 4);
    assert_eq!(tenant["refused"], 1);
    assert_eq!(tenant["active"], 3);
    assert_eq!(tenant["messages"], 9);

    let out = threadline(&l, &["stats"]).await;
    let (stdout, _) = text(&out);
    assert!(
        stdout.contains("tenant contoso: 4 mailboxes (3 active, 1 refused"),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("{SALES_1} (microsoft, active, tenant contoso)")),
        "{stdout}"
    );

    // An unknown tenant is named.
    let out = threadline(&l, &["sync", "--tenant", "nope"]).await;
    let (_, stderr) = text(&out);
    assert!(!out.status.success());
    assert!(
        stderr.contains("no organization-wide connection is called nope"),
        "{stderr}"
    );
}
