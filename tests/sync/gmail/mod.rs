//! Gmail sync: a linked Gmail mailbox synced against the emulator's Gmail API.
mod helpers;

mod association;
mod auto_contacts;
mod backup;
mod cli;
mod faults;
mod folders;
mod incremental;
mod initial;
mod latency;
mod quota;
mod relink;
mod restarts;
mod shutdown;
mod statistics;
mod threads;
mod webhooks;
mod worker;
mod write_back;
