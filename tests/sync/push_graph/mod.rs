//! Outlook change notifications (issue 22) against the emulator's Graph subscriptions: a pass
//! subscribes the mailbox (only the clientState's hash is kept), Graph's validation handshake,
//! a delivered message waking the pass that stores it, forged and unknown notifications waking
//! nothing, a burst being one pass, renewal before expiry, each lifecycle event, app-only
//! organization mailboxes, push off (or failing) leaving the mailbox polling, and several
//! instances sharing the wakes through the database.
mod helpers;

mod instances;
mod notifications;
mod upkeep;
