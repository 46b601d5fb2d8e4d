//! Gmail push upkeep (issue 22): after a pass, the worker holding the mailbox's lease keeps its
//! Gmail watch on the configured Pub/Sub topic: created on the mailbox's synced labels, renewed
//! once a day (Google's advice; a watch lapses after 7 days) or when it expires within two
//! days, stopped when push is turned off. The watch goes through the mailbox's own Gmail client
//! (its owner's grant or the organization connection's delegation) and a sync limiter, like
//! any other call of a pass. A watch Gmail refuses leaves the row `failing` with the reason in
//! words for the mailbox page, tried again an hour later; the mailbox polls meanwhile.
use chrono::{DateTime, Duration, Utc};

use super::super::limiter::{Limiter, Profile};
use super::super::org_access::Access;
use super::super::{Session, SyncError, SyncOptions};
use crate::config_push::GmailPush;
use crate::db::emails::Owner;
use crate::db::entities::mail_accounts::Model as Account;
use crate::db::entities::mailbox_push::Model as PushRow;
use crate::db::{self, push};
use crate::mailboxes::MailDeps;
use crate::providers::gmail::{units, WatchRefusal, DEFAULT_LABELS, NEVER_SYNCED};

/// The provider name on `mailbox_push` rows.
pub const PROVIDER: &str = "google";

/// A watch is renewed when it was created or renewed longer ago than this ...
const RENEW_AFTER_HOURS: i64 = 24;
/// ... or lapses within this.
const RENEW_BEFORE_EXPIRY_DAYS: i64 = 2;
/// A refused watch is asked for again after this.
const RETRY_FAILING_MINUTES: i64 = 60;

/// Create, renew or stop the mailbox's Gmail watch; records its state in `mailbox_push`.
pub async fn maintain(deps: &MailDeps, account: &Account) -> Result<(), SyncError> {
    let mut row = push::ensure(&deps.db, account.organization_id, account.id, PROVIDER).await?;
    let settings = deps.providers.push.gmail(&deps.providers.base_url);
    let config = match settings {
        Ok(config) => config,
        Err(reason) => return turn_off(deps, account, row, reason).await,
    };
    if !due(&row, &config, db::now()) {
        return Ok(());
    }
    let session = session(deps, account)?;
    let gmail = session.gmail().clone();
    let labels = synced_labels(account);
    let topic = config.topic.clone();
    let answer = session
        .call_cost(units::WATCH, |t| {
            let (g, topic, labels) = (gmail.clone(), topic.clone(), labels.clone());
            async move { g.watch(&t, &topic, &labels).await }
        })
        .await;
    let now = db::now();
    row.subscription_id = Some(config.topic.clone());
    match answer {
        Ok(Ok(watch)) => {
            row.state = push::ACTIVE.into();
            row.reason = None;
            row.expires_at = DateTime::<Utc>::from_timestamp_millis(watch.expiration_ms);
            row.renewed_at = Some(now);
            row.history_id = Some(watch.history_id);
            tracing::info!(account = account.id, ?labels, "gmail watch active");
        }
        Ok(Err(refusal)) => {
            row.state = push::FAILING.into();
            row.reason = Some(refused(&config.topic, &refusal));
        }
        Err(e) => {
            row.state = push::FAILING.into();
            row.reason = Some(format!(
                "Gmail did not set up push ({e}); polling meanwhile"
            ));
        }
    }
    if row.state == push::FAILING {
        tracing::warn!(
            account = account.id,
            reason = row.reason.as_deref(),
            "gmail watch failed"
        );
    }
    push::save(&deps.db, row).await?;
    Ok(())
}

/// Whether the watch must be asked for now: not active on this topic, renewed over a day
/// ago, or lapsing within two days. A failing one waits an hour between tries.
fn due(row: &PushRow, config: &GmailPush, now: DateTime<Utc>) -> bool {
    let same_topic = row.subscription_id.as_deref() == Some(config.topic.as_str());
    if row.state == push::FAILING && same_topic {
        return row.updated_at < now - Duration::minutes(RETRY_FAILING_MINUTES);
    }
    row.state != push::ACTIVE
        || !same_topic
        || row
            .renewed_at
            .is_none_or(|at| at < now - Duration::hours(RENEW_AFTER_HOURS))
        || row
            .expires_at
            .is_none_or(|at| at < now + Duration::days(RENEW_BEFORE_EXPIRY_DAYS))
}

/// Push is not possible (turned off, no topic, no service account): the row says why, and a
/// watch Gmail still keeps is stopped so it no longer publishes.
async fn turn_off(
    deps: &MailDeps,
    account: &Account,
    mut row: PushRow,
    reason: String,
) -> Result<(), SyncError> {
    if row.state == push::OFF && row.reason.as_deref() == Some(reason.as_str()) {
        return Ok(());
    }
    if row.state == push::ACTIVE {
        let session = session(deps, account)?;
        let gmail = session.gmail().clone();
        let stopped = session
            .call_cost(units::STOP, |t| {
                let g = gmail.clone();
                async move { g.stop(&t).await }
            })
            .await;
        if let Err(e) = stopped {
            // It lapses by itself within 7 days; its notifications are ignored meanwhile.
            tracing::warn!(account = account.id, error = %e, "could not stop the gmail watch");
        }
    }
    row.state = push::OFF.into();
    row.reason = Some(reason);
    row.subscription_id = None;
    row.expires_at = None;
    push::save(&deps.db, row).await?;
    Ok(())
}

/// A session for the upkeep's calls: the mailbox's own authority and a limiter of its own.
fn session(deps: &MailDeps, account: &Account) -> Result<Session, SyncError> {
    let owner = Owner {
        organization_id: account.organization_id,
        account_id: account.id,
    };
    let options = SyncOptions::for_deps(deps);
    let limiter = Limiter::new(Profile::gmail(options.gmail_units_per_minute));
    let access = Access::of(account)?;
    Ok(Session::with_access(
        deps.clone(),
        owner,
        crate::providers::Provider::Google,
        access,
        options,
        limiter,
    ))
}

/// The labels the mailbox syncs (its settings, else INBOX and SENT), never SPAM or TRASH.
pub fn synced_labels(account: &Account) -> Vec<String> {
    let stored = &account.sync_settings.labels;
    let labels: Vec<String> = if stored.is_empty() {
        DEFAULT_LABELS.iter().map(|l| (*l).to_string()).collect()
    } else {
        stored.clone()
    };
    labels
        .into_iter()
        .filter(|l| !NEVER_SYNCED.contains(&l.as_str()))
        .collect()
}

/// Gmail's refusal of the watch, as the operator fixes it.
fn refused(topic: &str, refusal: &WatchRefusal) -> String {
    match refusal {
        WatchRefusal::TopicNotFound(m) => format!(
            "Gmail cannot find the Pub/Sub topic {topic} (GOOGLE_PUBSUB_TOPIC): create it in \
             the Google Cloud project, or correct the setting; polling meanwhile ({m})"
        ),
        WatchRefusal::NotAllowed(m) => format!(
            "Gmail may not publish to the Pub/Sub topic {topic}: grant \
             gmail-api-push@system.gserviceaccount.com the Pub/Sub Publisher role on it; \
             polling meanwhile ({m})"
        ),
        WatchRefusal::Invalid(m) => {
            format!("Gmail refused to watch this mailbox on {topic}: {m}; polling meanwhile")
        }
    }
}
