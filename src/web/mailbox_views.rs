//! View models of the mailboxes pages.
use crate::db::entities::mail_accounts::Model as MailAccount;
use crate::db::mail_accounts;
use crate::providers::Provider;

#[derive(Debug, Clone)]
pub struct MailboxRow {
    pub id: i64,
    pub provider: &'static str,
    pub address: String,
    pub status: &'static str,
    pub status_class: &'static str,
    pub last_success: String,
    pub last_error: Option<String>,
    pub can_reconnect: bool,
    pub connected: bool,
}

impl From<MailAccount> for MailboxRow {
    fn from(a: MailAccount) -> Self {
        let (status, status_class) = match a.status.as_str() {
            mail_accounts::ACTIVE => ("Connected", "badge-ok"),
            mail_accounts::NEEDS_RECONNECT => ("Needs reconnect", "badge-error"),
            mail_accounts::DISCONNECTED => ("Disconnected", "badge-warn"),
            _ => ("Paused", "badge-warn"),
        };
        Self {
            id: a.id,
            provider: Provider::parse(&a.provider).map_or("Mailbox", Provider::label),
            last_success: a.last_success_at.map_or_else(
                || "not yet".into(),
                |t| t.format("%Y-%m-%d %H:%M UTC").to_string(),
            ),
            last_error: a.last_error,
            can_reconnect: a.status != mail_accounts::ACTIVE,
            connected: a.status != mail_accounts::DISCONNECTED,
            status,
            status_class,
            address: a.address,
        }
    }
}

/// A "Connect ..." button, or why it is unavailable.
#[derive(Debug, Clone)]
pub struct ProviderChoice {
    pub key: &'static str,
    pub label: &'static str,
    pub available: bool,
    pub settings: &'static str,
}

impl ProviderChoice {
    pub fn new(provider: Provider, available: bool) -> Self {
        Self {
            key: provider.as_str(),
            label: provider.label(),
            available,
            settings: match provider {
                Provider::Google => "GOOGLE_CLIENT_ID and GOOGLE_CLIENT_SECRET",
                Provider::Microsoft => "MICROSOFT_CLIENT_ID and MICROSOFT_CLIENT_SECRET",
            },
        }
    }
}
