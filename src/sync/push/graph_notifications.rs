//! Receiving Graph change and lifecycle notifications (§D.10, §G.3): Graph wants a 2xx within
//! three seconds, so this only records and wakes. Each item names its subscription; unknown
//! subscriptions are ignored, an item whose `clientState` does not hash (SHA-256, compared in
//! constant time) to the stored one is counted as rejected and ignored, every other item is
//! counted, leaves its lifecycle event (if any) for the next pass, and wakes its mailbox once
//! per batch however many items name it: a burst of 500 is one pass.
use std::collections::BTreeMap;

use sea_orm::{ConnectionTrait, DbErr};
use serde::Deserialize;
use subtle::ConstantTimeEq as _;

use super::graph::{client_state_hash, PROVIDER};
use crate::db::push;

/// Items of one request looked at; Graph sends far fewer per POST.
pub const MAX_ITEMS: usize = 1000;

/// A notification POST's body: `{"value":[...]}`.
#[derive(Debug, Deserialize)]
pub struct Batch {
    pub value: Vec<Notification>,
}

/// The fields of a change or lifecycle notification Threadline reads.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Notification {
    #[serde(default)]
    pub subscription_id: String,
    #[serde(default)]
    pub client_state: Option<String>,
    /// Lifecycle notifications: reauthorizationRequired | subscriptionRemoved | missed.
    #[serde(default)]
    pub lifecycle_event: Option<String>,
}

/// What a batch did (for logs; the caller answers 202 whatever it says).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Received {
    pub accepted: usize,
    pub rejected: usize,
    pub woken: usize,
}

#[derive(Default)]
struct PerRow {
    account_id: i64,
    accepted: i64,
    rejected: i64,
    event: Option<&'static str>,
}

/// Record a batch and wake the mailboxes it is about.
pub async fn receive(db: &impl ConnectionTrait, batch: &Batch) -> Result<Received, DbErr> {
    let items = &batch.value[..batch.value.len().min(MAX_ITEMS)];
    let mut ids: Vec<String> = items
        .iter()
        .map(|n| n.subscription_id.clone())
        .filter(|id| !id.is_empty() && id.len() <= 200)
        .collect();
    ids.sort();
    ids.dedup();
    let rows: BTreeMap<String, (i64, i64, String)> = push::by_subscriptions(db, &ids)
        .await?
        .into_iter()
        .filter(|r| r.provider == PROVIDER)
        .filter_map(|r| {
            let hash = r.client_state_hash?;
            Some((r.subscription_id?, (r.id, r.account_id, hash)))
        })
        .collect();
    let mut per_row: BTreeMap<i64, PerRow> = BTreeMap::new();
    for item in items {
        let Some((row_id, account_id, hash)) = rows.get(&item.subscription_id) else {
            continue;
        };
        let entry = per_row.entry(*row_id).or_insert_with(|| PerRow {
            account_id: *account_id,
            ..PerRow::default()
        });
        if !authentic(item.client_state.as_deref(), hash) {
            entry.rejected += 1;
            continue;
        }
        entry.accepted += 1;
        if let Some(event) = item.lifecycle_event.as_deref().and_then(lifecycle_event) {
            entry.event = Some(stronger(entry.event, event));
        }
    }
    let mut received = Received::default();
    for (row_id, row) in per_row {
        push::record_batch(db, row_id, row.accepted, row.rejected).await?;
        received.accepted += usize::try_from(row.accepted).unwrap_or(0);
        received.rejected += usize::try_from(row.rejected).unwrap_or(0);
        if row.accepted == 0 {
            continue;
        }
        if let Some(event) = row.event {
            push::raise_event(db, row_id, event).await?;
        }
        if crate::sync::wake::wake(db, row.account_id).await? {
            received.woken += 1;
        }
    }
    Ok(received)
}

/// Whether `presented` is the clientState whose SHA-256 (hex) is `stored`, in constant time.
fn authentic(presented: Option<&str>, stored: &str) -> bool {
    presented.is_some_and(|c| bool::from(client_state_hash(c).as_bytes().ct_eq(stored.as_bytes())))
}

fn lifecycle_event(event: &str) -> Option<&'static str> {
    [push::REMOVED, push::REAUTHORIZE, push::MISSED]
        .into_iter()
        .find(|e| e.eq_ignore_ascii_case(event))
}

/// The event the next pass must act on when both arrived: recreating covers reauthorizing,
/// which covers a missed delta (every pass runs delta).
fn stronger(a: Option<&'static str>, b: &'static str) -> &'static str {
    let rank = |e: &str| match e {
        push::REMOVED => 2,
        push::REAUTHORIZE => 1,
        _ => 0,
    };
    match a {
        Some(a) if rank(a) >= rank(b) => a,
        _ => b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_states_must_hash_to_the_stored_one() {
        let stored = client_state_hash("s3cret");
        assert!(authentic(Some("s3cret"), &stored));
        assert!(!authentic(Some("s3cret "), &stored));
        assert!(!authentic(None, &stored));
        assert!(!authentic(Some(&stored), &stored));
    }

    #[test]
    fn the_strongest_lifecycle_event_wins() {
        assert_eq!(stronger(None, push::MISSED), push::MISSED);
        assert_eq!(stronger(Some(push::MISSED), push::REMOVED), push::REMOVED);
        assert_eq!(
            stronger(Some(push::REMOVED), push::REAUTHORIZE),
            push::REMOVED
        );
        assert_eq!(lifecycle_event("SubscriptionRemoved"), Some(push::REMOVED));
        assert_eq!(lifecycle_event("other"), None);
    }
}
