//! The admission check every provider API handler runs before doing work: injected faults
//! (with latency), the per-mailbox concurrency cap and quota units, then the endpoint's service
//! time (the latency model) while the concurrency slot is held. Providers render the refusal
//! in their own error shape.

use super::faults::FaultHit;
use super::latency::Endpoint;
use super::quota::{Permit, Throttle};
use super::state::EmulatorState;

/// What is being admitted.
pub struct Admission<'a> {
    /// Actual request path (faults match on substrings of it).
    pub path: &'a str,
    /// Route template (faults may name it exactly).
    pub template: &'a str,
    pub mailbox: &'a str,
    /// Quota pool, e.g. `"gmail"`.
    pub pool: &'static str,
    pub units: u32,
    pub per_minute: u32,
    pub concurrency: usize,
    /// Whose service time the request takes.
    pub endpoint: Endpoint,
}

/// Why a request is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    Fault(FaultHit),
    Throttle(Throttle),
}

/// Admit a request; keep the returned permit alive while the request runs.
pub async fn admit(state: &EmulatorState, req: Admission<'_>) -> Result<Permit, Refusal> {
    // The slot is taken first so that injected latency counts as time in flight.
    let permit = state
        .quota
        .enter(req.mailbox, req.concurrency)
        .map_err(|t| {
            state.stats.throttle(req.pool, t);
            Refusal::Throttle(t)
        })?;
    let (latency, hit) = state
        .faults
        .check(req.path, req.template, Some(req.mailbox));
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    if let Some(hit) = hit {
        return Err(Refusal::Fault(hit));
    }
    state
        .quota
        .charge(req.mailbox, req.pool, req.units, req.per_minute)
        .map_err(|t| {
            state.stats.throttle(req.pool, t);
            Refusal::Throttle(t)
        })?;
    state.stats.charge(req.mailbox, req.units);
    // Served while the slot is held: a request is in flight for its whole service time.
    state.serve(req.endpoint).await;
    Ok(permit)
}
