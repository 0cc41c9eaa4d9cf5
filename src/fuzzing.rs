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

/// The PDF reader over an uploaded file, as signing and keyword search use it: the
/// cross-reference chain, catalog, page tree, form fields, every page's content search, and
/// object-stream and filter decoding — with small limits so a fuzzer explores instead of
/// allocating. Panics only on a bug.
pub fn pdf_reader(data: &[u8]) {
    use crate::pdf::edit::Editor;
    use crate::pdf::text::{TextLimits, find_text};
    use crate::pdf::{Document, Limits, Object};
    let limits = Limits {
        max_stream_decoded: 1 << 20,
        max_total_decoded: 4 << 20,
        max_parsed: 4 << 20,
        max_object_stream: 1 << 20,
        max_revisions: 64,
        max_objects: 100_000,
        max_pages: 64,
    };
    let Ok(doc) = Document::open(data, limits) else {
        return;
    };
    let _ = doc.catalog();
    let editor = Editor::new(&doc);
    let _ = editor.fields();
    let text_limits = TextLimits {
        max_content_bytes: 1 << 20,
        max_ops: 100_000,
        max_form_depth: 4,
    };
    if let Ok(count) = doc.page_count() {
        for i in 0..count.min(8) {
            if let Ok(page) = doc.page(i) {
                let _ = find_text(&doc, &page, "Signature", &text_limits);
            }
        }
    }
    for num in doc.xref().entries.keys().copied().take(256) {
        if let Ok(Object::Stream(s)) = doc.get(crate::pdf::ObjRef::new(num, 0)) {
            let _ = doc.decode_stream(&s);
        }
    }
}

/// Seal images from API clients (PNG or JPEG).
pub fn seal_image(data: &[u8]) {
    let _ = crate::pdf::image::load(data, &crate::pdf::image::ImageLimits::default());
}

/// The `multipart/form-data` parser of `POST /v1/sign`.
pub fn multipart_body(data: &[u8]) {
    let body = axum::body::Bytes::copy_from_slice(data);
    if let Ok(parts) = crate::api::multipart::parse(&body, "sigillum-boundary") {
        for p in parts {
            assert!(p.data.len() <= data.len());
        }
    }
}
