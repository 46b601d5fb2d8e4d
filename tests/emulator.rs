//! Emulator integration tests: the real router on port 0, driven over HTTP.

#[path = "emulator/support.rs"]
mod support;

#[path = "emulator/schema.rs"]
mod schema;

#[path = "emulator/control.rs"]
mod control;

#[path = "emulator/oauth.rs"]
mod oauth;

#[path = "emulator/gmail.rs"]
mod gmail;

#[path = "emulator/traps.rs"]
mod traps;

#[path = "emulator/traps_7_12.rs"]
mod traps_7_12;

#[path = "emulator/modify.rs"]
mod modify;

#[path = "emulator/batch_watch.rs"]
mod batch_watch;

#[path = "emulator/corpora.rs"]
mod corpora;

#[path = "emulator/discovery.rs"]
mod discovery;

#[path = "emulator/robustness.rs"]
mod robustness;

#[path = "emulator/corpus.rs"]
mod corpus;
