//! The provider emulator as a child process of a benchmark (`threadline emulator` from this
//! same executable), so the benchmark's own CPU and memory figures are Threadline's alone.
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::Context;
use serde::Deserialize;
use tokio::process::{Child, Command};

use threadline_emulator::Quota;

/// The emulator's quota figures (`GET /_emulator/settings`).
#[derive(Debug, Clone, Deserialize)]
pub struct Limits {
    pub gmail_units_per_minute: u32,
    pub graph_requests_per_minute: u32,
}

/// What the emulator counted for one mailbox so far.
#[derive(Debug, Clone, Copy, Default)]
pub struct Usage {
    pub requests: u64,
    pub units: u64,
    /// 429 and 403 answers (quota and concurrency refusals).
    pub throttled: u64,
}

#[derive(Deserialize)]
struct StatsReport {
    requests: Vec<RouteEntry>,
    #[serde(default)]
    quota_units: std::collections::BTreeMap<String, u64>,
}

#[derive(Deserialize)]
struct RouteEntry {
    mailbox: String,
    requests: u64,
    #[serde(default)]
    statuses: std::collections::BTreeMap<String, u64>,
}

pub struct EmulatorProcess {
    child: Child,
    http: reqwest::Client,
    pub base_url: String,
    pub limits: Limits,
}

impl EmulatorProcess {
    /// Start `threadline emulator` with two generated mailboxes (a Gmail and an Outlook one)
    /// of `messages` each, and wait until it answers.
    pub async fn start(seed: u64, messages: usize, quota: Quota) -> anyhow::Result<Self> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let exe = std::env::current_exe().context("cannot find the threadline executable")?;
        let quota = match quota {
            Quota::Realistic => "realistic",
            Quota::Off => "off",
        };
        let child = Command::new(exe)
            .args(["emulator", "--bind", &format!("127.0.0.1:{port}")])
            .args(["--seed", &seed.to_string(), "--mailboxes", "2"])
            .args(["--messages", &messages.to_string(), "--quota", quota])
            .arg("--auto-consent")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .context("cannot start the emulator")?;
        let base_url = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        let started = Instant::now();
        let mut process = Self {
            child,
            http,
            base_url,
            limits: Limits {
                gmail_units_per_minute: 0,
                graph_requests_per_minute: 0,
            },
        };
        loop {
            if let Ok(res) = process
                .http
                .get(process.url("/_emulator/settings"))
                .send()
                .await
            {
                if res.status().is_success() {
                    process.limits = res.json().await.context("emulator settings")?;
                    break;
                }
            }
            if let Some(status) = process.child.try_wait()? {
                anyhow::bail!("the emulator exited early ({status})");
            }
            anyhow::ensure!(
                started.elapsed() < Duration::from_secs(900),
                "the emulator did not start within 15 minutes"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        eprintln!(
            "emulator ready after {:.1} s",
            started.elapsed().as_secs_f64()
        );
        Ok(process)
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// Requests, quota units and refusals the emulator counted for `mailbox`.
    pub async fn usage(&self, mailbox: &str) -> anyhow::Result<Usage> {
        let report: StatsReport = self
            .http
            .get(self.url("/_emulator/stats"))
            .send()
            .await?
            .json()
            .await
            .context("emulator stats")?;
        let mut usage = Usage::default();
        for entry in report
            .requests
            .iter()
            .filter(|e| e.mailbox.eq_ignore_ascii_case(mailbox))
        {
            usage.requests += entry.requests;
            usage.throttled += ["429", "403"]
                .iter()
                .filter_map(|s| entry.statuses.get(*s))
                .sum::<u64>();
        }
        usage.units = report
            .quota_units
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(mailbox))
            .map(|(_, v)| v)
            .sum();
        Ok(usage)
    }

    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}
