//! Graph failures classified into [`ProviderError`] by status and error code (§D.11): codes are
//! matched case-insensitively, walking nested `innerError`s, because casing differs between
//! services.
use std::time::Duration;

use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::StatusCode;

use super::wire::{ErrorBody, ErrorDetail};
use crate::providers::ProviderError;

/// Codes that mean the delta token is dead: full resync of the folder.
const GONE_CODES: [&str; 3] = ["syncstatenotfound", "resyncrequired", "syncstateinvalid"];
/// Codes that mean "slow down" whatever the status says.
const THROTTLE_CODES: [&str; 4] = [
    "applicationthrottled",
    "toomanyrequests",
    "activitylimitreached",
    "throttledrequest",
];

/// `Retry-After` in seconds (Graph sends seconds; a date is ignored).
pub(super) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    headers
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs)
}

/// Every code of an error, outermost first, lowercased.
fn codes(body: &ErrorBody) -> Vec<String> {
    let mut out = Vec::new();
    let mut next: Option<&ErrorDetail> = body.error.as_ref();
    // Bounded: a hostile body cannot make this loop long.
    while let Some(d) = next.filter(|_| out.len() < 16) {
        if !d.code.is_empty() {
            out.push(d.code.to_ascii_lowercase());
        }
        next = d.inner_error.as_deref();
    }
    out
}

pub(super) fn classify(
    status: StatusCode,
    retry_after: Option<Duration>,
    body: &ErrorBody,
) -> ProviderError {
    let codes = codes(body);
    let has = |list: &[&str]| codes.iter().any(|c| list.contains(&c.as_str()));
    let message = body
        .error
        .as_ref()
        .map(|d| format!("{}: {}", d.code, d.message))
        .unwrap_or_default();
    match status.as_u16() {
        401 => ProviderError::Unauthorized,
        403 if has(&["erroraccessdenied"]) => ProviderError::Refused(format!(
            "Microsoft 365 refuses the app access to this mailbox ({message}): it is outside \
             the app's allowed mailboxes (RBAC for Applications or an application access \
             policy), or the app lacks the Mail.Read permission or admin consent. An Exchange \
             administrator can add the mailbox to the app's scope."
        )),
        404 if has(&["mailboxnotenabledforrestapi"]) => ProviderError::Refused(format!(
            "This user has no Exchange Online mailbox ({message}): it is inactive, \
             soft-deleted, unlicensed or hosted on-premises."
        )),
        410 => ProviderError::Gone,
        _ if has(&GONE_CODES) => ProviderError::Gone,
        429 => ProviderError::RateLimited { retry_after },
        // Graph asks for the same patience on 503 as on 429 (trap 20).
        503 | 504 if retry_after.is_some() => ProviderError::RateLimited { retry_after },
        _ if has(&THROTTLE_CODES) => ProviderError::RateLimited { retry_after },
        s if s >= 500 => ProviderError::Transient(format!("HTTP {s} {message}")),
        s => ProviderError::Permanent(format!("HTTP {s} {message}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(json: &str) -> ErrorBody {
        serde_json::from_str(json).unwrap()
    }

    fn s(n: u16) -> StatusCode {
        StatusCode::from_u16(n).unwrap()
    }

    #[test]
    fn classifies_by_status_and_code() {
        let none = ErrorBody::default();
        let secs = Some(Duration::from_secs(3));
        assert!(matches!(
            classify(s(401), None, &none),
            ProviderError::Unauthorized
        ));
        assert!(matches!(
            classify(s(429), secs, &none),
            ProviderError::RateLimited { retry_after: Some(d) } if d.as_secs() == 3
        ));
        assert!(matches!(
            classify(s(503), secs, &none),
            ProviderError::RateLimited { .. }
        ));
        assert!(matches!(
            classify(s(503), None, &none),
            ProviderError::Transient(_)
        ));
        assert!(matches!(
            classify(s(500), None, &none),
            ProviderError::Transient(_)
        ));
        assert!(matches!(classify(s(410), None, &none), ProviderError::Gone));
        assert!(matches!(
            classify(s(404), None, &none),
            ProviderError::Permanent(_)
        ));
        // The tenant's policy: the mailbox is refused, with the reason.
        let denied = classify(
            s(403),
            None,
            &body(r#"{"error":{"code":"ErrorAccessDenied","message":"Access is denied."}}"#),
        );
        assert!(
            matches!(&denied, ProviderError::Refused(m) if m.contains("ErrorAccessDenied: Access is denied.") && m.contains("RBAC")),
            "{denied:?}"
        );
        let no_mailbox = classify(
            s(404),
            None,
            &body(
                r#"{"error":{"code":"MailboxNotEnabledForRESTAPI","message":"The mailbox is either inactive, soft-deleted, or is hosted on-premise."}}"#,
            ),
        );
        assert!(
            matches!(&no_mailbox, ProviderError::Refused(m) if m.contains("no Exchange Online mailbox")),
            "{no_mailbox:?}"
        );
        // Another 403 is not the mailbox's refusal.
        assert!(matches!(
            classify(s(403), None, &body(r#"{"error":{"code":"Forbidden"}}"#)),
            ProviderError::Permanent(_)
        ));
    }

    #[test]
    fn codes_match_case_insensitively_through_inner_errors() {
        let gone = body(
            r#"{"error":{"code":"BadRequest","message":"m",
                "innerError":{"code":"resyncRequired","innerError":{"code":"x"}}}}"#,
        );
        assert!(matches!(classify(s(400), None, &gone), ProviderError::Gone));
        let sync = body(r#"{"error":{"code":"syncStateNotFound"}}"#);
        assert!(matches!(classify(s(400), None, &sync), ProviderError::Gone));
        let throttled = body(r#"{"error":{"code":"activityLimitReached"}}"#);
        assert!(matches!(
            classify(s(403), None, &throttled),
            ProviderError::RateLimited { .. }
        ));
        let inner = body(r#"{"error":{"code":"x","innererror":{"code":"ApplicationThrottled"}}}"#);
        assert!(matches!(
            classify(s(400), None, &inner),
            ProviderError::RateLimited { .. }
        ));
    }

    #[test]
    fn deep_or_odd_bodies_do_not_hang_or_panic() {
        let mut json = String::from(r#"{"error":"#);
        for _ in 0..100 {
            json.push_str(r#"{"code":"a","innerError":"#);
        }
        json.push_str("null");
        for _ in 0..100 {
            json.push('}');
        }
        json.push('}');
        // serde's recursion limit may refuse it; either way classification is total.
        let b: ErrorBody = serde_json::from_str(&json).unwrap_or_default();
        assert!(matches!(
            classify(s(400), None, &b),
            ProviderError::Permanent(_)
        ));
    }
}
