//! RFC 5256 base subject: reply/forward artifacts and list blobs removed, whitespace collapsed.

/// The reply and forward leaders stripped by default (`Re:`, `Fwd:` and common localized ones).
pub const DEFAULT_REPLY_PREFIXES: [&str; 10] = [
    "re", "fw", "fwd", "aw", "sv", "antw", "rv", "odp", "tr", "wg",
];

/// A subject reduced for comparison.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseSubject {
    /// Lowercased (ASCII and Unicode simple lowercase), whitespace collapsed.
    pub base: String,
    /// A reply/forward artifact was removed (`Re:`, `Fwd[2]:`, `(fwd)`, `[Fwd: ...]`); a list
    /// blob such as `[team]` alone does not count.
    pub is_reply: bool,
}

/// Extracts the base subject. `prefixes` are compared case-insensitively, before an optional
/// `[n]`/`(n)` counter and the colon. A leading `[blob]` goes only when something remains, so
/// `[mxr]` stays `[mxr]` (RFC 5256 `subj-middle`).
pub fn base_subject(subject: &str, prefixes: &[String]) -> BaseSubject {
    let collapsed = subject.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut rest = collapsed.as_str();
    let mut is_reply = false;
    loop {
        if let Some(stripped) = strip_suffix_ci(rest, "(fwd)") {
            rest = stripped.trim_end();
            is_reply = true;
        } else if let Some(inner) = fwd_wrapper(rest) {
            rest = inner;
            is_reply = true;
        } else if let Some(stripped) = reply_prefix(rest, prefixes) {
            rest = stripped;
            is_reply = true;
        } else if let Some(stripped) = leading_blob(rest) {
            rest = stripped;
        } else {
            break;
        }
    }
    BaseSubject {
        base: rest.to_lowercase(),
        is_reply,
    }
}

fn strip_suffix_ci<'s>(text: &'s str, suffix: &str) -> Option<&'s str> {
    let cut = text.len().checked_sub(suffix.len())?;
    let tail = text.get(cut..)?;
    tail.eq_ignore_ascii_case(suffix).then(|| &text[..cut])
}

/// `[Fwd: inner]` -> `inner`.
fn fwd_wrapper(text: &str) -> Option<&str> {
    let head = text.get(..5)?;
    if !head.eq_ignore_ascii_case("[fwd:") {
        return None;
    }
    let inner = text[5..].strip_suffix(']')?.trim();
    (!inner.is_empty()).then_some(inner)
}

/// `Re: x`, `RE [2]: x`, `Fwd(3): x` -> `x` when the word is one of `prefixes`.
fn reply_prefix<'s>(text: &'s str, prefixes: &[String]) -> Option<&'s str> {
    let colon = text.find(':')?;
    let head = text[..colon].trim_end();
    let word = match head.find(['[', '(']) {
        Some(open) => {
            let counter = head[open + 1..].strip_suffix([']', ')'])?;
            if counter.is_empty() || !counter.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            head[..open].trim_end()
        }
        None => head,
    };
    if word.is_empty() || !prefixes.iter().any(|p| p.eq_ignore_ascii_case(word)) {
        return None;
    }
    Some(text[colon + 1..].trim_start())
}

/// `[list] x` -> `x` when `x` is not empty.
fn leading_blob(text: &str) -> Option<&str> {
    let rest = text.strip_prefix('[')?;
    let close = rest.find(']')?;
    let blob = &rest[..close];
    if blob.contains('[') {
        return None;
    }
    let after = rest[close + 1..].trim_start();
    (!after.is_empty()).then_some(after)
}

#[cfg(test)]
mod tests {
    use super::{base_subject, DEFAULT_REPLY_PREFIXES};

    #[test]
    fn base_subjects() {
        let prefixes: Vec<String> = DEFAULT_REPLY_PREFIXES.map(String::from).to_vec();
        let cases = [
            ("Hello", "hello", false),
            ("Re: Hello", "hello", true),
            ("RE[2]: Re:  Hello\tthere", "hello there", true),
            ("Fwd(3): Hello", "hello", true),
            ("AW: SV: Hello", "hello", true),
            ("[mxr] Topic", "topic", false),
            ("[mxr] Re: Topic", "topic", true),
            ("Re: [mxr] Topic", "topic", true),
            ("[mxr]", "[mxr]", false),
            ("Re: [mxr]", "[mxr]", true),
            ("Topic (fwd)", "topic", true),
            ("[Fwd: Wrapped Topic]", "wrapped topic", true),
            ("Regarding: the plan", "regarding: the plan", false),
            ("Re:", "", true),
            ("Ticket #5: broken", "ticket #5: broken", false),
            ("", "", false),
        ];
        for (input, base, is_reply) in cases {
            let got = base_subject(input, &prefixes);
            assert_eq!(
                (got.base.as_str(), got.is_reply),
                (base, is_reply),
                "{input:?}"
            );
        }
    }
}
