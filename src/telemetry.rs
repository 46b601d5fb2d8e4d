//! Logging to stderr (stdout is for command output): human-readable or JSON lines, filtered by
//! `RUST_LOG` (default `info`; `warn` for the load benchmark, which would log every request);
//! Prometheus metrics in the submodules (`exporter`, `record`, `gauges`).
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::EnvFilter;

/// Install the global subscriber once; later calls (tests) are ignored.
pub fn init(json: bool, quiet: bool) {
    let default = if quiet {
        "warn"
    } else {
        "info,sqlx=warn,sea_orm=warn,tower_sessions=warn"
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let registry = tracing_subscriber::registry().with(filter);
    let result = if json {
        registry
            .with(tracing_subscriber::fmt::layer().json().flatten_event(true))
            .try_init()
    } else {
        registry
            .with(tracing_subscriber::fmt::layer().with_writer(std::io::stderr))
            .try_init()
    };
    drop(result);
}

// Prometheus metrics: the recorder and its names, recording helpers, scrape-time gauges.
pub mod exporter;
pub mod gauges;
pub mod record;
