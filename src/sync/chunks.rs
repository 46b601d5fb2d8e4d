//! When a page's fetched messages are committed: at least every `SyncOptions::commit_every`
//! (every 100 ms until a pass has stored a first screen of mail, so the newest mail shows at
//! once), so a pass makes progress however slow the provider is and however often it is killed. A page's cursor
//! moves only with its last chunk: earlier chunks hold new messages only (idempotent upserts),
//! which a resumed page finds stored and does not fetch again.
use std::time::{Duration, Instant};

use super::Session;

/// Until a pass has stored this many messages, what arrives is committed every twentieth of
/// `commit_every` (100 ms by default): the first screens of threads fill in while the user
/// watches (a commit of a few messages costs milliseconds).
const FIRST_SCREEN: u64 = 100;

/// The clock of one page's chunks.
pub struct Cadence {
    since: Instant,
}

impl Cadence {
    pub fn start() -> Self {
        Self {
            since: Instant::now(),
        }
    }

    /// Whether what has arrived since the last commit is due to be committed now.
    pub fn due(&self, s: &Session) -> bool {
        let every = s.options().commit_every;
        let wait = if s.counts().stored < FIRST_SCREEN {
            every / 20
        } else if s.commits() > 0 {
            every
        } else {
            every / 4
        };
        self.since.elapsed() >= wait.max(Duration::from_millis(1))
    }

    /// A chunk was committed.
    pub fn restart(&mut self) {
        self.since = Instant::now();
    }
}
