//! This instance's side of live pages: one watcher task polls the organizations' change
//! markers in the database (`db::live`) and tells this instance's open event streams through a
//! broadcast channel. The database is the truth (the change may come from another instance's
//! worker); the watcher runs only while a stream is open, and a stream counts against its
//! session's cap until the tab closes.
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;
use tokio::sync::broadcast;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::db::live::{markers, Marker};

/// How often the watcher reads the markers.
pub const POLL: Duration = Duration::from_millis(250);
/// Open streams per session (browsers keep about six connections per site).
pub const STREAMS_PER_SESSION: usize = 4;
/// Markers are re-read this far behind the newest one seen: a commit stamped a little before
/// another instance's clock, or committed a little after its stamp, is still noticed.
const SKEW: chrono::Duration = chrono::Duration::seconds(30);

/// An organization's mail changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Change {
    pub organization_id: i64,
    pub seq: i64,
}

#[derive(Clone)]
pub struct LiveHub {
    inner: Arc<Inner>,
}

struct Inner {
    db: DatabaseConnection,
    tx: broadcast::Sender<Change>,
    watcher: Mutex<Option<JoinHandle<()>>>,
    streams: Mutex<HashMap<String, usize>>,
    closing: CancellationToken,
}

/// A stream's hold on the hub: its receiver, and its place in its session's count (given
/// back on drop, when the client goes away).
pub struct Subscription {
    pub rx: broadcast::Receiver<Change>,
    pub closing: CancellationToken,
    inner: Arc<Inner>,
    session: String,
}

impl Drop for Subscription {
    fn drop(&mut self) {
        let mut streams = self
            .inner
            .streams
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(n) = streams.get_mut(&self.session) {
            *n -= 1;
            if *n == 0 {
                streams.remove(&self.session);
            }
        }
    }
}

impl LiveHub {
    pub fn new(db: DatabaseConnection) -> Self {
        let (tx, _) = broadcast::channel(256);
        Self {
            inner: Arc::new(Inner {
                db,
                tx,
                watcher: Mutex::new(None),
                streams: Mutex::new(HashMap::new()),
                closing: CancellationToken::new(),
            }),
        }
    }

    /// A new stream for `session`, or None when the session has its cap of streams open.
    pub fn subscribe(&self, session: String) -> Option<Subscription> {
        {
            let mut streams = self
                .inner
                .streams
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            let n = streams.entry(session.clone()).or_insert(0);
            if *n >= STREAMS_PER_SESSION {
                return None;
            }
            *n += 1;
        }
        let mut watcher = self
            .inner
            .watcher
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let rx = self.inner.tx.subscribe();
        if watcher.is_none() {
            *watcher = Some(tokio::spawn(watch(self.inner.clone())));
        }
        Some(Subscription {
            rx,
            closing: self.inner.closing.clone(),
            inner: self.inner.clone(),
            session,
        })
    }

    /// Streams open on this instance.
    pub fn open_streams(&self) -> usize {
        self.inner.tx.receiver_count()
    }

    /// End every stream (shutdown: the server waits for open connections).
    pub fn close(&self) {
        self.inner.closing.cancel();
    }
}

/// Poll the markers until no stream listens; send a [`Change`] per organization whose marker
/// moved.
async fn watch(inner: Arc<Inner>) {
    let mut known: HashMap<i64, i64> = HashMap::new();
    let mut after: Option<DateTime<Utc>> = None;
    let mut first = true;
    loop {
        match markers(&inner.db, after).await {
            Ok(list) => {
                for Marker {
                    organization_id,
                    seq,
                    changed_at,
                } in list
                {
                    let before = known.insert(organization_id, seq);
                    if !first && before != Some(seq) {
                        let _ = inner.tx.send(Change {
                            organization_id,
                            seq,
                        });
                    }
                    let floor = changed_at - SKEW;
                    after = Some(after.map_or(floor, |a| a.max(floor)));
                }
                first = false;
            }
            Err(e) => tracing::warn!(error = %e, "could not read the change markers; will retry"),
        }
        tokio::select! {
            () = tokio::time::sleep(POLL) => {}
            () = inner.closing.cancelled() => break,
        }
        let mut watcher = inner.watcher.lock().unwrap_or_else(PoisonError::into_inner);
        if inner.tx.receiver_count() == 0 {
            // Under the lock a new stream waits on: it starts the next watcher.
            *watcher = None;
            break;
        }
    }
}
