//! What the multi-mailbox bench observes from outside the `threadline serve` instances: stored
//! messages per mailbox (first page, completion), database connections per instance
//! (PostgreSQL's `pg_stat_activity` by application name; SQLite: the database file's open
//! descriptors), peak memory per process, and at the end the runs (two passes of one mailbox at
//! once) and the ground truth.
use std::collections::{BTreeMap, HashMap};

use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Statement,
};

use threadline::db::entities::{emails, sync_runs};
use threadline_emulator::EmulatorClient;

/// Live stored messages per mailbox.
pub async fn stored(db: &DatabaseConnection) -> anyhow::Result<HashMap<i64, u64>> {
    let rows: Vec<(i64, i64)> = emails::Entity::find()
        .select_only()
        .column(emails::Column::AccountId)
        .column_as(Expr::cust("COUNT(*)"), "n")
        .filter(emails::Column::DeletedInProviderAt.is_null())
        .group_by(emails::Column::AccountId)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(a, n)| (a, u64::try_from(n).unwrap_or(0)))
        .collect())
}

/// PostgreSQL: connections to this database per application name (each instance connects
/// with its own, `threadline-bench-{i}`).
pub async fn pg_connections(db: &DatabaseConnection) -> anyhow::Result<HashMap<String, u64>> {
    let sql = "SELECT application_name, COUNT(*) AS n FROM pg_stat_activity \
               WHERE datname = current_database() GROUP BY application_name";
    let rows = db
        .query_all(Statement::from_string(db.get_database_backend(), sql))
        .await?;
    let mut out = HashMap::new();
    for row in rows {
        let name: String = row.try_get("", "application_name")?;
        let n: i64 = row.try_get("", "n")?;
        out.insert(name, u64::try_from(n).unwrap_or(0));
    }
    Ok(out)
}

/// SQLite: connections a process holds to the database file (each opens it once).
pub fn sqlite_connections(pid: u32, db_file: &std::path::Path) -> u64 {
    let Ok(dir) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return 0;
    };
    let target = std::fs::canonicalize(db_file).unwrap_or_else(|_| db_file.to_path_buf());
    let hits = dir
        .filter_map(Result::ok)
        .filter_map(|e| std::fs::read_link(e.path()).ok())
        .filter(|link| *link == target)
        .count();
    u64::try_from(hits).unwrap_or(0)
}

/// Peak resident memory of a live process in bytes (`VmHWM`), 0 when unknown.
pub fn peak_rss(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

/// The runs of every mailbox: how many, how many were cut off (`interrupted`) or failed, and
/// how many began before the mailbox's previous run had ended (two passes at once).
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct Runs {
    pub total: u64,
    pub interrupted: u64,
    pub failed: u64,
    pub double_passes: u64,
    /// Seconds the runs took, summed: against the workers' time, how busy they were (the rest
    /// is claiming, scheduling, and waiting when nothing was due).
    pub pass_seconds: f64,
}

pub async fn runs(db: &DatabaseConnection) -> anyhow::Result<Runs> {
    let all = sync_runs::Entity::find()
        .order_by_asc(sync_runs::Column::AccountId)
        .order_by_asc(sync_runs::Column::StartedAt)
        .all(db)
        .await?;
    let mut out = Runs::default();
    let mut last: Option<(i64, Option<chrono::DateTime<chrono::Utc>>)> = None;
    for run in all {
        out.total += 1;
        match run.status.as_str() {
            "interrupted" => out.interrupted += 1,
            "failed" => out.failed += 1,
            _ => {}
        }
        if let Some(end) = run.finished_at {
            #[allow(clippy::cast_precision_loss, reason = "a report figure")]
            let ms = (end - run.started_at).num_milliseconds().max(0) as f64;
            out.pass_seconds += ms / 1_000.0;
        }
        if let Some((account, end)) = last {
            // A previous run still open, or ended after this one began: two at once.
            if account == run.account_id && end.is_none_or(|e| e > run.started_at) {
                out.double_passes += 1;
            }
        }
        last = Some((run.account_id, run.finished_at));
    }
    Ok(out)
}

/// Mailboxes whose stored mail is not exactly the provider's (every generated message sits in
/// a synced label or folder): ids, read and starred state, nothing deleted, nothing twice.
pub async fn truth_mismatches(
    db: &DatabaseConnection,
    emulator: &EmulatorClient,
    mailboxes: &BTreeMap<i64, String>,
) -> anyhow::Result<Vec<String>> {
    type Row = (String, bool, bool, Option<chrono::DateTime<chrono::Utc>>);
    let mut wrong = Vec::new();
    for (id, address) in mailboxes {
        let truth: BTreeMap<String, (bool, bool)> = emulator
            .truth(address)
            .await?
            .into_iter()
            .map(|m| (m.id, (m.read, m.starred)))
            .collect();
        let rows: Vec<Row> = emails::Entity::find()
            .select_only()
            .columns([
                emails::Column::ProviderMessageId,
                emails::Column::ProviderRead,
                emails::Column::ProviderStarred,
                emails::Column::DeletedInProviderAt,
            ])
            .filter(emails::Column::AccountId.eq(*id))
            .into_tuple()
            .all(db)
            .await?;
        let count = rows.len();
        let deleted = rows.iter().filter(|r| r.3.is_some()).count();
        let stored: BTreeMap<String, (bool, bool)> =
            rows.into_iter().map(|r| (r.0, (r.1, r.2))).collect();
        if deleted > 0 || stored.len() != count || stored != truth {
            let missing = truth.keys().filter(|k| !stored.contains_key(*k)).count();
            wrong.push(format!(
                "{address}: {count} stored ({deleted} deleted), {} at the provider, {missing} missing",
                truth.len()
            ));
        }
    }
    Ok(wrong)
}
