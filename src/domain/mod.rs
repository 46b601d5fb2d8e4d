//! Pure types and rules, no I/O: addresses, roles, passwords.
pub mod address;
pub mod domains;
pub mod password;
pub mod user;
