//! Outlook folders over the store's per-message `folder` state: the well-known folders of
//! every mailbox plus custom folders named by messages (`"inbox/Clients"` is the child
//! `Clients` of Inbox), their ids (opaque, decodable), counts and routes.

use std::collections::BTreeMap;

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use base64::Engine as _;
use serde_json::{json, Value};

use super::auth::{admit, caller, require_mail, target};
use super::error::{odata_json, GraphError};
use super::odata::{page_link, Params};
use super::wire::MailFolder;
use crate::ids::fnv;
use crate::store::{Mailbox, MailboxData};
use crate::SharedState;

/// Properties of `microsoft.graph.mailFolder` a `$select` may name.
const FOLDER_PROPERTIES: [&str; 7] = [
    "id",
    "displayName",
    "parentFolderId",
    "childFolderCount",
    "unreadItemCount",
    "totalItemCount",
    "isHidden",
];

/// The root of the folder tree.
pub const ROOT: &str = "msgfolderroot";

/// Well-known folders under the root: (name, display name).
pub const WELL_KNOWN: [(&str, &str); 8] = [
    ("inbox", "Inbox"),
    ("drafts", "Drafts"),
    ("sentitems", "Sent Items"),
    ("deleteditems", "Deleted Items"),
    ("junkemail", "Junk Email"),
    ("archive", "Archive"),
    ("outbox", "Outbox"),
    ("conversationhistory", "Conversation History"),
];

/// Normalise a folder key as stored (`Inbox` -> `inbox`, custom names kept).
pub fn normalise_key(key: &str) -> String {
    let lower = key.to_ascii_lowercase();
    if lower == ROOT || WELL_KNOWN.iter().any(|(n, _)| *n == lower) {
        lower
    } else {
        key.trim_matches('/').to_string()
    }
}

/// The folder key a message is in (`inbox` when unset).
pub fn key_of(folder: Option<&String>) -> String {
    folder.map_or_else(|| "inbox".to_string(), |f| normalise_key(f))
}

/// Opaque folder id: `AAMkAD` + base64url(mailbox salt, key).
pub fn folder_id(address: &str, key: &str) -> String {
    let mut bytes = fnv(address.as_bytes()).to_be_bytes().to_vec();
    bytes.push(1);
    bytes.extend_from_slice(key.as_bytes());
    format!(
        "AAMkAD{}",
        base64::engine::general_purpose::URL_SAFE.encode(bytes)
    )
}

fn decode_folder_id(address: &str, id: &str) -> Option<String> {
    let bytes = base64::engine::general_purpose::URL_SAFE
        .decode(id.strip_prefix("AAMkAD")?)
        .ok()?;
    let (salt, rest) = bytes.split_at_checked(8)?;
    if salt != fnv(address.as_bytes()).to_be_bytes() || rest.first() != Some(&1) {
        return None;
    }
    String::from_utf8(rest.get(1..)?.to_vec()).ok()
}

/// Parent key of a folder key (`None` for the root).
pub fn parent_of(key: &str) -> Option<String> {
    if key == ROOT {
        return None;
    }
    Some(
        key.rsplit_once('/')
            .map_or_else(|| ROOT.to_string(), |(p, _)| normalise_key(p)),
    )
}

fn display_name(key: &str) -> String {
    if key == ROOT {
        return "Top of Information Store".into();
    }
    WELL_KNOWN.iter().find(|(n, _)| *n == key).map_or_else(
        || key.rsplit('/').next().unwrap_or(key).to_string(),
        |(_, d)| (*d).to_string(),
    )
}

/// Every folder key of a mailbox with (total, unread) counts.
pub fn folders(data: &MailboxData) -> BTreeMap<String, (usize, usize)> {
    let mut out: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    out.insert(ROOT.into(), (0, 0));
    for (name, _) in WELL_KNOWN {
        out.insert(name.into(), (0, 0));
    }
    for m in data.messages.values() {
        let key = key_of(m.state.folder.as_ref());
        let mut parent = parent_of(&key);
        while let Some(p) = parent {
            out.entry(p.clone()).or_default();
            parent = parent_of(&p);
        }
        let entry = out.entry(key).or_default();
        entry.0 += 1;
        entry.1 += usize::from(!m.state.read);
    }
    out
}

/// Resolve a `{folder}` path segment (well-known name or id) to an existing folder key.
pub fn resolve(mailbox: &Mailbox, segment: &str) -> Result<String, GraphError> {
    let segment = segment.trim_start_matches("('").trim_end_matches("')");
    let lower = segment.to_ascii_lowercase();
    if lower == ROOT || WELL_KNOWN.iter().any(|(n, _)| *n == lower) {
        // Well-known folders always exist.
        return Ok(lower);
    }
    let key = {
        decode_folder_id(&mailbox.info.address, segment).ok_or_else(|| {
            GraphError::new(
                StatusCode::BAD_REQUEST,
                "ErrorInvalidIdMalformed",
                "Id is malformed.",
            )
        })?
    };
    if folders(&mailbox.data.read()).contains_key(&key) {
        Ok(key)
    } else {
        Err(GraphError::item_not_found())
    }
}

/// The wire form of one folder.
pub fn render(address: &str, key: &str, all: &BTreeMap<String, (usize, usize)>) -> MailFolder {
    let (total, unread) = all.get(key).copied().unwrap_or_default();
    let children = all
        .keys()
        .filter(|k| parent_of(k).as_deref() == Some(key))
        .count();
    let count = |n: usize| i32::try_from(n).unwrap_or(i32::MAX);
    MailFolder {
        id: folder_id(address, key),
        display_name: display_name(key),
        parent_folder_id: parent_of(key)
            .map_or_else(|| folder_id(address, "root"), |p| folder_id(address, &p)),
        child_folder_count: count(children),
        unread_item_count: count(unread),
        total_item_count: count(total),
        is_hidden: false,
    }
}

fn user_param(params: &std::collections::HashMap<String, String>) -> Option<&str> {
    params.get("user").map(String::as_str)
}

/// `GET .../mailFolders` (children of the root) and `.../mailFolders/{folder}/childFolders`.
pub async fn list(
    State(state): State<SharedState>,
    Path(params): Path<std::collections::HashMap<String, String>>,
    headers: HeaderMap,
    uri: axum::http::Uri,
    RawQuery(query): RawQuery,
) -> Result<Response, GraphError> {
    let who = caller(&state, &headers)?;
    require_mail(&who, false)?;
    let mailbox = target(&state, &who, user_param(&params))?;
    let _permit = admit(&state, &who, &mailbox.info.address, uri.path()).await?;
    let parent = match params.get("folder") {
        Some(f) => resolve(&mailbox, f)?,
        None => ROOT.to_string(),
    };
    let q = Params::parse(query.as_deref(), 10, 1000)?;
    q.check_select(&FOLDER_PROPERTIES, "microsoft.graph.mailFolder")?;
    let all = folders(&mailbox.data.read());
    let children: Vec<Value> = all
        .keys()
        .filter(|k| parent_of(k).as_deref() == Some(parent.as_str()))
        .map(|k| q.select_fields(&json!(render(&mailbox.info.address, k, &all))))
        .collect();
    let total = children.len();
    let page: Vec<Value> = children.into_iter().skip(q.skip).take(q.top).collect();
    let mut body = json!({
        "@odata.context": format!("{}/v1.0/$metadata#users('{}')/mailFolders", state.base_url.read(), mailbox.info.address),
        "value": page,
    });
    if q.skip + q.top < total {
        body["@odata.nextLink"] = json!(page_link(&state, uri.path(), &q, q.skip + q.top));
    }
    Ok(odata_json(StatusCode::OK, &body))
}

/// `GET .../mailFolders/{folder}`.
pub async fn get(
    State(state): State<SharedState>,
    Path(params): Path<std::collections::HashMap<String, String>>,
    headers: HeaderMap,
    uri: axum::http::Uri,
    RawQuery(query): RawQuery,
) -> Result<Response, GraphError> {
    let who = caller(&state, &headers)?;
    require_mail(&who, false)?;
    let mailbox = target(&state, &who, user_param(&params))?;
    let _permit = admit(&state, &who, &mailbox.info.address, uri.path()).await?;
    let key = resolve(&mailbox, params.get("folder").map_or("", String::as_str))?;
    let q = Params::parse(query.as_deref(), 10, 1000)?;
    q.check_select(&FOLDER_PROPERTIES, "microsoft.graph.mailFolder")?;
    let all = folders(&mailbox.data.read());
    let mut body = q.select_fields(&json!(render(&mailbox.info.address, &key, &all)));
    body["@odata.context"] = json!(format!(
        "{}/v1.0/$metadata#users('{}')/mailFolders/$entity",
        state.base_url.read(),
        mailbox.info.address
    ));
    Ok(odata_json(StatusCode::OK, &body))
}
