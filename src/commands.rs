//! What each subcommand does; `main` only parses and calls `run`.
use std::process::ExitCode;

use crate::cli::{Cli, Command, EmulatorArgs};
use crate::emulator::{self, EmulatorConfig};

/// Run one parsed command line to completion.
pub async fn run(cli: Cli) -> ExitCode {
    let result = match cli.command {
        Some(Command::Emulator(args)) => run_emulator(args).await,
        _ => Err(anyhow::anyhow!("this command is not available yet")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run_emulator(args: EmulatorArgs) -> anyhow::Result<()> {
    let config = EmulatorConfig {
        seed: args.seed,
        mailboxes: args.mailboxes,
        messages: args.messages,
        quota: args.quota,
        auto_consent: args.auto_consent,
        clients_file: args.clients,
        // No CLI flags for these (src/cli.rs is shared): environment variables instead.
        import: std::env::var_os("THREADLINE_EMULATOR_IMPORT").map(Into::into),
        import_into: std::env::var("THREADLINE_EMULATOR_IMPORT_INTO").ok(),
        ..EmulatorConfig::default()
    };
    let running = emulator::start(args.bind, config).await?;
    println!("emulator listening on {}", running.base_url);
    tokio::signal::ctrl_c().await?;
    Ok(())
}
