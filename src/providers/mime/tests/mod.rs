//! Unit tests for the MIME normalization layer, one file per concern.
mod attachments;
mod bodies;
mod charsets;
mod headers;
mod props;

use super::{parse, Limits, ParsedMime};

/// Parses a message written with `\n` line ends (mail-parser accepts both).
fn parse_str(raw: &str) -> ParsedMime {
    parse(raw.as_bytes(), &Limits::default())
}

fn parse_bytes(raw: &[u8]) -> ParsedMime {
    parse(raw, &Limits::default())
}
