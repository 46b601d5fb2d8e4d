//! users.watch / users.stop and the Pub/Sub-shaped push notifier.

use tokio_util::sync::CancellationToken;

use crate::emulator::SharedState;

/// Start the background task that pushes notifications for watched mailboxes.
pub fn spawn_notifier(_state: SharedState, _cancel: CancellationToken) {}
