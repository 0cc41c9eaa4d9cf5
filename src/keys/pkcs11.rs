//! The PKCS#11 key store: key pairs generated inside a token (an HSM, or SoftHSM2 for development)
//! and used there through PKCS#11 (`cryptoki`); only the public key and the `CKA_ID` leave it.
//!
//! Private keys are created with `CKA_SENSITIVE=true`, `CKA_EXTRACTABLE=false`, `CKA_SIGN=true`
//! and no other usage, so the token refuses to reveal or export them and to use them for anything
//! but signing. ECDSA P-256 and RSA 2048/3072 keys always live in the token; Ed25519 keys do when
//! the token lists `CKM_EC_EDWARDS_KEY_PAIR_GEN` and `CKM_EDDSA`. [`KeyStore::supports`] answers
//! from the mechanism list read at [`Pkcs11KeyStore::open`], so `KeyCustody` generates soft keys
//! only for what the token truly cannot do (SoftHSM2 built without EdDSA, many older HSMs).
//!
//! Signing: ECDSA hashes with SHA-256 in-process and signs the digest with `CKM_ECDSA` (not every
//! token has `CKM_ECDSA_SHA256`), then re-encodes the token's raw `r ‖ s` as DER
//! `Ecdsa-Sig-Value`; RSA uses `CKM_SHA256_RSA_PKCS`; Ed25519 uses `CKM_EDDSA` (PureEdDSA, over
//! the whole message).
//!
//! Concurrency: a `cryptoki` session serves one thread at a time, so the store keeps a pool of up
//! to `sessions` read-write sessions; a caller waits when all are busy. One further session is held
//! open for the life of the store only to keep the token logged in (PKCS#11 login state belongs to
//! the application and ends when its last session closes). The PIN is read from `pin_file`, used
//! for that one `C_Login` and then dropped (zeroised); it never appears in errors or logs.

use std::collections::HashMap;
use std::fs::File;
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::mechanism::eddsa::{EddsaParams, EddsaSignatureScheme};
use cryptoki::mechanism::{Mechanism, MechanismType};
use cryptoki::object::{
    Attribute, AttributeInfo, AttributeType, KeyType, ObjectClass, ObjectHandle,
};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use cryptoki::types::RawAuthPin;
use openssl::bn::BigNum;
use openssl::ec::{EcGroup, EcKey, EcPoint};
use openssl::ecdsa::EcdsaSig;
use openssl::nid::Nid;
use openssl::pkey::{Id, PKey};
use openssl::rsa::Rsa;
use zeroize::Zeroizing;

use super::{KeyAlgorithm, KeyError, KeyId, KeyRef, KeyStore, Signer};
use crate::config::{KeyBackend, Pkcs11Config};

const BACKEND_NAME: &str = "pkcs11";

/// Serialises token-object creation and destruction across the process. SoftHSM2's file-backed
/// object store fails concurrent `C_GenerateKeyPair`/`C_CreateObject` calls with
/// `CKR_GENERAL_ERROR` (SoftHSMv2 issue #573; Parsec serialises for the same reason). Key
/// management is rare, so this costs nothing that matters; signing stays concurrent.
static OBJECT_LIFECYCLE: Mutex<()> = Mutex::new(());

/// `CKA_EC_PARAMS` for P-256: DER `OBJECT IDENTIFIER 1.2.840.10045.3.1.7` (prime256v1).
const EC_PARAMS_P256: &[u8] = &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];

/// `CKA_EC_PARAMS` candidates for Ed25519, in order of preference (PKCS#11 3.0 §2.3.10 allows
/// both): DER `OBJECT IDENTIFIER 1.3.101.112` (id-Ed25519, RFC 8410), which SoftHSM2 2.6 accepts,
/// then DER `PrintableString "edwards25519"` for tokens that only know curve names.
const EC_PARAMS_ED25519: [&[u8]; 2] = [
    &[0x06, 0x03, 0x2b, 0x65, 0x70],
    &[
        0x13, 0x0c, b'e', b'd', b'w', b'a', b'r', b'd', b's', b'2', b'5', b'5', b'1', b'9',
    ],
];

/// Public exponent 65537, big-endian.
const RSA_PUBLIC_EXPONENT: [u8; 3] = [0x01, 0x00, 0x01];

/// Length of an uncompressed P-256 point `04 ‖ x ‖ y`.
const P256_POINT_LEN: usize = 65;
const ED25519_PUBLIC_LEN: usize = 32;

/// The PIN file holds a PIN, not a document; anything longer is a configuration mistake.
const MAX_PIN_FILE_BYTES: usize = 256;
/// Read limit: one byte more than allowed, to tell "at the limit" from "over it".
const PIN_FILE_READ_LIMIT: u64 = MAX_PIN_FILE_BYTES as u64 + 1;

/// How long a caller waits for a free session before giving up; a token that keeps every session
/// busy this long is wedged, and failing beats hanging a request forever.
const SESSION_WAIT: Duration = Duration::from_secs(60);

/// What the token reports about a private key's protection, read back with `C_GetAttributeValue`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrivateKeyAttributes {
    /// `CKA_SENSITIVE`: the token will not reveal the key's secret attributes.
    pub sensitive: bool,
    /// `CKA_EXTRACTABLE`: the key may be wrapped out of the token.
    pub extractable: bool,
    /// `CKA_ALWAYS_SENSITIVE`: the key has been sensitive since it was created.
    pub always_sensitive: bool,
    /// `CKA_NEVER_EXTRACTABLE`: the key has never been extractable.
    pub never_extractable: bool,
}

/// Key store backed by one PKCS#11 token. Cheap to share: clone the `Arc` it is held in.
pub struct Pkcs11KeyStore {
    token: Arc<Token>,
}

impl std::fmt::Debug for Pkcs11KeyStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pkcs11KeyStore")
            .field("token_label", &self.token.label)
            .field("slot", &self.token.slot.id())
            .field("supported", &self.token.supported)
            .finish_non_exhaustive()
    }
}

/// State shared by the store and its signers.
struct Token {
    label: String,
    slot: Slot,
    /// Algorithms whose generation and signing mechanisms the token lists.
    supported: Vec<KeyAlgorithm>,
    pool: SessionPool,
    /// Private-key handles and their `CKA_KEY_TYPE` by key id. Handles stay valid while the
    /// application has sessions open, i.e. for the life of the store.
    handles: Mutex<HashMap<KeyId, (ObjectHandle, KeyType)>>,
    /// Never used for operations: it only keeps the application logged in (see module doc).
    _login_session: Mutex<Session>,
}

impl Pkcs11KeyStore {
    /// Loads `config.module`, finds the token labelled `config.token_label`, logs in with the PIN
    /// from `config.pin_file` and reads the token's mechanism list.
    ///
    /// Fails with [`KeyError::Unavailable`] if the module cannot be loaded, the token is absent
    /// (the error lists the labels present), the PIN file is missing, empty, too long or readable
    /// by group or others, or the login is refused.
    ///
    /// PKCS#11 login state belongs to the process: if another store in this process is already
    /// logged in to the same token, the token answers `CKR_USER_ALREADY_LOGGED_IN` without
    /// checking this PIN, and `open` succeeds. The appliance opens one store per token.
    pub fn open(config: &Pkcs11Config) -> Result<Self, KeyError> {
        let unavailable = |message: String| KeyError::Unavailable(message);
        if config.sessions == 0 {
            return Err(unavailable("keys.pkcs11.sessions must be positive".into()));
        }
        let pin_path = config
            .pin_file
            .as_deref()
            .ok_or_else(|| unavailable("keys.pkcs11.pin_file is not set".into()))?;
        // Read the PIN before touching the module, so a bad PIN file fails the same way whether or
        // not the token is reachable. The buffer itself (not a copy of its bytes) moves into
        // cryptoki's secrecy box, which zeroises it on drop.
        let pin = RawAuthPin::new(Box::new(std::mem::take(&mut *read_pin_file(pin_path)?)));

        let module = config.module.display();
        let pkcs11 = Pkcs11::new(&config.module)
            .map_err(|e| unavailable(format!("cannot load PKCS#11 module {module}: {e}")))?;
        match pkcs11.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
            // Another store in this process initialised the module already; PKCS#11 has one
            // initialisation per process, not per caller.
            Ok(()) | Err(CkError::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {}
            Err(e) => {
                return Err(unavailable(format!(
                    "cannot initialise PKCS#11 module {module}: {}",
                    describe(&e)
                )));
            }
        }

        let slot = find_token(&pkcs11, &config.token_label)?;
        let label = config.token_label.clone();
        let token_err = |what: &str, e: CkError| {
            unavailable(format!("token '{label}': {what}: {}", describe(&e)))
        };

        let login_session = pkcs11
            .open_rw_session(slot)
            .map_err(|e| token_err("cannot open a session", e))?;
        match login_session.login_with_raw(UserType::User, &pin) {
            Ok(()) | Err(CkError::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => {}
            Err(e) => return Err(token_err("user login failed", e)),
        }
        drop(pin);

        let supported = supported_algorithms(&pkcs11, slot)
            .map_err(|e| token_err("cannot read the mechanism list", e))?;
        tracing::info!(
            token = %label,
            slot = slot.id(),
            sessions = config.sessions,
            supported = ?supported,
            "opened PKCS#11 token"
        );
        Ok(Self {
            token: Arc::new(Token {
                label,
                slot,
                supported,
                pool: SessionPool::new(pkcs11, slot, config.sessions),
                handles: Mutex::new(HashMap::new()),
                _login_session: Mutex::new(login_session),
            }),
        })
    }

    /// Reads back the protection attributes of `key`'s private key from the token.
    pub fn key_attributes(&self, key: &KeyRef) -> Result<PrivateKeyAttributes, KeyError> {
        let handle = self.token.private_key(key)?;
        let attributes = self.token.pool.with_session(|session| {
            session.get_attributes(
                handle,
                &[
                    AttributeType::Sensitive,
                    AttributeType::Extractable,
                    AttributeType::AlwaysSensitive,
                    AttributeType::NeverExtractable,
                ],
            )
        });
        let attributes = attributes.map_err(|e| crypto("reading key attributes", &e))?;
        let (mut sensitive, mut extractable) = (None, None);
        let (mut always_sensitive, mut never_extractable) = (None, None);
        for attribute in attributes {
            match attribute {
                Attribute::Sensitive(v) => sensitive = Some(v),
                Attribute::Extractable(v) => extractable = Some(v),
                Attribute::AlwaysSensitive(v) => always_sensitive = Some(v),
                Attribute::NeverExtractable(v) => never_extractable = Some(v),
                _ => {}
            }
        }
        let missing = |name: &str| KeyError::Crypto(format!("token did not report {name}"));
        Ok(PrivateKeyAttributes {
            sensitive: sensitive.ok_or_else(|| missing("CKA_SENSITIVE"))?,
            extractable: extractable.ok_or_else(|| missing("CKA_EXTRACTABLE"))?,
            always_sensitive: always_sensitive.ok_or_else(|| missing("CKA_ALWAYS_SENSITIVE"))?,
            never_extractable: never_extractable.ok_or_else(|| missing("CKA_NEVER_EXTRACTABLE"))?,
        })
    }

    /// Asks the token for the private key's secret value (`CKA_VALUE` for EC and EdDSA keys,
    /// `CKA_PRIVATE_EXPONENT` for RSA). For keys this store generated the token must refuse, and
    /// the error names its answer (`CKR_ATTRIBUTE_SENSITIVE`). Exists to prove that in tests and
    /// audits; an `Ok` here means the key is not protected.
    pub fn try_read_private_value(&self, key: &KeyRef) -> Result<Vec<u8>, KeyError> {
        let handle = self.token.private_key(key)?;
        let attribute = match key.algorithm {
            KeyAlgorithm::Rsa2048 | KeyAlgorithm::Rsa3072 => AttributeType::PrivateExponent,
            KeyAlgorithm::EcdsaP256 | KeyAlgorithm::Ed25519 => AttributeType::Value,
        };
        self.token
            .pool
            .with_session(|session| {
                // `get_attribute_info` passes the token's CKR_ATTRIBUTE_SENSITIVE through, whereas
                // `get_attributes` silently drops attributes it cannot read.
                match session.get_attribute_info(handle, &[attribute])?.first() {
                    Some(AttributeInfo::Available(_)) => {}
                    Some(AttributeInfo::Sensitive) => {
                        return Err(CkError::Pkcs11(
                            RvError::AttributeSensitive,
                            cryptoki::context::Function::GetAttributeValue,
                        ));
                    }
                    Some(AttributeInfo::TypeInvalid) => {
                        return Err(CkError::Pkcs11(
                            RvError::AttributeTypeInvalid,
                            cryptoki::context::Function::GetAttributeValue,
                        ));
                    }
                    Some(AttributeInfo::Unavailable) | None => return Err(CkError::InvalidValue),
                }
                let value = session.get_attributes(handle, &[attribute])?;
                match value.into_iter().next() {
                    Some(Attribute::Value(v) | Attribute::PrivateExponent(v)) => Ok(v),
                    _ => Err(CkError::InvalidValue),
                }
            })
            .map_err(|e| crypto(&format!("reading {attribute} of key {}", key.id), &e))
    }

    fn generate_in_token(
        &self,
        algorithm: KeyAlgorithm,
        label: &str,
    ) -> Result<(ObjectHandle, ObjectHandle, KeyId), KeyError> {
        let id = KeyId::random();
        let mut public = vec![
            Attribute::Token(true),
            Attribute::Verify(true),
            Attribute::Id(id.to_bytes().to_vec()),
            Attribute::Label(label.as_bytes().to_vec()),
        ];
        let private = vec![
            Attribute::Token(true),
            Attribute::Private(true),
            Attribute::Sensitive(true),
            Attribute::Extractable(false),
            Attribute::Sign(true),
            // Signing only: no decryption, unwrapping or key agreement with the same key.
            Attribute::Decrypt(false),
            Attribute::Unwrap(false),
            Attribute::Derive(false),
            Attribute::Id(id.to_bytes().to_vec()),
            Attribute::Label(label.as_bytes().to_vec()),
        ];
        let _objects = lock(&OBJECT_LIFECYCLE);
        let generated = self.token.pool.with_session(|session| match algorithm {
            KeyAlgorithm::EcdsaP256 => {
                public.push(Attribute::EcParams(EC_PARAMS_P256.to_vec()));
                session.generate_key_pair(&Mechanism::EccKeyPairGen, &public, &private)
            }
            KeyAlgorithm::Rsa2048 | KeyAlgorithm::Rsa3072 => {
                let bits: u64 = if algorithm == KeyAlgorithm::Rsa2048 {
                    2048
                } else {
                    3072
                };
                public.push(Attribute::ModulusBits(bits.into()));
                public.push(Attribute::PublicExponent(RSA_PUBLIC_EXPONENT.to_vec()));
                session.generate_key_pair(&Mechanism::RsaPkcsKeyPairGen, &public, &private)
            }
            KeyAlgorithm::Ed25519 => {
                let mut last = CkError::NotSupported;
                for params in EC_PARAMS_ED25519 {
                    let mut template = public.clone();
                    template.push(Attribute::EcParams(params.to_vec()));
                    match session.generate_key_pair(
                        &Mechanism::EccEdwardsKeyPairGen,
                        &template,
                        &private,
                    ) {
                        Ok(pair) => return Ok(pair),
                        Err(
                            e @ CkError::Pkcs11(
                                RvError::CurveNotSupported
                                | RvError::DomainParamsInvalid
                                | RvError::AttributeValueInvalid,
                                _,
                            ),
                        ) => last = e,
                        Err(e) => return Err(e),
                    }
                }
                Err(last)
            }
        });
        let (public, private) =
            generated.map_err(|e| crypto(&format!("generating a {algorithm} key"), &e))?;
        Ok((public, private, id))
    }
}

impl KeyStore for Pkcs11KeyStore {
    fn backend(&self) -> KeyBackend {
        KeyBackend::Pkcs11
    }

    fn supports(&self, algorithm: KeyAlgorithm) -> bool {
        self.token.supported.contains(&algorithm)
    }

    /// Generates the key pair in the token and checks it with one signature verified by OpenSSL
    /// before returning, so a `KeyRef` whose public key does not match its private key never
    /// reaches a certificate. On failure after generation the token objects are destroyed.
    fn generate(&self, algorithm: KeyAlgorithm, label: &str) -> Result<KeyRef, KeyError> {
        if !self.supports(algorithm) {
            return Err(KeyError::UnsupportedAlgorithm {
                algorithm,
                backend: BACKEND_NAME,
            });
        }
        let (public, private, id) = self.generate_in_token(algorithm, label)?;
        let checked = self
            .token
            .public_key_spki(public, algorithm)
            .and_then(|spki_der| {
                let signer = Pkcs11Signer {
                    token: self.token.clone(),
                    handle: private,
                    id: id.clone(),
                    algorithm,
                    spki_der,
                };
                let probe = b"sigillum pkcs11 key generation self-test";
                let signature = signer.sign(probe)?;
                if super::verify_signature(&signer.spki_der, algorithm, probe, &signature)? {
                    Ok(signer.spki_der)
                } else {
                    Err(KeyError::Crypto(format!(
                        "new {algorithm} key {id}: token signature does not verify \
                         with its public key"
                    )))
                }
            });
        let spki_der = match checked {
            Ok(spki_der) => spki_der,
            Err(e) => {
                let _objects = lock(&OBJECT_LIFECYCLE);
                let destroyed = self.token.pool.with_session(|session| {
                    session.destroy_object(private)?;
                    session.destroy_object(public)
                });
                if let Err(d) = destroyed {
                    tracing::warn!(key = %id, error = %describe(&d), "cannot destroy a failed key");
                }
                return Err(e);
            }
        };
        self.token.cache_handle(&id, private, key_type(algorithm));
        tracing::info!(
            key = %id,
            %algorithm,
            label,
            token = %self.token.label,
            "generated key in token"
        );
        Ok(KeyRef {
            id,
            backend: KeyBackend::Pkcs11,
            algorithm,
            spki_der,
            wrapped: None,
        })
    }

    /// Destroys the private and public key objects with `CKA_ID = key.id`.
    fn destroy(&self, key: &KeyRef) -> Result<(), KeyError> {
        if key.backend != KeyBackend::Pkcs11 {
            return Err(KeyError::WrongBackend {
                id: key.id.clone(),
                found: key.backend,
            });
        }
        lock(&self.token.handles).remove(&key.id);
        let _objects = lock(&OBJECT_LIFECYCLE);
        self.token
            .pool
            .with_session(|session| {
                for handle in session.find_objects(&[Attribute::Id(key.id.to_bytes().to_vec())])? {
                    session.destroy_object(handle)?;
                }
                Ok(())
            })
            .map_err(|e| crypto(&format!("destroying key {}", key.id), &e))
    }

    fn signer(&self, key: &KeyRef) -> Result<Arc<dyn Signer>, KeyError> {
        if key.backend != KeyBackend::Pkcs11 {
            return Err(KeyError::WrongBackend {
                id: key.id.clone(),
                found: key.backend,
            });
        }
        let handle = self.token.private_key(key)?;
        Ok(Arc::new(Pkcs11Signer {
            token: self.token.clone(),
            handle,
            id: key.id.clone(),
            algorithm: key.algorithm,
            spki_der: key.spki_der.clone(),
        }))
    }
}

impl Token {
    fn cache_handle(&self, id: &KeyId, handle: ObjectHandle, key_type: KeyType) {
        lock(&self.handles).insert(id.clone(), (handle, key_type));
    }

    /// The private key object with `CKA_ID = key.id`, whose key type must match `key.algorithm`.
    fn private_key(&self, key: &KeyRef) -> Result<ObjectHandle, KeyError> {
        let expected = key_type(key.algorithm);
        let wrong_type = |found: &dyn std::fmt::Debug| {
            KeyError::Crypto(format!(
                "key {} in token '{}' is not a {} key (CKA_KEY_TYPE {found:?})",
                key.id, self.label, key.algorithm
            ))
        };
        if let Some((handle, found)) = lock(&self.handles).get(&key.id) {
            return if *found == expected {
                Ok(*handle)
            } else {
                Err(wrong_type(found))
            };
        }
        let found = self.pool.with_session(|session| {
            let handles = session.find_objects(&[
                Attribute::Class(ObjectClass::PRIVATE_KEY),
                Attribute::Id(key.id.to_bytes().to_vec()),
            ])?;
            let mut typed = Vec::with_capacity(handles.len());
            for handle in handles {
                let attributes = session.get_attributes(handle, &[AttributeType::KeyType])?;
                typed.push((handle, attributes.into_iter().next()));
            }
            Ok(typed)
        });
        let found = found.map_err(|e| crypto(&format!("looking up key {}", key.id), &e))?;
        let handle = match found.as_slice() {
            [] => return Err(KeyError::NotFound(key.id.clone())),
            [(handle, Some(Attribute::KeyType(t)))] if *t == expected => *handle,
            [(_, found_type)] => return Err(wrong_type(found_type)),
            _ => {
                return Err(KeyError::Crypto(format!(
                    "token '{}' holds {} private keys with CKA_ID {}; refusing to guess",
                    self.label,
                    found.len(),
                    key.id
                )));
            }
        };
        self.cache_handle(&key.id, handle, expected);
        Ok(handle)
    }

    /// Builds the DER `SubjectPublicKeyInfo` from the public key object's attributes.
    fn public_key_spki(
        &self,
        public: ObjectHandle,
        algorithm: KeyAlgorithm,
    ) -> Result<Vec<u8>, KeyError> {
        let wanted: &[AttributeType] = match algorithm {
            KeyAlgorithm::Rsa2048 | KeyAlgorithm::Rsa3072 => {
                &[AttributeType::Modulus, AttributeType::PublicExponent]
            }
            KeyAlgorithm::EcdsaP256 | KeyAlgorithm::Ed25519 => &[AttributeType::EcPoint],
        };
        let attributes = self
            .pool
            .with_session(|session| session.get_attributes(public, wanted))
            .map_err(|e| crypto("reading the public key", &e))?;
        let (mut modulus, mut exponent, mut point) = (None, None, None);
        for attribute in attributes {
            match attribute {
                Attribute::Modulus(v) => modulus = Some(v),
                Attribute::PublicExponent(v) => exponent = Some(v),
                Attribute::EcPoint(v) => point = Some(v),
                _ => {}
            }
        }
        let missing = |name: &str| KeyError::Crypto(format!("token did not return {name}"));
        let pkey = match algorithm {
            KeyAlgorithm::Rsa2048 | KeyAlgorithm::Rsa3072 => {
                let n = BigNum::from_slice(&modulus.ok_or_else(|| missing("CKA_MODULUS"))?)?;
                let e = exponent.ok_or_else(|| missing("CKA_PUBLIC_EXPONENT"))?;
                PKey::from_rsa(Rsa::from_public_components(n, BigNum::from_slice(&e)?)?)?
            }
            KeyAlgorithm::EcdsaP256 => {
                let point = point.ok_or_else(|| missing("CKA_EC_POINT"))?;
                let raw = unwrap_ec_point(&point, P256_POINT_LEN)?;
                let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1)?;
                let mut ctx = openssl::bn::BigNumContext::new()?;
                let point = EcPoint::from_bytes(&group, raw, &mut ctx)?;
                PKey::from_ec_key(EcKey::from_public_key(&group, &point)?)?
            }
            KeyAlgorithm::Ed25519 => {
                let point = point.ok_or_else(|| missing("CKA_EC_POINT"))?;
                let raw = unwrap_ec_point(&point, ED25519_PUBLIC_LEN)?;
                PKey::public_key_from_raw_bytes(raw, Id::ED25519)?
            }
        };
        Ok(pkey.public_key_to_der()?)
    }
}

/// Signs with one private key object in the token.
struct Pkcs11Signer {
    token: Arc<Token>,
    handle: ObjectHandle,
    id: KeyId,
    algorithm: KeyAlgorithm,
    spki_der: Vec<u8>,
}

impl Signer for Pkcs11Signer {
    fn algorithm(&self) -> KeyAlgorithm {
        self.algorithm
    }

    fn spki_der(&self) -> &[u8] {
        &self.spki_der
    }

    fn sign_rsa_pss(&self, message: &[u8]) -> Result<Vec<u8>, KeyError> {
        if !matches!(
            self.algorithm,
            KeyAlgorithm::Rsa2048 | KeyAlgorithm::Rsa3072
        ) {
            return Err(KeyError::UnsupportedAlgorithm {
                algorithm: self.algorithm,
                backend: "RSASSA-PSS",
            });
        }
        let params = cryptoki::mechanism::rsa::PkcsPssParams {
            hash_alg: MechanismType::SHA256,
            mgf: cryptoki::mechanism::rsa::PkcsMgfType::MGF1_SHA256,
            s_len: (crate::keys::RSA_PSS_SALT_LEN as u64).into(),
        };
        let signed = self.token.pool.with_session(|session| {
            session.sign(&Mechanism::Sha256RsaPkcsPss(params), self.handle, message)
        });
        signed.map_err(|e| {
            if matches!(e, CkError::Pkcs11(RvError::ObjectHandleInvalid, _)) {
                lock(&self.token.handles).remove(&self.id);
            }
            crypto(&format!("signing with key {}", self.id), &e)
        })
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, KeyError> {
        let signed = match self.algorithm {
            KeyAlgorithm::EcdsaP256 => {
                let digest = openssl::sha::sha256(message);
                self.token
                    .pool
                    .with_session(|session| session.sign(&Mechanism::Ecdsa, self.handle, &digest))
            }
            KeyAlgorithm::Rsa2048 | KeyAlgorithm::Rsa3072 => {
                self.token.pool.with_session(|session| {
                    session.sign(&Mechanism::Sha256RsaPkcs, self.handle, message)
                })
            }
            KeyAlgorithm::Ed25519 => self.token.pool.with_session(|session| {
                let mechanism = Mechanism::Eddsa(EddsaParams::new(EddsaSignatureScheme::Pure));
                session.sign(&mechanism, self.handle, message)
            }),
        };
        let signature = match signed {
            Ok(signature) => signature,
            Err(e) => {
                if matches!(e, CkError::Pkcs11(RvError::ObjectHandleInvalid, _)) {
                    lock(&self.token.handles).remove(&self.id);
                }
                return Err(crypto(&format!("signing with key {}", self.id), &e));
            }
        };
        match self.algorithm {
            KeyAlgorithm::EcdsaP256 => ecdsa_raw_to_der(&signature),
            _ => Ok(signature),
        }
    }
}

/// A fixed-size pool of read-write sessions on one slot.
///
/// Contract: a session is used by one caller at a time; [`SessionPool::with_session`] blocks while
/// all `limit` sessions are in use, for at most [`SESSION_WAIT`]. A session whose handle the token
/// no longer recognises is closed instead of returned, and a new one is opened on demand.
struct SessionPool {
    pkcs11: Pkcs11,
    slot: Slot,
    limit: usize,
    state: Mutex<PoolState>,
    returned: Condvar,
}

struct PoolState {
    idle: Vec<Session>,
    /// Sessions open, idle or in use.
    open: usize,
}

impl SessionPool {
    fn new(pkcs11: Pkcs11, slot: Slot, limit: usize) -> Self {
        Self {
            pkcs11,
            slot,
            limit,
            state: Mutex::new(PoolState {
                idle: Vec::with_capacity(limit),
                open: 0,
            }),
            returned: Condvar::new(),
        }
    }

    /// Runs `f` on a session taken from the pool and gives the session back afterwards.
    fn with_session<T>(
        &self,
        f: impl FnOnce(&Session) -> Result<T, CkError>,
    ) -> Result<T, CkError> {
        let session = self.take()?;
        let result = f(&session);
        let broken = matches!(
            &result,
            Err(CkError::Pkcs11(
                RvError::SessionHandleInvalid
                    | RvError::SessionClosed
                    | RvError::DeviceRemoved
                    | RvError::TokenNotPresent,
                _
            ))
        );
        let mut state = lock(&self.state);
        if broken {
            state.open = state.open.saturating_sub(1);
            drop(state);
            drop(session);
        } else {
            state.idle.push(session);
            drop(state);
        }
        self.returned.notify_one();
        result
    }

    fn take(&self) -> Result<Session, CkError> {
        let mut state = lock(&self.state);
        loop {
            if let Some(session) = state.idle.pop() {
                return Ok(session);
            }
            if state.open < self.limit {
                state.open = state.open.saturating_add(1);
                drop(state);
                return self.pkcs11.open_rw_session(self.slot).inspect_err(|_| {
                    let mut state = lock(&self.state);
                    state.open = state.open.saturating_sub(1);
                    drop(state);
                    self.returned.notify_one();
                });
            }
            let (guard, waited) = self
                .returned
                .wait_timeout(state, SESSION_WAIT)
                .unwrap_or_else(PoisonError::into_inner);
            state = guard;
            if waited.timed_out() && state.idle.is_empty() && state.open >= self.limit {
                tracing::warn!(limit = self.limit, "all PKCS#11 sessions stayed busy");
                return Err(CkError::Pkcs11(
                    RvError::SessionCount,
                    cryptoki::context::Function::OpenSession,
                ));
            }
        }
    }
}

/// Locks a mutex whose data stays consistent even if a holder panicked (no invariant spans a
/// panic point in this module).
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Reads the user PIN: the whole file minus one trailing newline (`\n` or `\r\n`).
///
/// Refused if group or others have any access (a PIN in a world-readable file is no secret) and
/// if it is empty or longer than [`MAX_PIN_FILE_BYTES`]. Errors name the file, never its content.
fn read_pin_file(path: &Path) -> Result<Zeroizing<Vec<u8>>, KeyError> {
    let err =
        |message: String| KeyError::Unavailable(format!("PIN file {}: {message}", path.display()));
    let mut file = File::open(path).map_err(|e| err(format!("cannot open: {e}")))?;
    let meta = file
        .metadata()
        .map_err(|e| err(format!("cannot stat: {e}")))?;
    if !meta.is_file() {
        return Err(err("is not a regular file".into()));
    }
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(err(format!(
            "permissions {mode:o} allow group or other access; run `chmod 600` on it"
        )));
    }
    // Capacity for the cap, one byte to detect overflow and read_to_end's probe, so the buffer
    // never reallocates and leaves an unzeroised copy behind.
    let mut pin = Zeroizing::new(Vec::with_capacity(MAX_PIN_FILE_BYTES + 64));
    file.by_ref()
        .take(PIN_FILE_READ_LIMIT)
        .read_to_end(&mut pin)
        .map_err(|e| err(format!("cannot read: {e}")))?;
    if pin.len() > MAX_PIN_FILE_BYTES {
        return Err(err(format!("longer than {MAX_PIN_FILE_BYTES} bytes")));
    }
    if pin.last() == Some(&b'\n') {
        pin.pop();
        if pin.last() == Some(&b'\r') {
            pin.pop();
        }
    }
    if pin.is_empty() {
        return Err(err("is empty".into()));
    }
    Ok(pin)
}

/// The slot holding the one initialised token labelled `label`.
fn find_token(pkcs11: &Pkcs11, label: &str) -> Result<Slot, KeyError> {
    let unavailable = |message: String| KeyError::Unavailable(message);
    let slots = pkcs11
        .get_slots_with_initialized_token()
        .map_err(|e| unavailable(format!("cannot list PKCS#11 slots: {}", describe(&e))))?;
    let mut labels = Vec::with_capacity(slots.len());
    let mut matching = Vec::new();
    for slot in slots {
        let info = pkcs11.get_token_info(slot).map_err(|e| {
            unavailable(format!(
                "cannot read token info of slot {slot}: {}",
                describe(&e)
            ))
        })?;
        let found = info.label().trim_end();
        if found == label {
            matching.push(slot);
        }
        labels.push(format!("'{found}'"));
    }
    match matching.as_slice() {
        [slot] => Ok(*slot),
        [] => Err(unavailable(format!(
            "no initialised PKCS#11 token labelled '{label}'; available tokens: {}",
            if labels.is_empty() {
                "none".to_owned()
            } else {
                labels.join(", ")
            }
        ))),
        _ => Err(unavailable(format!(
            "{} tokens are labelled '{label}'; refusing to guess which one holds the keys",
            matching.len()
        ))),
    }
}

/// Algorithms for which the token lists both the key-pair generation and the signing mechanism
/// (and, for RSA, whose key size lies in the generator's advertised range).
fn supported_algorithms(pkcs11: &Pkcs11, slot: Slot) -> Result<Vec<KeyAlgorithm>, CkError> {
    let mechanisms = pkcs11.get_mechanism_list(slot)?;
    let has = |m: MechanismType| mechanisms.contains(&m);
    let rsa_size_ok = |bits: usize| -> Result<bool, CkError> {
        let info = pkcs11.get_mechanism_info(slot, MechanismType::RSA_PKCS_KEY_PAIR_GEN)?;
        Ok(info.min_key_size() <= bits && bits <= info.max_key_size())
    };
    let mut supported = Vec::new();
    for algorithm in KeyAlgorithm::ALL {
        let ok = match algorithm {
            KeyAlgorithm::EcdsaP256 => {
                has(MechanismType::ECC_KEY_PAIR_GEN) && has(MechanismType::ECDSA)
            }
            KeyAlgorithm::Rsa2048 | KeyAlgorithm::Rsa3072 => {
                let bits = if algorithm == KeyAlgorithm::Rsa2048 {
                    2048
                } else {
                    3072
                };
                has(MechanismType::RSA_PKCS_KEY_PAIR_GEN)
                    && has(MechanismType::SHA256_RSA_PKCS)
                    && rsa_size_ok(bits)?
            }
            KeyAlgorithm::Ed25519 => {
                has(MechanismType::ECC_EDWARDS_KEY_PAIR_GEN) && has(MechanismType::EDDSA)
            }
        };
        if ok {
            supported.push(algorithm);
        }
    }
    Ok(supported)
}

fn key_type(algorithm: KeyAlgorithm) -> KeyType {
    match algorithm {
        KeyAlgorithm::EcdsaP256 => KeyType::EC,
        KeyAlgorithm::Rsa2048 | KeyAlgorithm::Rsa3072 => KeyType::RSA,
        KeyAlgorithm::Ed25519 => KeyType::EC_EDWARDS,
    }
}

/// The raw point inside `CKA_EC_POINT`, which PKCS#11 defines as DER `OCTET STRING` wrapping the
/// point (X9.62 uncompressed for Weierstrass curves, the RFC 8032 encoding for Edwards curves).
/// Some tokens return the bare point; the expected length tells the two apart unambiguously.
fn unwrap_ec_point(value: &[u8], point_len: usize) -> Result<&[u8], KeyError> {
    if value.len() == point_len {
        return Ok(value);
    }
    // Short-form length suffices: points here are at most 65 bytes.
    match value {
        [0x04, len, point @ ..] if usize::from(*len) == point_len && point.len() == point_len => {
            Ok(point)
        }
        _ => Err(KeyError::Crypto(format!(
            "CKA_EC_POINT is neither a {point_len}-byte point nor a DER OCTET STRING holding one \
             ({} bytes)",
            value.len()
        ))),
    }
}

/// Re-encodes a PKCS#11 ECDSA signature (`r ‖ s`, each as long as the group order) as DER
/// `Ecdsa-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }` (RFC 5480 §2.2 / RFC 5758 §3.2).
fn ecdsa_raw_to_der(raw: &[u8]) -> Result<Vec<u8>, KeyError> {
    if raw.is_empty() || !raw.len().is_multiple_of(2) {
        return Err(KeyError::Crypto(format!(
            "token returned a {}-byte ECDSA signature, expected r ‖ s",
            raw.len()
        )));
    }
    let (r, s) = raw.split_at(raw.len() / 2);
    let sig = EcdsaSig::from_private_components(BigNum::from_slice(r)?, BigNum::from_slice(s)?)?;
    Ok(sig.to_der()?)
}

fn crypto(context: &str, e: &CkError) -> KeyError {
    KeyError::Crypto(format!("PKCS#11 {context}: {}", describe(e)))
}

/// `C_Sign: CKR_KEY_HANDLE_INVALID` rather than cryptoki's paragraph-long prose, so operators can
/// look the code up in the PKCS#11 specification and their HSM's manual.
fn describe(e: &CkError) -> String {
    match e {
        CkError::Pkcs11(rv, function) => {
            let name = format!("{rv:?}");
            let mut code = String::with_capacity(name.len().saturating_add(8));
            for (i, c) in name.chars().enumerate() {
                if c.is_ascii_uppercase() && i > 0 {
                    code.push('_');
                }
                code.push(c.to_ascii_uppercase());
            }
            format!("C_{function:?}: CKR_{code}")
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describe_names_the_pkcs11_return_code() {
        let e = CkError::Pkcs11(
            RvError::AttributeSensitive,
            cryptoki::context::Function::GetAttributeValue,
        );
        assert_eq!(describe(&e), "C_GetAttributeValue: CKR_ATTRIBUTE_SENSITIVE");
    }

    #[test]
    fn ec_point_accepts_octet_string_and_bare_point_only() {
        let mut point = vec![0x04];
        point.extend([0x3f; 64]);
        let mut wrapped = vec![0x04, 65];
        wrapped.extend(&point);
        assert_eq!(unwrap_ec_point(&wrapped, 65).unwrap(), &point[..]);
        // A bare point whose x starts with 0x3f looks like a 63-byte OCTET STRING; length decides.
        assert_eq!(unwrap_ec_point(&point, 65).unwrap(), &point[..]);
        assert!(unwrap_ec_point(&wrapped[..66], 65).is_err());
        assert!(unwrap_ec_point(&[0x04, 0x20], 32).is_err());
    }

    #[test]
    fn raw_ecdsa_signature_becomes_der() {
        let mut raw = vec![0u8; 64];
        raw[31] = 1;
        raw[32] = 0x80;
        let der = ecdsa_raw_to_der(&raw).unwrap();
        let sig = EcdsaSig::from_der(&der).unwrap();
        assert_eq!(sig.r().to_vec(), vec![1]);
        assert_eq!(sig.s().num_bytes(), 32);
        assert!(ecdsa_raw_to_der(&raw[..63]).is_err());
        assert!(ecdsa_raw_to_der(&[]).is_err());
    }

    #[test]
    fn pin_file_is_trimmed_and_must_be_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("user.pin");
        std::fs::write(&path, b"Pin-1234\r\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(read_pin_file(&path).unwrap().as_slice(), b"Pin-1234");
        // Only one trailing newline is the file's; anything before it is the PIN's.
        std::fs::write(&path, b"Pin-12\n34\n\n").unwrap();
        assert_eq!(read_pin_file(&path).unwrap().as_slice(), b"Pin-12\n34\n");

        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        let err = read_pin_file(&path).unwrap_err().to_string();
        assert!(err.contains("640") && !err.contains("Pin-12"), "{err}");

        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        std::fs::write(&path, b"\n").unwrap();
        assert!(read_pin_file(&path).is_err());
        std::fs::write(&path, vec![b'1'; MAX_PIN_FILE_BYTES + 1]).unwrap();
        assert!(read_pin_file(&path).is_err());
    }
}
