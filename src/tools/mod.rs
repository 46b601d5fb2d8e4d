//! The binary's tooling, kept out of the product library: `threadline demo`, `threadline
//! emulator` and `threadline bench ...`, with the browser-like driver they share. It uses the
//! product through `threadline::` and the provider emulator through `threadline_emulator`.
pub mod args;
mod bench;
mod demo;
mod demo_org;
mod driver;

use tokio_util::sync::CancellationToken;

use threadline::commands::wait_for_signal;
use threadline::config::Settings;
use threadline_emulator::{self as emulator, EmulatorConfig, Tunables};

use args::{BenchCommand, EmulatorArgs, Tool};

impl Tool {
    /// The load benchmark's server would log every one of its many thousand requests.
    pub fn quiet(&self) -> bool {
        matches!(self, Tool::Bench(BenchCommand::Timeline(_)))
    }
}

/// Run one tooling command to completion.
pub async fn run(settings: Settings, tool: Tool) -> anyhow::Result<()> {
    match tool {
        Tool::Demo(args) => {
            let shutdown = CancellationToken::new();
            let signal = shutdown.clone();
            tokio::spawn(async move {
                wait_for_signal().await;
                signal.cancel();
            });
            demo::run(settings, args, shutdown).await
        }
        Tool::Emulator(args) => run_emulator(args).await,
        Tool::Bench(BenchCommand::Sync(args)) if args.mailboxes > 1 => {
            bench::multi::run(settings, &args).await
        }
        Tool::Bench(BenchCommand::Sync(args)) => bench::sync::run(settings, &args).await,
        Tool::Bench(BenchCommand::Reassociate(args)) => {
            bench::reassociate::run(settings, &args).await
        }
        Tool::Bench(BenchCommand::Timeline(args)) => {
            Box::pin(bench::timeline::run(settings, &args)).await
        }
        Tool::Bench(BenchCommand::Push(args)) => bench::push::run(settings, &args).await,
    }
}

/// `threadline emulator`: serve the emulator until a shutdown signal.
async fn run_emulator(args: EmulatorArgs) -> anyhow::Result<()> {
    let config = EmulatorConfig {
        seed: args.seed,
        mailboxes: args.mailboxes,
        messages: args.messages,
        quota: args.quota.into(),
        auto_consent: args.auto_consent,
        clients_file: args.clients,
        import: args.import,
        import_into: args.import_into,
        tunables: Tunables {
            latency: args.latency.into(),
            latency_scale: args.latency_scale,
            ..Tunables::default()
        },
    };
    let running = emulator::start(args.bind, config).await?;
    println!("emulator listening on {}", running.base_url);
    wait_for_signal().await;
    running.shutdown().await;
    Ok(())
}
