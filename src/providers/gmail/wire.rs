//! Gmail API JSON as it arrives (int64 as strings, empty arrays omitted). Private to
//! `providers::gmail`.
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Profile {
    pub history_id: String,
}

/// `users.labels.get`: the label with its counts.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Label {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub messages_total: Option<u64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct MessageRef {
    pub id: String,
    #[serde(default)]
    pub thread_id: String,
    #[serde(default)]
    pub label_ids: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ListResponse {
    #[serde(default)]
    pub messages: Vec<MessageRef>,
    pub next_page_token: Option<String>,
    #[serde(default)]
    pub result_size_estimate: Option<u64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct RawMessage {
    pub id: String,
    #[serde(default)]
    pub thread_id: String,
    #[serde(default)]
    pub label_ids: Vec<String>,
    pub internal_date: Option<String>,
    #[serde(default)]
    pub raw: String,
}

#[derive(Deserialize)]
pub(super) struct Wrapped {
    pub message: MessageRef,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct LabelChange {
    pub message: MessageRef,
    #[serde(default)]
    pub label_ids: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct HistoryRecord {
    #[serde(default)]
    pub messages_added: Vec<Wrapped>,
    #[serde(default)]
    pub messages_deleted: Vec<Wrapped>,
    #[serde(default)]
    pub labels_added: Vec<LabelChange>,
    #[serde(default)]
    pub labels_removed: Vec<LabelChange>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct HistoryResponse {
    #[serde(default)]
    pub history: Vec<HistoryRecord>,
    pub next_page_token: Option<String>,
    pub history_id: String,
}

pub(super) type ErrorBody = crate::providers::ErrorBody<ErrorDetail>;

#[derive(Deserialize, Default)]
pub(super) struct ErrorDetail {
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub errors: Vec<ErrorItem>,
}

#[derive(Deserialize, Default)]
pub(super) struct ErrorItem {
    #[serde(default)]
    pub reason: String,
}

/// messages.get `format=minimal`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct MinimalMessage {
    pub id: String,
    #[serde(default)]
    pub label_ids: Vec<String>,
}

/// users.watch's answer (int64 as strings).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct WatchResponse {
    pub history_id: String,
    pub expiration: String,
}

/// The body of `users.messages.batchModify`.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct BatchModify<'a> {
    pub ids: &'a [String],
    pub add_label_ids: &'a [&'a str],
    pub remove_label_ids: &'a [&'a str],
}
