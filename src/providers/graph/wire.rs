//! Microsoft Graph JSON as it arrives (`@odata.*` annotations, optional everything). Private to
//! `providers::graph`; items are decoded one by one so a single odd item cannot sink a page.
use serde::Deserialize;
use serde_json::Value;

/// A collection page: folder lists, delta pages.
#[derive(Deserialize, Default)]
pub(super) struct Page {
    #[serde(default)]
    pub value: Vec<Value>,
    #[serde(rename = "@odata.nextLink")]
    pub next_link: Option<String>,
    #[serde(rename = "@odata.deltaLink")]
    pub delta_link: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct MailFolder {
    pub id: String,
    #[serde(default)]
    pub display_name: String,
    pub parent_folder_id: Option<String>,
    #[serde(default)]
    pub child_folder_count: Option<i64>,
    #[serde(default)]
    pub total_item_count: Option<i64>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub(super) struct Flag {
    #[serde(default)]
    pub flag_status: String,
}

/// A message as delta and `GET /messages/{id}` return it with the light `$select`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Message {
    pub id: String,
    #[serde(rename = "@removed")]
    pub removed: Option<Value>,
    pub is_read: Option<bool>,
    pub flag: Option<Flag>,
    pub parent_folder_id: Option<String>,
    pub received_date_time: Option<String>,
    pub conversation_id: Option<String>,
}

pub(super) type ErrorBody = crate::providers::ErrorBody<ErrorDetail>;

/// `{"code","message","innerError":{...}}`; inner errors nest and their casing varies.
#[derive(Deserialize, Default)]
pub(super) struct ErrorDetail {
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub message: String,
    #[serde(rename = "innerError", alias = "innererror", alias = "InnerError")]
    pub inner_error: Option<Box<ErrorDetail>>,
}

/// What the newest-mail listing adds to [`Message`]: enough to show a message before its MIME
/// text arrives.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub(super) struct MessageHead {
    #[serde(default)]
    pub body_preview: Option<String>,
    #[serde(default)]
    pub internet_message_headers: Option<Vec<HeaderPair>>,
}

/// One of `internetMessageHeaders`.
#[derive(Deserialize, Default)]
pub(super) struct HeaderPair {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub value: String,
}

/// The body of `PATCH /messages/{id}`: only the properties being changed.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct MessagePatch {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_read: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flag: Option<FlagPatch>,
}

#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct FlagPatch {
    pub flag_status: &'static str,
}
