//! The PKCS#11 key store against a real SoftHSM2 token.
//!
//! The token is created by `hsm/init-token.sh` (the same script developers use) in
//! `$CARGO_TARGET_TMPDIR/pkcs11-softhsm`, wiped at the start of each run. SoftHSM2 reads
//! `SOFTHSM2_CONF` once, at `C_Initialize`, and PKCS#11 allows one initialisation per process, so
//! the whole binary shares one token, set up by [`fixture`], which every test calls first.
//!
//! These tests never skip: without `softhsm2-util` they fail with the install hint.

use std::io::ErrorKind;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, OnceLock};

use sigillum::config::{KeyBackend, Pkcs11Config};
use sigillum::keys::pkcs11::{Pkcs11KeyStore, PrivateKeyAttributes};
use sigillum::keys::{KeyAlgorithm, KeyError, KeyId, KeyRef, KeyStore, verify_signature};

const TOKEN_LABEL: &str = "sigillum-test";
const MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";
const INSTALL_HINT: &str = "SoftHSM2 is required for the PKCS#11 tests: apt-get install softhsm2";

struct Fixture {
    dir: PathBuf,
    store: Pkcs11KeyStore,
}

/// Two sessions, so that the concurrency test has callers waiting for one.
fn config(dir: &Path) -> Pkcs11Config {
    Pkcs11Config {
        module: PathBuf::from(MODULE),
        token_label: TOKEN_LABEL.into(),
        pin_file: Some(dir.join("user.pin")),
        sessions: 2,
        ..Pkcs11Config::default()
    }
}

impl Fixture {
    fn config(&self) -> Pkcs11Config {
        config(&self.dir)
    }

    fn pin(&self) -> String {
        std::fs::read_to_string(self.dir.join("user.pin")).unwrap()
    }
}

/// Creates the token and opens the store once per test binary.
fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        require_softhsm();
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("pkcs11-softhsm");
        match std::fs::remove_dir_all(&dir) {
            Err(e) if e.kind() != ErrorKind::NotFound => panic!("cannot wipe {dir:?}: {e}"),
            _ => {}
        }
        let first = init_token(&dir);
        let pin = std::fs::read(dir.join("user.pin")).unwrap();
        // Idempotence: a second run keeps the PINs and does not re-initialise the token.
        assert_eq!(init_token(&dir), first);
        assert_eq!(std::fs::read(dir.join("user.pin")).unwrap(), pin);
        for file in ["user.pin", "so.pin"] {
            let mode = std::fs::metadata(dir.join(file))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{file}");
        }
        let conf = dir.join("softhsm2.conf");
        assert_eq!(
            first.trim(),
            format!("export SOFTHSM2_CONF={}", conf.display())
        );

        // SAFETY: `set_var` is unsound only while another thread reads or writes the environment.
        // Every test calls `fixture()` before doing anything else, and `OnceLock` blocks them all
        // until this closure returns, so no test thread is running code that could touch the
        // environment; the PKCS#11 module is first loaded below, after this call.
        unsafe { std::env::set_var("SOFTHSM2_CONF", &conf) };

        let store = Pkcs11KeyStore::open(&config(&dir))
            .unwrap_or_else(|e| panic!("cannot open the SoftHSM2 token: {e}"));
        Fixture { dir, store }
    })
}

fn require_softhsm() {
    match Command::new("softhsm2-util").arg("--version").output() {
        Ok(out) if out.status.success() => {}
        Ok(out) => panic!(
            "softhsm2-util --version failed ({}); {INSTALL_HINT}",
            out.status
        ),
        Err(e) => panic!("cannot run softhsm2-util ({e}); {INSTALL_HINT}"),
    }
    assert!(
        Path::new(MODULE).exists(),
        "{MODULE} is missing; {INSTALL_HINT}"
    );
}

/// Runs `hsm/init-token.sh DIR LABEL` and returns its standard output.
fn init_token(dir: &Path) -> String {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("hsm/init-token.sh");
    let out = Command::new("bash")
        .arg(&script)
        .arg(dir)
        .arg(TOKEN_LABEL)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {script:?}: {e}"));
    assert!(
        out.status.success(),
        "{script:?} failed: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn algorithms(store: &Pkcs11KeyStore) -> Vec<KeyAlgorithm> {
    let mut algorithms = vec![
        KeyAlgorithm::EcdsaP256,
        KeyAlgorithm::Rsa2048,
        KeyAlgorithm::Rsa3072,
    ];
    // SoftHSM2 builds without EdDSA exist; there `supports` must say so (checked below).
    if store.supports(KeyAlgorithm::Ed25519) {
        algorithms.push(KeyAlgorithm::Ed25519);
    }
    algorithms
}

#[test]
fn every_algorithm_generates_in_token_and_signs_verifiably() {
    let fx = fixture();
    for algorithm in algorithms(&fx.store) {
        assert!(fx.store.supports(algorithm), "{algorithm}");
        let key = fx
            .store
            .generate(algorithm, &format!("test-{algorithm}"))
            .unwrap();
        assert_eq!(key.backend, KeyBackend::Pkcs11);
        assert_eq!(key.algorithm, algorithm);
        assert_eq!(key.wrapped, None, "no key material may leave the token");
        openssl::pkey::PKey::public_key_from_der(&key.spki_der).unwrap();

        let signer = fx.store.signer(&key).unwrap();
        assert_eq!(signer.algorithm(), algorithm);
        assert_eq!(signer.spki_der(), key.spki_der);
        for message in [&b""[..], b"hello", &[0xa5; 100_000]] {
            let signature = signer.sign(message).unwrap();
            assert!(
                verify_signature(&key.spki_der, algorithm, message, &signature).unwrap(),
                "{algorithm}: signature does not verify with OpenSSL"
            );
            assert!(!verify_signature(&key.spki_der, algorithm, b"hellO", &signature).unwrap());
        }
        if algorithm == KeyAlgorithm::Ed25519 {
            assert_eq!(signer.sign(b"x").unwrap().len(), 64);
        }
    }
}

/// RSASSA-PSS (CKM_SHA256_RSA_PKCS_PSS, SHA-256/MGF1-SHA-256/salt 32) in the token verifies in
/// OpenSSL with those parameters; ECDSA keys refuse it.
#[test]
fn rsa_pss_signs_in_token_and_verifies_in_openssl() {
    let fx = fixture();
    let key = fx
        .store
        .generate(KeyAlgorithm::Rsa2048, "test-pss")
        .unwrap();
    let signer = fx.store.signer(&key).unwrap();
    for message in [&b"hello"[..], &[0x5a; 10_000]] {
        let signature = signer.sign_rsa_pss(message).unwrap();
        assert!(sigillum::keys::verify_rsa_pss(&key.spki_der, message, &signature).unwrap());
        assert!(!sigillum::keys::verify_rsa_pss(&key.spki_der, b"other", &signature).unwrap());
    }
    let ec = fx
        .store
        .generate(KeyAlgorithm::EcdsaP256, "test-pss-ec")
        .unwrap();
    assert!(fx.store.signer(&ec).unwrap().sign_rsa_pss(b"x").is_err());
}

#[test]
fn private_keys_are_sensitive_and_not_extractable() {
    let fx = fixture();
    for algorithm in algorithms(&fx.store) {
        let key = fx.store.generate(algorithm, "protected").unwrap();
        assert_eq!(
            fx.store.key_attributes(&key).unwrap(),
            PrivateKeyAttributes {
                sensitive: true,
                extractable: false,
                always_sensitive: true,
                never_extractable: true,
            },
            "{algorithm}"
        );
        let err = fx.store.try_read_private_value(&key).unwrap_err();
        assert!(
            err.to_string().contains("CKR_ATTRIBUTE_SENSITIVE"),
            "{algorithm}: expected the token to refuse, got {err}"
        );
    }
}

#[test]
fn ed25519_support_is_reported_truthfully() {
    let fx = fixture();
    if fx.store.supports(KeyAlgorithm::Ed25519) {
        fx.store.generate(KeyAlgorithm::Ed25519, "ed").unwrap();
    } else {
        assert!(matches!(
            fx.store.generate(KeyAlgorithm::Ed25519, "ed"),
            Err(KeyError::UnsupportedAlgorithm { .. })
        ));
    }
}

#[test]
fn key_ref_is_usable_from_a_newly_opened_store() {
    let fx = fixture();
    let key = fx
        .store
        .generate(KeyAlgorithm::EcdsaP256, "reopen")
        .unwrap();
    // A `KeyRef` is what gets persisted; a fresh store must find the key by CKA_ID alone.
    let reloaded = KeyRef {
        id: KeyId::from_hex(key.id.as_str()).unwrap(),
        backend: key.backend,
        algorithm: key.algorithm,
        spki_der: key.spki_der.clone(),
        wrapped: None,
    };
    let other = Pkcs11KeyStore::open(&fx.config()).unwrap();
    let signature = other.signer(&reloaded).unwrap().sign(b"persisted").unwrap();
    assert!(verify_signature(&key.spki_der, key.algorithm, b"persisted", &signature).unwrap());
}

#[test]
fn concurrent_signers_share_the_session_pool() {
    let fx = fixture();
    let key = fx
        .store
        .generate(KeyAlgorithm::EcdsaP256, "concurrent")
        .unwrap();
    let signer = fx.store.signer(&key).unwrap();
    // Eight threads on a pool of two sessions: callers must wait, never share a session.
    let threads: Vec<_> = (0..8u8)
        .map(|i| {
            let signer = Arc::clone(&signer);
            let spki = key.spki_der.clone();
            std::thread::spawn(move || {
                for j in 0..20u8 {
                    let message = [i, j];
                    let signature = signer.sign(&message).unwrap();
                    assert!(
                        verify_signature(&spki, KeyAlgorithm::EcdsaP256, &message, &signature)
                            .unwrap()
                    );
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
}

#[test]
fn unknown_and_foreign_keys_are_refused() {
    let fx = fixture();
    let key = fx.store.generate(KeyAlgorithm::EcdsaP256, "refs").unwrap();
    let mut unknown = key.clone();
    unknown.id = KeyId::random();
    assert!(matches!(
        fx.store.signer(&unknown),
        Err(KeyError::NotFound(_))
    ));
    let mut soft = key.clone();
    soft.backend = KeyBackend::Soft;
    assert!(matches!(
        fx.store.signer(&soft),
        Err(KeyError::WrongBackend {
            found: KeyBackend::Soft,
            ..
        })
    ));
    // An ECDSA KeyRef pointing at an RSA key object.
    let mut mislabelled = key.clone();
    let rsa = fx.store.generate(KeyAlgorithm::Rsa2048, "refs").unwrap();
    mislabelled.id = rsa.id;
    assert!(matches!(
        fx.store.signer(&mislabelled),
        Err(KeyError::Crypto(_))
    ));
}

#[test]
fn pin_file_readable_by_others_is_refused() {
    let fx = fixture();
    let dir = tempfile::tempdir().unwrap();
    let pin_file = dir.path().join("user.pin");
    std::fs::write(&pin_file, fx.pin()).unwrap();
    for mode in [0o644, 0o640, 0o604] {
        std::fs::set_permissions(&pin_file, std::fs::Permissions::from_mode(mode)).unwrap();
        let config = Pkcs11Config {
            pin_file: Some(pin_file.clone()),
            ..fx.config()
        };
        let err = Pkcs11KeyStore::open(&config).unwrap_err();
        let message = err.to_string();
        assert!(matches!(err, KeyError::Unavailable(_)), "{message}");
        assert!(message.contains(&format!("{mode:o}")), "{message}");
        assert!(
            !message.contains(fx.pin().trim()),
            "the PIN leaked into: {message}"
        );
    }
}

#[test]
fn missing_pin_file_is_refused() {
    let fx = fixture();
    let config = Pkcs11Config {
        pin_file: None,
        ..fx.config()
    };
    assert!(matches!(
        Pkcs11KeyStore::open(&config),
        Err(KeyError::Unavailable(_))
    ));
}

#[test]
fn wrong_token_label_names_the_label_and_lists_the_available_ones() {
    let fx = fixture();
    let config = Pkcs11Config {
        token_label: "no-such-token".into(),
        ..fx.config()
    };
    let message = Pkcs11KeyStore::open(&config).unwrap_err().to_string();
    assert!(message.contains("'no-such-token'"), "{message}");
    assert!(message.contains(&format!("'{TOKEN_LABEL}'")), "{message}");
    assert!(
        !message.contains(fx.pin().trim()),
        "the PIN leaked into: {message}"
    );
}

#[test]
fn destroyed_keys_are_gone_from_the_token() {
    let fx = fixture();
    let key = fx
        .store
        .generate(KeyAlgorithm::EcdsaP256, "doomed")
        .unwrap();
    fx.store.signer(&key).unwrap().sign(b"before").unwrap();
    fx.store.destroy(&key).unwrap();
    assert!(matches!(fx.store.signer(&key), Err(KeyError::NotFound(_))));
    fx.store.destroy(&key).unwrap(); // idempotent
}
