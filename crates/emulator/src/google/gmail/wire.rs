//! Gmail JSON as serde structs (names per the discovery document; int64/uint64 as strings,
//! empty repeated fields omitted).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Message {
    pub id: String,
    pub thread_id: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub label_ids: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snippet: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub internal_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload: Option<MessagePart>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size_estimate: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessagePart {
    pub part_id: String,
    pub mime_type: String,
    pub filename: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<Header>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<MessagePartBody>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parts: Vec<MessagePart>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Header {
    pub name: String,
    pub value: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessagePartBody {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachment_id: Option<String>,
    pub size: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListMessagesResponse {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub messages: Vec<Message>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
    pub result_size_estimate: u32,
}

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListHistoryResponse {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<History>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
    pub history_id: String,
}

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct History {
    pub id: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub messages: Vec<Message>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub messages_added: Vec<HistoryMessage>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub messages_deleted: Vec<HistoryMessage>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub labels_added: Vec<HistoryLabel>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub labels_removed: Vec<HistoryLabel>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct HistoryMessage {
    pub message: Message,
}

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryLabel {
    pub message: Message,
    pub label_ids: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Profile {
    pub email_address: String,
    pub messages_total: u32,
    pub threads_total: u32,
    pub history_id: String,
}

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Label {
    pub id: String,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_list_visibility: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label_list_visibility: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub messages_total: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub messages_unread: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub threads_total: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub threads_unread: Option<u32>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ListLabelsResponse {
    pub labels: Vec<Label>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ModifyRequest {
    pub add_label_ids: Vec<String>,
    pub remove_label_ids: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct BatchModifyRequest {
    pub ids: Vec<String>,
    pub add_label_ids: Vec<String>,
    pub remove_label_ids: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct WatchRequest {
    pub topic_name: Option<String>,
    pub label_ids: Vec<String>,
    pub label_filter_behavior: Option<String>,
    pub label_filter_action: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WatchResponse {
    pub history_id: String,
    pub expiration: String,
}
