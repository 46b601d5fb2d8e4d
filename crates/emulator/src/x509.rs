//! Just enough X.509 (RFC 5280) for app-registration certificates: build a self-signed
//! certificate for a generated key, read the public key and validity of an uploaded one, and
//! compute the thumbprints Entra keys certificates by (SHA-1 of the DER certificate, sent as
//! `x5t` in base64url; SHA-256 as `x5t#S256`).

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use chrono::{DateTime, Datelike as _, NaiveDateTime, Utc};
use sha1::{Digest as _, Sha1};
use sha2::Sha256;

use crate::crypto::{
    public_key_der, public_key_from_der, sign_sha256, RsaPrivateKey, RsaPublicKey,
};

/// sha256WithRSAEncryption (1.2.840.113549.1.1.11).
const SHA256_WITH_RSA: [u8; 9] = [0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x0B];
/// id-at-commonName (2.5.4.3).
const COMMON_NAME: [u8; 3] = [0x55, 0x04, 0x03];

/// A certificate as the emulator keeps it.
#[derive(Debug, Clone)]
pub struct Certificate {
    pub der: Vec<u8>,
    pub public_key: RsaPublicKey,
    pub not_before: DateTime<Utc>,
    pub not_after: DateTime<Utc>,
}

impl Certificate {
    /// Upper-case hex SHA-1 of the DER certificate (what the Azure portal shows).
    pub fn thumbprint(&self) -> String {
        hex_upper(&Sha1::digest(&self.der))
    }

    /// `x5t`: base64url of the SHA-1 thumbprint bytes.
    pub fn x5t(&self) -> String {
        URL_SAFE_NO_PAD.encode(Sha1::digest(&self.der))
    }

    /// `x5t#S256`: base64url of the SHA-256 of the DER certificate.
    pub fn x5t_s256(&self) -> String {
        URL_SAFE_NO_PAD.encode(Sha256::digest(&self.der))
    }

    /// PEM (`-----BEGIN CERTIFICATE-----`, 64-character lines).
    pub fn pem(&self) -> String {
        let b64 = STANDARD.encode(&self.der);
        let mut out = String::from("-----BEGIN CERTIFICATE-----\n");
        for chunk in b64.as_bytes().chunks(64) {
            out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
            out.push('\n');
        }
        out.push_str("-----END CERTIFICATE-----\n");
        out
    }

    /// Read a PEM or DER certificate.
    pub fn parse(input: &[u8]) -> Result<Self, String> {
        let der = match std::str::from_utf8(input) {
            Ok(text) if text.contains("-----BEGIN CERTIFICATE-----") => {
                let body: String = text
                    .split("-----BEGIN CERTIFICATE-----")
                    .nth(1)
                    .and_then(|rest| rest.split("-----END CERTIFICATE-----").next())
                    .unwrap_or_default()
                    .chars()
                    .filter(|c| !c.is_whitespace())
                    .collect();
                STANDARD
                    .decode(body)
                    .map_err(|_| "the PEM body is not base64".to_string())?
            }
            _ => input.to_vec(),
        };
        let bad = |what: &str| format!("not an X.509 certificate: {what}");
        let (cert, _) = read_tlv(&der, 0x30).ok_or_else(|| bad("no outer SEQUENCE"))?;
        let (tbs, _) = read_tlv(cert, 0x30).ok_or_else(|| bad("no tbsCertificate"))?;
        let mut rest = tbs;
        if rest.first() == Some(&0xA0) {
            rest = read_tlv(rest, 0xA0).ok_or_else(|| bad("bad version"))?.1;
        }
        rest = read_tlv(rest, 0x02).ok_or_else(|| bad("no serial"))?.1;
        rest = read_tlv(rest, 0x30)
            .ok_or_else(|| bad("no signature algorithm"))?
            .1;
        rest = read_tlv(rest, 0x30).ok_or_else(|| bad("no issuer"))?.1;
        let (validity, after_validity) = read_tlv(rest, 0x30).ok_or_else(|| bad("no validity"))?;
        let (not_before, v_rest) = read_time(validity).ok_or_else(|| bad("bad notBefore"))?;
        let (not_after, _) = read_time(v_rest).ok_or_else(|| bad("bad notAfter"))?;
        rest = read_tlv(after_validity, 0x30)
            .ok_or_else(|| bad("no subject"))?
            .1;
        let spki_len = rest.len() - read_tlv(rest, 0x30).ok_or_else(|| bad("no key"))?.1.len();
        let public_key = public_key_from_der(&rest[..spki_len]).map_err(|e| e.to_string())?;
        Ok(Self {
            der,
            public_key,
            not_before,
            not_after,
        })
    }

    /// A self-signed certificate `CN={subject}` for `key`, valid in `[not_before, not_after]`.
    pub fn self_signed(
        key: &RsaPrivateKey,
        subject: &str,
        not_before: DateTime<Utc>,
        not_after: DateTime<Utc>,
    ) -> Result<Self, String> {
        let public_key = key.to_public_key();
        let spki = public_key_der(&public_key).map_err(|e| e.to_string())?;
        let algorithm = tlv(
            0x30,
            &[tlv(0x06, &SHA256_WITH_RSA), tlv(0x05, &[])].concat(),
        );
        let name = tlv(
            0x30,
            &tlv(
                0x31,
                &tlv(
                    0x30,
                    &[tlv(0x06, &COMMON_NAME), tlv(0x0C, subject.as_bytes())].concat(),
                ),
            ),
        );
        let mut serial: Vec<u8> = (0..16).map(|_| rand::random::<u8>()).collect();
        serial[0] &= 0x7F;
        serial[0] |= 0x01;
        let tbs = tlv(
            0x30,
            &[
                tlv(0xA0, &tlv(0x02, &[2])),
                tlv(0x02, &serial),
                algorithm.clone(),
                name.clone(),
                tlv(0x30, &[time(not_before), time(not_after)].concat()),
                name,
                spki,
            ]
            .concat(),
        );
        let signature = sign_sha256(key, &tbs);
        let bits = [&[0u8][..], &signature].concat();
        let der = tlv(0x30, &[tbs, algorithm, tlv(0x03, &bits)].concat());
        Ok(Self {
            der,
            public_key,
            not_before: trunc(not_before),
            not_after: trunc(not_after),
        })
    }
}

/// Upper-case hex of bytes.
pub fn hex_upper(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02X}");
        s
    })
}

fn trunc(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp(t.timestamp(), 0).unwrap_or(t)
}

/// DER tag-length-value.
fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(u8::try_from(len).unwrap_or(0));
    } else {
        let bytes: Vec<u8> = len
            .to_be_bytes()
            .into_iter()
            .skip_while(|b| *b == 0)
            .collect();
        out.push(0x80 | u8::try_from(bytes.len()).unwrap_or(0));
        out.extend(bytes);
    }
    out.extend_from_slice(content);
    out
}

/// UTCTime for 1950–2049, GeneralizedTime otherwise (RFC 5280 §4.1.2.5).
fn time(t: DateTime<Utc>) -> Vec<u8> {
    if (1950..2050).contains(&t.year()) {
        tlv(0x17, t.format("%y%m%d%H%M%SZ").to_string().as_bytes())
    } else {
        tlv(0x18, t.format("%Y%m%d%H%M%SZ").to_string().as_bytes())
    }
}

/// Read one TLV with `tag`: `(content, rest)`.
fn read_tlv(input: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
    if *input.first()? != tag {
        return None;
    }
    let first = *input.get(1)?;
    let (len, header) = if first < 0x80 {
        (usize::from(first), 2)
    } else {
        let n = usize::from(first & 0x7F);
        if n == 0 || n > 4 {
            return None;
        }
        let len = input
            .get(2..2 + n)?
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        (len, 2 + n)
    };
    let content = input.get(header..header + len)?;
    Some((content, &input[header + len..]))
}

fn read_time(input: &[u8]) -> Option<(DateTime<Utc>, &[u8])> {
    let (text, format, rest) = match input.first()? {
        0x17 => {
            let (c, rest) = read_tlv(input, 0x17)?;
            (c, "%y%m%d%H%M%SZ", rest)
        }
        0x18 => {
            let (c, rest) = read_tlv(input, 0x18)?;
            (c, "%Y%m%d%H%M%SZ", rest)
        }
        _ => return None,
    };
    let text = std::str::from_utf8(text).ok()?;
    let t = NaiveDateTime::parse_from_str(text, format).ok()?.and_utc();
    Some((t, rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_self_signed_certificate_reads_back() {
        let key = crate::crypto::generate_key().expect("key");
        let start = Utc::now() - chrono::Duration::days(1);
        let end = Utc::now() + chrono::Duration::days(365);
        let cert = Certificate::self_signed(&key, "threadline", start, end).expect("cert");
        let back = Certificate::parse(cert.pem().as_bytes()).expect("parses");
        assert_eq!(back.public_key, key.to_public_key());
        assert_eq!(back.not_before.timestamp(), start.timestamp());
        assert_eq!(back.not_after.timestamp(), end.timestamp());
        assert_eq!(back.thumbprint(), cert.thumbprint());
        assert_eq!(cert.thumbprint().len(), 40);
        assert!(Certificate::parse(b"nope").is_err());
    }
}
