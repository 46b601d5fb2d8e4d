//! Import an mbox file or a folder of `.eml` files through the same delivery path as the
//! control plane (Gmail: `INBOX`; Outlook: `inbox`; read).

use std::path::Path;

use axum::body::Bytes;

use crate::control::{state_from_query, DeliverQuery};
use crate::store::Mailbox;

/// Import every message found at `path`; returns how many were delivered.
pub fn import_path(mailbox: &Mailbox, path: &Path) -> anyhow::Result<usize> {
    let mut raws = Vec::new();
    if path.is_dir() {
        let mut files: Vec<_> = std::fs::read_dir(path)?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e.eq_ignore_ascii_case("eml")))
            .collect();
        files.sort();
        for file in files {
            raws.push(std::fs::read(file)?);
        }
    } else {
        raws = split_mbox(&std::fs::read(path)?);
    }
    let query = DeliverQuery {
        labels: Some("INBOX".into()),
        read: Some(true),
        ..Default::default()
    };
    let mut count = 0;
    for raw in raws {
        let state = state_from_query(mailbox, &query);
        let date = crate::mime::parse(&raw)
            .date_ms
            .unwrap_or_else(|| chrono::Utc::now().timestamp_millis());
        if mailbox.deliver(Bytes::from(raw), state, date).is_ok() {
            count += 1;
        }
    }
    Ok(count)
}

/// Split an mbox (mboxrd/mboxo) into messages: a `From ` line after a blank line (or at the
/// start) begins a message; `>From ` quoting is undone.
pub fn split_mbox(data: &[u8]) -> Vec<Vec<u8>> {
    let mut messages = Vec::new();
    let mut current: Option<Vec<u8>> = None;
    let mut previous_blank = true;
    for line in data.split_inclusive(|b| *b == b'\n') {
        if previous_blank && line.starts_with(b"From ") {
            messages.extend(current.take().filter(|m| !m.is_empty()));
            current = Some(Vec::new());
            previous_blank = false;
            continue;
        }
        let body = current.get_or_insert_with(Vec::new);
        let unquoted = if line.starts_with(b">")
            && line
                .iter()
                .skip_while(|b| **b == b'>')
                .take(5)
                .eq(b"From ".iter())
        {
            &line[1..]
        } else {
            line
        };
        body.extend_from_slice(unquoted);
        previous_blank = line == b"\n" || line == b"\r\n";
    }
    messages.extend(current.filter(|m| !m.iter().all(u8::is_ascii_whitespace)));
    messages
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mbox_splits_on_from_lines_and_unquotes() {
        let mbox = b"From a@b Mon Jan 1 00:00:00 2024\nSubject: one\n\n>From here\n\nFrom c@d Tue Jan 2 00:00:00 2024\nSubject: two\n\nbody\n";
        let parts = split_mbox(mbox);
        assert_eq!(parts.len(), 2);
        assert!(String::from_utf8_lossy(&parts[0]).contains("\nFrom here"));
        assert!(String::from_utf8_lossy(&parts[1]).starts_with("Subject: two"));
    }
}
