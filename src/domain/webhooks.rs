//! Webhooks as the Standard Webhooks convention (standardwebhooks.com) has them: event types,
//! secrets (`whsec_` + base64 of random bytes), signatures (`v1,` + base64 HMAC-SHA256 of
//! `{id}.{timestamp}.{body}`), the body every event is sent as, the retry schedule, and which
//! addresses a delivery may reach. Pure: no I/O.
use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The events an endpoint may subscribe to (and the test event, sent to one endpoint on demand).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventType {
    EmailReceived,
    EmailLinked,
    EmailUnlinked,
    BusinessCreated,
    BusinessUpdated,
    ContactCreated,
    MailboxStatusChanged,
    Test,
}

impl EventType {
    /// What an admin may choose, in the order the form lists them.
    pub const SUBSCRIBABLE: [EventType; 7] = [
        EventType::EmailReceived,
        EventType::EmailLinked,
        EventType::EmailUnlinked,
        EventType::BusinessCreated,
        EventType::BusinessUpdated,
        EventType::ContactCreated,
        EventType::MailboxStatusChanged,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventType::EmailReceived => "email.received",
            EventType::EmailLinked => "email.linked",
            EventType::EmailUnlinked => "email.unlinked",
            EventType::BusinessCreated => "business.created",
            EventType::BusinessUpdated => "business.updated",
            EventType::ContactCreated => "contact.created",
            EventType::MailboxStatusChanged => "mailbox.status_changed",
            EventType::Test => "webhook.test",
        }
    }

    /// The `LIKE` pattern that finds it in an endpoint's `events` column.
    pub fn pattern(self) -> String {
        format!("%,{},%", self.as_str())
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown event type {0:?}")]
pub struct UnknownEvent(pub String);

impl FromStr for EventType {
    type Err = UnknownEvent;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        EventType::SUBSCRIBABLE
            .into_iter()
            .chain([EventType::Test])
            .find(|e| e.as_str() == s.trim())
            .ok_or_else(|| UnknownEvent(s.to_string()))
    }
}

/// An endpoint's subscription as stored: `,a,b,` (so `LIKE '%,a,%'` finds it).
pub fn events_column(events: &[EventType]) -> String {
    let mut out = String::from(",");
    for e in EventType::SUBSCRIBABLE {
        if events.contains(&e) {
            out.push_str(e.as_str());
            out.push(',');
        }
    }
    out
}

/// The stored subscription back as types (unknown names are dropped).
pub fn parse_events_column(column: &str) -> Vec<EventType> {
    column.split(',').filter_map(|s| s.parse().ok()).collect()
}

/// The body of an event: `{"type":..,"timestamp":..,"data":..}`, built once at enqueue time and
/// stored, so every retry sends (and signs) the same bytes.
pub fn body(kind: EventType, at: DateTime<Utc>, data: &serde_json::Value) -> String {
    serde_json::json!({
        "type": kind.as_str(),
        "timestamp": at.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        "data": data,
    })
    .to_string()
}

/// A stable message id: `msg_` and 32 hex digits (the same shape the database trigger makes).
pub fn message_id(uuid: uuid::Uuid) -> String {
    format!("msg_{}", uuid.simple())
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    #[error("a webhook secret starts with whsec_ and is base64")]
    Malformed,
}

/// A secret from random bytes (24 to 64 of them, per the convention).
pub fn secret_from_bytes(bytes: &[u8]) -> String {
    format!("whsec_{}", STANDARD.encode(bytes))
}

/// The HMAC key of a `whsec_...` secret.
fn secret_key(secret: &str) -> Result<Vec<u8>, SecretError> {
    let b64 = secret.strip_prefix("whsec_").unwrap_or(secret);
    STANDARD.decode(b64).map_err(|_| SecretError::Malformed)
}

/// The `webhook-signature` header value: `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`.
pub fn sign(secret: &str, msg_id: &str, timestamp: i64, body: &str) -> Result<String, SecretError> {
    let key = secret_key(secret)?;
    // HMAC takes keys of any length.
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).map_err(|_| SecretError::Malformed)?;
    mac.update(format!("{msg_id}.{timestamp}.").as_bytes());
    mac.update(body.as_bytes());
    Ok(format!(
        "v1,{}",
        STANDARD.encode(mac.finalize().into_bytes())
    ))
}

/// Retries after a failed attempt: the delay before attempt `attempts + 1` (None: give up).
/// 5 s, 30 s, 2 min, 10 min, 30 min, 1 h, 2 h, 4 h, 8 h, 8 h: about 24 hours in all.
pub const SCHEDULE: [u64; 10] = [5, 30, 120, 600, 1800, 3600, 7200, 14400, 28800, 28800];

/// The delay after the `attempts`-th failed attempt, with `jitter` in [0, 1) adding up to a
/// tenth of it; None when the attempts are used up.
pub fn retry_delay(attempts: i64, jitter: f64) -> Option<Duration> {
    let idx = usize::try_from(attempts.max(1) - 1).ok()?;
    let base = *SCHEDULE.get(idx)?;
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let extra = (base as f64 * 0.1 * jitter.clamp(0.0, 1.0)) as u64;
    Some(Duration::from_secs(base + extra))
}

/// Failed attempts in a row after which an endpoint is disabled.
pub const MAX_FAILURE_STREAK: i64 = 50;
/// Failing without a success for this long disables an endpoint too.
pub const MAX_FAILING: chrono::Duration = chrono::Duration::hours(24);

/// What one attempt came to, by the receiver's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// 2xx.
    Delivered,
    /// 410 Gone: the receiver asks for no more (the endpoint is disabled).
    Gone,
    /// Anything else (or no answer): retried.
    Failed,
}

pub fn outcome(status: Option<u16>) -> Outcome {
    match status {
        Some(s) if (200..300).contains(&s) => Outcome::Delivered,
        Some(410) => Outcome::Gone,
        _ => Outcome::Failed,
    }
}

/// Addresses a delivery refuses unless private targets are allowed: loopback, private
/// (RFC 1918, unique local), link-local, shared (CGNAT), unspecified, multicast, broadcast and
/// documentation ranges, and IPv4 mapped into IPv6 by the same rules.
pub fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_multicast()
                || v4.is_broadcast()
                || v4.is_documentation()
                || o[0] == 0
                || (o[0] == 100 && (64..128).contains(&o[1]))
                || (o[0] == 198 && (o[1] == 18 || o[1] == 19))
                || o[0] >= 240
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_private(IpAddr::V4(v4));
            }
            let s = v6.segments();
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80
                || s[0] == 0x2001 && s[1] == 0x0db8
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    #[error("enter an http:// or https:// URL")]
    Invalid,
    #[error("only http:// and https:// URLs can receive webhooks")]
    Scheme,
    #[error("the URL must not carry a user name or password")]
    Credentials,
}

/// A receiver URL as given by an admin: absolute, http(s), with a host and no credentials.
pub fn parse_url(input: &str) -> Result<url::Url, UrlError> {
    let url = url::Url::parse(input.trim()).map_err(|_| UrlError::Invalid)?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(UrlError::Scheme);
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(UrlError::Invalid);
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(UrlError::Credentials);
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of the Standard Webhooks reference libraries' tests.
    #[test]
    fn signs_as_the_reference_implementation() {
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let sig = sign(
            secret,
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1_614_265_330,
            r#"{"test": 2432232314}"#,
        )
        .unwrap();
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn retries_back_off_then_stop() {
        assert_eq!(retry_delay(1, 0.0), Some(Duration::from_secs(5)));
        assert_eq!(retry_delay(2, 0.0), Some(Duration::from_secs(30)));
        assert!(retry_delay(3, 0.99).unwrap() < Duration::from_secs(133));
        assert_eq!(retry_delay(11, 0.0), None);
        let total: u64 = SCHEDULE.iter().sum();
        assert!((20 * 3600..=26 * 3600).contains(&total));
    }

    #[test]
    fn private_addresses_are_recognised() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "192.168.0.1",
            "169.254.169.254",
            "::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "100.64.0.1",
            "0.0.0.0",
        ] {
            assert!(is_private(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["93.184.216.34", "2606:2800:220:1::1"] {
            assert!(!is_private(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn events_round_trip_through_their_column() {
        let col = events_column(&[EventType::EmailLinked, EventType::MailboxStatusChanged]);
        assert_eq!(col, ",email.linked,mailbox.status_changed,");
        assert_eq!(
            parse_events_column(&col),
            vec![EventType::EmailLinked, EventType::MailboxStatusChanged]
        );
        assert!(parse_url("ftp://x.test/").is_err());
        assert!(parse_url("https://u:p@x.test/").is_err());
        assert!(parse_url("https://hooks.example.com/in").is_ok());
    }
}
