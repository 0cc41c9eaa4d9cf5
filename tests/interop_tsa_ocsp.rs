//! Interoperability of the TSA and OCSP responders with the `openssl` command-line tool, through
//! the public API only: `openssl ts -query` → `TimeStampAuthority::respond` → `openssl ts -verify`,
//! and `openssl ocsp -reqout` → `OcspResponder::respond` → `openssl ocsp -respin`. The PKI is made
//! with the `openssl` crate (see `src/cms/test_pki.rs`). Fails, never skips, without the CLI.

#[path = "../src/cms/test_pki.rs"]
mod test_pki;

use std::path::Path;
use std::sync::Arc;

use der::asn1::ObjectIdentifier;
use time::OffsetDateTime;

use sigillum::ca::ocsp::{CertStatusInfo, OcspResponder};
use sigillum::keys::soft::{MasterKey, SoftKeyStore};
use sigillum::keys::{KeyAlgorithm, KeyStore, Signer};
use sigillum::tsa::TimeStampAuthority;
use test_pki::{Profile, TestPki, run_openssl};

const POLICY: &str = "1.3.6.1.4.1.99999.1.3161";

fn signer(algorithm: KeyAlgorithm) -> Arc<dyn Signer> {
    let store = SoftKeyStore::new(Arc::new(MasterKey::from_bytes([1; 32])));
    let key = store.generate(algorithm, "interop").unwrap();
    store.signer(&key).unwrap()
}

fn run_ok(dir: &Path, args: &[&str]) -> String {
    let (ok, out) = run_openssl(dir, args);
    assert!(ok, "openssl {}: {out}", args.join(" "));
    out
}

/// Ed25519 is left out: OpenSSL 3.0's `ts -verify` (PKCS#7 code) cannot verify Ed25519.
#[test]
fn openssl_ts_verifies_tokens() {
    for algorithm in [KeyAlgorithm::EcdsaP256, KeyAlgorithm::Rsa2048] {
        let pki = TestPki::new();
        let signer = signer(algorithm);
        let cert = pki.issue(signer.spki_der(), "Interop TSA", Profile::Tsa);
        let tsa = TimeStampAuthority::new(
            signer,
            cert.to_der().unwrap(),
            vec![pki.issuing.to_der().unwrap(), pki.root.to_der().unwrap()],
            ObjectIdentifier::new_unwrap(POLICY),
            1,
        )
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        pki.write_pems(d);
        std::fs::write(d.join("f"), b"document to time-stamp").unwrap();
        run_ok(
            d,
            &[
                "ts", "-query", "-data", "f", "-sha256", "-cert", "-out", "q.tsq",
            ],
        );
        let request = std::fs::read(d.join("q.tsq")).unwrap();
        let response = tsa.respond(&request, OffsetDateTime::now_utc(), rand::random());
        std::fs::write(d.join("r.tsr"), response).unwrap();
        let text = run_ok(d, &["ts", "-reply", "-in", "r.tsr", "-text"]);
        assert!(text.contains("Status: Granted."), "{text}");
        assert!(text.contains(&format!("Policy OID: {POLICY}")), "{text}");
        let query = run_ok(d, &["ts", "-query", "-in", "q.tsq", "-text"]);
        let nonce = query.lines().find(|l| l.starts_with("Nonce:")).unwrap();
        assert!(text.contains(nonce), "nonce not echoed: {query}\n{text}");
        let verify = run_ok(
            d,
            &[
                "ts",
                "-verify",
                "-data",
                "f",
                "-in",
                "r.tsr",
                "-CAfile",
                "root.pem",
                "-untrusted",
                "issuing.pem",
            ],
        );
        assert!(verify.contains("Verification: OK"), "{algorithm}: {verify}");
    }
}

#[test]
fn openssl_ocsp_verifies_responses() {
    for algorithm in [
        KeyAlgorithm::EcdsaP256,
        KeyAlgorithm::Rsa2048,
        KeyAlgorithm::Ed25519,
    ] {
        let pki = TestPki::new();
        let signer = signer(algorithm);
        let ocsp_cert = pki.issue(signer.spki_der(), "Interop OCSP", Profile::Ocsp);
        let responder = OcspResponder::new(
            signer,
            ocsp_cert.to_der().unwrap(),
            pki.issuing.to_der().unwrap(),
        )
        .unwrap();
        let good = pki.leaf("good");
        let revoked = pki.leaf("revoked");
        let revoked_serial = revoked.serial_number().to_bn().unwrap().to_vec();
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        pki.write_pems(d);
        std::fs::write(d.join("good.pem"), good.to_pem().unwrap()).unwrap();
        std::fs::write(d.join("revoked.pem"), revoked.to_pem().unwrap()).unwrap();
        std::fs::write(d.join("ocsp.pem"), ocsp_cert.to_pem().unwrap()).unwrap();
        run_ok(
            d,
            &[
                "ocsp",
                "-issuer",
                "issuing.pem",
                "-cert",
                "good.pem",
                "-cert",
                "revoked.pem",
                "-reqout",
                "req.der",
            ],
        );
        let now = OffsetDateTime::now_utc();
        let revoked_at = now - time::Duration::hours(2);
        let lookup = |serial: &[u8]| {
            if serial == revoked_serial {
                CertStatusInfo::Revoked {
                    at: revoked_at,
                    reason: Some(1),
                }
            } else {
                CertStatusInfo::Good
            }
        };
        let request = std::fs::read(d.join("req.der")).unwrap();
        let response = responder.respond(&request, now, now + time::Duration::hours(24), &lookup);
        std::fs::write(d.join("resp.der"), response).unwrap();
        // Nonce check: `-reqin` alone (with `-cert`, openssl builds a new request and nonce).
        let out = run_ok(
            d,
            &[
                "ocsp",
                "-reqin",
                "req.der",
                "-respin",
                "resp.der",
                "-CAfile",
                "chain.pem",
                "-verify_other",
                "ocsp.pem",
                "-resp_text",
            ],
        );
        assert!(out.contains("Response verify OK"), "{algorithm}: {out}");
        assert!(out.contains("OCSP Nonce"), "{algorithm}: {out}");
        assert!(
            !out.contains("Nonce Verify error") && !out.contains("WARNING"),
            "{out}"
        );
        let status = run_ok(
            d,
            &[
                "ocsp",
                "-respin",
                "resp.der",
                "-issuer",
                "issuing.pem",
                "-cert",
                "good.pem",
                "-cert",
                "revoked.pem",
                "-no_nonce",
                "-CAfile",
                "chain.pem",
                "-verify_other",
                "ocsp.pem",
            ],
        );
        assert!(
            status.contains("Response verify OK"),
            "{algorithm}: {status}"
        );
        assert!(status.contains("good.pem: good"), "{algorithm}: {status}");
        assert!(
            status.contains("revoked.pem: revoked"),
            "{algorithm}: {status}"
        );
        assert!(
            status.contains("Reason: keyCompromise"),
            "{algorithm}: {status}"
        );
    }
}
