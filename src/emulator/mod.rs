//! Provider emulator: Google OAuth + Gmail API and Microsoft identity + Graph mail, served from
//! one HTTP listener with the control plane of `shared/CONTRACTS.md`.
//!
//! Interface fixed for the rest of Threadline (tests, `threadline demo`, benchmarks):
//! `EmulatorConfig`, `Quota`, `start(bind, config) -> RunningEmulator`.

use std::net::SocketAddr;
use std::path::PathBuf;

/// Quota enforcement mode (`--quota realistic|off`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Quota {
    #[default]
    Realistic,
    Off,
}

/// How the emulator is seeded and behaves.
#[derive(Debug, Clone, Default)]
pub struct EmulatorConfig {
    /// Seed of the deterministic corpus generator.
    pub seed: u64,
    /// Generated mailboxes (0 = none, control plane only).
    pub mailboxes: usize,
    /// Generated messages per mailbox.
    pub messages: usize,
    pub quota: Quota,
    /// Approve consent without showing the consent page.
    pub auto_consent: bool,
    /// Restrict OAuth to the clients registered in this JSON file.
    pub clients_file: Option<PathBuf>,
}

/// A running emulator; dropping it does not stop it, call `shutdown`.
pub struct RunningEmulator {
    pub addr: SocketAddr,
    /// `http://127.0.0.1:PORT` with no trailing slash.
    pub base_url: String,
}

/// Bind and serve the emulator in the background.
#[allow(clippy::unused_async)] // replaced by the emulator implementation
pub async fn start(_bind: SocketAddr, _config: EmulatorConfig) -> anyhow::Result<RunningEmulator> {
    anyhow::bail!("the provider emulator is not available yet")
}
