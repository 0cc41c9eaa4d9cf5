//! The soft key store: keys generated with OpenSSL in-process and persisted only wrapped.
//!
//! Wrapping format (version 1), stored in [`KeyRef::wrapped`]:
//! `0x01 ‖ nonce (12) ‖ AES-256-GCM(master key, PKCS#8 DER) ‖ tag (16)` with additional
//! authenticated data `"sigillum-soft-key-v1" ‖ 0x00 ‖ key id ‖ 0x00 ‖ algorithm`, so a wrapped key
//! cannot be swapped onto another key id or algorithm without failing authentication.
//!
//! The master key is 32 random bytes in `<data>/master.key`, created with mode 0600 and refused if
//! group or others can read it. Decrypted PKCS#8 bytes live in `Zeroizing` buffers and are
//! dropped right after each signature.

use std::fs::OpenOptions;
use std::io::{Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;
use std::sync::Arc;

use openssl::ec::{EcGroup, EcKey};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private};
use openssl::rsa::Rsa;
use openssl::symm::{Cipher, decrypt_aead, encrypt_aead};
use zeroize::Zeroizing;

use super::{KeyAlgorithm, KeyError, KeyId, KeyRef, KeyStore, Signer};
use crate::config::KeyBackend;

const WRAP_VERSION: u8 = 1;
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;

/// The 256-bit master key. Zeroised on drop.
pub struct MasterKey(Zeroizing<[u8; 32]>);

impl MasterKey {
    /// Loads `path`, or creates it with 32 random bytes (mode 0600) if it does not exist.
    ///
    /// Creation is atomic: the key is written and fsynced under a temporary name, then hard-linked
    /// into place (which fails if another process won the race), so a crash never leaves a
    /// truncated master key behind.
    pub fn load_or_create(path: &Path) -> Result<Self, KeyError> {
        let err = |message: String| KeyError::MasterKey {
            path: path.display().to_string(),
            message,
        };
        if path.exists() {
            return Self::load(path);
        }
        let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
        let _ = std::fs::remove_file(&tmp);
        let mut key = Zeroizing::new([0u8; 32]);
        openssl::rand::rand_bytes(key.as_mut())?;
        let written = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)
            .and_then(|mut file| {
                file.write_all(key.as_ref())?;
                file.sync_all()
            });
        if let Err(e) = written {
            let _ = std::fs::remove_file(&tmp);
            return Err(err(format!("cannot write: {e}")));
        }
        let linked = std::fs::hard_link(&tmp, path);
        let _ = std::fs::remove_file(&tmp);
        match linked {
            Ok(()) => {
                if let Some(dir) = path.parent() {
                    crate::store::sync_dir(dir).map_err(|e| err(format!("cannot sync: {e}")))?;
                }
                tracing::info!(path = %path.display(), "created a new master key");
                Ok(Self(key))
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Self::load(path),
            Err(e) => Err(err(format!("cannot create: {e}"))),
        }
    }

    /// Loads an existing master key; refuses files readable by group or others.
    pub fn load(path: &Path) -> Result<Self, KeyError> {
        let err = |message: String| KeyError::MasterKey {
            path: path.display().to_string(),
            message,
        };
        let mut file = std::fs::File::open(path).map_err(|e| err(format!("cannot open: {e}")))?;
        let meta = file.metadata().map_err(|e| err(e.to_string()))?;
        if meta.permissions().mode() & 0o077 != 0 {
            return Err(err(format!(
                "permissions {:o} are too open; run `chmod 600` on it",
                meta.permissions().mode() & 0o777
            )));
        }
        if meta.len() != 32 {
            return Err(err(format!(
                "must hold exactly 32 bytes, holds {}",
                meta.len()
            )));
        }
        let mut key = Zeroizing::new([0u8; 32]);
        file.read_exact(key.as_mut())
            .map_err(|e| err(format!("cannot read: {e}")))?;
        Ok(Self(key))
    }

    /// A master key from bytes; for tests and benchmarks.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(Zeroizing::new(bytes))
    }

    /// AES-256-GCM seal with a random nonce: `nonce ‖ ciphertext ‖ tag`.
    pub fn seal(&self, aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, KeyError> {
        let mut nonce = [0u8; NONCE_LEN];
        openssl::rand::rand_bytes(&mut nonce)?;
        let mut tag = [0u8; TAG_LEN];
        let ciphertext = encrypt_aead(
            Cipher::aes_256_gcm(),
            self.0.as_ref(),
            Some(&nonce),
            aad,
            plaintext,
            &mut tag,
        )?;
        let mut out = Vec::with_capacity(NONCE_LEN + ciphertext.len() + TAG_LEN);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ciphertext);
        out.extend_from_slice(&tag);
        Ok(out)
    }

    /// Opens what [`MasterKey::seal`] produced; `None` if authentication fails.
    pub fn open(&self, aad: &[u8], sealed: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
        if sealed.len() < NONCE_LEN + TAG_LEN {
            return None;
        }
        let (nonce, rest) = sealed.split_at(NONCE_LEN);
        let (ciphertext, tag) = rest.split_at(rest.len() - TAG_LEN);
        decrypt_aead(
            Cipher::aes_256_gcm(),
            self.0.as_ref(),
            Some(nonce),
            aad,
            ciphertext,
            tag,
        )
        .ok()
        .map(Zeroizing::new)
    }
}

/// Key store whose private keys exist in the clear only while signing.
pub struct SoftKeyStore {
    master: Arc<MasterKey>,
}

impl SoftKeyStore {
    pub fn new(master: Arc<MasterKey>) -> Self {
        Self { master }
    }

    fn aad(id: &KeyId, algorithm: KeyAlgorithm) -> Vec<u8> {
        let mut aad = b"sigillum-soft-key-v1\0".to_vec();
        aad.extend_from_slice(id.as_str().as_bytes());
        aad.push(0);
        aad.extend_from_slice(algorithm.as_str().as_bytes());
        aad
    }

    fn unwrap_key(&self, key: &KeyRef) -> Result<PKey<Private>, KeyError> {
        let wrapped = key
            .wrapped
            .as_deref()
            .ok_or_else(|| KeyError::NotFound(key.id.clone()))?;
        let (&version, sealed) = wrapped
            .split_first()
            .ok_or_else(|| KeyError::Unwrap(key.id.clone()))?;
        if version != WRAP_VERSION {
            return Err(KeyError::Unwrap(key.id.clone()));
        }
        let pkcs8 = self
            .master
            .open(&Self::aad(&key.id, key.algorithm), sealed)
            .ok_or_else(|| KeyError::Unwrap(key.id.clone()))?;
        private_key_from_pkcs8(&pkcs8, key.algorithm)
    }
}

/// PKCS#8 `PrivateKeyInfo` (RFC 5208 §5), enough to reach the inner key.
#[derive(der::Sequence)]
struct PrivateKeyInfo<'a> {
    version: u8,
    algorithm: spki::AlgorithmIdentifierRef<'a>,
    private_key: der::asn1::OctetStringRef<'a>,
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT", optional = "true")]
    attributes: Option<der::asn1::AnyRef<'a>>,
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT", optional = "true")]
    public_key: Option<der::asn1::BitStringRef<'a>>,
}

/// SEC1 `ECPrivateKey` (RFC 5915 §3).
#[derive(der::Sequence)]
struct EcPrivateKey<'a> {
    version: u8,
    private_key: der::asn1::OctetStringRef<'a>,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    parameters: Option<der::asn1::AnyRef<'a>>,
    #[asn1(context_specific = "1", tag_mode = "EXPLICIT", optional = "true")]
    public_key: Option<der::asn1::BitStringRef<'a>>,
}

/// Loads a private key from PKCS#8 through the algorithm-specific DER readers (SEC1
/// `ECPrivateKey`, PKCS#1 `RSAPrivateKey`, RFC 8410 raw Ed25519). OpenSSL 3's generic decoder
/// (`d2i_AutoPrivateKey`) costs ~0.37 ms per call, more than the signature itself; keys are
/// unwrapped for every signature, so that cost mattered.
fn private_key_from_pkcs8(
    pkcs8: &[u8],
    algorithm: KeyAlgorithm,
) -> Result<PKey<Private>, KeyError> {
    use der::Decode;
    let Ok(info) = PrivateKeyInfo::from_der(pkcs8) else {
        // Not the shape we write: let OpenSSL decide.
        return Ok(PKey::private_key_from_pkcs8(pkcs8)?);
    };
    let inner = info.private_key.as_bytes();
    Ok(match algorithm {
        KeyAlgorithm::EcdsaP256 => {
            // SEC1 ECPrivateKey inside PKCS#8 carries no curve (RFC 5915 §3): build the key from
            // the scalar and the P-256 group.
            let sec1 = EcPrivateKey::from_der(inner)
                .map_err(|_| KeyError::Crypto("malformed EC private key".into()))?;
            let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1)?;
            let d = openssl::bn::BigNum::from_slice(sec1.private_key.as_bytes())?;
            let mut ctx = openssl::bn::BigNumContext::new()?;
            // The wrapped record is authenticated (AES-GCM), so the stored public point is the
            // one we generated; without it, derive it.
            let point = match sec1.public_key.and_then(|p| p.as_bytes()) {
                Some(bytes) => openssl::ec::EcPoint::from_bytes(&group, bytes, &mut ctx)?,
                None => {
                    let mut point = openssl::ec::EcPoint::new(&group)?;
                    point.mul_generator2(&group, &d, &mut ctx)?;
                    point
                }
            };
            PKey::from_ec_key(EcKey::from_private_components(&group, &d, &point)?)?
        }
        KeyAlgorithm::Rsa2048 | KeyAlgorithm::Rsa3072 => {
            PKey::from_rsa(Rsa::private_key_from_der(inner)?)?
        }
        KeyAlgorithm::Ed25519 => {
            // CurvePrivateKey ::= OCTET STRING (RFC 8410 §7).
            let seed = der::asn1::OctetStringRef::from_der(inner)
                .map_err(|_| KeyError::Crypto("malformed Ed25519 private key".into()))?;
            PKey::private_key_from_raw_bytes(seed.as_bytes(), openssl::pkey::Id::ED25519)?
        }
    })
}

fn generate_pkey(algorithm: KeyAlgorithm) -> Result<PKey<Private>, KeyError> {
    Ok(match algorithm {
        KeyAlgorithm::EcdsaP256 => {
            let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1)?;
            PKey::from_ec_key(EcKey::generate(&group)?)?
        }
        KeyAlgorithm::Rsa2048 => PKey::from_rsa(Rsa::generate(2048)?)?,
        KeyAlgorithm::Rsa3072 => PKey::from_rsa(Rsa::generate(3072)?)?,
        KeyAlgorithm::Ed25519 => PKey::generate_ed25519()?,
    })
}

/// Signs with an OpenSSL private key per [`KeyAlgorithm`].
pub(crate) fn sign_with_pkey(
    pkey: &PKey<Private>,
    algorithm: KeyAlgorithm,
    message: &[u8],
) -> Result<Vec<u8>, KeyError> {
    let mut signer = match algorithm {
        KeyAlgorithm::Ed25519 => openssl::sign::Signer::new_without_digest(pkey)?,
        _ => openssl::sign::Signer::new(MessageDigest::sha256(), pkey)?,
    };
    Ok(signer.sign_oneshot_to_vec(message)?)
}

impl KeyStore for SoftKeyStore {
    fn backend(&self) -> KeyBackend {
        KeyBackend::Soft
    }

    fn supports(&self, _algorithm: KeyAlgorithm) -> bool {
        true
    }

    fn generate(&self, algorithm: KeyAlgorithm, _label: &str) -> Result<KeyRef, KeyError> {
        let pkey = generate_pkey(algorithm)?;
        let id = KeyId::random();
        let pkcs8 = Zeroizing::new(pkey.private_key_to_pkcs8()?);
        let mut wrapped = vec![WRAP_VERSION];
        wrapped.extend(self.master.seal(&Self::aad(&id, algorithm), &pkcs8)?);
        Ok(KeyRef {
            spki_der: pkey.public_key_to_der()?,
            id,
            backend: KeyBackend::Soft,
            algorithm,
            wrapped: Some(wrapped),
        })
    }

    /// A soft key exists only inside the `KeyRef` that its owner stores; overwriting that record
    /// is the destruction (RocksDB drops the old value at its next compaction).
    fn destroy(&self, _key: &KeyRef) -> Result<(), KeyError> {
        Ok(())
    }

    fn signer(&self, key: &KeyRef) -> Result<Arc<dyn Signer>, KeyError> {
        if key.backend != KeyBackend::Soft {
            return Err(KeyError::WrongBackend {
                id: key.id.clone(),
                found: key.backend,
            });
        }
        // Unwrap once now so that a bad record fails here rather than at first use.
        drop(self.unwrap_key(key)?);
        Ok(Arc::new(SoftSigner {
            store: SoftKeyStore {
                master: self.master.clone(),
            },
            key: key.clone(),
        }))
    }
}

struct SoftSigner {
    store: SoftKeyStore,
    key: KeyRef,
}

impl Signer for SoftSigner {
    fn algorithm(&self) -> KeyAlgorithm {
        self.key.algorithm
    }

    fn spki_der(&self) -> &[u8] {
        &self.key.spki_der
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, KeyError> {
        // The PKey (and OpenSSL's copy of the private scalar, freed with BN_clear_free) lives only
        // for this call.
        let pkey = self.store.unwrap_key(&self.key)?;
        sign_with_pkey(&pkey, self.key.algorithm, message)
    }

    fn sign_rsa_pss(&self, message: &[u8]) -> Result<Vec<u8>, KeyError> {
        if !matches!(
            self.key.algorithm,
            KeyAlgorithm::Rsa2048 | KeyAlgorithm::Rsa3072
        ) {
            return Err(KeyError::UnsupportedAlgorithm {
                algorithm: self.key.algorithm,
                backend: "RSASSA-PSS",
            });
        }
        let pkey = self.store.unwrap_key(&self.key)?;
        let mut signer = openssl::sign::Signer::new(MessageDigest::sha256(), &pkey)?;
        signer.set_rsa_padding(openssl::rsa::Padding::PKCS1_PSS)?;
        signer.set_rsa_mgf1_md(MessageDigest::sha256())?;
        signer.set_rsa_pss_saltlen(openssl::sign::RsaPssSaltlen::custom(
            crate::keys::RSA_PSS_SALT_LEN as i32,
        ))?;
        Ok(signer.sign_oneshot_to_vec(message)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::verify_signature;

    fn store() -> SoftKeyStore {
        SoftKeyStore::new(Arc::new(MasterKey::from_bytes([7; 32])))
    }

    #[test]
    fn rsa_pss_signs_and_verifies_and_other_keys_refuse_it() {
        let store = store();
        let key = store.generate(KeyAlgorithm::Rsa2048, "pss").unwrap();
        let signer = store.signer(&key).unwrap();
        let sig = signer.sign_rsa_pss(b"hello").unwrap();
        assert!(crate::keys::verify_rsa_pss(&key.spki_der, b"hello", &sig).unwrap());
        assert!(!crate::keys::verify_rsa_pss(&key.spki_der, b"hellO", &sig).unwrap());
        // PKCS#1 v1.5 verification must not accept a PSS signature.
        assert!(
            !verify_signature(&key.spki_der, KeyAlgorithm::Rsa2048, b"hello", &sig)
                .unwrap_or(false)
        );
        let ec = store.generate(KeyAlgorithm::EcdsaP256, "ec").unwrap();
        assert!(store.signer(&ec).unwrap().sign_rsa_pss(b"x").is_err());
    }

    #[test]
    fn every_algorithm_signs_and_verifies() {
        let store = store();
        for algorithm in KeyAlgorithm::ALL {
            let key = store.generate(algorithm, "t").unwrap();
            let signer = store.signer(&key).unwrap();
            let sig = signer.sign(b"hello").unwrap();
            assert!(verify_signature(&key.spki_der, algorithm, b"hello", &sig).unwrap());
            assert!(!verify_signature(&key.spki_der, algorithm, b"hellO", &sig).unwrap());
        }
    }

    #[test]
    fn wrapped_key_is_bound_to_id_and_master_key() {
        let store = store();
        let key = store.generate(KeyAlgorithm::EcdsaP256, "t").unwrap();
        let mut moved = key.clone();
        moved.id = KeyId::random();
        assert!(matches!(store.signer(&moved), Err(KeyError::Unwrap(_))));
        let other = SoftKeyStore::new(Arc::new(MasterKey::from_bytes([8; 32])));
        assert!(matches!(other.signer(&key), Err(KeyError::Unwrap(_))));
        let mut relabelled = key.clone();
        relabelled.algorithm = KeyAlgorithm::Rsa2048;
        assert!(matches!(
            store.signer(&relabelled),
            Err(KeyError::Unwrap(_))
        ));
    }

    #[test]
    fn wrapped_key_does_not_contain_pkcs8_in_clear() {
        let store = store();
        let key = store.generate(KeyAlgorithm::Ed25519, "t").unwrap();
        let wrapped = key.wrapped.unwrap();
        // PKCS#8 Ed25519 keys start with this prefix; it must not appear in the ciphertext.
        let prefix = [
            0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70,
        ];
        assert!(!wrapped.windows(prefix.len()).any(|w| w == prefix));
    }

    #[test]
    fn master_key_file_is_private_and_reloads() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("master.key");
        let a = MasterKey::load_or_create(&path).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let b = MasterKey::load_or_create(&path).unwrap();
        assert_eq!(a.0.as_ref(), b.0.as_ref());
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(matches!(
            MasterKey::load(&path),
            Err(KeyError::MasterKey { .. })
        ));
    }
}
