//! Emulator integration tests (one binary): the real router on port 0, driven over HTTP.
//! `google` covers Google OAuth, the Gmail API and the control plane, `graph` the Microsoft
//! identity platform and Graph mail, `client` the typed control-plane client; `support` is what they share.

mod client;
pub mod google;
pub mod graph;
mod org;
mod push_state;
mod support;
