//! The Google side (OAuth, Gmail API, control plane), through HTTP.

pub mod support;

mod schema;

mod control;

mod oauth;

mod gmail;

mod traps;

mod traps_7_12;

mod modify;

pub mod batch_watch;

mod push_auth;

mod corpora;

mod discovery;

mod robustness;

mod corpus;

mod latency;

mod label_totals;
