//! `threadline`: parse the command line (the product's commands plus the tooling of `tools`),
//! hand over to the library or to the tooling.
mod tools;

use clap::{CommandFactory as _, FromArgMatches as _, Subcommand as _};
use threadline::cli::{Cli, SettingsArgs};
use threadline::commands;

use tools::args::Tool;

/// mimalloc: rows cross from SQLite's connection threads to the async workers and are freed
/// there, which glibc's per-thread arenas serve poorly (arena locks, consolidation).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let matches = match threadline::cli_help::matches(|| Tool::augment_subcommands(Cli::command()))
    {
        Ok(matches) => matches,
        Err(err) => return commands::exit_code(Err(err)),
    };
    if let Ok(tool) = Tool::from_arg_matches(&matches) {
        let settings = SettingsArgs::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
        let settings = commands::start(&settings, tool.quiet());
        // Boxed: the tooling futures (demo, bench) are large.
        commands::exit_code(Box::pin(tools::run(settings, tool)).await)
    } else {
        // Boxed: the command futures (sync, directory sync, tenant tests) are large.
        let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
        Box::pin(commands::run(cli)).await
    }
}
