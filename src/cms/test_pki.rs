//! Test-only throwaway PKI built with the `openssl` crate (independent of our own certificate
//! code): root CA → issuing CA → {TSA, OCSP responder, leaf}. Used by the unit tests of `cms`,
//! `tsa` and `ca::ocsp` and, through `#[path]`, by `tests/interop_tsa_ocsp.rs`; it deliberately
//! refers to nothing in this crate so both can include it.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects
)]

use std::path::Path;

use openssl::asn1::{Asn1Integer, Asn1Object, Asn1OctetString, Asn1Time};
use openssl::bn::{BigNum, MsbOption};
use openssl::ec::{EcGroup, EcKey};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private};
use openssl::x509::extension::{
    AuthorityKeyIdentifier, BasicConstraints, ExtendedKeyUsage, KeyUsage, SubjectKeyIdentifier,
};
use openssl::x509::{X509, X509Builder, X509Extension, X509NameBuilder};

/// What an end-entity certificate is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Profile {
    /// RFC 3161 §2.3: critical EKU with only id-kp-timeStamping.
    Tsa,
    /// RFC 6960 §4.2.2.2: EKU id-kp-OCSPSigning, plus id-pkix-ocsp-nocheck (§4.2.2.2.1).
    Ocsp,
    /// A TLS-client-ish leaf whose status gets queried.
    Leaf,
}

pub struct TestPki {
    pub root: X509,
    root_key: PKey<Private>,
    pub issuing: X509,
    issuing_key: PKey<Private>,
}

fn p256() -> PKey<Private> {
    let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap();
    PKey::from_ec_key(EcKey::generate(&group).unwrap()).unwrap()
}

fn random_serial() -> Asn1Integer {
    let mut bn = BigNum::new().unwrap();
    // 127 bits with the top bit clear: positive, 16 bytes at most.
    bn.rand(127, MsbOption::MAYBE_ZERO, false).unwrap();
    bn.to_asn1_integer().unwrap()
}

fn builder(
    cn: &str,
    public: &PKey<impl openssl::pkey::HasPublic>,
    issuer: Option<&X509>,
) -> X509Builder {
    let mut name = X509NameBuilder::new().unwrap();
    name.append_entry_by_text("O", "sigillum test").unwrap();
    name.append_entry_by_text("CN", cn).unwrap();
    let name = name.build();
    let mut b = X509Builder::new().unwrap();
    b.set_version(2).unwrap();
    b.set_serial_number(&random_serial()).unwrap();
    b.set_subject_name(&name).unwrap();
    b.set_issuer_name(issuer.map_or(&name, |i| i.subject_name()))
        .unwrap();
    b.set_pubkey(public).unwrap();
    b.set_not_before(&Asn1Time::days_from_now(0).unwrap())
        .unwrap();
    b.set_not_after(&Asn1Time::days_from_now(30).unwrap())
        .unwrap();
    b
}

impl TestPki {
    pub fn new() -> Self {
        let root_key = p256();
        let mut b = builder("Test Root CA", &root_key, None);
        b.append_extension(BasicConstraints::new().critical().ca().build().unwrap())
            .unwrap();
        b.append_extension(
            KeyUsage::new()
                .critical()
                .key_cert_sign()
                .crl_sign()
                .build()
                .unwrap(),
        )
        .unwrap();
        let ski = SubjectKeyIdentifier::new()
            .build(&b.x509v3_context(None, None))
            .unwrap();
        b.append_extension(ski).unwrap();
        b.sign(&root_key, MessageDigest::sha256()).unwrap();
        let root = b.build();

        let issuing_key = p256();
        let mut b = builder("Test Issuing CA", &issuing_key, Some(&root));
        b.append_extension(
            BasicConstraints::new()
                .critical()
                .ca()
                .pathlen(0)
                .build()
                .unwrap(),
        )
        .unwrap();
        b.append_extension(
            KeyUsage::new()
                .critical()
                .key_cert_sign()
                .crl_sign()
                .build()
                .unwrap(),
        )
        .unwrap();
        let ski = SubjectKeyIdentifier::new()
            .build(&b.x509v3_context(Some(&root), None))
            .unwrap();
        b.append_extension(ski).unwrap();
        let aki = AuthorityKeyIdentifier::new()
            .keyid(true)
            .build(&b.x509v3_context(Some(&root), None))
            .unwrap();
        b.append_extension(aki).unwrap();
        b.sign(&root_key, MessageDigest::sha256()).unwrap();
        let issuing = b.build();
        Self {
            root,
            root_key,
            issuing,
            issuing_key,
        }
    }

    /// Issues an end-entity certificate from the issuing CA for the key with DER SPKI
    /// `spki_der`.
    pub fn issue(&self, spki_der: &[u8], cn: &str, profile: Profile) -> X509 {
        let public = PKey::public_key_from_der(spki_der).unwrap();
        let mut b = builder(cn, &public, Some(&self.issuing));
        b.append_extension(BasicConstraints::new().critical().build().unwrap())
            .unwrap();
        let mut ku = KeyUsage::new();
        ku.critical().digital_signature();
        if profile == Profile::Tsa {
            ku.non_repudiation();
        }
        b.append_extension(ku.build().unwrap()).unwrap();
        match profile {
            Profile::Tsa => {
                b.append_extension(
                    ExtendedKeyUsage::new()
                        .critical()
                        .time_stamping()
                        .build()
                        .unwrap(),
                )
                .unwrap();
            }
            Profile::Ocsp => {
                b.append_extension(
                    ExtendedKeyUsage::new()
                        .other("OCSPSigning")
                        .build()
                        .unwrap(),
                )
                .unwrap();
                // id-pkix-ocsp-nocheck, extnValue = DER NULL.
                let oid = Asn1Object::from_str("1.3.6.1.5.5.7.48.1.5").unwrap();
                let value = Asn1OctetString::new_from_bytes(&[0x05, 0x00]).unwrap();
                b.append_extension(X509Extension::new_from_der(&oid, false, &value).unwrap())
                    .unwrap();
            }
            Profile::Leaf => {
                b.append_extension(ExtendedKeyUsage::new().client_auth().build().unwrap())
                    .unwrap();
            }
        }
        let aki = AuthorityKeyIdentifier::new()
            .keyid(true)
            .build(&b.x509v3_context(Some(&self.issuing), None))
            .unwrap();
        b.append_extension(aki).unwrap();
        b.sign(&self.issuing_key, MessageDigest::sha256()).unwrap();
        b.build()
    }

    /// A leaf with a fresh openssl-generated P-256 key.
    pub fn leaf(&self, cn: &str) -> X509 {
        let key = p256();
        self.issue(&key.public_key_to_der().unwrap(), cn, Profile::Leaf)
    }

    /// Writes `root.pem`, `issuing.pem` and `chain.pem` (issuing then root) into `dir`.
    pub fn write_pems(&self, dir: &Path) {
        let root = self.root.to_pem().unwrap();
        let issuing = self.issuing.to_pem().unwrap();
        std::fs::write(dir.join("root.pem"), &root).unwrap();
        std::fs::write(dir.join("issuing.pem"), &issuing).unwrap();
        std::fs::write(dir.join("chain.pem"), [issuing, root].concat()).unwrap();
    }
}

/// Path of the `openssl` command; panics with an install hint when it is missing (tests that
/// need it must fail, not skip).
pub fn openssl_cli() -> &'static str {
    match std::process::Command::new("openssl")
        .arg("version")
        .output()
    {
        Ok(out) if out.status.success() => "openssl",
        _ => panic!(
            "the `openssl` command-line tool is required for interoperability tests; \
             install it (Debian/Ubuntu: `apt-get install openssl`)"
        ),
    }
}

/// Runs `openssl args…` in `dir`; returns (success, stdout + stderr).
pub fn run_openssl(dir: &Path, args: &[&str]) -> (bool, String) {
    let out = std::process::Command::new(openssl_cli())
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}
