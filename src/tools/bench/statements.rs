//! `threadline bench sync --statements`: where a pass's database time goes. Every statement
//! the pass runs is timed as the application sees it (round trip included) and grouped by the
//! start of its SQL; the report lists the groups that took longest, and how much of the pass
//! the application spent waiting on the database at all.
use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use sea_orm::DatabaseConnection;

/// Characters of SQL that name a group (long enough to tell the statements apart, short enough
/// that one statement with different row counts stays one group).
const KEY_CHARS: usize = 90;
/// Groups printed.
const TOP: usize = 15;

#[derive(Default)]
struct Group {
    count: u64,
    total: Duration,
}

/// Statement timings of one connection handle (and the clones made after [`Profile::attach`]).
#[derive(Clone, Default)]
pub struct Profile(Arc<Mutex<HashMap<String, Group>>>);

impl Profile {
    /// Time every statement run through `db` from now on.
    pub fn attach(&self, db: &mut DatabaseConnection) {
        let groups = self.0.clone();
        db.set_metric_callback(move |info| {
            let key: String = info.statement.sql.chars().take(KEY_CHARS).collect();
            let mut groups = groups.lock();
            let g = groups.entry(key).or_default();
            g.count += 1;
            g.total += info.elapsed;
        });
    }

    /// The report: total statement time against `wall`, then the longest groups.
    #[allow(clippy::cast_precision_loss, reason = "report figures")]
    pub fn report(&self, wall: Duration) -> String {
        let groups = self.0.lock();
        let total: Duration = groups.values().map(|g| g.total).sum();
        let count: u64 = groups.values().map(|g| g.count).sum();
        let mut out = format!(
            "  statements: {count} taking {:.2} s of the pass's {:.2} s ({:.0}%)\n",
            total.as_secs_f64(),
            wall.as_secs_f64(),
            100.0 * total.as_secs_f64() / wall.as_secs_f64().max(1e-9)
        );
        let mut sorted: Vec<(&String, &Group)> = groups.iter().collect();
        sorted.sort_by_key(|(_, g)| std::cmp::Reverse(g.total));
        for (key, g) in sorted.into_iter().take(TOP) {
            let per = g.total.as_secs_f64() * 1000.0 / (g.count.max(1) as f64);
            let _ = writeln!(
                out,
                "    {:>7.3} s {:>6} x {per:>7.2} ms  {}",
                g.total.as_secs_f64(),
                g.count,
                key.replace('\n', " ")
            );
        }
        out
    }
}
