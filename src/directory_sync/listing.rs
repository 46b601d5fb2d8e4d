//! Reading a connection's directory into a [`Listing`]: every user, and what each queried rule
//! (filter, org unit, group) matched, evaluated by the provider itself.
use super::DirectorySyncError;
use crate::db::entities::connections::Model as Connection;
use crate::domain::selection::{Directory, Listing, Rule};
use crate::mailboxes::MailDeps;

#[allow(clippy::unused_async)]
pub async fn read(
    _deps: &MailDeps,
    _connection: &Connection,
    _directory: Directory,
    _rules: &[Rule],
) -> Result<Listing, DirectorySyncError> {
    // WIP: waits for the connection's directory clients (conn milestone 1).
    Err(DirectorySyncError::Directory("not yet".into()))
}
