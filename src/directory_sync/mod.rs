//! Directory sync of organization-wide connections (issue 20 §2, §3): read the connection's
//! directory, evaluate its selection rules ([`crate::domain::selection`]) against it and the
//! connection's mailboxes, and show (preview) or apply the plan: new users get a mailbox,
//! removed, disabled or suspended users have theirs paused and flagged, re-enabled users resume,
//! renamed users keep their row. Runs on demand (the rules page, `threadline directory sync`)
//! and on a schedule ([`job`]); the connection's `directory_sync` job row is the lease, so one
//! runner per connection at a time across instances.
pub mod cli;
pub mod job;
pub mod listing;

use chrono::Duration;
use sea_orm::DbErr;

use crate::db::entities::connections::Model as Connection;
use crate::db::entities::jobs::Model as Job;
use crate::db::org_mailboxes::{self, Target};
use crate::db::{self, audit, connection_rules, directory_syncs, jobs};
use crate::domain::job::JobKind;
use crate::domain::provider::Provider;
use crate::domain::selection::{self, Directory, Listing, Plan, Rule};
use crate::mailboxes::MailDeps;

pub use crate::db::directory_syncs::{Change, Summary};

pub const DIRECTORY_SYNC: JobKind = JobKind::DirectorySync;
/// How often each connection's directory is read again.
pub const INTERVAL: Duration = Duration::hours(1);
/// How long a runner holds a connection.
pub const LEASE: Duration = Duration::minutes(10);

#[derive(Debug, thiserror::Error)]
pub enum DirectorySyncError {
    #[error("database error")]
    Db(#[from] DbErr),
    #[error("unknown kind of connection: {0}")]
    UnknownKind(String),
    /// The directory could not be read; the message says what the provider answered.
    #[error("the directory could not be read: {0}")]
    Directory(String),
    #[error("a directory sync of this connection is already running; try again in a minute")]
    Busy,
}

/// Who asked for a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    Schedule,
    Web { admin: i64 },
    Cli,
}

impl Trigger {
    fn as_str(self) -> &'static str {
        match self {
            Self::Schedule => "schedule",
            Self::Web { .. } => "web",
            Self::Cli => "cli",
        }
    }

    fn actor(self) -> Option<i64> {
        match self {
            Self::Web { admin } => Some(admin),
            _ => None,
        }
    }
}

/// The provider and credentials kind of a connection's mailboxes.
pub fn mailbox_kind(
    connection: &Connection,
) -> Result<(Directory, Provider, &'static str), DirectorySyncError> {
    match Directory::of_connection_kind(&connection.kind) {
        Some(Directory::Microsoft) => Ok((Directory::Microsoft, Provider::Microsoft, "app_only")),
        Some(Directory::Google) => Ok((Directory::Google, Provider::Google, "delegation")),
        None => Err(DirectorySyncError::UnknownKind(connection.kind.clone())),
    }
}

/// The rules evaluated against the live directory.
pub struct Evaluation {
    pub rules: Vec<Rule>,
    pub listing: Listing,
    pub plan: Plan,
}

/// Read the directory and evaluate the connection's rules; changes nothing.
pub async fn evaluate(
    deps: &MailDeps,
    connection: &Connection,
) -> Result<Evaluation, DirectorySyncError> {
    let (directory, provider, _) = mailbox_kind(connection)?;
    let org = connection.organization_id;
    let rules = connection_rules::list(&deps.db, org, connection.id).await?;
    if !rules.iter().any(|r| r.kind.includes()) {
        // Nothing to select: the directory is not read (the preview says to add a rule).
        let plan = Plan {
            no_rules: true,
            ..Plan::default()
        };
        return Ok(Evaluation {
            rules,
            listing: Listing::default(),
            plan,
        });
    }
    let listing = listing::read(deps, connection, directory, &rules).await?;
    let current = org_mailboxes::current(&deps.db, org, connection.id).await?;
    let taken = org_mailboxes::taken(&deps.db, org, provider, connection.id).await?;
    let plan = selection::plan(&rules, &listing, &current, &taken);
    Ok(Evaluation {
        rules,
        listing,
        plan,
    })
}

/// What a run did.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub summary: Summary,
    pub changes: Vec<Change>,
    /// The connection has no rule that selects anyone: nothing was read or changed.
    pub no_rules: bool,
}

/// Run a directory sync of `connection` now (the rules page, the CLI), as `worker`: refused
/// with [`DirectorySyncError::Busy`] while another runner holds the connection.
pub async fn run_now(
    deps: &MailDeps,
    connection: &Connection,
    trigger: Trigger,
    worker: &str,
) -> Result<Report, DirectorySyncError> {
    let now = db::now();
    let org = connection.organization_id;
    jobs::ensure(&deps.db, org, DIRECTORY_SYNC, connection.id, now).await?;
    let job = jobs::find(&deps.db, DIRECTORY_SYNC, connection.id)
        .await?
        .ok_or(DirectorySyncError::Busy)?;
    let Some(job) = jobs::claim_id(&deps.db, job.id, worker, LEASE).await? else {
        return Err(DirectorySyncError::Busy);
    };
    run_claimed(deps, connection, &job, trigger, worker).await
}

/// Run a held job and hand it back due again after [`INTERVAL`].
async fn run_claimed(
    deps: &MailDeps,
    connection: &Connection,
    job: &Job,
    trigger: Trigger,
    worker: &str,
) -> Result<Report, DirectorySyncError> {
    let result = run_held(deps, connection, trigger).await;
    let error = result.as_ref().err().map(ToString::to_string);
    jobs::complete(&deps.db, job.id, worker, db::now() + INTERVAL, error).await?;
    result
}

async fn run_held(
    deps: &MailDeps,
    connection: &Connection,
    trigger: Trigger,
) -> Result<Report, DirectorySyncError> {
    let org = connection.organization_id;
    let eval = match evaluate(deps, connection).await {
        Ok(eval) if eval.plan.no_rules => {
            return Ok(Report {
                no_rules: true,
                ..Report::default()
            });
        }
        Ok(eval) => eval,
        Err(e) => {
            let run = directory_syncs::start(
                &deps.db,
                org,
                connection.id,
                trigger.as_str(),
                trigger.actor(),
            )
            .await?;
            directory_syncs::finish(&deps.db, &run, Summary::default(), &[], Some(e.to_string()))
                .await?;
            return Err(e);
        }
    };
    apply(deps, connection, &eval.plan, trigger).await
}

/// Apply a plan in one transaction, with its run record and audit entries.
pub async fn apply(
    deps: &MailDeps,
    connection: &Connection,
    plan: &Plan,
    trigger: Trigger,
) -> Result<Report, DirectorySyncError> {
    let (_, provider, auth_kind) = mailbox_kind(connection)?;
    let target = Target {
        organization_id: connection.organization_id,
        connection_id: connection.id,
        provider,
        auth_kind,
    };
    let txn = db::begin_write(&deps.db).await?;
    let run = directory_syncs::start(
        &txn,
        target.organization_id,
        connection.id,
        trigger.as_str(),
        trigger.actor(),
    )
    .await?;
    let mut report = Report::default();
    let mut note = |action: &str, address: &str, detail: String| {
        report.changes.push(Change {
            action: action.into(),
            address: address.into(),
            detail,
        });
    };
    let mut summary = Summary::default();
    for a in &plan.add {
        org_mailboxes::add(&txn, &target, a).await?;
        summary.added += 1;
        note("added", &a.address, String::new());
    }
    for p in &plan.pause {
        org_mailboxes::pause(&txn, &target, p).await?;
        if p.already_paused {
            note("flagged", &p.address, p.reason.describe().into());
        } else {
            summary.paused += 1;
            note("paused", &p.address, p.reason.describe().into());
        }
    }
    for r in &plan.resume {
        org_mailboxes::resume(&txn, &target, r).await?;
        summary.resumed += 1;
        note("resumed", &r.address, String::new());
    }
    for r in &plan.rename {
        org_mailboxes::rename(&txn, &target, r).await?;
        summary.renamed += 1;
        let detail = if r.old_address == r.new_address {
            format!("display name now {}", r.display_name)
        } else {
            format!("was {}", r.old_address)
        };
        note("renamed", &r.new_address, detail);
    }
    for s in &plan.skip {
        summary.skipped += 1;
        note("skipped", &s.address, s.reason.describe().into());
    }
    report.summary = summary;
    for c in &report.changes {
        audit::record(
            &txn,
            audit::Entry {
                organization_id: target.organization_id,
                actor_user_id: trigger.actor(),
                action: &format!("directory_sync.{}", c.action),
                subject_kind: "connection",
                subject_id: Some(connection.id),
                detail: format!("{} {}", c.address, c.detail).trim().to_string(),
            },
        )
        .await?;
    }
    audit::record(
        &txn,
        audit::Entry {
            organization_id: target.organization_id,
            actor_user_id: trigger.actor(),
            action: "directory_sync.run",
            subject_kind: "connection",
            subject_id: Some(connection.id),
            detail: format!("{} ({}): {summary}", connection.name, trigger.as_str()),
        },
    )
    .await?;
    directory_syncs::finish(&txn, &run, summary, &report.changes, None).await?;
    txn.commit().await?;
    Ok(report)
}
