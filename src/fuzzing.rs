//! Entry points for fuzzing and robustness tests: the untrusted-bytes parsers of the appliance
//! (RFC 3161 and RFC 6960 requests) wired to a throwaway in-memory CA with soft keys.
//! Used by `fuzz/` (cargo-fuzz) and `tests/robustness.rs`; not part of the service.

use std::sync::Arc;

use time::OffsetDateTime;

use crate::ca::CertificateAuthority;
use crate::ca::ocsp::{CertStatusInfo, OcspResponder};
use crate::config::CaConfig;
use crate::keys::KeyCustody;
use crate::keys::soft::{MasterKey, SoftKeyStore};
use crate::tsa::TimeStampAuthority;

/// A CA hierarchy with its TSA and OCSP responder.
pub struct Fixture {
    pub ca: CertificateAuthority,
    pub tsa: TimeStampAuthority,
    pub ocsp: OcspResponder,
}

impl Fixture {
    /// Panics on failure: this is test scaffolding, not a request path.
    pub fn new() -> Self {
        let soft = Arc::new(SoftKeyStore::new(Arc::new(MasterKey::from_bytes([9; 32]))));
        let custody = KeyCustody::soft_only(soft);
        let ca = CertificateAuthority::create(
            &custody,
            &CaConfig::default(),
            "http://127.0.0.1:8470",
            OffsetDateTime::now_utc(),
        )
        .expect("fixture CA");
        let (signer, cert, chain) = ca.tsa_parts();
        let policy = crate::config::TsaConfig::default()
            .policy_oid
            .parse()
            .expect("default policy OID");
        let tsa = TimeStampAuthority::new(signer, cert, chain, policy, 1).expect("fixture TSA");
        let ocsp = ca.ocsp_responder().expect("fixture OCSP");
        Self { ca, tsa, ocsp }
    }

    pub fn tsa(&self, request: &[u8]) -> Vec<u8> {
        self.tsa
            .respond(request, OffsetDateTime::now_utc(), [0x11; 16])
    }

    pub fn ocsp(&self, request: &[u8]) -> Vec<u8> {
        let now = OffsetDateTime::now_utc();
        self.ocsp
            .respond(request, now, now + time::Duration::hours(1), &|serial| {
                if serial.first().is_some_and(|b| b % 2 == 0) {
                    CertStatusInfo::Good
                } else {
                    CertStatusInfo::Revoked {
                        at: now,
                        reason: Some(1),
                    }
                }
            })
    }
}

impl Default for Fixture {
    fn default() -> Self {
        Self::new()
    }
}

/// The transparency log's parsers of untrusted bytes (what a server sends an auditor, or a
/// client sends the read API): tile paths, signed notes, verifier keys, checkpoints, tlog-proof
/// receipts, entry bundles and entries. Checks round-trip properties; panics only on a bug.
pub fn tlog_parsers(data: &[u8]) {
    use crate::tlog::note::{Checkpoint, Note, VerifierKey};
    use crate::tlog::tiles::{TilePath, split_bundle};
    use crate::tlog::{Event, Receipt};
    if let Some(entries) = split_bundle(data) {
        let mut again = Vec::new();
        for e in &entries {
            crate::tlog::tiles::push_bundle_entry(&mut again, e);
        }
        assert_eq!(again, data, "bundles round-trip");
    }
    if let Ok(event) = Event::decode(data) {
        assert_eq!(
            event.encode().ok().as_deref(),
            Some(data),
            "events are canonical"
        );
    }
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(path) = TilePath::parse(text) {
        assert_eq!(path.encode(), text, "tile paths are canonical");
    }
    if let Ok(key) = VerifierKey::parse(text) {
        assert_eq!(VerifierKey::parse(&key.encode()).ok(), Some(key));
    }
    if let Ok(note) = Note::parse(text) {
        let _ = Checkpoint::parse_body(&note.body);
    }
    let _ = Checkpoint::parse_body(text);
    let _ = Receipt::parse_tlog_proof(text);
}
