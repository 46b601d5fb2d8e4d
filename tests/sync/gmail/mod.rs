//! Gmail sync: a linked Gmail mailbox synced against the emulator's Gmail API.
mod helpers;

mod association;
mod auto_contacts;
mod cli;
mod faults;
mod folders;
mod incremental;
mod initial;
mod latency;
mod quota;
mod relink;
mod restarts;
mod statistics;
mod threads;
mod worker;
