//! Pure types and rules, no I/O: addresses, domains, association, threading, roles, passwords.
pub mod address;
pub mod association;
pub mod domains;
pub mod freemail;
pub mod password;
pub mod relink;
pub mod threading;
pub mod user;
