//! The delivery worker: one step fans new events out into deliveries, leases a batch of due
//! ones and makes one attempt at each, signed (`webhook-id`, `webhook-timestamp`,
//! `webhook-signature`), then records the outcome and schedules the retry. Every instance with
//! job workers runs one; leases keep each delivery to one attempt at a time.
use std::net::IpAddr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::future::join_all;
use tokio_util::sync::CancellationToken;

use super::{open_secret, WebhookDeps};
use crate::db::webhooks::queue::{self, Attempt, Claimed};
use crate::domain::webhooks::{is_private, outcome, parse_url, retry_delay, sign, Outcome};

/// Deliveries leased per step.
const BATCH: i64 = 20;
/// Events fanned out per step.
const DISPATCH: i64 = 200;
/// How long a lease lasts: past the request timeout, so a live attempt keeps its lease.
const LEASE: chrono::Duration = chrono::Duration::seconds(60);
/// Characters of a response kept for the log.
const EXCERPT: usize = 300;

/// What one step did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    pub dispatched: u64,
    pub attempted: u64,
    pub delivered: u64,
    pub disabled: u64,
}

/// One step at time `now` (the loop passes the clock; tests pass a later time to reach
/// retries).
pub async fn deliver_due(
    deps: &WebhookDeps,
    holder: &str,
    now: DateTime<Utc>,
) -> Result<Step, sea_orm::DbErr> {
    let mut step = Step {
        dispatched: queue::dispatch(&deps.db, DISPATCH, now).await?,
        ..Step::default()
    };
    let claimed = queue::claim(&deps.db, holder, LEASE, now, BATCH).await?;
    let attempts = join_all(claimed.iter().map(|c| attempt(deps, c, now))).await;
    for (c, a) in claimed.iter().zip(attempts) {
        step.attempted += 1;
        if a.outcome == Outcome::Delivered {
            step.delivered += 1;
        }
        if let Some(reason) = queue::record(&deps.db, c, holder, &a, now).await? {
            step.disabled += 1;
            tracing::warn!(endpoint = c.endpoint_id, %reason, "webhook endpoint disabled");
        }
    }
    Ok(step)
}

/// Deliver until `shutdown`: at once while there is work, else every second.
pub async fn run(deps: WebhookDeps, holder: String, shutdown: CancellationToken) {
    loop {
        let idle = match deliver_due(&deps, &holder, crate::db::now()).await {
            Ok(step) => step == Step::default(),
            Err(e) => {
                tracing::warn!(error = %e, "webhook delivery step failed; will retry");
                true
            }
        };
        let pause = if idle {
            Duration::from_secs(1)
        } else {
            Duration::ZERO
        };
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(pause) => {}
        }
    }
}

/// One attempt; never fails (a failure is an outcome to record).
async fn attempt(deps: &WebhookDeps, c: &Claimed, now: DateTime<Utc>) -> Attempt {
    let (status, excerpt) = match send(deps, c, now).await {
        Ok((status, text)) => (Some(status), text),
        Err(why) => (None, why),
    };
    let result = outcome(status);
    let retry_at = (result == Outcome::Failed)
        .then(|| retry_delay(c.attempts, rand::random::<f64>()))
        .flatten()
        .and_then(|d| chrono::Duration::from_std(d).ok())
        .map(|d| now + d);
    Attempt {
        outcome: result,
        status: status.map(i32::from),
        excerpt,
        retry_at,
    }
}

/// POST the event; the receiver's status and the start of its answer, or why nothing was sent.
async fn send(
    deps: &WebhookDeps,
    c: &Claimed,
    now: DateTime<Utc>,
) -> Result<(u16, String), String> {
    let url = parse_url(&c.url).map_err(|e| e.to_string())?;
    if !deps.allow_private {
        refuse_private(&url).await?;
    }
    let secret = open_secret(&deps.keys, c.endpoint_id, c.org_id, &c.sealed_secret)
        .map_err(|e| format!("the secret cannot be opened: {e}"))?;
    let timestamp = now.timestamp();
    let signature = sign(&secret, &c.msg_id, timestamp, &c.payload).map_err(|e| e.to_string())?;
    let response = deps
        .http
        .post(url)
        .header("content-type", "application/json")
        .header("webhook-id", &c.msg_id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .body(c.payload.clone())
        .send()
        .await
        .map_err(|e| describe(&e))?;
    let status = response.status().as_u16();
    Ok((status, excerpt(response).await))
}

/// Refuse a URL whose host is (or resolves to) a loopback, private or otherwise internal
/// address.
async fn refuse_private(url: &url::Url) -> Result<(), String> {
    let host = url.host_str().unwrap_or_default();
    let port = url.port_or_known_default().unwrap_or(443);
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let addrs: Vec<IpAddr> = match bare.parse::<IpAddr>() {
        Ok(ip) => vec![ip],
        Err(_) => tokio::net::lookup_host((bare, port))
            .await
            .map_err(|e| format!("cannot resolve {host}: {e}"))?
            .map(|a| a.ip())
            .collect(),
    };
    if addrs.iter().any(|ip| is_private(*ip)) {
        return Err(format!(
            "refused: {host} is a private or loopback address (THREADLINE_WEBHOOK_ALLOW_PRIVATE)"
        ));
    }
    Ok(())
}

fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "no answer within 10 seconds".into()
    } else if e.is_connect() {
        "could not connect".into()
    } else {
        "the request failed".into()
    }
}

/// The first characters of the answer (at most a few KiB read).
async fn excerpt(mut response: reqwest::Response) -> String {
    let mut bytes = Vec::new();
    while bytes.len() < 4 * EXCERPT {
        match response.chunk().await {
            Ok(Some(chunk)) => bytes.extend_from_slice(&chunk),
            _ => break,
        }
    }
    String::from_utf8_lossy(&bytes)
        .chars()
        .take(EXCERPT)
        .collect()
}
