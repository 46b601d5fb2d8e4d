//! The provider emulator as a child process of a benchmark (`threadline emulator` from this
//! same executable), so the benchmark's own CPU and memory figures are Threadline's alone.
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::Context;
use tokio::process::{Child, Command};

use std::collections::BTreeMap;

use threadline_emulator::{EmulatorClient, Latency, Quota, Tunables};

/// What the emulator counted for one mailbox so far.
#[derive(Debug, Clone, Default)]
pub struct Usage {
    pub requests: u64,
    pub units: u64,
    /// 429 and 403 answers (quota and concurrency refusals).
    pub throttled: u64,
    /// The emulator's refusals by kind (`gmail_rate`, `gmail_concurrency`, `graph_rate`,
    /// `graph_concurrency`), over all mailboxes.
    pub throttles: BTreeMap<String, u64>,
}

impl Usage {
    /// Refusals by kind since `before`, kinds with none left out.
    pub fn throttles_since(&self, before: &Usage) -> BTreeMap<String, u64> {
        self.throttles
            .iter()
            .map(|(k, v)| {
                (
                    k.clone(),
                    v.saturating_sub(*before.throttles.get(k).unwrap_or(&0)),
                )
            })
            .filter(|(_, v)| *v > 0)
            .collect()
    }
}

pub struct EmulatorProcess {
    child: Child,
    client: EmulatorClient,
    pub base_url: String,
    /// The emulator's quota figures (`GET /_emulator/settings`).
    pub limits: Tunables,
}

impl EmulatorProcess {
    /// Start `threadline emulator` with `mailboxes` generated mailboxes (Gmail and Outlook in
    /// turn, [`threadline_emulator::corpus::mailbox_info`]) of `messages` each and the given
    /// quota and latency model, and wait until it answers.
    pub async fn start(
        seed: u64,
        mailboxes: usize,
        messages: usize,
        quota: Quota,
        latency: Latency,
    ) -> anyhow::Result<Self> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        Self::start_on(port, seed, mailboxes, messages, quota, latency).await
    }

    /// [`Self::start`] on a given port (benchmarks with a port block).
    pub async fn start_on(
        port: u16,
        seed: u64,
        mailboxes: usize,
        messages: usize,
        quota: Quota,
        latency: Latency,
    ) -> anyhow::Result<Self> {
        let exe = std::env::current_exe().context("cannot find the threadline executable")?;
        let quota = match quota {
            Quota::Realistic => "realistic",
            Quota::Off => "off",
        };
        let mut child = Command::new(exe)
            .args(["emulator", "--bind", &format!("127.0.0.1:{port}")])
            .args(["--seed", &seed.to_string()])
            .args(["--mailboxes", &mailboxes.to_string()])
            .args(["--messages", &messages.to_string(), "--quota", quota])
            .args(["--latency", latency_name(latency)])
            .arg("--auto-consent")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .context("cannot start the emulator")?;
        let base_url = format!("http://127.0.0.1:{port}");
        let client = EmulatorClient::new(base_url.clone());
        let started = Instant::now();
        let limits = loop {
            if let Ok(limits) = client.settings().await {
                break limits;
            }
            if let Some(status) = child.try_wait()? {
                anyhow::bail!("the emulator exited early ({status})");
            }
            anyhow::ensure!(
                started.elapsed() < Duration::from_secs(900),
                "the emulator did not start within 15 minutes"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        eprintln!(
            "emulator ready after {:.1} s",
            started.elapsed().as_secs_f64()
        );
        Ok(Self {
            child,
            client,
            base_url,
            limits,
        })
    }

    /// A client of this emulator's control plane.
    pub fn client(&self) -> EmulatorClient {
        self.client.clone()
    }

    /// Requests, quota units and refusals the emulator counted for `mailbox`.
    pub async fn usage(&self, mailbox: &str) -> anyhow::Result<Usage> {
        usage(&self.client, mailbox).await
    }

    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

pub fn latency_name(latency: Latency) -> &'static str {
    match latency {
        Latency::Realistic => "realistic",
        Latency::Off => "off",
    }
}

/// Requests, quota units and refusals `client`'s emulator counted for `mailbox`.
pub async fn usage(client: &EmulatorClient, mailbox: &str) -> anyhow::Result<Usage> {
    {
        let report = client.stats().await.context("emulator stats")?;
        let mut usage = Usage::default();
        for entry in report
            .requests
            .iter()
            .filter(|e| e.mailbox.eq_ignore_ascii_case(mailbox))
        {
            usage.requests += entry.stats.requests;
            usage.throttled += [429, 403]
                .iter()
                .filter_map(|s| entry.stats.statuses.get(s))
                .sum::<u64>();
        }
        usage.units = report
            .quota_units
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(mailbox))
            .map(|(_, v)| v)
            .sum();
        usage.throttles = report.throttles;
        Ok(usage)
    }
}
