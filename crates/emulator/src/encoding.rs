//! Lenient transfer decoders (base64, quoted-printable) and RFC 2047 encoded-word decoding,
//! tolerant of the broken input real mailboxes contain.

use mail_parser::parsers::MessageStream;

fn base64_value(c: u8) -> Option<u8> {
    match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    }
}

/// MIME base64 (standard alphabet) that skips other characters and stops at padding.
pub fn lenient_base64(input: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len() / 4 * 3);
    let mut acc: u32 = 0;
    let mut bits = 0u32;
    for &c in input {
        if c == b'=' {
            break;
        }
        let Some(v) = base64_value(c) else { continue };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(u8::try_from((acc >> bits) & 0xff).unwrap_or(0));
        }
    }
    out
}

fn hex_value(c: u8) -> Option<u8> {
    char::from(c)
        .to_digit(16)
        .and_then(|d| u8::try_from(d).ok())
}

/// Quoted-printable that keeps invalid `=` sequences as they are.
pub fn lenient_quoted_printable(input: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        let c = input[i];
        if c != b'=' {
            out.push(c);
            i += 1;
            continue;
        }
        let rest = &input[i + 1..];
        // Soft line break: `=` then optional whitespace then a line end.
        let ws = rest
            .iter()
            .take_while(|b| **b == b' ' || **b == b'\t')
            .count();
        match rest.get(ws..) {
            Some([b'\r', b'\n', ..]) => i += 1 + ws + 2,
            Some([b'\n', ..]) => i += 1 + ws + 1,
            Some([]) => i = input.len(),
            _ => {
                let high = rest.first().copied().and_then(hex_value);
                let low = rest.get(1).copied().and_then(hex_value);
                if let (Some(h), Some(l)) = (high, low) {
                    out.push(h << 4 | l);
                    i += 3;
                } else {
                    out.push(b'=');
                    i += 1;
                }
            }
        }
    }
    out
}

/// Decode RFC 2047 encoded words; whitespace between two adjacent words is dropped.
pub fn decode_words(value: &str) -> String {
    if !value.contains("=?") {
        return value.to_string();
    }
    let bytes = value.as_bytes();
    let mut out = String::with_capacity(value.len());
    let mut pending_ws = String::new();
    let mut last_was_word = false;
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'=' && bytes.get(i + 1) == Some(&b'?') {
            let mut stream = MessageStream::new(&bytes[i + 1..]);
            if let Some(decoded) = stream.decode_rfc2047() {
                if !last_was_word {
                    out.push_str(&pending_ws);
                }
                pending_ws.clear();
                out.push_str(&decoded);
                i += 1 + stream.offset();
                last_was_word = true;
                continue;
            }
        }
        let ch_len = utf8_len(bytes[i]);
        let chunk = value.get(i..i + ch_len).unwrap_or("");
        if chunk.chars().all(char::is_whitespace) && !chunk.is_empty() {
            pending_ws.push_str(chunk);
        } else {
            out.push_str(&pending_ws);
            pending_ws.clear();
            out.push_str(chunk);
            last_was_word = false;
        }
        i += ch_len.max(1);
    }
    out.push_str(&pending_ws);
    out
}

fn utf8_len(first: u8) -> usize {
    match first {
        0xF0..=0xFF => 4,
        0xE0..=0xEF => 3,
        0xC0..=0xDF => 2,
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_adjacent_encoded_words_and_keeps_plain_text() {
        assert_eq!(
            decode_words("=?utf-8?q?Caf=C3=A9?= =?utf-8?q?_au_lait?="),
            "Café au lait"
        );
        assert_eq!(
            decode_words("Re: =?iso-8859-1?q?Gr=FC=DFe?= now"),
            "Re: Grüße now"
        );
        assert_eq!(decode_words("no words"), "no words");
    }

    #[test]
    fn lenient_decoders_match_common_mail_software() {
        assert_eq!(
            lenient_base64(b"ecO2dMOkIHZhYW4uCg== ignored"),
            "yötä vaan.\n".as_bytes()
        );
        assert_eq!(lenient_base64(b"AAEC\r\nAw=="), vec![0, 1, 2, 3]);
        assert_eq!(
            lenient_quoted_printable(b"a=3Db=\r\nc x=\"y\" =F6"),
            b"a=bc x=\"y\" \xf6"
        );
    }
}
