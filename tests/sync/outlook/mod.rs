//! Outlook (Microsoft Graph) sync: initial listing per folder, idempotence, delta rounds (new
//! mail, flags, moves, deletes), expired delta tokens, faults and throttles, interrupted passes.
mod helpers;

mod cli;
mod faults;
mod folders;
mod incremental;
mod initial;
mod latency;
mod newest;
mod restarts;
mod write_back;
