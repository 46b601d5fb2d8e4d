//! Outlook change notifications (§D.10), kept up at the end of a mailbox's pass: one
//! subscription per mailbox on its messages (`/me/messages` with the owner's grant,
//! `/users/{id}/messages` with an organization connection's app-only token), created with a
//! fresh random `clientState` of which only the SHA-256 is stored, renewed when less than a day
//! is left, reauthorized after `reauthorizationRequired`, recreated after `subscriptionRemoved`
//! or when Graph no longer knows it. Calls go through a session like a pass's (the limiter,
//! one token refresh after a 401, backoff); a failure leaves the row `failing` with the reason
//! and the mailbox polling at its own interval.
use std::time::Duration as StdDuration;

use base64::Engine as _;
use chrono::Duration;
use rand::RngCore as _;
use sha2::{Digest as _, Sha256};

use crate::config_push::{GRAPH_LIFECYCLE_PATH, GRAPH_PATH};
use crate::db::emails::Owner;
use crate::db::entities::mail_accounts::Model as Account;
use crate::db::entities::mailbox_push::Model as PushRow;
use crate::db::push::{self, Upkeep};
use crate::mailboxes::MailDeps;
use crate::providers::graph::subscriptions::{NewSubscription, Subscription};
use crate::providers::{ProviderError, Secret};
use crate::sync::limiter::{Limiter, Profile};
use crate::sync::org_access::Access;
use crate::sync::{Session, SyncError, SyncOptions};

/// The `mailbox_push.provider` of Outlook mailboxes.
pub const PROVIDER: &str = "microsoft";
/// A subscription's lifetime: just under three days, inside both the 4,230-minute limit of
/// older Graph documentation and today's 10,080 minutes.
pub const LIFETIME_MINUTES: i64 = 4_200;
/// Renewed at the first pass with less than this left (passes come at least hourly).
pub const RENEW_WITHIN_HOURS: i64 = 24;

/// Create, renew or repair the mailbox's subscription; records the outcome in `mailbox_push`.
/// Provider and credential failures are recorded there (`failing`), not returned.
pub async fn maintain(deps: &MailDeps, account: &Account) -> Result<(), SyncError> {
    let row = push::ensure(&deps.db, account.organization_id, account.id, PROVIDER).await?;
    let upkeep = match deps.providers.push.available(&deps.providers.base_url) {
        // Off before, for the same reason, with nothing held or pending: nothing to write.
        Err(reason)
            if row.state == push::OFF
                && row.reason.as_deref() == Some(reason.as_str())
                && row.subscription_id.is_none()
                && row.pending_event.is_none() =>
        {
            return Ok(());
        }
        Err(reason) => {
            if let Some(id) = &row.subscription_id {
                // Best effort: it expires within days anyway.
                if let Err(e) = delete(deps, account, id).await {
                    tracing::info!(account = account.id, error = %e, "could not delete a Graph subscription");
                }
            }
            Upkeep {
                state: push::OFF,
                reason: Some(reason),
                handled: row.pending_event.clone(),
                ..Upkeep::default()
            }
        }
        Ok(()) => match keep_up(deps, account, &row).await {
            Ok(upkeep) => upkeep,
            Err(SyncError::Db(e)) => return Err(SyncError::Db(e)),
            Err(e) => {
                tracing::warn!(account = account.id, error = %e, "Outlook change notifications failing");
                failing(&row, &e, deps, account)
            }
        },
    };
    // A new subscription only reports changes from now on; the pass's delta ran before it
    // existed, so one more delta (at once, after this pass) covers the moment in between.
    let created = upkeep.subscription_id.is_some() && upkeep.subscription_id != row.subscription_id;
    push::record_upkeep(&deps.db, row.id, upkeep).await?;
    if created {
        crate::sync::wake::wake(&deps.db, account.id).await?;
    }
    Ok(())
}

/// Delete the mailbox's subscription at Graph (push turned off).
async fn delete(deps: &MailDeps, account: &Account, id: &str) -> Result<(), SyncError> {
    let s = session(deps, account)?;
    let graph = s.graph().clone();
    s.call(|t| {
        let (g, id) = (graph.clone(), id.to_string());
        async move { g.unsubscribe(&t, &id).await }
    })
    .await
}

/// A session like a pass's, with few retries: upkeep runs after the pass, in its worker.
fn session(deps: &MailDeps, account: &Account) -> Result<Session, SyncError> {
    let access = Access::of(account)?;
    let options = SyncOptions {
        transient_tries: 2,
        throttle_tries: 2,
        max_retry_after: StdDuration::from_secs(10),
        ..SyncOptions::for_deps(deps)
    };
    let owner = Owner {
        organization_id: account.organization_id,
        account_id: account.id,
    };
    let limiter = Limiter::new(Profile::graph(options.graph_requests_per_10_minutes));
    Ok(Session::with_access(
        deps.clone(),
        owner,
        crate::providers::Provider::Microsoft,
        access,
        options,
        limiter,
    ))
}

async fn keep_up(deps: &MailDeps, account: &Account, row: &PushRow) -> Result<Upkeep, SyncError> {
    let s = session(deps, account)?;
    let event = row.pending_event.clone();
    let removed = event.as_deref() == Some(push::REMOVED);
    let now = crate::db::now();
    let current = match (&row.subscription_id, &row.client_state_hash) {
        (Some(id), Some(hash)) if !removed => Some((id.clone(), hash.clone())),
        _ => None,
    };
    if let Some((id, hash)) = current {
        let alive = if event.as_deref() == Some(push::REAUTHORIZE) {
            reauthorize(&s, &id).await?
        } else {
            true
        };
        let due = row.state != push::ACTIVE
            || row
                .expires_at
                .is_none_or(|at| at - now < Duration::hours(RENEW_WITHIN_HOURS));
        let kept = match (alive, due) {
            (false, _) => None,
            (true, false) => Some((
                Subscription {
                    id,
                    expires_at: row.expires_at.unwrap_or(now),
                },
                row.renewed_at,
            )),
            (true, true) => renew(&s, &id).await?.map(|sub| (sub, Some(now))),
        };
        if let Some((sub, renewed_at)) = kept {
            return Ok(Upkeep {
                state: push::ACTIVE,
                reason: None,
                subscription_id: Some(sub.id),
                client_state_hash: Some(hash),
                expires_at: Some(sub.expires_at),
                renewed_at,
                handled: event,
            });
        }
    }
    let (sub, hash) = create(&s, deps).await?;
    Ok(Upkeep {
        state: push::ACTIVE,
        reason: None,
        subscription_id: Some(sub.id),
        client_state_hash: Some(hash),
        expires_at: Some(sub.expires_at),
        renewed_at: Some(now),
        handled: event,
    })
}

async fn reauthorize(s: &Session, id: &str) -> Result<bool, SyncError> {
    let graph = s.graph().clone();
    s.call(|t| {
        let (g, id) = (graph.clone(), id.to_string());
        async move { g.reauthorize_subscription(&t, &id).await }
    })
    .await
}

async fn renew(s: &Session, id: &str) -> Result<Option<Subscription>, SyncError> {
    let graph = s.graph().clone();
    let expires_at = crate::db::now() + Duration::minutes(LIFETIME_MINUTES);
    s.call(|t| {
        let (g, id) = (graph.clone(), id.to_string());
        async move { g.renew_subscription(&t, &id, expires_at).await }
    })
    .await
}

/// A new subscription and the hash of its fresh clientState.
async fn create(s: &Session, deps: &MailDeps) -> Result<(Subscription, String), SyncError> {
    let base = deps.providers.base_url.trim_end_matches('/');
    let notification_url = format!("{base}{GRAPH_PATH}");
    let lifecycle_url = format!("{base}{GRAPH_LIFECYCLE_PATH}");
    let secret = new_client_state();
    let hash = client_state_hash(secret.expose());
    let expires_at = crate::db::now() + Duration::minutes(LIFETIME_MINUTES);
    let graph = s.graph().clone();
    let sub = s
        .call(|token| {
            let graph = graph.clone();
            let (notify, lifecycle) = (notification_url.clone(), lifecycle_url.clone());
            let client_state = secret.clone();
            async move {
                let new = NewSubscription {
                    notification_url: &notify,
                    lifecycle_url: &lifecycle,
                    client_state: &client_state,
                    expires_at,
                };
                graph.subscribe(&token, &new).await
            }
        })
        .await?;
    Ok((sub, hash))
}

/// 32 random bytes, URL-safe base64 (43 characters, inside Graph's 128).
pub fn new_client_state() -> Secret {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    Secret::new(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

/// SHA-256 of a clientState, lowercase hex: what `mailbox_push.client_state_hash` holds.
pub fn client_state_hash(client_state: &str) -> String {
    use std::fmt::Write as _;
    let digest = Sha256::digest(client_state.as_bytes());
    digest.iter().fold(String::with_capacity(64), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
}

/// The row after a failed upkeep: the subscription it had is kept (it may still deliver), the
/// lifecycle event waits for the next pass, and the reason is in words for the mailbox page.
fn failing(row: &PushRow, e: &SyncError, deps: &MailDeps, account: &Account) -> Upkeep {
    let minutes = (account.sync_interval_secs.max(30) + 59) / 60;
    let why = match e {
        SyncError::Provider(ProviderError::Permanent(detail))
            if detail.contains("ValidationError") =>
        {
            format!(
                "Microsoft could not reach Threadline at {}{GRAPH_PATH} (THREADLINE_BASE_URL must \
                 be Threadline's public address)",
                deps.providers.base_url.trim_end_matches('/')
            )
        }
        SyncError::Provider(ProviderError::Permanent(detail)) => {
            format!("Microsoft refused the subscription ({detail})")
        }
        SyncError::Provider(ProviderError::Transient(detail)) => {
            format!("Microsoft Graph could not be reached ({detail})")
        }
        SyncError::Provider(ProviderError::RateLimited { .. }) => {
            "Microsoft Graph is throttling this mailbox".to_string()
        }
        other => other.to_string(),
    };
    Upkeep {
        state: push::FAILING,
        reason: Some(format!(
            "Outlook change notifications are not working: {why}. This mailbox polls every \
             {minutes} minutes meanwhile."
        )),
        subscription_id: row.subscription_id.clone(),
        client_state_hash: row.client_state_hash.clone(),
        expires_at: row.expires_at,
        renewed_at: row.renewed_at,
        handled: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_states_are_random_url_safe_and_short() {
        let a = new_client_state();
        let b = new_client_state();
        assert_ne!(a.expose(), b.expose());
        assert_eq!(a.expose().len(), 43);
        assert!(a
            .expose()
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'));
        let hash = client_state_hash(a.expose());
        assert_eq!(hash.len(), 64);
        assert_ne!(hash, client_state_hash(b.expose()));
        assert_eq!(
            client_state_hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
