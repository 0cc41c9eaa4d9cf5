//! The `SIGILLUM-HMAC-SHA256` request-signing scheme shared by the server (verification) and the
//! CLI client (signing). The README documents it with a worked example.
//!
//! ```text
//! Authorization: SIGILLUM-HMAC-SHA256 KeyId=<id>, Timestamp=<unix s>, Nonce=<16-64 [A-Za-z0-9_-]>,
//!                Signature=<lowercase hex>
//! string to sign = "SIGILLUM-HMAC-SHA256" \n Timestamp \n Nonce \n METHOD \n path \n
//!                  canonical_query \n hex(SHA-256(body))
//! Signature      = hex(HMAC-SHA256(secret, string to sign))
//! ```
//! `path` is the request path exactly as sent (percent-encoding untouched). `canonical_query`
//! percent-decodes each `name=value` pair (`+` means a space, as in the form decoding the
//! handlers apply, so it canonicalises to `%20`), re-encodes every
//! byte outside RFC 3986 unreserved (`A-Z a-z 0-9 - . _ ~`) as `%XX` (upper-case hex), sorts by
//! name then value, and joins with `&`; it is empty without a query.

#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
#![deny(clippy::arithmetic_side_effects)]

use hmac::{Hmac, Mac};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use sha2::{Digest, Sha256};

use crate::identity::ApiKeyId;

pub const SCHEME: &str = "SIGILLUM-HMAC-SHA256";

/// Bytes left unencoded: RFC 3986 §2.3 unreserved characters.
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Parsed `Authorization` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    pub key_id: ApiKeyId,
    pub timestamp: i64,
    pub nonce: String,
    /// Lower-case hex.
    pub signature: String,
}

/// What is wrong with an `Authorization` header.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct MalformedAuthorization(pub String);

impl Credentials {
    /// Parses `SIGILLUM-HMAC-SHA256 KeyId=…, Timestamp=…, Nonce=…, Signature=…`.
    pub fn parse(header: &str) -> Result<Self, MalformedAuthorization> {
        let bad = |m: &str| MalformedAuthorization(m.to_owned());
        let rest = header
            .strip_prefix(SCHEME)
            .and_then(|r| r.strip_prefix(' '))
            .ok_or_else(|| {
                bad("the Authorization header must start with `SIGILLUM-HMAC-SHA256 `")
            })?;
        let (mut key_id, mut timestamp, mut nonce, mut signature) = (None, None, None, None);
        for part in rest.split(',') {
            let (name, value) = part
                .trim()
                .split_once('=')
                .ok_or_else(|| bad("each parameter must be Name=value, separated by commas"))?;
            let slot = match name {
                "KeyId" => &mut key_id,
                "Timestamp" => &mut timestamp,
                "Nonce" => &mut nonce,
                "Signature" => &mut signature,
                _ => {
                    return Err(bad(
                        "only KeyId, Timestamp, Nonce and Signature are allowed",
                    ));
                }
            };
            if slot.replace(value.to_owned()).is_some() {
                return Err(bad("a parameter appears twice"));
            }
        }
        let key_id = ApiKeyId::parse(&key_id.ok_or_else(|| bad("KeyId is missing"))?)
            .map_err(|_| bad("KeyId is not a sigillum key id (ak_ followed by 24 hex digits)"))?;
        let timestamp = timestamp
            .ok_or_else(|| bad("Timestamp is missing"))?
            .parse::<i64>()
            .map_err(|_| bad("Timestamp must be Unix time in whole seconds"))?;
        let nonce = nonce.ok_or_else(|| bad("Nonce is missing"))?;
        if !(16..=64).contains(&nonce.len())
            || !nonce
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        {
            return Err(bad("Nonce must be 16-64 characters of A-Z a-z 0-9 _ -"));
        }
        let signature = signature.ok_or_else(|| bad("Signature is missing"))?;
        if signature.len() != 64
            || !signature
                .bytes()
                .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        {
            return Err(bad("Signature must be 64 lower-case hex digits"));
        }
        Ok(Self {
            key_id,
            timestamp,
            nonce,
            signature,
        })
    }

    pub fn to_header(&self) -> String {
        format!(
            "{SCHEME} KeyId={}, Timestamp={}, Nonce={}, Signature={}",
            self.key_id, self.timestamp, self.nonce, self.signature
        )
    }
}

/// The canonical query string (see the module documentation).
pub fn canonical_query(raw_query: Option<&str>) -> String {
    let Some(raw) = raw_query.filter(|q| !q.is_empty()) else {
        return String::new();
    };
    let mut pairs: Vec<(String, String)> = raw
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (reencode(name), reencode(value))
        })
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(n, v)| format!("{n}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

fn reencode(component: &str) -> String {
    let plus_as_space = component.replace('+', " ");
    let bytes: Vec<u8> = percent_decode_str(&plus_as_space).collect();
    // Encode raw bytes; invalid UTF-8 is encoded byte by byte too.
    bytes
        .iter()
        .map(|&b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Percent-encodes a query component the way [`canonical_query`] expects; for clients.
pub fn encode_component(s: &str) -> String {
    utf8_percent_encode(s, UNRESERVED).to_string()
}

/// The exact string that is HMAC'd.
pub fn string_to_sign(
    timestamp: i64,
    nonce: &str,
    method: &str,
    path: &str,
    raw_query: Option<&str>,
    body: &[u8],
) -> String {
    format!(
        "{SCHEME}\n{timestamp}\n{nonce}\n{method}\n{path}\n{}\n{}",
        canonical_query(raw_query),
        hex::encode(Sha256::digest(body))
    )
}

/// `hex(HMAC-SHA256(secret, string_to_sign))`.
pub fn sign(secret: &[u8], string_to_sign: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret)
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
    mac.update(string_to_sign.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// Constant-time check of a presented signature.
pub fn verify(secret: &[u8], string_to_sign: &str, signature_hex: &str) -> bool {
    let Ok(presented) = hex::decode(signature_hex) else {
        return false;
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(secret)
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
    mac.update(string_to_sign.as_bytes());
    mac.verify_slice(&presented).is_ok()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn canonical_query_sorts_and_reencodes() {
        assert_eq!(canonical_query(None), "");
        assert_eq!(canonical_query(Some("")), "");
        assert_eq!(
            canonical_query(Some("b=2&a=z&a=y&c=%7e+x%2F&d")),
            "a=y&a=z&b=2&c=~%20x%2F&d="
        );
        assert_eq!(canonical_query(Some("name=%E5%BC%A0")), "name=%E5%BC%A0");
        assert_eq!(canonical_query(Some("name=张")), "name=%E5%BC%A0");
        assert_eq!(
            canonical_query(Some("q=a+b")),
            canonical_query(Some("q=a%20b"))
        );
        assert_ne!(
            canonical_query(Some("q=a+b")),
            canonical_query(Some("q=a%2Bb"))
        );
    }

    /// The worked examples in the README; if this changes, update the README.
    #[test]
    fn readme_worked_example() {
        let secret = b"q2Xb0sVd9Qy3kB7m1Zf8Lr4Tn6Hc5Wg0Pa2Je9Ys7Uo";
        let body = br#"{"kind":"person","name":"Li Lei","id_type":"resident_id","id_number":"11010519491231002X"}"#;
        let sts = string_to_sign(
            1_763_770_000,
            "3fJ9xQ2LmZk8Rt6Vb1Nw",
            "POST",
            "/v1/entities",
            None,
            body,
        );
        assert_eq!(
            sts,
            "SIGILLUM-HMAC-SHA256\n1763770000\n3fJ9xQ2LmZk8Rt6Vb1Nw\nPOST\n/v1/entities\n\n\
             8c489ce09f0f3b31d06bc27734e00ba6674431bacd9d29e301d77261bff57a3c"
        );
        let sig = sign(secret, &sts);
        assert_eq!(
            sig,
            "99dbf209e96a1f1a3af1e1ea2c406e97f6f4098c585f4e90c8476e89e7cd0a65"
        );
        assert!(verify(secret, &sts, &sig));
        assert!(!verify(b"other-secret", &sts, &sig));

        let sts = string_to_sign(
            1_763_770_000,
            "3fJ9xQ2LmZk8Rt6Vb1Nw",
            "GET",
            "/v1/entities",
            Some("workspace=acme&limit=20&cursor=7"),
            b"",
        );
        assert_eq!(
            sign(secret, &sts),
            "cc8d3a8df27d714ef2b97abe94bffc1081f771d026f5ce0f6545d281473f3ab9"
        );
    }

    #[test]
    fn header_roundtrip_and_rejections() {
        let c = Credentials {
            key_id: ApiKeyId::parse("ak_0123456789abcdef01234567").unwrap(),
            timestamp: 5,
            nonce: "abcdefghijklmnop".into(),
            signature: "a".repeat(64),
        };
        assert_eq!(Credentials::parse(&c.to_header()).unwrap(), c);
        assert!(Credentials::parse("Bearer x").is_err());
        assert!(Credentials::parse(&c.to_header().replace("abcdefghijklmnop", "short")).is_err());
        assert!(
            Credentials::parse(&c.to_header().replace(&"a".repeat(64), &"A".repeat(64))).is_err()
        );
    }
}
