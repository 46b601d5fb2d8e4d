//! Per-folder message delta (`.../mailFolders/{id}/messages/delta`, §D.5): an initial round
//! returns the folder's messages, later rounds the changes since the token — new and changed
//! messages in full, `@removed {"reason":"deleted"}` for deletes and moves out (a move is a
//! remove in the source plus an add in the target, trap 14). Pages follow `@odata.nextLink`
//! (`$skiptoken`) to a final `@odata.deltaLink` (`$deltatoken`); `Prefer: odata.maxpagesize`.
//! Tokens are opaque and die with `expire-cursors` (410 `SyncStateNotFound`, trap 17).

use std::collections::HashMap;

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::error::{odata_json, GraphError};
use super::folders::{key_of, resolve};
use super::messages::{field, message_json, prefs, GraphCall, MESSAGE_PROPERTIES};
use super::odata::{eval, link, parse_filter, Expr, Params};
use super::view::rest_id;
use crate::changes::ChangeKind;
use crate::store::{MailboxData, StoredMessage};
use crate::SharedState;

/// Everything a delta token remembers (query options live in it, as in Graph).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Token {
    /// Mailbox and folder key.
    m: String,
    f: String,
    /// Change-log epoch when issued.
    e: u64,
    /// Changes after this sequence number; `None` = initial round.
    c: Option<u64>,
    /// Head of the log when the round started.
    h: u64,
    /// Items already returned in this round (change rounds).
    o: usize,
    /// Initial round: the `(receivedDateTime ms, id)` key of the last item returned.
    #[serde(default)]
    k: Option<(i64, String)>,
    s: Option<Vec<String>>,
    q: Option<String>,
    p: usize,
}

fn encode(t: &Token) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(t).unwrap_or_default())
}

fn decode(raw: &str) -> Option<Token> {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(raw.trim()).ok()?).ok()
}

/// `Prefer: odata.maxpagesize=N`, when sent.
fn preferred_size(headers: &HeaderMap) -> Option<usize> {
    headers
        .get_all("prefer")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .find_map(|p| {
            p.trim()
                .strip_prefix("odata.maxpagesize=")
                .and_then(|n| n.trim().parse::<usize>().ok())
        })
        .map(|n| n.clamp(1, 1000))
}

fn page_size(headers: &HeaderMap, q: &Params) -> usize {
    preferred_size(headers)
        .or(q.top_given.then_some(q.top))
        .unwrap_or(10)
        .clamp(1, 1000)
}

/// One entry of a round: a message to upsert, or the id of one that left the folder.
enum Entry<'a> {
    Upsert(&'a StoredMessage),
    Removed(String),
}

/// Whether a message was in `folder` just before its first change after the cursor.
fn was_in(kind: &ChangeKind, folder: &str) -> bool {
    match kind {
        ChangeKind::Added { .. } => false,
        ChangeKind::StateChanged { before, .. } => key_of(before.folder.as_ref()) == folder,
        ChangeKind::Deleted { state } => key_of(state.folder.as_ref()) == folder,
    }
}

/// One page of a round: entries, whether more remain, and (initial rounds) the last key.
type Page<'a> = (Vec<Entry<'a>>, bool, Option<(i64, String)>);

fn entries<'a>(
    data: &'a MailboxData,
    t: &Token,
    immutable: bool,
    filter: Option<&super::odata::Expr>,
    size: usize,
) -> Result<Page<'a>, GraphError> {
    let keep = |m: &StoredMessage| {
        key_of(m.state.folder.as_ref()) == t.f && filter.is_none_or(|f| eval(f, &|p| field(m, p)))
    };
    let Some(cursor) = t.c else {
        // Keyset paging, newest first: O(page) per request however big the folder.
        let keys: Box<dyn Iterator<Item = &(i64, String)>> = match &t.k {
            Some(k) => Box::new(data.by_date.range(..k.clone()).rev()),
            None => Box::new(data.by_date.iter().rev()),
        };
        let mut picked = Vec::new();
        let mut last = None;
        for key in keys {
            let Some(m) = data.messages.get(&key.1).filter(|m| keep(m)) else {
                continue;
            };
            if picked.len() == size {
                return Ok((picked, true, last));
            }
            last = Some(key.clone());
            picked.push(Entry::Upsert(m));
        }
        return Ok((picked, false, last));
    };
    let changes = data
        .log
        .since(cursor)
        .map_err(|_| GraphError::sync_state_not_found())?;
    // Per message: was it in the folder before its first change, and its last change.
    let mut seen: HashMap<&str, (bool, u64)> = HashMap::new();
    for change in changes.take_while(|c| c.seq <= t.h) {
        seen.entry(change.message_id.as_str())
            .and_modify(|e| e.1 = change.seq)
            .or_insert((was_in(&change.kind, &t.f), change.seq));
    }
    let mut order: Vec<(&str, bool, u64)> = seen
        .into_iter()
        .map(|(id, (was, seq))| (id, was, seq))
        .collect();
    order.sort_by_key(|(_, _, seq)| *seq);
    let all: Vec<Entry<'a>> = order
        .into_iter()
        .filter_map(|(id, was, _)| match data.messages.get(id) {
            Some(m) if keep(m) => Some(Entry::Upsert(m)),
            _ if was => Some(Entry::Removed(rest_id(id, &t.f, immutable))),
            _ => None,
        })
        .collect();
    let more = all.len() > t.o + size;
    Ok((all.into_iter().skip(t.o).take(size).collect(), more, None))
}

/// Delta accepts only `receivedDateTime ge|gt` comparisons (§D.5).
fn delta_filter(e: &Expr) -> bool {
    match e {
        Expr::Cmp(p, op, _) => p == "receivedDateTime" && matches!(*op, "ge" | "gt"),
        Expr::And(a, b) => delta_filter(a) && delta_filter(b),
        Expr::Or(..) | Expr::Not(_) => false,
    }
}

/// `GET .../mailFolders/{folder}/messages/delta`.
pub async fn delta(
    State(state): State<SharedState>,
    call: GraphCall,
) -> Result<Response, GraphError> {
    let read = call.open(&state, false, 10, 1000).await?;
    let (ctx, q, params, headers, path) = read.into_parts();
    let folder = resolve(
        &ctx.mailbox,
        params.get("folder").map_or("", String::as_str),
    )?;
    let given = q.skiptoken.as_deref().or(q.deltatoken.as_deref());
    let (epoch, floor, head) = {
        let data = ctx.mailbox.data.read();
        (data.log.epoch(), data.log.floor(), data.log.head())
    };
    let token = if let Some(raw) = given {
        let mut t = decode(raw).ok_or_else(GraphError::sync_state_not_found)?;
        if t.m != ctx.mailbox.info.address || t.f != folder {
            return Err(GraphError::bad_request(
                "The delta token does not belong to this folder.",
            ));
        }
        if q.deltatoken.is_some() {
            // A new round: changes after the previous round's head.
            t = Token {
                c: Some(t.h),
                h: head,
                o: 0,
                ..t
            };
        }
        if t.e != epoch || t.c.is_some_and(|c| c < floor) {
            return Err(GraphError::sync_state_not_found());
        }
        t
    } else {
        q.check_select(&MESSAGE_PROPERTIES, "microsoft.graph.message")?;
        if q.orderby
            .as_ref()
            .is_some_and(|(p, desc)| p != "receivedDateTime" || !desc)
        {
            // Initial rounds are newest first anyway; no other order exists (§D.5).
            return Err(GraphError::bad_request(
                "Delta query supports only $orderby=receivedDateTime desc.",
            ));
        }
        if q.filter.as_ref().is_some_and(|f| !delta_filter(f)) {
            return Err(GraphError::bad_request(
                "Delta query supports only $filter=receivedDateTime ge|gt {value}.",
            ));
        }
        Token {
            m: ctx.mailbox.info.address.clone(),
            f: folder.clone(),
            e: epoch,
            c: None,
            h: head,
            o: 0,
            k: None,
            s: q.select.clone(),
            q: q.filter_raw.clone(),
            p: page_size(&headers, &q),
        }
    };
    let effective = Params {
        select: token.s.clone(),
        ..Params::default()
    };
    let filter = token.q.as_deref().map(parse_filter).transpose()?;
    let prefs = prefs(&headers, &effective);
    // Later requests may change the page size; other `Prefer`s (IdType) keep the round's.
    let size = if given.is_some() {
        preferred_size(&headers).unwrap_or(token.p)
    } else {
        token.p
    };
    let (value, more, last) = {
        let data = ctx.mailbox.data.read();
        let (page, more, last) =
            entries(&data, &token, prefs.immutable_ids, filter.as_ref(), size)?;
        let value: Vec<Value> = page
            .iter()
            .map(|e| match e {
                Entry::Upsert(m) => {
                    let mut v = message_json(&state, &ctx.mailbox, m, prefs, &effective);
                    v["@odata.type"] = json!("#microsoft.graph.message");
                    v
                }
                Entry::Removed(id) => json!({"@odata.type": "#microsoft.graph.message", "id": id, "@removed": {"reason": "deleted"}}),
            })
            .collect();
        (value, more, last)
    };
    let mut body = json!({
        "@odata.context": format!("{}/v1.0/$metadata#Collection(message)", state.base_url.read()),
        "value": value,
    });
    if more {
        let next = Token {
            o: token.o + size,
            k: last.or(token.k.clone()),
            p: size,
            ..token
        };
        body["@odata.nextLink"] =
            json!(link(&state, &path, &[("$skiptoken".into(), encode(&next))]));
    } else {
        let next = Token {
            o: 0,
            k: None,
            ..token
        };
        body["@odata.deltaLink"] = json!(link(
            &state,
            &path,
            &[("$deltatoken".into(), encode(&next))]
        ));
    }
    let mut response = odata_json(StatusCode::OK, &body);
    if let Ok(v) = HeaderValue::from_str(&format!("odata.maxpagesize={size}")) {
        response.headers_mut().insert("preference-applied", v);
    }
    Ok(response)
}
