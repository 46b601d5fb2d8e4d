//! `threadline`: parse the command line, hand over to the library.
use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = threadline::cli::Cli::parse();
    threadline::commands::run(cli).await
}
