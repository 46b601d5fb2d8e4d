//! Mail sync against the in-process provider emulator, one module per provider: Gmail (initial
//! listing, incremental history, cursor expiry, faults and throttles, interrupted passes,
//! revoked grants, batches, quota, listing order, association, threads, re-association) and
//! Outlook / Microsoft Graph (folders, delta rounds, expired delta tokens, faults, throttles).
#[path = "../support/mod.rs"]
mod support;

mod common;
mod exclusions;
mod fairness;
mod gmail;
mod org;
mod outlook;
mod push_gmail;
mod push_graph;
mod reconciliation;
mod statements;
mod write_back;
