//! What a benchmark measures about this process: CPU time (user + system, from getrusage) and
//! peak resident memory (Linux `VmHWM`, which can be reset between phases).
use std::time::Duration;

use nix::sys::resource::{getrusage, UsageWho};

/// CPU time this process has used so far.
pub fn cpu_time() -> Duration {
    let Ok(usage) = getrusage(UsageWho::RUSAGE_SELF) else {
        return Duration::ZERO;
    };
    let tv = |t: nix::sys::time::TimeVal| {
        Duration::from_secs(u64::try_from(t.tv_sec()).unwrap_or(0))
            + Duration::from_micros(u64::try_from(t.tv_usec()).unwrap_or(0))
    };
    tv(usage.user_time()) + tv(usage.system_time())
}

/// Reset the peak-RSS mark (Linux: `echo 5 > /proc/self/clear_refs`); false when unsupported.
pub fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// Peak resident memory in bytes since start or the last reset (Linux `VmHWM`); falls back to
/// getrusage's lifetime maximum elsewhere.
pub fn peak_rss() -> u64 {
    if let Ok(status) = std::fs::read_to_string("/proc/self/status") {
        if let Some(kb) = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        {
            return kb * 1024;
        }
    }
    getrusage(UsageWho::RUSAGE_SELF).map_or(0, |u| u64::try_from(u.max_rss()).unwrap_or(0) * 1024)
}

/// Resident memory now, in bytes: `(anonymous, file-backed)` (Linux `RssAnon` and `RssFile`
/// plus `RssShmem`); zeros elsewhere. Memory-mapped database files count as file-backed: the
/// kernel can drop those pages at any time, unlike the heap.
pub fn rss_parts() -> (u64, u64) {
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else {
        return (0, 0);
    };
    let kb = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .unwrap_or(0)
            * 1024
    };
    (kb("RssAnon:"), kb("RssFile:") + kb("RssShmem:"))
}

/// The highest of each part of [`rss_parts`], sampled every 50 ms until dropped.
pub struct RssPeaks {
    peaks: std::sync::Arc<parking_lot::Mutex<(u64, u64)>>,
    task: tokio::task::JoinHandle<()>,
}

impl RssPeaks {
    pub fn start() -> Self {
        let peaks = std::sync::Arc::new(parking_lot::Mutex::new(rss_parts()));
        let shared = peaks.clone();
        let task = tokio::spawn(async move {
            loop {
                let (anon, file) = rss_parts();
                {
                    let mut p = shared.lock();
                    p.0 = p.0.max(anon);
                    p.1 = p.1.max(file);
                }
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        });
        Self { peaks, task }
    }

    /// `(peak anonymous, peak file-backed)` in bytes so far.
    pub fn peaks(&self) -> (u64, u64) {
        *self.peaks.lock()
    }
}

impl Drop for RssPeaks {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_time_advances_and_memory_is_reported() {
        let before = cpu_time();
        let mut x = 0u64;
        for i in 0..50_000_000u64 {
            x = x.wrapping_mul(31).wrapping_add(std::hint::black_box(i));
        }
        std::hint::black_box(x);
        assert!(cpu_time() > before);
        let big = vec![1u8; 64 << 20];
        std::hint::black_box(&big);
        assert!(peak_rss() >= 64 << 20);
    }
}
