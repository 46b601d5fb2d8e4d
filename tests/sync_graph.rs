//! Outlook (Microsoft Graph) sync against the in-process emulator: initial listing per folder,
//! idempotence, delta rounds (new mail, flags, moves, deletes), expired delta tokens, faults and
//! throttles, interrupted passes.

#[path = "support/mod.rs"]
mod support;

#[path = "sync_graph/helpers.rs"]
mod helpers;

#[path = "sync_graph/initial.rs"]
mod initial;

#[path = "sync_graph/incremental.rs"]
mod incremental;

#[path = "sync_graph/faults.rs"]
mod faults;

#[path = "sync_graph/cli.rs"]
mod cli;
