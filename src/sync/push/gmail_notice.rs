//! A Gmail notification that arrived through Pub/Sub, once its token was verified (the web
//! endpoint does that): `{emailAddress, historyId}`, the mailbox's new history id. Each Google
//! mailbox at that address whose push is active counts it, and is woken when the pushed id is
//! newer than its stored history cursor; the pass then reads history from the stored cursor,
//! never from the pushed id (a push is a hint; notifications may be dropped or coalesced).
use base64::Engine as _;
use serde::Deserialize;

use super::super::gmail::SCOPE;
use super::super::wake;
use crate::db::{mail_accounts, push, sync_cursors};
use crate::domain::provider::Provider;

/// What a notification says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub email_address: String,
    pub history_id: u64,
}

/// What became of a notification.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Received {
    /// Mailboxes with active push at the address.
    pub mailboxes: usize,
    /// Of those, the ones woken (the pushed history id was newer than their cursor).
    pub woken: usize,
}

#[derive(Deserialize)]
struct Envelope {
    message: Message,
}

#[derive(Deserialize)]
struct Message {
    data: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Data {
    email_address: String,
    /// A number in Gmail's pushes; a string is accepted too.
    history_id: serde_json::Value,
}

/// The notice in a Pub/Sub push body (`message.data`: base64, standard or URL-safe, padded or
/// not, of `{"emailAddress","historyId"}`), or None when the body is not one.
pub fn parse(body: &[u8]) -> Option<Notice> {
    let envelope: Envelope = serde_json::from_slice(body).ok()?;
    let data = envelope.message.data.trim().trim_end_matches('=');
    let bytes = base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(data)
        .or_else(|_| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(data))
        .ok()?;
    let data: Data = serde_json::from_slice(&bytes).ok()?;
    let history_id = match &data.history_id {
        serde_json::Value::Number(n) => n.as_u64()?,
        serde_json::Value::String(s) => s.trim().parse().ok()?,
        _ => return None,
    };
    let email_address = data.email_address.trim().to_lowercase();
    (!email_address.is_empty()).then_some(Notice {
        email_address,
        history_id,
    })
}

/// Record `notice` on the mailboxes it concerns and wake those whose cursor it is ahead of.
pub async fn received(
    db: &sea_orm::DatabaseConnection,
    notice: &Notice,
) -> Result<Received, sea_orm::DbErr> {
    let mut out = Received::default();
    for account in mail_accounts::with_address(db, Provider::Google, &notice.email_address).await? {
        let Some(row) = push::find(db, account.id).await? else {
            continue;
        };
        if row.state != push::ACTIVE {
            continue;
        }
        out.mailboxes += 1;
        push::record_notification(db, row.id).await?;
        let cursor = sync_cursors::cursor(db, account.id, SCOPE).await?;
        let behind = cursor
            .and_then(|c| c.cursor)
            .and_then(|c| c.parse::<u64>().ok())
            .is_none_or(|stored| notice.history_id > stored);
        if behind && wake::wake(db, account.id).await? {
            out.woken += 1;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(data: &str) -> Vec<u8> {
        serde_json::json!({"message": {"data": data, "messageId": "1"}, "subscription": "s"})
            .to_string()
            .into_bytes()
    }

    #[test]
    fn notices_decode_from_either_base64_alphabet_with_numeric_or_string_ids() {
        let json = r#"{"emailAddress": "Sam@Example.com", "historyId": 1234567890}"#;
        let standard = base64::engine::general_purpose::STANDARD.encode(json);
        let want = Notice {
            email_address: "sam@example.com".into(),
            history_id: 1_234_567_890,
        };
        assert_eq!(parse(&body(&standard)), Some(want.clone()));
        let url = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(r#"{"emailAddress":"sam@example.com","historyId":"1234567890"}"#);
        assert_eq!(parse(&body(&url)), Some(want));
        // The example from Gmail's documentation.
        let doc =
            "eyJlbWFpbEFkZHJlc3MiOiAidXNlckBleGFtcGxlLmNvbSIsICJoaXN0b3J5SWQiOiAiMTIzNDU2Nzg5MCJ9";
        assert_eq!(parse(&body(doc)).map(|n| n.history_id), Some(1_234_567_890));
        assert_eq!(parse(b"{}"), None);
        assert_eq!(parse(&body("not base64!")), None);
    }
}
