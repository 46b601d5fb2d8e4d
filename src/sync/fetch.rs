//! Message fetches of a pass: Gmail batches of up to `batch_size` messages.get (one HTTP
//! request, 5 units per part), at most `concurrency` in flight. Google runs a batch's parts at
//! once and counts each against the per-user cap on concurrent requests (about 10), so a batch
//! takes one limiter slot per part: with the defaults (batches of 4, 8 slots) two batches are
//! in flight. Parts fail independently, so each is settled on its own: a message, gone (404),
//! or refused for good; throttled parts (429, 403 rate reasons) wait for the limiter and go
//! again, 401 refreshes the token once, 5xx back off, and only those parts are sent again.
//! Whole messages are handed out as each batch settles, so a page commits them in chunks
//! (`sync::chunks`).
//!
//! A pass's first screen of messages (`SyncOptions::single_fetches`, 100) is fetched one
//! `messages.get` per request instead, as many in flight as the limiter has slots: a batch answers when its
//! slowest part is done plus its envelope, while a lone request frees its slot as soon as it
//! is answered, so the newest conversations arrive about twice as fast. It costs the same
//! units (5 a message) and the same slots; only the HTTP requests are more.
use std::collections::VecDeque;
use std::time::{Duration, Instant};

use tokio::task::JoinSet;

use super::session::{backoff, Session, Skip};
use super::SyncError;
use crate::domain::message::NormalizedMessage;
use crate::providers::gmail::{self, units, Fetched, MessageState, RawMessage, BATCH_MAX};
use crate::providers::{ProviderError, Secret};

#[derive(Clone, Copy)]
enum Format {
    Raw,
    Minimal,
}

enum Got {
    Raw(Box<RawMessage>),
    State(MessageState),
}

/// How one id ended: `Ok(None)` gone, `Err(detail)` refused for good.
type Settled = (String, Result<Option<Got>, String>);

/// A batch's ids and how it ended.
type BatchOutcome = (Vec<String>, Result<Vec<Settled>, SyncError>);

/// What [`Session::fetch_states`] found.
#[derive(Debug, Default)]
pub struct States {
    pub found: Vec<MessageState>,
    /// Gone from the provider (404).
    pub gone: Vec<String>,
}

/// Whole messages of a Gmail fetch as their batches settle (see [`Session::fetch_messages`]).
pub struct MessageFetch {
    batches: Batches,
}

impl MessageFetch {
    /// Whether every batch has been handed out.
    pub fn is_done(&self) -> bool {
        self.batches.queue.is_empty() && self.batches.tasks.is_empty()
    }

    /// The messages and skips of the next settled batch; None when every batch is in.
    pub async fn next(&mut self) -> Result<Option<(Vec<NormalizedMessage>, Vec<Skip>)>, SyncError> {
        let Some(settled) = self.batches.next().await? else {
            return Ok(None);
        };
        let s = &self.batches.session;
        let mut messages = Vec::with_capacity(settled.len());
        let mut skips = Vec::new();
        for (id, outcome) in settled {
            match outcome {
                Ok(Some(Got::Raw(raw))) => {
                    messages.push(gmail::normalize(
                        *raw,
                        &s.options().limits,
                        crate::db::now(),
                    ));
                }
                Ok(Some(Got::State(_))) => {}
                Ok(None) => skips.push(Skip {
                    id,
                    reason: "gone",
                    detail: "deleted in the provider before it was fetched".into(),
                }),
                Err(detail) => skips.push(Skip {
                    id,
                    reason: "provider_error",
                    detail,
                }),
            }
        }
        s.add_fetched(messages.len() as u64);
        Ok(Some((messages, skips)))
    }
}

/// Batches of `batch_size` (fewer when the quota's bucket is smaller than a batch), at most
/// `concurrency` in flight, handed out as each settles. A batch that keeps failing as a whole
/// (a reply too large to arrive in time, a flaky proxy) is split in halves and tried again,
/// down to single messages, before the failure fails the fetch. Dropping it cancels the
/// batches in flight.
struct Batches {
    session: Session,
    format: Format,
    queue: VecDeque<Vec<String>>,
    tasks: JoinSet<BatchOutcome>,
    /// Batches in flight at most (`SyncOptions::concurrency`).
    limit: usize,
}

impl Batches {
    /// `singles`: how many of the first ids go one per request (see the module's doc).
    fn new(session: &Session, ids: &[String], format: Format, singles: usize) -> Self {
        let fits = usize::try_from(session.limiter().budget() / units::MESSAGES_GET).unwrap_or(1);
        let size = session
            .options()
            .batch_size
            .clamp(1, BATCH_MAX * 2)
            .min(fits.max(1));
        let (first, rest) = ids.split_at(singles.min(ids.len()));
        let queue = first
            .chunks(1)
            .chain(rest.chunks(size))
            .map(<[String]>::to_vec)
            .collect();
        Self {
            session: session.clone(),
            format,
            queue,
            tasks: JoinSet::new(),
            limit: session.options().concurrency.max(1),
        }
    }

    async fn next(&mut self) -> Result<Option<Vec<Settled>>, SyncError> {
        loop {
            loop {
                // Lone requests take one slot each: as many go as the limiter has slots.
                let limit = match self.queue.front() {
                    Some(next) if next.len() == 1 => self.limit.max(self.session.limiter().slots()),
                    Some(_) => self.limit,
                    None => break,
                };
                if self.tasks.len() >= limit {
                    break;
                }
                let Some(chunk) = self.queue.pop_front() else {
                    break;
                };
                let (session, format) = (self.session.clone(), self.format);
                self.tasks.spawn(async move {
                    let began = session.elapsed();
                    let at = Instant::now();
                    let result = session.settle(chunk.clone(), format).await;
                    tracing::debug!(
                        parts = chunk.len(),
                        began_ms = began.as_millis(),
                        took_ms = at.elapsed().as_millis(),
                        "fetch settled"
                    );
                    (chunk, result)
                });
            }
            let Some(joined) = self.tasks.join_next().await else {
                return Ok(None);
            };
            match joined.map_err(|e| SyncError::Internal(e.to_string()))? {
                (_, Ok(done)) => return Ok(Some(done)),
                (mut chunk, Err(SyncError::Provider(ProviderError::Transient(detail))))
                    if chunk.len() > 1 =>
                {
                    tracing::debug!(%detail, parts = chunk.len(), "batch keeps failing; splitting it");
                    let back = chunk.split_off(chunk.len() / 2);
                    self.queue.push_front(back);
                    self.queue.push_front(chunk);
                }
                (_, Err(e)) => {
                    self.tasks.abort_all();
                    return Err(e);
                }
            }
        }
    }
}

impl Session {
    /// Fetch and normalize `ids`, a settled batch at a time. Messages gone meanwhile or
    /// refused as malformed come back as skips; any other failure (after retries) fails the
    /// fetch.
    /// Until the pass has fetched a first screen of messages (`SyncOptions::single_fetches`),
    /// they go one per request.
    pub fn fetch_messages(&self, ids: &[String]) -> MessageFetch {
        let fetched = self.counts().fetched;
        let first = self.options().single_fetches.saturating_sub(fetched);
        let singles = usize::try_from(first).unwrap_or(usize::MAX);
        MessageFetch {
            batches: Batches::new(self, ids, Format::Raw, singles),
        }
    }

    /// The current labels of `ids` (`format=minimal`, as cheap in units as a full get but a
    /// fraction of the bytes). Ids refused for good are left out of both lists.
    pub async fn fetch_states(&self, ids: Vec<String>) -> Result<States, SyncError> {
        let mut out = States::default();
        let mut batches = Batches::new(self, &ids, Format::Minimal, 0);
        while let Some(settled) = batches.next().await? {
            for (id, outcome) in settled {
                match outcome {
                    Ok(Some(Got::State(s))) => out.found.push(s),
                    Ok(None) => out.gone.push(id),
                    Ok(Some(Got::Raw(_))) => {}
                    Err(detail) => tracing::warn!(id, %detail, "cannot read a message's labels"),
                }
            }
        }
        Ok(out)
    }

    /// One batch until every part is settled, sending again only the parts that may succeed
    /// later.
    async fn settle(&self, ids: Vec<String>, format: Format) -> Result<Vec<Settled>, SyncError> {
        let opts = self.options();
        let mut settled = Vec::with_capacity(ids.len());
        let mut pending = ids;
        let (mut refreshed, mut throttles, mut failures) = (false, 0u32, 0u32);
        while !pending.is_empty() {
            let cost = units::MESSAGES_GET
                .saturating_mul(u32::try_from(pending.len()).unwrap_or(u32::MAX));
            let gmail = self.gmail().clone();
            let (parts, token) = self
                .call_with_slots(cost, pending.len(), |t| {
                    let (g, ids) = (gmail.clone(), pending.clone());
                    async move { fetch(&g, &t, &ids, format).await }
                })
                .await?;
            let mut parts = parts.into_iter();
            let mut again = Vec::new();
            let (mut throttle, mut rate_refused): (Option<Option<Duration>>, u64) = (None, 0);
            let (mut unauthorized, mut transient) = (false, None);
            for id in pending {
                let part = parts.next().unwrap_or_else(|| {
                    Err(ProviderError::Transient(
                        "part missing from the batch reply".into(),
                    ))
                });
                match part {
                    Ok(got) => settled.push((id, Ok(got))),
                    Err(ProviderError::RateLimited { retry_after }) => {
                        throttle = Some(throttle.flatten().max(retry_after));
                        rate_refused += 1;
                        again.push(id);
                    }
                    Err(ProviderError::Unauthorized) => {
                        unauthorized = true;
                        again.push(id);
                    }
                    Err(ProviderError::Transient(detail)) => {
                        transient = Some(detail);
                        again.push(id);
                    }
                    // The mailbox itself is refused (policy): nothing more to ask for.
                    Err(e @ ProviderError::Refused(_)) => return Err(e.into()),
                    Err(
                        e @ (ProviderError::Permanent(_)
                        | ProviderError::InvalidGrant(_)
                        | ProviderError::Gone),
                    ) => settled.push((id, Err(e.to_string()))),
                }
            }
            pending = again;
            if pending.is_empty() {
                break;
            }
            if unauthorized {
                if refreshed {
                    return Err(ProviderError::Unauthorized.into());
                }
                refreshed = true;
                self.refresh(&token).await?;
            }
            if let Some(retry_after) = throttle {
                throttles += 1;
                if throttles > opts.throttle_tries {
                    return Err(ProviderError::RateLimited { retry_after }.into());
                }
                self.note_throttle(retry_after, rate_refused, throttles);
            } else if let Some(detail) = transient {
                failures += 1;
                if failures >= opts.transient_tries {
                    return Err(ProviderError::Transient(detail).into());
                }
                let wait = backoff(opts.backoff_base, failures);
                tracing::debug!(?wait, %detail, parts = pending.len(), "batch parts failed; backing off");
                tokio::time::sleep(wait).await;
            }
        }
        Ok(settled)
    }
}

async fn fetch(
    gmail: &gmail::GmailClient,
    token: &Secret,
    ids: &[String],
    format: Format,
) -> Result<Vec<Fetched<Got>>, ProviderError> {
    Ok(match (format, ids) {
        // A lone message is one plain messages.get: no batch envelope to wait for. Its
        // failure is the part's, settled like a batch part's.
        (Format::Raw, [id]) => vec![gmail
            .raw(token, id)
            .await
            .map(|m| m.map(|m| Got::Raw(Box::new(m))))],
        (Format::Raw, _) => gmail
            .batch_raw(token, ids)
            .await?
            .into_iter()
            .map(|p| p.map(|m| m.map(|m| Got::Raw(Box::new(m)))))
            .collect(),
        (Format::Minimal, _) => gmail
            .batch_minimal(token, ids)
            .await?
            .into_iter()
            .map(|p| p.map(|m| m.map(Got::State)))
            .collect(),
    })
}
