//! Organization mailboxes (issue 20 §4, §5) against emulated Microsoft 365 tenants and Google
//! Workspace domains: exact sync through the connection's tokens, the tenant's policy refusals
//! as statuses, `threadline sync --tenant`, and who sees the mail.
mod cli;
mod google;
mod microsoft;
pub(crate) mod setup;
mod visibility;
