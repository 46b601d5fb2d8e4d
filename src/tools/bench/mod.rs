//! `threadline bench ...`: benchmarks against the provider emulator, reporting figures a user
//! would notice (messages per second, time until mail shows, quota use) plus CPU and memory.
mod baseline;
mod emulator;
pub mod measure;
pub mod multi;
mod multi_org;
mod multi_watch;
pub mod push;
mod push_serve;
pub mod reassociate;
mod restarts;
pub mod seed;
mod statements;
pub mod sync;
pub mod timeline;
mod timeline_after_sync;
mod timeline_seed;
mod wrk;
