//! Log entries: events in a canonical, versioned JSON encoding.
//!
//! The encoding is RFC 8785 (JCS) canonical JSON restricted so that canonicalisation is trivial
//! and checkable: an object with keys in ascending order, no insignificant whitespace, absent
//! values omitted (never `null`), the version as a small integer, and every string drawn from
//! `[A-Za-z0-9._:-]` (identifiers, lower-case hex hashes, RFC 3339 UTC times with milliseconds),
//! so no string ever needs escaping. Decoding re-encodes and compares bytes, so exactly one
//! encoding of each event is accepted.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::macros::format_description;

use super::merkle::Hash;

/// Encoding version written in every entry as `"v"`.
pub const EVENT_VERSION: u8 = 1;
/// Entries larger than this are refused (C2SP tlog-tiles allows 64 KiB).
pub const MAX_ENTRY_BYTES: usize = 8 * 1024;
const MAX_TOKEN: usize = 128;

/// What happened. Known kinds have constants; the set grows with later features (flows), so it
/// is an open, validated token rather than a closed enum.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct EventKind(String);

impl EventKind {
    pub fn certificate_issued() -> Self {
        Self("certificate_issued".into())
    }
    pub fn certificate_revoked() -> Self {
        Self("certificate_revoked".into())
    }
    pub fn document_signed() -> Self {
        Self("document_signed".into())
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for EventKind {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        if !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
        {
            Ok(Self(s))
        } else {
            Err(format!("event kind {s:?} is not a lower-case token"))
        }
    }
}

impl From<EventKind> for String {
    fn from(k: EventKind) -> String {
        k.0
    }
}

/// One event. The log fills `previous_event` (the leaf hash of the latest earlier event about
/// the same document) when it sequences the event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub kind: EventKind,
    /// Millisecond precision; finer parts are dropped when encoding.
    pub time: OffsetDateTime,
    pub workspace: Option<String>,
    pub entity: Option<String>,
    /// Hex, exactly as the API shows it.
    pub certificate_serial: Option<String>,
    /// RFC 5280 reason name, for revocations.
    pub revocation_reason: Option<String>,
    pub document_sha256_before: Option<Hash>,
    pub document_sha256_after: Option<Hash>,
    pub signature_sha256: Option<Hash>,
    pub auth_evidence_sha256: Option<Hash>,
    pub previous_event: Option<Hash>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EventError {
    #[error("event field {field}: {message}")]
    Field {
        field: &'static str,
        message: String,
    },
    #[error("entry is not a canonical version-{EVENT_VERSION} event: {0}")]
    NotCanonical(String),
}

/// The wire form, for decoding (and, in tests, as the reference encoding); fields in ascending
/// key order, which is the JCS order for ASCII keys.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Wire {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    auth_evidence_sha256: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    certificate_serial: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    document_sha256_after: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    document_sha256_before: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    entity: Option<String>,
    kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    previous_event: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    revocation_reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    signature_sha256: Option<String>,
    time: String,
    v: u8,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    workspace: Option<String>,
}

fn token(field: &'static str, s: &str) -> Result<(), EventError> {
    if !s.is_empty()
        && s.len() <= MAX_TOKEN
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'))
    {
        Ok(())
    } else {
        Err(EventError::Field {
            field,
            message: format!("must be 1..={MAX_TOKEN} characters of [A-Za-z0-9._:-]"),
        })
    }
}

fn parse_hash(field: &'static str, s: &str) -> Result<Hash, EventError> {
    let bytes = hex::decode(s).map_err(|_| EventError::Field {
        field,
        message: "not hex".into(),
    })?;
    bytes.try_into().map_err(|_| EventError::Field {
        field,
        message: "not 32 bytes".into(),
    })
}

fn format_time(t: OffsetDateTime) -> String {
    let utc = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        utc.year(),
        u8::from(utc.month()),
        utc.day(),
        utc.hour(),
        utc.minute(),
        utc.second(),
        utc.millisecond()
    )
}

fn parse_time(s: &str) -> Result<OffsetDateTime, EventError> {
    time::PrimitiveDateTime::parse(
        s,
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"),
    )
    .map(|t| t.assume_utc())
    .map_err(|e| EventError::Field {
        field: "time",
        message: e.to_string(),
    })
}

impl Event {
    /// An event of `kind` at `time` with every optional field empty.
    pub fn new(kind: EventKind, time: OffsetDateTime) -> Self {
        Self {
            kind,
            time,
            workspace: None,
            entity: None,
            certificate_serial: None,
            revocation_reason: None,
            document_sha256_before: None,
            document_sha256_after: None,
            signature_sha256: None,
            auth_evidence_sha256: None,
            previous_event: None,
        }
    }

    /// The canonical entry bytes. Fails if a field is outside the allowed alphabet or the entry
    /// would exceed [`MAX_ENTRY_BYTES`].
    pub fn encode(&self) -> Result<Vec<u8>, EventError> {
        self.validate()?;
        self.encode_valid()
    }

    /// Checks what [`Event::encode`] checks, without encoding. An event that passes always
    /// encodes, with or without a `previous_event`: its fields are bounded (tokens of at most
    /// 128 characters, fixed-size hashes), so the entry stays far below [`MAX_ENTRY_BYTES`].
    pub fn validate(&self) -> Result<(), EventError> {
        for (field, value) in [
            ("workspace", &self.workspace),
            ("entity", &self.entity),
            ("certificate_serial", &self.certificate_serial),
            ("revocation_reason", &self.revocation_reason),
        ] {
            if let Some(v) = value {
                token(field, v)?;
            }
        }
        if !(0..=9999).contains(&self.time.year()) {
            return Err(EventError::Field {
                field: "time",
                message: "year outside 0..=9999".into(),
            });
        }
        Ok(())
    }

    /// Writes the canonical JSON directly (keys in ascending order; values need no escaping,
    /// see the module doc). `tests::direct_encoding_matches_serde` pins it to the serde form.
    fn encode_valid(&self) -> Result<Vec<u8>, EventError> {
        fn hash(out: &mut Vec<u8>, key: &str, value: &Option<Hash>) {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            if let Some(h) = value {
                out.extend_from_slice(b",\"");
                out.extend_from_slice(key.as_bytes());
                out.extend_from_slice(b"\":\"");
                for b in h {
                    out.push(HEX[usize::from(b >> 4)]);
                    out.push(HEX[usize::from(b & 15)]);
                }
                out.push(b'"');
            }
        }
        fn text(out: &mut Vec<u8>, key: &str, value: Option<&str>) {
            if let Some(v) = value {
                out.extend_from_slice(b",\"");
                out.extend_from_slice(key.as_bytes());
                out.extend_from_slice(b"\":\"");
                out.extend_from_slice(v.as_bytes());
                out.push(b'"');
            }
        }
        let mut out = Vec::with_capacity(512);
        // A leading comma is written before every member and the first one is replaced by '{'.
        hash(&mut out, "auth_evidence_sha256", &self.auth_evidence_sha256);
        text(
            &mut out,
            "certificate_serial",
            self.certificate_serial.as_deref(),
        );
        hash(
            &mut out,
            "document_sha256_after",
            &self.document_sha256_after,
        );
        hash(
            &mut out,
            "document_sha256_before",
            &self.document_sha256_before,
        );
        text(&mut out, "entity", self.entity.as_deref());
        text(&mut out, "kind", Some(self.kind.as_str()));
        hash(&mut out, "previous_event", &self.previous_event);
        text(
            &mut out,
            "revocation_reason",
            self.revocation_reason.as_deref(),
        );
        hash(&mut out, "signature_sha256", &self.signature_sha256);
        text(&mut out, "time", Some(&format_time(self.time)));
        out.extend_from_slice(format!(",\"v\":{EVENT_VERSION}").as_bytes());
        text(&mut out, "workspace", self.workspace.as_deref());
        out[0] = b'{';
        out.push(b'}');
        if out.len() > MAX_ENTRY_BYTES {
            return Err(EventError::Field {
                field: "entry",
                message: format!("encoded entry exceeds {MAX_ENTRY_BYTES} bytes"),
            });
        }
        Ok(out)
    }

    /// Decodes entry bytes, accepting only the canonical encoding.
    pub fn decode(bytes: &[u8]) -> Result<Self, EventError> {
        if bytes.len() > MAX_ENTRY_BYTES {
            return Err(EventError::NotCanonical("entry too large".into()));
        }
        let wire: Wire =
            serde_json::from_slice(bytes).map_err(|e| EventError::NotCanonical(e.to_string()))?;
        if wire.v != EVENT_VERSION {
            return Err(EventError::NotCanonical(format!(
                "version {} is not {EVENT_VERSION}",
                wire.v
            )));
        }
        let hash = |field, v: Option<String>| v.map(|s| parse_hash(field, &s)).transpose();
        let event = Self {
            kind: EventKind::try_from(wire.kind).map_err(|m| EventError::Field {
                field: "kind",
                message: m,
            })?,
            time: parse_time(&wire.time)?,
            workspace: wire.workspace,
            entity: wire.entity,
            certificate_serial: wire.certificate_serial,
            revocation_reason: wire.revocation_reason,
            document_sha256_before: hash("document_sha256_before", wire.document_sha256_before)?,
            document_sha256_after: hash("document_sha256_after", wire.document_sha256_after)?,
            signature_sha256: hash("signature_sha256", wire.signature_sha256)?,
            auth_evidence_sha256: hash("auth_evidence_sha256", wire.auth_evidence_sha256)?,
            previous_event: hash("previous_event", wire.previous_event)?,
        };
        if event.encode()? != bytes {
            return Err(EventError::NotCanonical(
                "bytes differ from the canonical encoding (key order, spacing, case or precision)"
                    .into(),
            ));
        }
        Ok(event)
    }

    /// The decoded form as JSON for API responses (same field names as the entry).
    pub fn to_json(&self) -> serde_json::Value {
        self.encode()
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or(serde_json::Value::Null)
    }

    /// Documents this event is about (before and after hashes), for indexing and chaining.
    pub fn documents(&self) -> impl Iterator<Item = &Hash> {
        self.document_sha256_before
            .iter()
            .chain(self.document_sha256_after.iter())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Event {
        let mut e = Event::new(
            EventKind::document_signed(),
            OffsetDateTime::from_unix_timestamp_nanos(1_795_000_000_123_456_789).unwrap(),
        );
        e.workspace = Some("acme".into());
        e.entity = Some("ent_0123".into());
        e.certificate_serial = Some("7F01".into());
        e.document_sha256_before = Some([1; 32]);
        e.document_sha256_after = Some([2; 32]);
        e.signature_sha256 = Some([3; 32]);
        e
    }

    #[test]
    fn encoding_is_canonical_and_roundtrips() {
        let e = sample();
        let bytes = e.encode().unwrap();
        let text = std::str::from_utf8(&bytes).unwrap();
        assert!(text.starts_with("{\"certificate_serial\":\"7F01\",\"document_sha256_after\":"));
        assert!(text.contains("\"time\":\"2026-11-18T"));
        assert!(text.ends_with(".123Z\",\"v\":1,\"workspace\":\"acme\"}"));
        let back = Event::decode(&bytes).unwrap();
        let mut truncated = e.clone();
        truncated.time = truncated.time.replace_nanosecond(123_000_000).unwrap();
        assert_eq!(back, truncated);
    }

    #[test]
    fn direct_encoding_matches_serde() {
        let mut events = vec![
            sample(),
            Event::new(EventKind::certificate_issued(), OffsetDateTime::UNIX_EPOCH),
        ];
        let mut full = sample();
        full.revocation_reason = Some("keyCompromise".into());
        full.auth_evidence_sha256 = Some([0xfe; 32]);
        full.previous_event = Some([0x0a; 32]);
        events.push(full);
        for e in events {
            let wire = Wire {
                auth_evidence_sha256: e.auth_evidence_sha256.map(hex::encode),
                certificate_serial: e.certificate_serial.clone(),
                document_sha256_after: e.document_sha256_after.map(hex::encode),
                document_sha256_before: e.document_sha256_before.map(hex::encode),
                entity: e.entity.clone(),
                kind: e.kind.0.clone(),
                previous_event: e.previous_event.map(hex::encode),
                revocation_reason: e.revocation_reason.clone(),
                signature_sha256: e.signature_sha256.map(hex::encode),
                time: e
                    .time
                    .to_offset(time::UtcOffset::UTC)
                    .format(format_description!(
                        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
                    ))
                    .unwrap(),
                v: EVENT_VERSION,
                workspace: e.workspace.clone(),
            };
            assert_eq!(e.encode().unwrap(), serde_json::to_vec(&wire).unwrap());
        }
    }

    #[test]
    fn non_canonical_or_invalid_entries_are_refused() {
        let bytes = sample().encode().unwrap();
        let spaced = String::from_utf8(bytes.clone())
            .unwrap()
            .replacen(':', ": ", 1);
        assert!(Event::decode(spaced.as_bytes()).is_err());
        let upper = String::from_utf8(bytes).unwrap().replace("0101", "0A01");
        assert!(Event::decode(upper.as_bytes()).is_err());
        assert!(
            Event::decode(b"{\"kind\":\"x\",\"time\":\"2026-01-01T00:00:00.000Z\",\"v\":2}")
                .is_err()
        );
        assert!(
            Event::decode(
                b"{\"kind\":\"x\",\"time\":\"2026-01-01T00:00:00.000Z\",\"v\":1,\"z\":1}"
            )
            .is_err()
        );
        Event::decode(b"{\"kind\":\"x\",\"time\":\"2026-01-01T00:00:00.000Z\",\"v\":1}").unwrap();
        let mut e = sample();
        e.workspace = Some("a b".into());
        assert!(e.encode().is_err());
    }
}
