//! Key custody: the `KeyStore` / `Signer` seam between everything that signs (CA, OCSP, TSA,
//! later PAdES and the log) and where private keys actually live.
//!
//! Two real backends implement it:
//! - [`soft::SoftKeyStore`]: keys generated in-process, kept only as AES-256-GCM ciphertext
//!   ("wrapped") under the master key in `<data>/master.key`, decrypted for each signature into
//!   zeroised memory;
//! - [`pkcs11::Pkcs11KeyStore`]: keys generated inside a PKCS#11 token with `CKA_SENSITIVE=true`
//!   and `CKA_EXTRACTABLE=false`; only a handle (`CKA_ID`) leaves the token.
//!
//! A [`KeyRef`] is what callers persist: it names the backend, the key and its public key, and for
//! soft keys carries the wrapped private key, so a key is stored in the same atomic batch as the
//! record that owns it.

pub mod pkcs11;
pub mod soft;

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::config::KeyBackend;

/// Signature algorithms a key can have. Hashing is part of the algorithm: ECDSA and RSA sign
/// SHA-256 digests, Ed25519 signs the message itself (PureEdDSA).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum KeyAlgorithm {
    /// ECDSA over NIST P-256 with SHA-256 (`ecdsa-with-SHA256`). Default for entities.
    #[serde(rename = "ecdsa-p256")]
    EcdsaP256,
    /// RSA 2048 PKCS#1 v1.5 with SHA-256 (`sha256WithRSAEncryption`).
    #[serde(rename = "rsa-2048")]
    Rsa2048,
    /// RSA 3072 PKCS#1 v1.5 with SHA-256.
    #[serde(rename = "rsa-3072")]
    Rsa3072,
    /// Ed25519 (RFC 8032); used for transparency-log checkpoints.
    #[serde(rename = "ed25519")]
    Ed25519,
}

impl KeyAlgorithm {
    pub const ALL: [KeyAlgorithm; 4] = [
        KeyAlgorithm::EcdsaP256,
        KeyAlgorithm::Rsa2048,
        KeyAlgorithm::Rsa3072,
        KeyAlgorithm::Ed25519,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            KeyAlgorithm::EcdsaP256 => "ecdsa-p256",
            KeyAlgorithm::Rsa2048 => "rsa-2048",
            KeyAlgorithm::Rsa3072 => "rsa-3072",
            KeyAlgorithm::Ed25519 => "ed25519",
        }
    }

    /// DER of the signature `AlgorithmIdentifier` (RFC 5758 §3.2, RFC 4055 §5, RFC 8410 §3).
    pub fn signature_algorithm_der(self) -> &'static [u8] {
        match self {
            // SEQUENCE { OID 1.2.840.10045.4.3.2 }
            KeyAlgorithm::EcdsaP256 => &[
                0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02,
            ],
            // SEQUENCE { OID 1.2.840.113549.1.1.11, NULL }
            KeyAlgorithm::Rsa2048 | KeyAlgorithm::Rsa3072 => &[
                0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b, 0x05,
                0x00,
            ],
            // SEQUENCE { OID 1.3.101.112 }
            KeyAlgorithm::Ed25519 => &[0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70],
        }
    }
}

impl fmt::Display for KeyAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Identifier of a key inside its store: for PKCS#11 the token's `CKA_ID`, for soft keys a random
/// name bound into the wrapping AAD. Lower-case hex.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct KeyId(String);

impl TryFrom<String> for KeyId {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Self::from_hex(&s)
            .ok_or_else(|| format!("invalid key id {s:?}: expected 32 lower-case hex digits"))
    }
}

impl From<KeyId> for String {
    fn from(id: KeyId) -> String {
        id.0
    }
}

impl KeyId {
    pub fn random() -> Self {
        Self(hex::encode(rand::random::<[u8; 16]>()))
    }

    pub fn from_hex(s: &str) -> Option<Self> {
        (s.len() == 32
            && s.bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()))
        .then(|| Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The 16 raw bytes (used as PKCS#11 `CKA_ID`). A `KeyId` is always 32 hex digits.
    pub fn to_bytes(&self) -> [u8; 16] {
        let mut out = [0u8; 16];
        for (i, pair) in self.0.as_bytes().chunks(2).enumerate().take(16) {
            let hex = std::str::from_utf8(pair).unwrap_or("00");
            out[i] = u8::from_str_radix(hex, 16).unwrap_or(0);
        }
        out
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A persisted reference to a private key. Contains no secret in the clear: soft keys carry only
/// their AES-256-GCM ciphertext, PKCS#11 keys only their `CKA_ID`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyRef {
    pub id: KeyId,
    pub backend: KeyBackend,
    pub algorithm: KeyAlgorithm,
    /// DER `SubjectPublicKeyInfo` of the key.
    #[serde(with = "crate::store::serde_b64")]
    pub spki_der: Vec<u8>,
    /// Soft keys: the wrapped PKCS#8 private key (see `soft`). `None` for PKCS#11 keys.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::store::serde_b64_opt"
    )]
    pub wrapped: Option<Vec<u8>>,
}

/// Errors of key generation and signing. Never contains key material.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    #[error("key store is not usable: {0}")]
    Unavailable(String),
    #[error("algorithm {algorithm} is not supported by the {backend} key store")]
    UnsupportedAlgorithm {
        algorithm: KeyAlgorithm,
        backend: &'static str,
    },
    #[error("key {id} belongs to the {found:?} key store, not this one")]
    WrongBackend { id: KeyId, found: KeyBackend },
    #[error("key {0} not found in the key store")]
    NotFound(KeyId),
    #[error("key {0} could not be unwrapped (wrong master key or corrupted record)")]
    Unwrap(KeyId),
    #[error("master key file {path}: {message}")]
    MasterKey { path: String, message: String },
    #[error("cryptographic operation failed: {0}")]
    Crypto(String),
}

impl From<openssl::error::ErrorStack> for KeyError {
    fn from(e: openssl::error::ErrorStack) -> Self {
        KeyError::Crypto(e.to_string())
    }
}

/// Something that signs with one private key it does not reveal.
///
/// Concurrency: implementations are `Send + Sync` and may be called from many threads; they
/// serialise internally where the backend needs it (PKCS#11 sessions). Signing may block on an
/// HSM, so async callers run it on a blocking thread.
pub trait Signer: Send + Sync {
    fn algorithm(&self) -> KeyAlgorithm;
    /// DER `SubjectPublicKeyInfo`.
    fn spki_der(&self) -> &[u8];
    /// Signs `message` per [`KeyAlgorithm`] (hashing included) and returns the signature in its
    /// X.509/CMS encoding: DER `Ecdsa-Sig-Value`, PKCS#1 v1.5 bytes, or the 64-byte Ed25519
    /// signature.
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, KeyError>;

    /// RSASSA-PSS over `message` with SHA-256, MGF1-SHA-256 and a 32-byte salt (RFC 8017 §8.1;
    /// the parameters of [`RSA_PSS_SHA256_ALGORITHM_DER`]). Only RSA keys; others refuse.
    fn sign_rsa_pss(&self, message: &[u8]) -> Result<Vec<u8>, KeyError> {
        let _ = message;
        Err(KeyError::UnsupportedAlgorithm {
            algorithm: self.algorithm(),
            backend: "RSASSA-PSS",
        })
    }
}

/// DER `AlgorithmIdentifier` of RSASSA-PSS with SHA-256, MGF1-SHA-256, salt length 32 and the
/// default trailer field (RFC 4055 §3.1, RFC 8017 Appendix A.2.3).
pub const RSA_PSS_SHA256_ALGORITHM_DER: &[u8] = &[
    0x30, 0x41, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a, 0x30, 0x34, 0xa0,
    0x0f, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00,
    0xa1, 0x1c, 0x30, 0x1a, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x08, 0x30,
    0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0xa2, 0x03,
    0x02, 0x01, 0x20,
];

/// The salt length of [`RSA_PSS_SHA256_ALGORITHM_DER`] (the SHA-256 output size).
pub const RSA_PSS_SALT_LEN: usize = 32;

/// A place where key pairs are generated and used.
///
/// Durability: `generate` returns a `KeyRef` that the caller must persist; for PKCS#11 the key is
/// already a token object when it returns, for soft keys the `KeyRef` *is* the (wrapped) key, so
/// the caller's write is the key's durability.
pub trait KeyStore: Send + Sync {
    fn backend(&self) -> KeyBackend;
    /// Whether this store can generate keys of `algorithm` itself.
    fn supports(&self, algorithm: KeyAlgorithm) -> bool;
    fn generate(&self, algorithm: KeyAlgorithm, label: &str) -> Result<KeyRef, KeyError>;
    fn signer(&self, key: &KeyRef) -> Result<Arc<dyn Signer>, KeyError>;
    /// Destroys a key that will never sign again (e.g. after its certificate was superseded).
    /// Idempotent: destroying an absent key succeeds.
    fn destroy(&self, key: &KeyRef) -> Result<(), KeyError>;
}

/// Routes keys to the store that holds them: new keys go to the configured primary store. For an
/// algorithm the primary cannot generate (e.g. a token without EdDSA), generation fails unless
/// the operator allowed soft keys as a fallback (`keys.pkcs11.dangerous_allow_soft_fallback`).
pub struct KeyCustody {
    primary: Arc<dyn KeyStore>,
    soft: Arc<soft::SoftKeyStore>,
    allow_soft_fallback: bool,
}

impl KeyCustody {
    /// Custody with soft keys only (`primary` is the soft store itself).
    pub fn soft_only(soft: Arc<soft::SoftKeyStore>) -> Self {
        Self {
            primary: soft.clone(),
            soft,
            allow_soft_fallback: false,
        }
    }

    pub fn new(
        primary: Arc<dyn KeyStore>,
        soft: Arc<soft::SoftKeyStore>,
        allow_soft_fallback: bool,
    ) -> Self {
        Self {
            primary,
            soft,
            allow_soft_fallback,
        }
    }

    pub fn primary_backend(&self) -> KeyBackend {
        self.primary.backend()
    }

    /// Generates in the primary store; in the soft store only when the primary lacks
    /// `algorithm` and the fallback is allowed.
    pub fn generate(&self, algorithm: KeyAlgorithm, label: &str) -> Result<KeyRef, KeyError> {
        if self.primary.supports(algorithm) {
            self.primary.generate(algorithm, label)
        } else if !self.allow_soft_fallback {
            Err(KeyError::UnsupportedAlgorithm {
                algorithm,
                backend: "configured",
            })
        } else {
            tracing::warn!(
                %algorithm,
                backend = ?self.primary.backend(),
                "primary key store cannot generate this algorithm; using the soft key store"
            );
            self.soft.generate(algorithm, label)
        }
    }

    pub fn destroy(&self, key: &KeyRef) -> Result<(), KeyError> {
        match key.backend {
            KeyBackend::Soft => self.soft.destroy(key),
            backend if backend == self.primary.backend() => self.primary.destroy(key),
            found => Err(KeyError::WrongBackend {
                id: key.id.clone(),
                found,
            }),
        }
    }

    pub fn signer(&self, key: &KeyRef) -> Result<Arc<dyn Signer>, KeyError> {
        match key.backend {
            KeyBackend::Soft => self.soft.signer(key),
            backend if backend == self.primary.backend() => self.primary.signer(key),
            found => Err(KeyError::WrongBackend {
                id: key.id.clone(),
                found,
            }),
        }
    }
}

/// Verifies an RSASSA-PSS signature made by [`Signer::sign_rsa_pss`].
pub fn verify_rsa_pss(spki_der: &[u8], message: &[u8], signature: &[u8]) -> Result<bool, KeyError> {
    use openssl::hash::MessageDigest;
    use openssl::rsa::Padding;
    use openssl::sign::RsaPssSaltlen;
    let key = public_key_from_spki(spki_der, KeyAlgorithm::Rsa2048)?;
    let mut verifier = openssl::sign::Verifier::new(MessageDigest::sha256(), &key)?;
    verifier.set_rsa_padding(Padding::PKCS1_PSS)?;
    verifier.set_rsa_mgf1_md(MessageDigest::sha256())?;
    verifier.set_rsa_pss_saltlen(RsaPssSaltlen::custom(RSA_PSS_SALT_LEN as i32))?;
    Ok(verifier.verify_oneshot(signature, message)?)
}

/// Loads a public key from a DER SPKI through the algorithm-specific readers (EC point, PKCS#1,
/// raw Ed25519): OpenSSL 3's generic SPKI decoder costs ~0.14 ms, and the PAdES self-check
/// verifies one signature per signed document.
pub fn public_key_from_spki(
    spki_der: &[u8],
    algorithm: KeyAlgorithm,
) -> Result<openssl::pkey::PKey<openssl::pkey::Public>, KeyError> {
    use der::Decode;
    use openssl::pkey::PKey;
    let Ok(spki) = spki::SubjectPublicKeyInfoRef::from_der(spki_der) else {
        return Ok(PKey::public_key_from_der(spki_der)?);
    };
    let key_bytes = spki.subject_public_key.raw_bytes();
    Ok(match algorithm {
        KeyAlgorithm::EcdsaP256 => {
            let group = openssl::ec::EcGroup::from_curve_name(openssl::nid::Nid::X9_62_PRIME256V1)?;
            let mut ctx = openssl::bn::BigNumContext::new()?;
            let point = openssl::ec::EcPoint::from_bytes(&group, key_bytes, &mut ctx)?;
            PKey::from_ec_key(openssl::ec::EcKey::from_public_key(&group, &point)?)?
        }
        KeyAlgorithm::Rsa2048 | KeyAlgorithm::Rsa3072 => {
            PKey::from_rsa(openssl::rsa::Rsa::public_key_from_der_pkcs1(key_bytes)?)?
        }
        KeyAlgorithm::Ed25519 => {
            PKey::public_key_from_raw_bytes(key_bytes, openssl::pkey::Id::ED25519)?
        }
    })
}

/// Verifies `signature` over `message` with a DER SPKI, using OpenSSL; for self-checks and tests.
pub fn verify_signature(
    spki_der: &[u8],
    algorithm: KeyAlgorithm,
    message: &[u8],
    signature: &[u8],
) -> Result<bool, KeyError> {
    use openssl::hash::MessageDigest;
    let key = public_key_from_spki(spki_der, algorithm)?;
    let mut verifier = match algorithm {
        KeyAlgorithm::Ed25519 => openssl::sign::Verifier::new_without_digest(&key)?,
        _ => openssl::sign::Verifier::new(MessageDigest::sha256(), &key)?,
    };
    Ok(verifier.verify_oneshot(signature, message)?)
}
