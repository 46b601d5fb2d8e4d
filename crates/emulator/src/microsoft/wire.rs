//! Graph JSON shapes (serde wire structs mirroring the CSDL entity and complex types).

use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EmailAddress {
    pub name: String,
    pub address: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Recipient {
    pub email_address: EmailAddress,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemBody {
    pub content_type: &'static str,
    pub content: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FollowupFlag {
    pub flag_status: &'static str,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InternetMessageHeader {
    pub name: String,
    pub value: String,
}

#[allow(clippy::struct_excessive_bools)]
/// `microsoft.graph.message` (every default property; `internetMessageHeaders` and
/// `uniqueBody` only when `$select`ed).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Message {
    #[serde(rename = "@odata.etag")]
    pub etag: String,
    pub id: String,
    pub created_date_time: String,
    pub last_modified_date_time: String,
    pub change_key: String,
    pub categories: Vec<String>,
    pub received_date_time: String,
    pub sent_date_time: String,
    pub has_attachments: bool,
    pub internet_message_id: Option<String>,
    pub subject: String,
    pub body_preview: String,
    pub importance: &'static str,
    pub parent_folder_id: String,
    pub conversation_id: String,
    pub conversation_index: String,
    pub is_delivery_receipt_requested: bool,
    pub is_read_receipt_requested: bool,
    pub is_read: bool,
    pub is_draft: bool,
    pub web_link: String,
    pub inference_classification: &'static str,
    pub body: ItemBody,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sender: Option<Recipient>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<Recipient>,
    pub to_recipients: Vec<Recipient>,
    pub cc_recipients: Vec<Recipient>,
    pub bcc_recipients: Vec<Recipient>,
    pub reply_to: Vec<Recipient>,
    pub flag: FollowupFlag,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub internet_message_headers: Option<Vec<InternetMessageHeader>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unique_body: Option<ItemBody>,
}

/// `microsoft.graph.mailFolder`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MailFolder {
    pub id: String,
    pub display_name: String,
    pub parent_folder_id: String,
    pub child_folder_count: i32,
    pub unread_item_count: i32,
    pub total_item_count: i32,
    pub is_hidden: bool,
}

/// `microsoft.graph.user` (the default properties).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    pub business_phones: Vec<String>,
    pub display_name: String,
    pub given_name: Option<String>,
    pub job_title: Option<String>,
    pub mail: Option<String>,
    pub mobile_phone: Option<String>,
    pub office_location: Option<String>,
    pub preferred_language: Option<String>,
    pub surname: Option<String>,
    pub user_principal_name: String,
    pub id: String,
}

/// `microsoft.graph.fileAttachment` / `itemAttachment`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Attachment {
    #[serde(rename = "@odata.type")]
    pub odata_type: &'static str,
    #[serde(
        rename = "@odata.mediaContentType",
        skip_serializing_if = "Option::is_none"
    )]
    pub media_content_type: Option<String>,
    pub id: String,
    pub last_modified_date_time: String,
    pub name: String,
    pub content_type: String,
    pub size: i32,
    pub is_inline: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_id: Option<Option<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_location: Option<Option<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_bytes: Option<String>,
}

/// `microsoft.graph.subscription`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Subscription {
    pub id: String,
    pub resource: String,
    pub application_id: String,
    pub change_type: String,
    pub client_state: Option<String>,
    pub notification_url: String,
    pub notification_query_options: Option<String>,
    pub lifecycle_notification_url: Option<String>,
    pub expiration_date_time: String,
    pub creator_id: String,
    pub include_resource_data: Option<bool>,
    pub latest_supported_tls_version: String,
    pub encryption_certificate: Option<String>,
    pub encryption_certificate_id: Option<String>,
}
