//! Per-folder delta: initial round, incremental rounds, removals and moves, paging, expiry.

use std::collections::HashSet;

use serde_json::Value;
use threadline_emulator::Quota;

use crate::graph::support::{code, emulator, raw, Emu, ME};

const T0: i64 = 1_727_776_800_000;
const IMMUTABLE: (&str, &str) = ("Prefer", "IdType=\"ImmutableId\"");

fn ids(items: &[Value]) -> HashSet<String> {
    items
        .iter()
        .filter(|i| i.get("@removed").is_none())
        .filter_map(|i| i["id"].as_str().map(str::to_string))
        .collect()
}

fn removed(items: &[Value]) -> HashSet<String> {
    items
        .iter()
        .filter(|i| i["@removed"]["reason"] == "deleted")
        .filter_map(|i| i["id"].as_str().map(str::to_string))
        .collect()
}

async fn round(
    emu: &Emu,
    token: &str,
    url: &str,
    headers: &[(&str, &str)],
) -> (Vec<Value>, String) {
    let (items, last) = emu.all_pages(token, url, headers).await;
    let delta_link = last["@odata.deltaLink"]
        .as_str()
        .unwrap_or_else(|| panic!("no deltaLink: {last}"))
        .to_string();
    assert!(delta_link.contains("deltatoken"));
    (items, delta_link)
}

#[tokio::test]
async fn initial_round_pages_with_next_links_and_ends_with_a_delta_link() {
    let emu = emulator(Quota::Off, true).await;
    for i in 0..23 {
        emu.deliver(ME, raw(&format!("d{i}@x"), "s", "", "b"), "inbox", T0 + i);
    }
    emu.deliver(ME, raw("other@x", "s", "", "b"), "sentitems", T0);
    let token = emu.user_token(ME).await;
    let (status, first) = emu
        .get_with(
            &token,
            "/v1.0/me/mailFolders/inbox/messages/delta?$select=subject,isRead",
            &[("Prefer", "odata.maxpagesize=5")],
        )
        .await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(first["value"].as_array().map(Vec::len), Some(5));
    assert!(first["@odata.nextLink"]
        .as_str()
        .is_some_and(|l| l.contains("skiptoken")));
    assert!(first.get("@odata.deltaLink").is_none());
    assert_eq!(first["value"][0]["@odata.type"], "#microsoft.graph.message");
    assert!(first["value"][0].get("body").is_none(), "$select is kept");
    let (items, _) = round(
        &emu,
        &token,
        "/v1.0/me/mailFolders/inbox/messages/delta",
        &[("Prefer", "odata.maxpagesize=5")],
    )
    .await;
    assert_eq!(ids(&items).len(), 23, "only the folder's messages");
}

#[tokio::test]
async fn later_rounds_return_new_changed_and_deleted_messages() {
    let emu = emulator(Quota::Off, true).await;
    let a = emu.deliver(ME, raw("a@x", "a", "", "b"), "inbox", T0);
    let b = emu.deliver(ME, raw("b@x", "b", "", "b"), "inbox", T0 + 1);
    let token = emu.user_token(ME).await;
    let h = [IMMUTABLE];
    let (_, link) = round(
        &emu,
        &token,
        "/v1.0/me/mailFolders/inbox/messages/delta",
        &h,
    )
    .await;
    let (items, link) = round(&emu, &token, &link, &h).await;
    assert!(items.is_empty(), "nothing changed: {items:?}");
    let c = emu.deliver(ME, raw("c@x", "c", "", "b"), "inbox", T0 + 2);
    let mailbox = emu.emu.state.store.get(ME).expect("mailbox");
    mailbox.update_state(&a, |s| s.read = true);
    mailbox.delete(&b);
    let (items, _) = round(&emu, &token, &link, &h).await;
    assert_eq!(ids(&items), HashSet::from([a.clone(), c.clone()]));
    assert_eq!(removed(&items), HashSet::from([b.clone()]));
    let changed = items
        .iter()
        .find(|i| i["id"] == a.as_str())
        .cloned()
        .unwrap_or_default();
    assert_eq!(changed["isRead"], true);
}

#[tokio::test]
async fn a_move_is_removed_in_the_source_and_added_in_the_target() {
    let emu = emulator(Quota::Off, true).await;
    let id = emu.deliver(ME, raw("m@x", "m", "", "b"), "inbox", T0);
    let token = emu.user_token(ME).await;
    let (inbox_items, inbox_link) = round(
        &emu,
        &token,
        "/v1.0/me/mailFolders/inbox/messages/delta",
        &[],
    )
    .await;
    let old_id = inbox_items[0]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let (_, archive_link) = round(
        &emu,
        &token,
        "/v1.0/me/mailFolders/archive/messages/delta",
        &[],
    )
    .await;
    emu.move_to(ME, &id, "archive");
    let (inbox_changes, _) = round(&emu, &token, &inbox_link, &[]).await;
    assert_eq!(
        removed(&inbox_changes),
        HashSet::from([old_id.clone()]),
        "removed under the id the inbox returned"
    );
    let (archive_changes, _) = round(&emu, &token, &archive_link, &[]).await;
    let added = ids(&archive_changes);
    assert_eq!(added.len(), 1);
    assert!(
        !added.contains(&old_id),
        "regular ids change on move (trap 15)"
    );
    assert_eq!(archive_changes[0]["internetMessageId"], "<m@x>");
}

#[tokio::test]
async fn a_message_changed_during_an_initial_round_is_replayed_in_the_next() {
    let emu = emulator(Quota::Off, true).await;
    let mut store_ids = Vec::new();
    for i in 0..4 {
        store_ids.push(emu.deliver(ME, raw(&format!("r{i}@x"), "r", "", "b"), "inbox", T0 + i));
    }
    let token = emu.user_token(ME).await;
    let h = [("Prefer", "odata.maxpagesize=2"), IMMUTABLE];
    let (status, first) = emu
        .get_with(&token, "/v1.0/me/mailFolders/inbox/messages/delta", &h)
        .await;
    assert_eq!(status, 200);
    let seen = first["value"][0]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    emu.emu
        .state
        .store
        .get(ME)
        .expect("mailbox")
        .update_state(&seen, |s| s.starred = true);
    let (rest, last) = emu
        .all_pages(
            &token,
            first["@odata.nextLink"].as_str().unwrap_or_default(),
            &h,
        )
        .await;
    assert_eq!(rest.len(), 2);
    let link = last["@odata.deltaLink"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let (again, _) = round(&emu, &token, &link, &h).await;
    assert!(
        ids(&again).contains(&seen),
        "the change is delivered again: clients must upsert idempotently"
    );
    assert_eq!(
        again
            .iter()
            .find(|i| i["id"] == seen.as_str())
            .map(|i| i["flag"]["flagStatus"].clone()),
        Some(Value::from("flagged"))
    );
}

#[tokio::test]
async fn expired_tokens_and_next_links_are_410_sync_state_not_found() {
    let emu = emulator(Quota::Off, true).await;
    for i in 0..5 {
        emu.deliver(ME, raw(&format!("e{i}@x"), "e", "", "b"), "inbox", T0 + i);
    }
    let token = emu.user_token(ME).await;
    let h = [("Prefer", "odata.maxpagesize=2")];
    let (_, first) = emu
        .get_with(&token, "/v1.0/me/mailFolders/inbox/messages/delta", &h)
        .await;
    let next = first["@odata.nextLink"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let (_, link) = round(
        &emu,
        &token,
        "/v1.0/me/mailFolders/inbox/messages/delta",
        &[],
    )
    .await;
    let r = emu
        .http
        .post(format!(
            "{}/_emulator/mailboxes/{ME}/expire-cursors",
            emu.base()
        ))
        .send()
        .await
        .expect("expire");
    assert_eq!(r.status().as_u16(), 204);
    for url in [&link, &next] {
        let (status, body) = emu.get(&token, url).await;
        assert_eq!(status, 410, "{body}");
        assert_eq!(code(&body), "SyncStateNotFound");
    }
    let (status, body) = emu
        .get(
            &token,
            "/v1.0/me/mailFolders/inbox/messages/delta?$deltatoken=garbage",
        )
        .await;
    assert_eq!(status, 410, "{body}");
    // A fresh initial round works again.
    let (items, _) = round(
        &emu,
        &token,
        "/v1.0/me/mailFolders/inbox/messages/delta",
        &[],
    )
    .await;
    assert_eq!(ids(&items).len(), 5);
}

#[tokio::test]
async fn delta_accepts_only_received_date_time_ge_gt_filters() {
    let emu = emulator(Quota::Off, true).await;
    emu.deliver(ME, raw("old@x", "old", "", "b"), "inbox", T0);
    emu.deliver(
        ME,
        raw("new@x", "new", "", "b"),
        "inbox",
        T0 + 10 * 86_400_000,
    );
    let token = emu.user_token(ME).await;
    let (items, link) = round(&emu, &token, "/v1.0/me/mailFolders/inbox/messages/delta?$filter=receivedDateTime ge 2024-10-05T00:00:00Z", &[]).await;
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["internetMessageId"], "<new@x>");
    emu.deliver(
        ME,
        raw("older@x", "older", "", "b"),
        "inbox",
        T0 - 86_400_000,
    );
    emu.deliver(
        ME,
        raw("newer@x", "newer", "", "b"),
        "inbox",
        T0 + 11 * 86_400_000,
    );
    let (items, _) = round(&emu, &token, &link, &[]).await;
    assert_eq!(items.len(), 1, "the filter lives in the token: {items:?}");
    assert_eq!(items[0]["internetMessageId"], "<newer@x>");
    let (status, body) = emu
        .get(
            &token,
            "/v1.0/me/mailFolders/inbox/messages/delta?$filter=isRead eq false",
        )
        .await;
    assert_eq!(status, 400, "{body}");
}

#[tokio::test]
async fn delta_orders_newest_first_only_and_keeps_the_page_size_across_prefers() {
    let emu = emulator(Quota::Off, true).await;
    for i in 0..9 {
        emu.deliver(ME, raw(&format!("o{i}@x"), "s", "", "b"), "inbox", T0 + i);
    }
    let token = emu.user_token(ME).await;
    let base = "/v1.0/me/mailFolders/inbox/messages/delta";
    for bad in [
        "sentDateTime desc",
        "receivedDateTime asc",
        "receivedDateTime",
    ] {
        let (status, body) = emu
            .get_with(&token, &format!("{base}?$orderby={bad}"), &[])
            .await;
        assert_eq!(status, 400, "{bad}: {body}");
    }
    let (status, first) = emu
        .get_with(
            &token,
            &format!("{base}?$orderby=receivedDateTime%20desc"),
            &[("Prefer", "odata.maxpagesize=4"), IMMUTABLE],
        )
        .await;
    assert_eq!(status, 200, "{first}");
    let dates: Vec<&str> = first["value"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["receivedDateTime"].as_str())
        .collect();
    assert_eq!(dates.len(), 4);
    assert!(
        dates.windows(2).all(|w| w[0] >= w[1]),
        "newest first: {dates:?}"
    );
    // The next page with only an IdType preference keeps the round's page size.
    let next = first["@odata.nextLink"].as_str().unwrap();
    let path = &next[next.find("/v1.0").unwrap()..];
    let (status, second) = emu.get_with(&token, path, &[IMMUTABLE]).await;
    assert_eq!(status, 200, "{second}");
    assert_eq!(second["value"].as_array().map(Vec::len), Some(4));
}
