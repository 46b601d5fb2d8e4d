//! Leased background work in the `jobs` table, safe with several instances on one database:
//! PostgreSQL claims with `FOR UPDATE SKIP LOCKED`; SQLite, which has one writer at a time,
//! claims with a single `UPDATE ... RETURNING`. A lease that expires (a crashed instance) makes
//! the job claimable again.
use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ConnectionTrait, DbBackend, DbErr, EntityTrait, FromQueryResult, Set, Statement, Value,
};

use super::entities::jobs::{self, Entity as Jobs, Model as Job};
use crate::domain::job::{JobKind, JobState};

pub const SYNC_ACCOUNT: JobKind = JobKind::SyncAccount;
pub const QUEUED: JobState = JobState::Queued;
pub const RUNNING: JobState = JobState::Running;
/// A one-shot job that finished; kept so its outcome can be shown.
pub const DONE: JobState = JobState::Done;

/// A fresh, unclaimed job row due at `run_at` (None: now, the time it is created).
fn queued(
    org_id: i64,
    kind: JobKind,
    subject_id: i64,
    payload: String,
    run_at: Option<DateTime<Utc>>,
) -> jobs::ActiveModel {
    let now = super::now();
    let run_at = run_at.unwrap_or(now);
    jobs::ActiveModel {
        organization_id: Set(org_id),
        kind: Set(kind),
        subject_id: Set(subject_id),
        payload: Set(payload),
        state: Set(QUEUED),
        run_at: Set(run_at),
        attempts: Set(0),
        locked_by: Set(None),
        lease_until: Set(None),
        last_error: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
}

/// Make sure a recurring job exists for `subject_id` (no-op when it does).
pub async fn ensure(
    db: &impl ConnectionTrait,
    org_id: i64,
    kind: JobKind,
    subject_id: i64,
    run_at: DateTime<Utc>,
) -> Result<(), DbErr> {
    let job = queued(org_id, kind, subject_id, "{}".into(), Some(run_at));
    Jobs::insert(job)
        .on_conflict(
            OnConflict::columns([jobs::Column::Kind, jobs::Column::SubjectId])
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// Jobs that wait for their owner rather than for time: a mailbox that needs reconnecting, or
/// that was paused (its owner disabled), gets no sync pass until it is reconnected (which makes
/// its job due at once, see [`run_now`]).
pub(crate) const PAUSED: &str =
    "NOT (kind = 'sync_account' AND EXISTS (SELECT 1 FROM mail_accounts m \
                      WHERE m.id = jobs.subject_id AND m.status IN ('needs_reconnect', 'paused')))";

/// Claim a due job of `kind` for `worker`, for `lease`; paused jobs are skipped. Fair share:
/// the job whose passes in a row have gone through the fewest messages comes first (a mailbox
/// never synced, or up to date and due, has gone through none), then the one with the fewest
/// such passes, then the most overdue. A job requeued after a slice is due at once but goes
/// behind every job that has had less, so with several instances on one database the first
/// pages of every mailbox come first, then the histories advance in step, message for message
/// (a slow provider's mailbox is not left behind by a fast one's), and mailboxes of one size
/// finish together.
pub async fn claim(
    db: &impl ConnectionTrait,
    kind: JobKind,
    worker: &str,
    lease: Duration,
    now: DateTime<Utc>,
) -> Result<Option<Job>, DbErr> {
    let backend = db.get_database_backend();
    let pick = format!(
        "SELECT id FROM jobs WHERE kind = {{1}} AND ((state = 'queued' AND run_at <= {{2}}) \
         OR (state = 'running' AND lease_until < {{2}})) AND {PAUSED} ORDER BY progress, slices, run_at, id LIMIT 1"
    );
    let pick = match backend {
        DbBackend::Postgres => format!("{pick} FOR UPDATE SKIP LOCKED"),
        _ => pick,
    };
    let sql = format!(
        "UPDATE jobs SET state = 'running', locked_by = {{3}}, lease_until = {{4}}, \
         attempts = attempts + 1, updated_at = {{2}} WHERE id = ({pick}) RETURNING *"
    );
    let values: Vec<Value> = vec![kind.into(), now.into(), worker.into(), (now + lease).into()];
    let stmt = Statement::from_sql_and_values(backend, placeholders(&sql, backend), values);
    Job::find_by_statement(stmt).one(db).await
}

/// Extend a held lease; false when the lease was lost (taken over after expiry).
pub async fn heartbeat(
    db: &impl ConnectionTrait,
    id: i64,
    worker: &str,
    until: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let sql = "UPDATE jobs SET lease_until = {1} WHERE id = {2} AND locked_by = {3} AND state = 'running'";
    exec(db, sql, vec![until.into(), id.into(), worker.into()]).await
}

/// A pass stopped at its time slice with more to do after going through `messages`: queue the
/// job again, due at once, behind the jobs that have had less ([`claim`]).
pub async fn requeue_slice(
    db: &impl ConnectionTrait,
    id: i64,
    worker: &str,
    messages: u64,
) -> Result<bool, DbErr> {
    let sql = "UPDATE jobs SET state = 'queued', locked_by = NULL, lease_until = NULL, \
               run_at = {1}, last_error = NULL, slices = slices + 1, \
               progress = progress + {4}, updated_at = {1} WHERE id = {2} AND locked_by = {3}";
    let messages = i64::from(u32::try_from(messages).unwrap_or(u32::MAX));
    let values = vec![
        super::now().into(),
        id.into(),
        worker.into(),
        messages.into(),
    ];
    exec(db, sql, values).await
}

/// Finish a run: queue the job again for `next_run`, recording the error if any; its slices
/// and their progress start again from none.
pub async fn complete(
    db: &impl ConnectionTrait,
    id: i64,
    worker: &str,
    next_run: DateTime<Utc>,
    error: Option<String>,
) -> Result<bool, DbErr> {
    // A wake while the pass ran (`woken_at` at or after the claim, which set `updated_at`):
    // the change it announced may have come after the pass read, so due again at once.
    let sql = "UPDATE jobs SET state = 'queued', locked_by = NULL, lease_until = NULL, \
               run_at = CASE WHEN woken_at IS NOT NULL AND woken_at >= updated_at THEN {3} \
               ELSE {1} END, last_error = {2}, updated_at = {3}, slices = 0, progress = 0 \
               WHERE id = {4} AND locked_by = {5}";
    let values = vec![
        next_run.into(),
        error.into(),
        super::now().into(),
        id.into(),
        worker.into(),
    ];
    exec(db, sql, values).await
}

/// On shutdown: give back every lease `worker` holds, runnable at once by another instance.
pub async fn release_all(db: &impl ConnectionTrait, worker: &str) -> Result<u64, DbErr> {
    let backend = db.get_database_backend();
    let sql = "UPDATE jobs SET state = 'queued', locked_by = NULL, lease_until = NULL, \
               run_at = {1} WHERE locked_by = {2} AND state = 'running'";
    let stmt = Statement::from_sql_and_values(
        backend,
        placeholders(sql, backend),
        vec![super::now().into(), worker.into()],
    );
    Ok(db.execute(stmt).await?.rows_affected())
}

/// The jobs `workers` hold right now (running under their lease): what a shutdown that ran
/// out of time leaves behind.
pub async fn held_by(db: &impl ConnectionTrait, workers: &[String]) -> Result<Vec<Job>, DbErr> {
    use sea_orm::{ColumnTrait, QueryFilter};
    Jobs::find()
        .filter(jobs::Column::State.eq(RUNNING))
        .filter(jobs::Column::LockedBy.is_in(workers.iter().cloned()))
        .all(db)
        .await
}

/// A push notification asks for a pass of `subject_id`'s job: due now if queued for later,
/// and stamped so that a pass running right now is followed by another ([`complete`]). Many
/// wakes before the next claim are one pass. False when there is no such job.
pub async fn wake(
    db: &impl ConnectionTrait,
    kind: JobKind,
    subject_id: i64,
) -> Result<bool, DbErr> {
    let sql = "UPDATE jobs SET woken_at = {1}, run_at = CASE WHEN state = 'queued' AND \
               run_at > {1} THEN {1} ELSE run_at END WHERE kind = {2} AND subject_id = {3}";
    exec(
        db,
        sql,
        vec![super::now().into(), kind.into(), subject_id.into()],
    )
    .await
}

/// Run a queued job as soon as possible ("Sync now"); running jobs are left alone.
pub async fn run_now(
    db: &impl ConnectionTrait,
    kind: JobKind,
    subject_id: i64,
) -> Result<bool, DbErr> {
    let sql =
        "UPDATE jobs SET run_at = {1} WHERE kind = {2} AND subject_id = {3} AND state = 'queued'";
    exec(
        db,
        sql,
        vec![super::now().into(), kind.into(), subject_id.into()],
    )
    .await
}

pub async fn remove(
    db: &impl ConnectionTrait,
    kind: JobKind,
    subject_id: i64,
) -> Result<(), DbErr> {
    let sql = "DELETE FROM jobs WHERE kind = {1} AND subject_id = {2}";
    exec(db, sql, vec![kind.into(), subject_id.into()]).await?;
    Ok(())
}

pub async fn find(
    db: &impl ConnectionTrait,
    kind: JobKind,
    subject_id: i64,
) -> Result<Option<Job>, DbErr> {
    use sea_orm::{ColumnTrait, QueryFilter};
    Jobs::find()
        .filter(jobs::Column::Kind.eq(kind))
        .filter(jobs::Column::SubjectId.eq(subject_id))
        .one(db)
        .await
}

/// Queue a one-shot job with `payload`, replacing any earlier one of the same kind and subject
/// (a worker running the earlier one loses its lease at its next [`progress`]).
pub async fn replace(
    db: &impl ConnectionTrait,
    org_id: i64,
    kind: JobKind,
    subject_id: i64,
    payload: String,
) -> Result<i64, DbErr> {
    let job = queued(org_id, kind, subject_id, payload, None);
    Jobs::insert(job)
        .on_conflict(
            OnConflict::columns([jobs::Column::Kind, jobs::Column::SubjectId])
                .update_columns([
                    jobs::Column::OrganizationId,
                    jobs::Column::Payload,
                    jobs::Column::State,
                    jobs::Column::RunAt,
                    jobs::Column::Attempts,
                    jobs::Column::LockedBy,
                    jobs::Column::LeaseUntil,
                    jobs::Column::LastError,
                    jobs::Column::UpdatedAt,
                ])
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    find(db, kind, subject_id)
        .await?
        .map(|j| j.id)
        .ok_or_else(|| DbErr::RecordNotFound(format!("{kind} job {subject_id}")))
}

/// Claim one job by id to run it at once (in the request that queued it, or `threadline
/// sync`): when it is queued, or its holder's lease has expired.
pub async fn claim_id(
    db: &impl ConnectionTrait,
    id: i64,
    worker: &str,
    lease: Duration,
) -> Result<Option<Job>, DbErr> {
    let backend = db.get_database_backend();
    let now = super::now();
    let sql = "UPDATE jobs SET state = 'running', locked_by = {1}, lease_until = {2}, \
               attempts = attempts + 1, updated_at = {3} WHERE id = {4} AND (state = 'queued' \
               OR (state = 'running' AND lease_until < {3})) RETURNING *";
    let values: Vec<Value> = vec![worker.into(), (now + lease).into(), now.into(), id.into()];
    let stmt = Statement::from_sql_and_values(backend, placeholders(sql, backend), values);
    Job::find_by_statement(stmt).one(db).await
}

/// Record progress of a held job and extend its lease; false when the lease was lost.
pub async fn progress(
    db: &impl ConnectionTrait,
    id: i64,
    worker: &str,
    payload: String,
    lease_until: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let sql = "UPDATE jobs SET payload = {1}, lease_until = {2}, updated_at = {3} \
               WHERE id = {4} AND locked_by = {5} AND state = 'running'";
    let values = vec![
        payload.into(),
        lease_until.into(),
        super::now().into(),
        id.into(),
        worker.into(),
    ];
    exec(db, sql, values).await
}

/// Finish a held one-shot job: state `done`, the final payload kept.
pub async fn finish(
    db: &impl ConnectionTrait,
    id: i64,
    worker: &str,
    payload: String,
) -> Result<bool, DbErr> {
    let sql = "UPDATE jobs SET state = 'done', payload = {1}, locked_by = NULL, \
               lease_until = NULL, last_error = NULL, updated_at = {2} \
               WHERE id = {3} AND locked_by = {4}";
    let values = vec![
        payload.into(),
        super::now().into(),
        id.into(),
        worker.into(),
    ];
    exec(db, sql, values).await
}

async fn exec(db: &impl ConnectionTrait, sql: &str, values: Vec<Value>) -> Result<bool, DbErr> {
    let backend = db.get_database_backend();
    let stmt = Statement::from_sql_and_values(backend, placeholders(sql, backend), values);
    Ok(db.execute(stmt).await?.rows_affected() > 0)
}

/// `{n}` -> `$n` (PostgreSQL) or `?n` (SQLite), so one statement text serves both.
pub(super) fn placeholders(sql: &str, backend: DbBackend) -> String {
    let mut out = sql.to_string();
    for n in (1..=9).rev() {
        let to = match backend {
            DbBackend::Postgres => format!("${n}"),
            _ => format!("?{n}"),
        };
        out = out.replace(&format!("{{{n}}}"), &to);
    }
    out
}
