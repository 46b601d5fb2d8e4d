//! Pure types and rules, no I/O: addresses, domains, messages, association, threading, roles,
//! passwords.
pub mod address;
pub mod association;
pub mod attachments;
pub mod auto_contacts;
pub mod directory_csv;
pub mod domains;
pub mod email_html;
pub mod exclusions;
pub mod freemail;
pub mod job;
pub mod mailbox;
pub mod message;
pub mod password;
pub mod provider;
pub mod reassociation;
pub mod reconciliation;
pub mod records;
pub mod search;
pub mod selection;
pub mod stored;
pub mod sync_run;
pub mod threading;
pub mod user;
pub mod visibility;
