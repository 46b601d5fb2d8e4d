//! The delivery queue: events fanned out into one delivery per endpoint (unique per event and
//! endpoint, so two instances dispatching at once make one), then leased in small batches for
//! one attempt each. PostgreSQL leases with `FOR UPDATE SKIP LOCKED`; SQLite, which has one
//! writer at a time, with a single `UPDATE ... RETURNING`. A lease that expires (an instance
//! that crashed mid-attempt) makes the delivery due again: at least once, with the same id.
use chrono::{DateTime, Duration, Utc};
use sea_orm::{ConnectionTrait, DbBackend, DbErr, TransactionTrait, Value};

use crate::db::batch::statement;
use crate::domain::webhooks::{Outcome, MAX_FAILING, MAX_FAILURE_STREAK};

fn list(n: usize) -> String {
    vec!["?"; n].join(", ")
}

fn skip_locked(db: &impl ConnectionTrait) -> &'static str {
    match db.get_database_backend() {
        DbBackend::Postgres => " FOR UPDATE SKIP LOCKED",
        _ => "",
    }
}

/// Fan up to `limit` undispatched events out into deliveries due at `now` (to the endpoints that want them
/// now, or the one a test event names), in one transaction. Returns the events dispatched.
pub async fn dispatch<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    limit: i64,
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    let txn = crate::db::begin_write(db).await?;
    let backend = txn.get_database_backend();
    let sql = format!(
        "SELECT id FROM webhook_events WHERE dispatched = ? ORDER BY id LIMIT ?{}",
        skip_locked(&txn)
    );
    let rows = txn
        .query_all(statement(backend, &sql, vec![false.into(), limit.into()]))
        .await?;
    let ids: Vec<i64> = rows
        .iter()
        .map(|r| r.try_get_by_index::<i64>(0))
        .collect::<Result<_, _>>()?;
    if ids.is_empty() {
        txn.rollback().await?;
        return Ok(0);
    }
    let sql = format!(
        "INSERT INTO webhook_deliveries (organization_id, endpoint_id, event_id, state, \
         attempts, next_attempt_at, created_at, updated_at) \
         SELECT e.organization_id, p.id, e.id, 'pending', 0, ?, ?, ? \
         FROM webhook_events e JOIN webhook_endpoints p ON p.organization_id = e.organization_id \
         WHERE e.id IN ({}) AND ((e.endpoint_id IS NULL AND p.enabled = ? \
         AND p.events LIKE '%,' || e.event_type || ',%') OR p.id = e.endpoint_id) \
         ON CONFLICT (event_id, endpoint_id) DO NOTHING",
        list(ids.len())
    );
    let mut values: Vec<Value> = vec![now.into(), now.into(), now.into()];
    values.extend(ids.iter().map(|id| (*id).into()));
    values.push(true.into());
    txn.execute(statement(backend, &sql, values)).await?;
    let sql = format!(
        "UPDATE webhook_events SET dispatched = ? WHERE id IN ({})",
        list(ids.len())
    );
    let mut values: Vec<Value> = vec![true.into()];
    values.extend(ids.iter().map(|id| (*id).into()));
    txn.execute(statement(backend, &sql, values)).await?;
    txn.commit().await?;
    Ok(ids.len() as u64)
}

/// A leased delivery with what its attempt needs.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub id: i64,
    pub attempts: i64,
    pub org_id: i64,
    pub endpoint_id: i64,
    pub url: String,
    /// Sealed; opened by the caller.
    pub sealed_secret: String,
    pub msg_id: String,
    pub payload: String,
}

/// Lease up to `limit` due deliveries of enabled endpoints for `holder` until `now + lease`,
/// counting the attempt.
pub async fn claim(
    db: &impl ConnectionTrait,
    holder: &str,
    lease: Duration,
    now: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<Claimed>, DbErr> {
    let backend = db.get_database_backend();
    let sql = format!(
        "UPDATE webhook_deliveries SET lease_holder = ?, leased_until = ?, \
         attempts = attempts + 1, updated_at = ? WHERE id IN (SELECT d.id FROM \
         webhook_deliveries d WHERE d.state = 'pending' AND d.next_attempt_at <= ? \
         AND (d.leased_until IS NULL OR d.leased_until < ?) AND EXISTS (SELECT 1 FROM \
         webhook_endpoints p WHERE p.id = d.endpoint_id AND p.enabled = ?) \
         ORDER BY d.next_attempt_at, d.id LIMIT ?{}) RETURNING id",
        skip_locked(db)
    );
    let values: Vec<Value> = vec![
        holder.into(),
        (now + lease).into(),
        now.into(),
        now.into(),
        now.into(),
        true.into(),
        limit.into(),
    ];
    let rows = db.query_all(statement(backend, &sql, values)).await?;
    let ids: Vec<i64> = rows
        .iter()
        .map(|r| r.try_get_by_index::<i64>(0))
        .collect::<Result<_, _>>()?;
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT d.id, d.attempts, d.organization_id, p.id, p.url, p.secret, e.msg_id, e.payload \
         FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id \
         JOIN webhook_endpoints p ON p.id = d.endpoint_id \
         WHERE d.id IN ({}) AND d.lease_holder = ? ORDER BY d.id",
        list(ids.len())
    );
    let mut values: Vec<Value> = ids.iter().map(|id| (*id).into()).collect();
    values.push(holder.into());
    db.query_all(statement(backend, &sql, values))
        .await?
        .into_iter()
        .map(|r| {
            Ok(Claimed {
                id: r.try_get_by_index(0)?,
                attempts: r.try_get_by_index(1)?,
                org_id: r.try_get_by_index(2)?,
                endpoint_id: r.try_get_by_index(3)?,
                url: r.try_get_by_index(4)?,
                sealed_secret: r.try_get_by_index(5)?,
                msg_id: r.try_get_by_index(6)?,
                payload: r.try_get_by_index(7)?,
            })
        })
        .collect()
}

/// What an attempt came to.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub outcome: Outcome,
    /// The receiver's status (None: no answer).
    pub status: Option<i32>,
    /// The start of the answer, or what went wrong.
    pub excerpt: String,
    /// When to try again after a failure (None: no more attempts).
    pub retry_at: Option<DateTime<Utc>>,
}

/// Record an attempt of a delivery `holder` leased, and its endpoint's failure streak: a
/// streak of `MAX_FAILURE_STREAK`, failures for `MAX_FAILING` without a success, or a 410
/// disables the endpoint. Returns why the endpoint was disabled, when it was. Nothing is
/// recorded when the lease was lost meanwhile.
pub async fn record<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    claimed: &Claimed,
    holder: &str,
    attempt: &Attempt,
    now: DateTime<Utc>,
) -> Result<Option<String>, DbErr> {
    let txn = crate::db::begin_write(db).await?;
    let backend = txn.get_database_backend();
    let (state, next) = match (attempt.outcome, attempt.retry_at) {
        (Outcome::Delivered, _) => ("delivered", now),
        (Outcome::Failed, Some(at)) => ("pending", at),
        _ => ("failed", now),
    };
    let delivered_at = (attempt.outcome == Outcome::Delivered).then_some(now);
    let updated = txn
        .execute(statement(
            backend,
            "UPDATE webhook_deliveries SET state = ?, next_attempt_at = ?, last_status = ?, \
             last_response = ?, delivered_at = ?, leased_until = NULL, lease_holder = NULL, \
             updated_at = ? WHERE id = ? AND lease_holder = ?",
            vec![
                state.into(),
                next.into(),
                attempt.status.into(),
                attempt.excerpt.clone().into(),
                delivered_at.into(),
                now.into(),
                claimed.id.into(),
                holder.into(),
            ],
        ))
        .await?
        .rows_affected();
    if updated == 0 {
        txn.rollback().await?;
        return Ok(None);
    }
    let disabled = match attempt.outcome {
        Outcome::Delivered => {
            txn.execute(statement(
                backend,
                "UPDATE webhook_endpoints SET failure_streak = 0, failing_since = NULL \
                 WHERE id = ? AND failure_streak <> 0",
                vec![claimed.endpoint_id.into()],
            ))
            .await?;
            None
        }
        Outcome::Gone => Some("the receiver answered 410 Gone".to_string()),
        Outcome::Failed => failed(&txn, claimed.endpoint_id, now).await?,
    };
    if let Some(reason) = &disabled {
        txn.execute(statement(
            backend,
            "UPDATE webhook_endpoints SET enabled = ?, disabled_reason = ?, updated_at = ? \
             WHERE id = ?",
            vec![
                false.into(),
                reason.clone().into(),
                now.into(),
                claimed.endpoint_id.into(),
            ],
        ))
        .await?;
    }
    txn.commit().await?;
    Ok(disabled)
}

/// Count a failure against the endpoint; the reason to disable it, when the streak is too long.
async fn failed(
    db: &impl ConnectionTrait,
    endpoint_id: i64,
    now: DateTime<Utc>,
) -> Result<Option<String>, DbErr> {
    let backend = db.get_database_backend();
    db.execute(statement(
        backend,
        "UPDATE webhook_endpoints SET failure_streak = failure_streak + 1, \
         failing_since = COALESCE(failing_since, ?) WHERE id = ?",
        vec![now.into(), endpoint_id.into()],
    ))
    .await?;
    let Some(row) = db
        .query_one(statement(
            backend,
            "SELECT failure_streak, failing_since FROM webhook_endpoints WHERE id = ?",
            vec![endpoint_id.into()],
        ))
        .await?
    else {
        return Ok(None);
    };
    let streak: i64 = row.try_get_by_index(0)?;
    let since: Option<DateTime<Utc>> = row.try_get_by_index(1)?;
    if streak >= MAX_FAILURE_STREAK {
        return Ok(Some(format!("{streak} delivery attempts in a row failed")));
    }
    Ok(since.filter(|s| now - *s >= MAX_FAILING).map(|s| {
        format!(
            "every delivery attempt failed since {}",
            s.format("%Y-%m-%d %H:%M UTC")
        )
    }))
}

/// One delivery as the endpoint's log shows it.
#[derive(Debug, Clone)]
pub struct LogRow {
    pub msg_id: String,
    pub event_type: String,
    pub state: String,
    pub attempts: i64,
    pub last_status: Option<i32>,
    pub last_response: Option<String>,
    pub next_attempt_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
}

/// The endpoint's last `limit` deliveries, newest first.
pub async fn log(
    db: &impl ConnectionTrait,
    org_id: i64,
    endpoint_id: i64,
    limit: i64,
) -> Result<Vec<LogRow>, DbErr> {
    db.query_all(statement(
        db.get_database_backend(),
        "SELECT e.msg_id, e.event_type, d.state, d.attempts, d.last_status, d.last_response, \
         d.next_attempt_at, d.created_at FROM webhook_deliveries d \
         JOIN webhook_events e ON e.id = d.event_id \
         WHERE d.organization_id = ? AND d.endpoint_id = ? ORDER BY d.id DESC LIMIT ?",
        vec![org_id.into(), endpoint_id.into(), limit.into()],
    ))
    .await?
    .into_iter()
    .map(|r| {
        Ok(LogRow {
            msg_id: r.try_get_by_index(0)?,
            event_type: r.try_get_by_index(1)?,
            state: r.try_get_by_index(2)?,
            attempts: r.try_get_by_index(3)?,
            last_status: r.try_get_by_index(4)?,
            last_response: r.try_get_by_index(5)?,
            next_attempt_at: r.try_get_by_index(6)?,
            created_at: r.try_get_by_index(7)?,
        })
    })
    .collect()
}
