//! Gmail sync against the in-process emulator: initial listing, idempotence, incremental
//! history, cursor expiry, faults and throttles, interrupted passes, revoked grants, batches,
//! quota and listing order.

#[path = "support/mod.rs"]
mod support;

#[path = "sync/helpers.rs"]
mod helpers;

#[path = "sync/initial.rs"]
mod initial;

#[path = "sync/incremental.rs"]
mod incremental;

#[path = "sync/faults.rs"]
mod faults;

#[path = "sync/cli.rs"]
mod cli;

#[path = "sync/worker.rs"]
mod worker;

#[path = "sync/association.rs"]
mod association;

#[path = "sync/threads.rs"]
mod threads;

#[path = "sync/quota.rs"]
mod quota;

#[path = "sync/auto_contacts.rs"]
mod auto_contacts;
#[path = "sync/relink.rs"]
mod relink;
