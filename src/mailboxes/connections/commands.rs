//! `threadline tenant add|list|test|remove`, and choosing the organization and connection a
//! command works on (`--org`, a connection's name or id), shared with the other commands that
//! take `--tenant`.
use std::io::Read as _;
use std::path::Path;

use anyhow::Context as _;

use super::store::{self, NewConnection, NewCredential};
use super::test::{self, Outcome, Report};
use super::{Connection, ConnectionError, ConnectionKind};
use crate::cli::{OrgChoice, TenantAddArgs, TenantCommand, TenantKind};
use crate::config::Settings;
use crate::db::organizations;
use crate::mailboxes::MailDeps;
use crate::providers::Secret;

pub async fn run(settings: &Settings, command: TenantCommand) -> anyhow::Result<()> {
    let deps = MailDeps::open(settings)
        .await
        .context("cannot open the database")?;
    match command {
        TenantCommand::Add(args) => add(&deps, args).await,
        TenantCommand::List { org, json } => list(&deps, &org, json).await,
        TenantCommand::Test {
            connection,
            mailbox,
            org,
            json,
        } => run_test(&deps, &org, &connection, mailbox.as_deref(), json).await,
        TenantCommand::Remove {
            connection,
            org,
            yes,
        } => remove(&deps, &org, &connection, yes).await,
    }
}

/// The organization a command works on: `--org`, or the only one there is.
pub async fn organization(deps: &MailDeps, choice: &OrgChoice) -> anyhow::Result<i64> {
    if let Some(id) = choice.org {
        organizations::find(&deps.db, id).await?.with_context(|| {
            format!("--org {id}: no such organization (see `threadline org list`)")
        })?;
        return Ok(id);
    }
    let all = organizations::list(&deps.db).await?;
    match all.as_slice() {
        [] => {
            anyhow::bail!("no organization exists yet: create one first (`threadline org create`)")
        }
        [only] => Ok(only.organization.id),
        _ => anyhow::bail!(
            "this installation hosts several organizations: choose one with --org ID \
             (see `threadline org list`)"
        ),
    }
}

/// A connection of the organization by name, or by id.
pub async fn connection(deps: &MailDeps, org_id: i64, name: &str) -> anyhow::Result<Connection> {
    match store::get_by_name(deps, org_id, name).await {
        Ok(conn) => return Ok(conn),
        Err(ConnectionError::NotFound) => {}
        Err(e) => return Err(e.into()),
    }
    if let Ok(id) = name.trim().parse::<i64>() {
        if let Ok(conn) = store::get(deps, org_id, id).await {
            return Ok(conn);
        }
    }
    anyhow::bail!(
        "no connection named {name:?} in this organization (see `threadline tenant list`)"
    )
}

/// A file's content, or standard input's for `-`.
fn read_source(path: Option<&Path>, what: &str) -> anyhow::Result<String> {
    let mut text = String::new();
    match path {
        Some(p) if p != Path::new("-") => {
            text = std::fs::read_to_string(p)
                .with_context(|| format!("cannot read the {what} from {}", p.display()))?;
        }
        _ => {
            std::io::stdin()
                .read_to_string(&mut text)
                .with_context(|| format!("cannot read the {what} from standard input"))?;
        }
    }
    anyhow::ensure!(!text.trim().is_empty(), "the {what} is empty");
    Ok(text)
}

async fn add(deps: &MailDeps, args: TenantAddArgs) -> anyhow::Result<()> {
    let org_id = organization(deps, &args.org).await?;
    let new = match args.kind {
        TenantKind::Microsoft365 => {
            let credential = if let Some(path) = &args.certificate_file {
                NewCredential::Certificate(Secret::new(read_source(Some(path), "certificate")?))
            } else {
                let text = read_source(args.secret_file.as_deref(), "client secret")?;
                NewCredential::Secret(Secret::new(text.trim()))
            };
            NewConnection {
                name: args.name.clone(),
                kind: ConnectionKind::Microsoft365,
                tenant: args.tenant.clone().unwrap_or_default(),
                client_id: args.client_id.clone().unwrap_or_default(),
                credential,
                admin_address: None,
            }
        }
        TenantKind::GoogleWorkspace => NewConnection {
            name: args.name.clone(),
            kind: ConnectionKind::GoogleWorkspace,
            tenant: args.domain.clone().unwrap_or_default(),
            client_id: String::new(),
            credential: NewCredential::ServiceAccountKey(Secret::new(read_source(
                args.key_file.as_deref(),
                "service account key",
            )?)),
            admin_address: args.admin_email.clone(),
        },
    };
    let conn = store::create(deps, org_id, None, &new).await?;
    crate::db::audit::record(
        &deps.db,
        crate::db::audit::Entry {
            organization_id: org_id,
            actor_user_id: None,
            action: "connection.add",
            subject_kind: "connection",
            subject_id: Some(conn.id),
            detail: format!("{} {} (command line)", conn.kind, conn.name),
        },
    )
    .await?;
    println!(
        "added {} connection {} (id {}): {}, {}",
        new.kind.label(),
        conn.name,
        conn.id,
        conn.tenant,
        conn.credential_hint
    );
    println!("next: threadline tenant test {}", conn.name);
    Ok(())
}

async fn list(deps: &MailDeps, org: &OrgChoice, json: bool) -> anyhow::Result<()> {
    let org_id = organization(deps, org).await?;
    let all = store::list(deps, org_id).await?;
    if json {
        let rows: Vec<_> = all
            .iter()
            .map(|c| {
                serde_json::json!({
                    "id": c.id, "name": c.name, "kind": c.kind, "tenant": c.tenant,
                    "client_id": c.client_id, "credential": c.credential_hint,
                    "consent": c.consent_state, "status": c.status,
                    "last_test_at": c.last_test_at, "last_test_ok": Report::of(c).map(|r| r.ok),
                    "last_error": c.last_error,
                })
            })
            .collect();
        println!("{}", serde_json::json!({ "connections": rows }));
        return Ok(());
    }
    println!("id\tname\tkind\ttenant\tcredential\tconsent\tstatus\tlast_test");
    for c in &all {
        let last = match (c.last_test_at, Report::of(c)) {
            (Some(at), Some(r)) => {
                format!("{} {}", at.to_rfc3339(), if r.ok { "ok" } else { "failed" })
            }
            _ => "never".into(),
        };
        println!(
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{last}",
            c.id, c.name, c.kind, c.tenant, c.credential_hint, c.consent_state, c.status
        );
    }
    Ok(())
}

/// The report as lines: one per step, with what is wrong and the fix under a failed one.
pub fn report_lines(report: &Report) -> Vec<String> {
    let mut out = Vec::new();
    for step in &report.steps {
        let mark = match step.outcome {
            Outcome::Ok => "ok     ",
            Outcome::Failed => "FAILED ",
            Outcome::Skipped => "skipped",
        };
        out.push(format!("{mark} {}: {}", step.name, step.detail));
        if let Some(fix) = &step.fix {
            out.push(format!("        fix: {fix}"));
        }
        if let Some(said) = &step.provider_said {
            out.push(format!("        provider said: {said}"));
        }
    }
    out
}

async fn run_test(
    deps: &MailDeps,
    org: &OrgChoice,
    name: &str,
    mailbox: Option<&str>,
    json: bool,
) -> anyhow::Result<()> {
    let org_id = organization(deps, org).await?;
    let conn = connection(deps, org_id, name).await?;
    let report = test::run(deps, &conn, mailbox).await?;
    if json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        for line in report_lines(&report) {
            println!("{line}");
        }
    }
    match report.failure() {
        None => Ok(()),
        Some(step) => anyhow::bail!(
            "connection {} failed its test: {} ({})",
            conn.name,
            step.detail,
            step.problem.as_deref().unwrap_or("refused")
        ),
    }
}

async fn remove(deps: &MailDeps, org: &OrgChoice, name: &str, yes: bool) -> anyhow::Result<()> {
    let org_id = organization(deps, org).await?;
    let conn = connection(deps, org_id, name).await?;
    let (mailboxes, _) = crate::db::connections::mailbox_counts(&deps.db, org_id, conn.id).await?;
    anyhow::ensure!(
        yes,
        "removing {} pauses its {mailboxes} mailbox(es) (their stored mail stays); run again \
         with --yes to confirm",
        conn.name
    );
    let paused = store::remove(deps, org_id, conn.id).await?;
    crate::db::audit::record(
        &deps.db,
        crate::db::audit::Entry {
            organization_id: org_id,
            actor_user_id: None,
            action: "connection.remove",
            subject_kind: "connection",
            subject_id: Some(conn.id),
            detail: format!(
                "{} {}; {paused} mailbox(es) paused (command line)",
                conn.kind, conn.name
            ),
        },
    )
    .await?;
    println!(
        "removed connection {}; {paused} mailbox(es) paused, their mail kept",
        conn.name
    );
    Ok(())
}
