//! `threadline`: parse the command line, hand over to the library.
use clap::Parser;

/// mimalloc: rows cross from SQLite's connection threads to the async workers and are freed
/// there, which glibc's per-thread arenas serve poorly (arena locks, consolidation).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = threadline::cli::Cli::parse();
    threadline::commands::run(cli).await
}
