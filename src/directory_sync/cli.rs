//! `threadline directory sync [--tenant NAME] [--org ID]`: a directory sync of each chosen
//! connection now, in the foreground, holding the connection's lease like a worker.
use anyhow::Context as _;

use super::{run_now, Trigger};
use crate::cli::DirectorySyncArgs;
use crate::config::Settings;
use crate::db::connection_rules;
use crate::db::entities::connections::Model as Connection;
use crate::mailboxes::MailDeps;

async fn chosen(deps: &MailDeps, args: &DirectorySyncArgs) -> anyhow::Result<Vec<Connection>> {
    let all = connection_rules::all_connections(&deps.db).await?;
    let picked: Vec<Connection> = all
        .into_iter()
        .filter(|c| args.org.is_none_or(|o| c.organization_id == o))
        .filter(|c| args.tenant.as_deref().is_none_or(|t| c.name == t))
        .collect();
    if let Some(name) = &args.tenant {
        anyhow::ensure!(!picked.is_empty(), "no connection is called {name}");
    }
    Ok(picked)
}

pub async fn sync(settings: &Settings, args: &DirectorySyncArgs) -> anyhow::Result<()> {
    let deps = MailDeps::open(settings)
        .await
        .context("cannot open the database")?;
    let connections = chosen(&deps, args).await?;
    if connections.is_empty() {
        println!("no organization-wide connections (add one with `threadline tenant add`)");
        return Ok(());
    }
    let worker = format!("{}-cli", settings.instance_id);
    let mut failed = 0;
    for c in &connections {
        let name = &c.name;
        match run_now(&deps, c, Trigger::Cli, &worker).await {
            Ok(r) if r.no_rules => {
                println!("{name}: no mailbox rules yet; nothing to do (add rules on its Mailbox rules page)");
            }
            Ok(r) => {
                println!("{name}: directory sync done: {}", r.summary);
                for ch in &r.changes {
                    let detail = if ch.detail.is_empty() {
                        String::new()
                    } else {
                        format!(" ({})", ch.detail)
                    };
                    println!("  {} {}{detail}", ch.action, ch.address);
                }
            }
            Err(e) => {
                failed += 1;
                eprintln!("{name}: directory sync failed: {e}");
            }
        }
    }
    anyhow::ensure!(failed == 0, "{failed} connection(s) failed");
    Ok(())
}
