//! Load from a second process: `wrk` (Debian package `wrk`) with a Lua script that picks each
//! request's path from a list, sends the signed-in session's cookie, and prints its figures as
//! JSON when done (latency percentiles in microseconds, requests, errors).
use std::path::Path;
use std::process::Stdio;

use anyhow::Context;
use serde::{Deserialize, Serialize};

/// One load run.
pub struct Load<'a> {
    pub base: &'a str,
    pub cookie: &'a str,
    /// Paths to request, chosen at random per request.
    pub paths: &'a [String],
    pub connections: u32,
    pub seconds: u64,
}

/// What wrk measured.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Figures {
    pub requests: u64,
    pub seconds: f64,
    pub requests_per_second: f64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    /// Responses with a status of 400 or more.
    pub error_statuses: u64,
    /// Connect, read, write errors and timeouts.
    pub socket_errors: u64,
}

const SCRIPT: &str = r#"
local paths = {}
for line in io.lines(os.getenv("THREADLINE_WRK_PATHS")) do paths[#paths + 1] = line end
local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("seed", counter)
end
function init(args)
  math.randomseed(os.time() * 1000 + seed)
end
function request()
  return wrk.format("GET", paths[math.random(#paths)])
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'THREADLINE_WRK {"requests":%d,"seconds":%f,"requests_per_second":%f,"p50_ms":%f,' ..
    '"p90_ms":%f,"p99_ms":%f,"max_ms":%f,"error_statuses":%d,"socket_errors":%d}\n',
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000, e.status,
    e.connect + e.read + e.write + e.timeout))
end
"#;

/// Is wrk installed?
pub fn available() -> bool {
    std::process::Command::new("wrk")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

/// Run `load` with wrk; `dir` holds the script and the path list.
pub async fn run(dir: &Path, load: &Load<'_>) -> anyhow::Result<Figures> {
    let script = dir.join("timeline.lua");
    let paths = dir.join("paths.txt");
    std::fs::write(&script, SCRIPT)?;
    std::fs::write(&paths, load.paths.join("\n") + "\n")?;
    let out = tokio::process::Command::new("wrk")
        // wrk refuses fewer connections than threads.
        .arg("--threads")
        .arg(load.connections.clamp(1, 2).to_string())
        .arg("--connections")
        .arg(load.connections.to_string())
        .arg("--duration")
        .arg(format!("{}s", load.seconds))
        .arg("--timeout")
        .arg("30s")
        .arg("--script")
        .arg(&script)
        .arg("--header")
        .arg(format!("Cookie: {}", load.cookie))
        .arg(load.base)
        .env("THREADLINE_WRK_PATHS", &paths)
        .output()
        .await
        .context("cannot run wrk (install it: apt-get install wrk)")?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    anyhow::ensure!(
        out.status.success(),
        "wrk failed: {}{}",
        stdout,
        String::from_utf8_lossy(&out.stderr)
    );
    let json = stdout
        .lines()
        .find_map(|l| l.strip_prefix("THREADLINE_WRK "))
        .with_context(|| format!("wrk printed no figures:\n{stdout}"))?;
    Ok(serde_json::from_str(json)?)
}
