//! C2SP signed notes (Ed25519 only) and C2SP tlog-checkpoint bodies.
//!
//! A note is UTF-8 text: the body (one or more lines, each ending in `\n`), a blank line, then
//! signature lines `— <name> <base64(key id ‖ signature)>\n`. The key ID of an Ed25519 key is the
//! first four bytes of `SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key)`; the verifier key string is
//! `<name>+<hex key id>+<base64(0x01 ‖ public key)>`.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use openssl::pkey::{Id, PKey};
use sha2::{Digest, Sha256};

use super::merkle::Hash;

/// Signature type byte of Ed25519 in C2SP signed-note.
const ED25519: u8 = 0x01;
/// The signature line prefix: EM DASH and a space.
const SIG_PREFIX: &str = "\u{2014} ";
/// Notes we read are bounded: they are small by construction.
pub const MAX_NOTE_BYTES: usize = 128 * 1024;
const MAX_SIGNATURES: usize = 100;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoteError {
    #[error("malformed note: {0}")]
    Malformed(String),
    #[error("malformed verifier key: {0}")]
    BadVerifierKey(String),
    #[error("no signature by {name} (key id {key_id:08x}) on the note")]
    Unsigned { name: String, key_id: u32 },
    #[error("the signature by {0} on the note does not verify")]
    BadSignature(String),
    #[error("malformed checkpoint: {0}")]
    BadCheckpoint(String),
}

/// Whether `name` is a valid key name: non-empty, no whitespace or `+`.
pub fn valid_key_name(name: &str) -> bool {
    !name.is_empty() && !name.chars().any(|c| c.is_whitespace() || c == '+')
}

/// Key ID of an Ed25519 key named `name`.
pub fn key_id(name: &str, public_key: &[u8; 32]) -> u32 {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update([b'\n', ED25519]);
    h.update(public_key);
    let d = h.finalize();
    u32::from_be_bytes([d[0], d[1], d[2], d[3]])
}

/// A parsed Ed25519 verifier key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifierKey {
    pub name: String,
    pub key_id: u32,
    pub public_key: [u8; 32],
}

impl VerifierKey {
    pub fn new(name: &str, public_key: [u8; 32]) -> Result<Self, NoteError> {
        if !valid_key_name(name) {
            return Err(NoteError::BadVerifierKey(format!(
                "key name {name:?} is empty or contains a space or '+'"
            )));
        }
        Ok(Self {
            name: name.to_owned(),
            key_id: key_id(name, &public_key),
            public_key,
        })
    }

    /// `<name>+<hex key id>+<base64(0x01 ‖ public key)>`.
    pub fn encode(&self) -> String {
        let mut typed = vec![ED25519];
        typed.extend_from_slice(&self.public_key);
        format!(
            "{}+{:08x}+{}",
            self.name,
            self.key_id,
            STANDARD.encode(typed)
        )
    }

    pub fn parse(s: &str) -> Result<Self, NoteError> {
        let bad = |m: &str| NoteError::BadVerifierKey(m.to_owned());
        let mut parts = s.trim_end().splitn(3, '+');
        let (Some(name), Some(id_hex), Some(key_b64)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(bad("expected <name>+<key id>+<key>"));
        };
        if id_hex.len() != 8
            || !id_hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return Err(bad("the key id must be 8 lower-case hex digits"));
        }
        let claimed = u32::from_str_radix(id_hex, 16).map_err(|_| bad("bad key id"))?;
        let typed = STANDARD
            .decode(key_b64)
            .map_err(|_| bad("the key is not base64"))?;
        if typed.len() != 33 || typed[0] != ED25519 {
            return Err(bad("only Ed25519 keys (type 0x01, 32 bytes) are supported"));
        }
        let mut public_key = [0u8; 32];
        public_key.copy_from_slice(&typed[1..]);
        let key = Self::new(name, public_key)?;
        if key.key_id != claimed {
            return Err(bad("the key id does not match the name and key"));
        }
        Ok(key)
    }

    /// Verifies the Ed25519 signature over `message`.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        let Ok(pkey) = PKey::public_key_from_raw_bytes(&self.public_key, Id::ED25519) else {
            return false;
        };
        let Ok(mut verifier) = openssl::sign::Verifier::new_without_digest(&pkey) else {
            return false;
        };
        verifier.verify_oneshot(signature, message).unwrap_or(false)
    }
}

/// One signature line of a note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteSignature {
    pub name: String,
    pub key_id: u32,
    pub signature: Vec<u8>,
}

/// A parsed note: body text (ending in a newline) and its signatures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    pub body: String,
    pub signatures: Vec<NoteSignature>,
}

impl Note {
    /// Parses note text, checking the grammar of C2SP signed-note.
    pub fn parse(text: &str) -> Result<Self, NoteError> {
        let bad = |m: &str| NoteError::Malformed(m.to_owned());
        if text.len() > MAX_NOTE_BYTES {
            return Err(bad("the note is larger than 128 KiB"));
        }
        if text.contains('\r') || text.chars().any(|c| c.is_control() && c != '\n') {
            return Err(bad("the note contains control characters"));
        }
        let split = text
            .rfind("\n\n")
            .ok_or_else(|| bad("no blank line separates the body from the signatures"))?;
        let body = &text[..split + 1];
        let sigs = &text[split + 2..];
        if body.is_empty() || body.starts_with('\n') {
            return Err(bad("the body is empty"));
        }
        if !sigs.ends_with('\n') {
            return Err(bad("the note does not end with a newline"));
        }
        let mut signatures = Vec::new();
        for line in sigs[..sigs.len() - 1].split('\n') {
            let rest = line
                .strip_prefix(SIG_PREFIX)
                .ok_or_else(|| bad("a signature line does not start with \"— \""))?;
            let (name, b64) = rest
                .split_once(' ')
                .ok_or_else(|| bad("a signature line has no space between name and signature"))?;
            if !valid_key_name(name) {
                return Err(bad("a signature line has an invalid key name"));
            }
            let raw = STANDARD
                .decode(b64)
                .map_err(|_| bad("a signature is not base64"))?;
            if raw.len() < 5 {
                return Err(bad("a signature is too short"));
            }
            signatures.push(NoteSignature {
                name: name.to_owned(),
                key_id: u32::from_be_bytes([raw[0], raw[1], raw[2], raw[3]]),
                signature: raw[4..].to_vec(),
            });
            if signatures.len() > MAX_SIGNATURES {
                return Err(bad("too many signatures"));
            }
        }
        if signatures.is_empty() {
            return Err(bad("the note has no signature"));
        }
        Ok(Self {
            body: body.to_owned(),
            signatures,
        })
    }

    /// Verifies that `key` signed the body.
    pub fn verify(&self, key: &VerifierKey) -> Result<(), NoteError> {
        let sig = self
            .signatures
            .iter()
            .find(|s| s.name == key.name && s.key_id == key.key_id)
            .ok_or_else(|| NoteError::Unsigned {
                name: key.name.clone(),
                key_id: key.key_id,
            })?;
        if key.verify(self.body.as_bytes(), &sig.signature) {
            Ok(())
        } else {
            Err(NoteError::BadSignature(key.name.clone()))
        }
    }
}

/// Formats a signed note from `body` and one Ed25519 signature.
pub fn format_signed(body: &str, key: &VerifierKey, signature: &[u8]) -> String {
    let mut raw = key.key_id.to_be_bytes().to_vec();
    raw.extend_from_slice(signature);
    format!(
        "{body}\n{SIG_PREFIX}{} {}\n",
        key.name,
        STANDARD.encode(raw)
    )
}

/// A C2SP tlog-checkpoint body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub origin: String,
    pub size: u64,
    pub root: Hash,
}

impl Checkpoint {
    /// `<origin>\n<size>\n<base64 root>\n`.
    pub fn body(&self) -> String {
        format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            STANDARD.encode(self.root)
        )
    }

    /// Parses a checkpoint body (extension lines after the root are allowed and ignored).
    pub fn parse_body(body: &str) -> Result<Self, NoteError> {
        let bad = |m: &str| NoteError::BadCheckpoint(m.to_owned());
        let mut lines = body.split('\n');
        let origin = lines
            .next()
            .filter(|o| !o.is_empty())
            .ok_or_else(|| bad("no origin line"))?;
        let size_text = lines.next().ok_or_else(|| bad("no tree size line"))?;
        if size_text.is_empty()
            || !size_text.bytes().all(|b| b.is_ascii_digit())
            || (size_text.len() > 1 && size_text.starts_with('0'))
        {
            return Err(bad(
                "the tree size is not a decimal number without leading zeros",
            ));
        }
        let size = size_text
            .parse::<u64>()
            .map_err(|_| bad("the tree size does not fit 64 bits"))?;
        let root_text = lines.next().ok_or_else(|| bad("no root hash line"))?;
        let root: Hash = STANDARD
            .decode(root_text)
            .ok()
            .and_then(|r| r.try_into().ok())
            .ok_or_else(|| bad("the root hash is not 32 bytes of base64"))?;
        // Extension lines are optional and must not be empty; the body ends with a newline.
        let rest: Vec<&str> = lines.collect();
        if rest.last() != Some(&"") || rest[..rest.len() - 1].iter().any(|l| l.is_empty()) {
            return Err(bad(
                "the body must end with a newline and extension lines must not be empty",
            ));
        }
        Ok(Self {
            origin: origin.to_owned(),
            size,
            root,
        })
    }
}

/// A checkpoint with its signed-note text, as published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedCheckpoint {
    pub checkpoint: Checkpoint,
    pub note: String,
}

impl SignedCheckpoint {
    /// Parses and verifies a signed checkpoint against `key`, checking the origin equals the
    /// key's name.
    pub fn open(text: &str, key: &VerifierKey) -> Result<Self, NoteError> {
        let note = Note::parse(text)?;
        note.verify(key)?;
        let checkpoint = Checkpoint::parse_body(&note.body)?;
        if checkpoint.origin != key.name {
            return Err(NoteError::BadCheckpoint(format!(
                "origin {:?} is not the log's origin {:?}",
                checkpoint.origin, key.name
            )));
        }
        Ok(Self {
            checkpoint,
            note: text.to_owned(),
        })
    }
}

/// The raw 32-byte Ed25519 public key from its DER SubjectPublicKeyInfo.
pub fn ed25519_public_key(spki_der: &[u8]) -> Option<[u8; 32]> {
    // SEQUENCE { SEQUENCE { OID 1.3.101.112 } BIT STRING { 0x00 key } }: a fixed 12-byte prefix.
    const PREFIX: [u8; 12] = [
        0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
    ];
    (spki_der.len() == 44 && spki_der[..12] == PREFIX)
        .then(|| spki_der[12..].try_into().ok())
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keypair(name: &str) -> (PKey<openssl::pkey::Private>, VerifierKey) {
        let pkey = PKey::generate_ed25519().unwrap();
        let public: [u8; 32] = pkey.raw_public_key().unwrap().try_into().unwrap();
        (pkey, VerifierKey::new(name, public).unwrap())
    }

    fn sign(pkey: &PKey<openssl::pkey::Private>, msg: &[u8]) -> Vec<u8> {
        openssl::sign::Signer::new_without_digest(pkey)
            .unwrap()
            .sign_oneshot_to_vec(msg)
            .unwrap()
    }

    #[test]
    fn signed_checkpoint_roundtrips_and_tampering_is_caught() {
        let (pkey, key) = keypair("log.example/test");
        let cp = Checkpoint {
            origin: "log.example/test".into(),
            size: 42,
            root: [7u8; 32],
        };
        let text = format_signed(&cp.body(), &key, &sign(&pkey, cp.body().as_bytes()));
        let parsed = VerifierKey::parse(&key.encode()).unwrap();
        assert_eq!(parsed, key);
        let opened = SignedCheckpoint::open(&text, &parsed).unwrap();
        assert_eq!(opened.checkpoint, cp);
        let tampered = text.replacen("\n42\n", "\n43\n", 1);
        assert_eq!(
            SignedCheckpoint::open(&tampered, &key),
            Err(NoteError::BadSignature("log.example/test".into()))
        );
        let (_, other) = keypair("log.example/test");
        assert!(matches!(
            SignedCheckpoint::open(&text, &other),
            Err(NoteError::Unsigned { .. })
        ));
    }

    /// Vectors from golang.org/x/mod `sumdb/note/note_test.go` (github.com/golang/mod at
    /// fe2ec04f, BSD-3-Clause): the PeterNeumann and EnochRoot keys and their signatures.
    #[test]
    fn go_sumdb_note_vectors_verify() {
        let text = "If you think cryptography is the answer to your problem,\n\
                    then you don't know what your problem is.\n\n\
                    \u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n\
                    \u{2014} EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n";
        let peter = VerifierKey::parse(
            "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        )
        .unwrap();
        let enoch =
            VerifierKey::parse("EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop")
                .unwrap();
        assert_eq!(peter.key_id, 0xc74f20a3);
        let note = Note::parse(text).unwrap();
        assert_eq!(note.signatures.len(), 2);
        note.verify(&peter).unwrap();
        note.verify(&enoch).unwrap();
        let mut spliced = text.to_owned();
        spliced.insert_str(60, "ABCD");
        assert!(Note::parse(&spliced).unwrap().verify(&peter).is_err());
        for bad in [
            "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==",
            "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        ] {
            assert!(VerifierKey::parse(bad).is_err());
        }
    }

    #[test]
    fn malformed_notes_and_keys_are_rejected() {
        for text in [
            "",
            "body\n",
            "body\n\n",
            "body\n\nno dash\n",
            "\n\n\u{2014} a AAAAAAAA\n",
            "body\n\n\u{2014} a !!!\n",
        ] {
            assert!(Note::parse(text).is_err(), "{text:?}");
        }
        for key in [
            "",
            "a+b",
            "a+0000000g+AQ==",
            "a b+00000000+AQ==",
            "a+00000000+AQ==",
        ] {
            assert!(VerifierKey::parse(key).is_err(), "{key:?}");
        }
        assert!(Checkpoint::parse_body("o\n01\nAAAA\n").is_err());
        assert!(Checkpoint::parse_body("o\n1\nAAAA\n").is_err());
    }
}
