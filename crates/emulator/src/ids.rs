//! Provider-shaped message ids and a stable hash for per-address salts.

use super::store::{MailboxInfo, Provider};

/// Gmail ids: 16 lowercase hex digits, growing with receipt time (like real ones, but clients
/// must not order by them). Graph ids: opaque base64-looking strings.
pub fn new_message_id(
    provider: Provider,
    date_ms: i64,
    counter: u64,
    info: &MailboxInfo,
) -> String {
    let salt = fnv(info.address.as_bytes());
    let time = u64::try_from(date_ms.max(0)).unwrap_or(0);
    match provider {
        Provider::Google => {
            format!(
                "{:016x}",
                (time << 20 | (counter.wrapping_add(salt) & 0xF_FFFF)) & !(1 << 63)
            )
        }
        Provider::Microsoft => {
            use base64::Engine as _;
            let mut bytes = Vec::with_capacity(40);
            bytes.extend_from_slice(b"\x00\x00\x1b\x00");
            bytes.extend_from_slice(&salt.to_be_bytes());
            bytes.extend_from_slice(&time.to_be_bytes());
            bytes.extend_from_slice(&counter.to_be_bytes());
            format!(
                "AAMk{}",
                base64::engine::general_purpose::URL_SAFE.encode(bytes)
            )
        }
    }
}

/// FNV-1a, for stable per-address salts.
pub fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3)
    })
}
