//! Entry points for fuzzing and robustness tests: the untrusted-bytes parsers of the appliance
//! (RFC 3161 and RFC 6960 requests) wired to a throwaway in-memory CA with soft keys.
//! Used by `fuzz/` (cargo-fuzz) and `tests/robustness.rs`; not part of the service.
//!
//! The `expect`s here apply to fixed, committed inputs (the throwaway CA, the seed root, the
//! signed templates) or state properties a fuzz target checks: a panic is the signal the fuzzer
//! looks for, never a path the appliance runs on uploads.

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
    use crate::pdf::{Document, Object};
    let Ok(doc) = Document::open(data, small_limits()) else {
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

/// PDF limits small enough that a fuzzer explores instead of allocating (the service reads
/// with [`crate::pdf::Limits::default`], inside a worker process).
fn small_limits() -> crate::pdf::Limits {
    crate::pdf::Limits {
        max_stream_decoded: 1 << 20,
        max_total_decoded: 4 << 20,
        max_parsed: 4 << 20,
        max_object_stream: 1 << 20,
        max_revisions: 64,
        max_objects: 100_000,
        max_pages: 64,
    }
}

/// The validation time of the verification targets: fixed so that runs reproduce, and inside
/// the validity of the certificates that signed the seeds in `fuzz/seeds/` (made 2026-11-22).
pub const VERIFY_AT: OffsetDateTime = time::macros::datetime!(2026-12-01 00:00 UTC);

/// The root CA of the appliance instance that signed the seeds in `fuzz/seeds/` (a throwaway
/// test instance), so that mutated seeds reach path validation and revocation checking, not
/// only "untrusted".
const SEED_ROOT_PEM: &str = "-----BEGIN CERTIFICATE-----
MIIB2jCCAYCgAwIBAgIQGvRoCcGxNRpRHmDm2u+AuzAKBggqhkjOPQQDAjA7MQsw
CQYDVQQGEwJDTjERMA8GA1UECgwIc2lnaWxsdW0xGTAXBgNVBAMMEHNpZ2lsbHVt
IFJvb3QgQ0EwHhcNMjYxMTIyMDgwNDIxWhcNNDYxMTE3MDgwNDIxWjA7MQswCQYD
VQQGEwJDTjERMA8GA1UECgwIc2lnaWxsdW0xGTAXBgNVBAMMEHNpZ2lsbHVtIFJv
b3QgQ0EwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAATi2e+6RvQvY9WWVzGpluWt
JPsPyQIEgDDI7OTM1BcybUCEQEGvEEazCua2BR+zJb4WK9/omJiS/fPp6x3E2fHS
o2YwZDAfBgNVHSMEGDAWgBTmD3bQc6B56gE4OwVxwcL+QcNJ/DAOBgNVHQ8BAf8E
BAMCAQYwHQYDVR0OBBYEFOYPdtBzoHnqATg7BXHBwv5Bw0n8MBIGA1UdEwEB/wQI
MAYBAf8CAQEwCgYIKoZIzj0EAwIDSAAwRQIhAMocGJFHYlW3SxCq+I3JeFhanTmG
pdPEU2cgVLOVHOFFAiA1o3fCLR0hLyu6UU1ohvGbKns3oS9x+kLwUi5RO5Ettg==
-----END CERTIFICATE-----
";

/// Trust settings of the verification targets: the seeds' root as the one anchor.
pub fn verify_trust() -> &'static crate::pades::verify::TrustSettings {
    static TRUST: std::sync::LazyLock<crate::pades::verify::TrustSettings> =
        std::sync::LazyLock::new(|| {
            let mut trust = crate::pades::verify::TrustSettings::default();
            let added = trust
                .add_pem_bundle(SEED_ROOT_PEM.as_bytes())
                .expect("the seed root parses");
            assert_eq!(added, 1, "the seed root is a CA certificate");
            trust
        });
    &TRUST
}

/// The whole verification engine on an uploaded file, as `POST /v1/verify` runs it: must never
/// panic; a file it cannot read is an error, not a crash. Checks what the report promises.
pub fn verify_pdf(data: &[u8]) {
    if let Ok(report) =
        crate::pades::verify::verify(data, verify_trust(), VERIFY_AT, small_limits())
    {
        check_report(data, &report);
    }
}

/// Properties every report must have, whatever the input.
fn check_report(data: &[u8], report: &crate::pades::verify::Report) {
    use crate::pades::verify::{CheckStatus, Coverage, Indication, Integrity, Verdict};
    assert_eq!(report.document.size, data.len() as u64);
    for s in &report.signatures {
        if s.indication == Indication::TOTAL_PASSED {
            // "A modification can never leave a TOTAL_PASSED" (pades::verify).
            assert_eq!(
                s.integrity,
                Integrity::Intact,
                "{}: passed but not intact",
                s.field
            );
            assert_ne!(
                s.coverage,
                Coverage::Partial,
                "{}: passed, partial",
                s.field
            );
            assert!(
                s.sub_indication.is_none(),
                "{}: passed with a sub-indication",
                s.field
            );
            let failed: Vec<&str> = s
                .checks
                .iter()
                .filter(|c| c.status == CheckStatus::Failed)
                .map(|c| c.id.as_str())
                .collect();
            assert!(
                failed.is_empty(),
                "{}: passed with failed checks {failed:?}",
                s.field
            );
        }
    }
    let expected = if report.signatures.is_empty() {
        Verdict::NoSignatures
    } else if report
        .signatures
        .iter()
        .any(|s| s.indication == Indication::TOTAL_FAILED)
    {
        Verdict::Failed
    } else if report
        .signatures
        .iter()
        .all(|s| s.indication == Indication::TOTAL_PASSED)
    {
        Verdict::Passed
    } else {
        Verdict::Indeterminate
    };
    assert_eq!(report.verdict, expected);
    serde_json::to_vec(report).expect("reports serialise");
}

/// Cross-reference chain and revisions of an uploaded file (what verification builds on):
/// `xref::read`, `revision::revisions`, and each revision opened on its own as the diff of a
/// signed revision opens it. Checks the revision layout `Revisions` documents.
pub fn xref_revisions(data: &[u8]) {
    use crate::pdf::document::Source;
    use crate::pdf::{Document, revision, xref};
    let limits = small_limits();
    let Ok(chain) = xref::read(&Source::new(&[data]), &limits) else {
        return;
    };
    assert!(chain.startxref < data.len());
    let Ok(revs) = revision::revisions(data, &chain) else {
        return;
    };
    let mut start = 0;
    for (i, r) in revs.revisions.iter().enumerate() {
        assert_eq!(r.number, i, "revisions are numbered oldest first");
        assert_eq!(r.start, start, "revisions are contiguous");
        assert!(
            r.start < r.eof && r.eof <= r.end && r.end <= data.len(),
            "{r:?}"
        );
        assert!(data[..r.eof].ends_with(b"%%EOF"));
        assert!(revs.ending_at(r.end).is_some_and(|e| e.number == i));
        start = r.end;
    }
    assert_eq!(
        revs.trailing_from, start,
        "trailing bytes follow the last revision"
    );
    assert_eq!(
        revs.revisions.last().map(|r| r.startxref),
        Some(chain.startxref),
        "the last revision is the file's"
    );
    for r in &revs.revisions {
        if let Ok(doc) = Document::open_revision(&data[..r.end], r.startxref, limits.clone()) {
            let _ = doc.catalog();
            let _ = doc.page_count();
        }
    }
}

/// CMS signatures and RFC 3161 tokens as they arrive in a signature's `/Contents` (DER, maybe
/// zero-padded): decoding, the one SignerInfo, its certificate, the signer checks, signature
/// time-stamps, a whole token, and path validation and revocation of what it carries. The data
/// a fuzzed signature signs is unknown here, so digests are of a constant.
pub fn cms_signed_data(data: &[u8]) {
    use crate::pades::verify::crypto::{self, DigestAlg};
    use crate::pades::verify::trust;
    let der = crypto::strip_padding(data).unwrap_or(data);
    let token = crypto::check_token(der, &|alg| alg.digest(b"fuzz"));
    if let Some(cert) = &token.tsa_cert {
        assert!(
            token.certificates.contains(cert),
            "the TSA certificate is one the token carries"
        );
    }
    let Ok(cms) = crypto::decode(der) else {
        return;
    };
    for c in cms.certificates.iter().take(16) {
        let _ = (trust::subject(c), trust::issuer(c), trust::is_ca(c));
    }
    let Ok(si) = crypto::single_signer(&cms) else {
        return;
    };
    let signature = si.signature.as_bytes();
    for token in crypto::signature_timestamps(si).iter().take(4) {
        let _ = crypto::check_token(token, &|alg| alg.digest(signature));
    }
    let Some(cert) = crypto::find_signer_cert(si, &cms.certificates) else {
        return;
    };
    assert!(cms.certificates.iter().any(|c| c.as_slice() == cert));
    let digest = DigestAlg::from_oid(&si.digest_alg.oid)
        .map(|alg| alg.digest(b"fuzz"))
        .unwrap_or_default();
    let _ = crypto::check_signer(si, cert, &digest, crate::cms::ID_DATA);
    let anchors = &verify_trust().anchors;
    let at = VERIFY_AT.unix_timestamp();
    let chain = trust::chain(cert, &cms.certificates, anchors, at);
    if chain.trusted {
        let evidence = trust::Evidence {
            certificates: cms.certificates.clone(),
            ocsp: Vec::new(),
            crls: cms.crls.iter().map(|c| (c.clone(), "cms_crl")).collect(),
        };
        let _ = trust::revocation(&chain.certificates, &evidence, anchors, at);
    }
}

/// Signed PDFs for [`SignedTemplates::byte_range`], with where each signature dictionary's
/// `/ByteRange` array and `/Contents` gap lie.
pub struct SignedTemplates {
    templates: Vec<Template>,
}

struct Template {
    pdf: Vec<u8>,
    signatures: Vec<SignatureSlots>,
    /// Signatures the unmodified file reports intact.
    intact: usize,
}

struct SignatureSlots {
    /// `[a b c d]` and the spaces after it (the writer's room for longer numbers).
    array: std::ops::Range<usize>,
    ranges: [i64; 4],
    /// The unsigned gap `<hex>`, delimiters included.
    gap: std::ops::Range<usize>,
}

impl SignedTemplates {
    /// Panics if a template has no signature whose byte range it can find, or does not verify
    /// intact: this is test scaffolding.
    pub fn new(pdfs: &[Vec<u8>]) -> Self {
        let templates = pdfs
            .iter()
            .map(|pdf| {
                let signatures = signature_slots(pdf);
                assert!(!signatures.is_empty(), "a template must be signed");
                let report =
                    crate::pades::verify::verify(pdf, verify_trust(), VERIFY_AT, small_limits())
                        .expect("templates verify");
                let intact = intact(&report);
                assert_eq!(intact, report.signatures.len(), "templates are intact");
                Template {
                    pdf: pdf.clone(),
                    signatures,
                    intact,
                }
            })
            .collect();
        Self { templates }
    }

    /// The byte-range and signature-dictionary checks: `data` picks a template, one of its
    /// signatures and an edit of that signature's `/ByteRange` or `/Contents`, written over the
    /// original (same length, padded) or spliced in (a different length), then the file is
    /// verified.
    ///
    /// `data` = template index, signature index, mode, payload; modes:
    /// 0. four little-endian `i16` deltas added to the `/ByteRange` numbers;
    /// 1. the payload as the `/ByteRange` value's text;
    /// 2. the payload as DER in `/Contents` (hex, zero-padded);
    /// 3. the payload as the raw bytes of the gap, delimiters included;
    /// 4. (position `u16`, xor `u8`) triples applied to the original DER in `/Contents`, so
    ///    that the digest of the byte ranges still matches and the CMS checks run deep.
    ///
    /// Beyond never panicking: an edit of the signed `/ByteRange` leaves fewer signatures intact.
    pub fn byte_range(&self, data: &[u8]) {
        let [t, s, mode, payload @ ..] = data else {
            return;
        };
        let Some(template) = self
            .templates
            .get(usize::from(*t) % self.templates.len().max(1))
        else {
            return;
        };
        let sig = &template.signatures[usize::from(*s) % template.signatures.len()];
        let pdf = &template.pdf;
        let edited = match mode % 5 {
            0 => {
                let mut r = sig.ranges;
                for (v, d) in r.iter_mut().zip(payload.chunks_exact(2)) {
                    *v += i64::from(i16::from_le_bytes([d[0], d[1]]));
                }
                let text = format!("[{} {} {} {}]", r[0], r[1], r[2], r[3]);
                put(pdf, sig.array.clone(), text.as_bytes(), b' ')
            }
            1 => put(pdf, sig.array.clone(), payload, b' '),
            2 => {
                let room = sig.gap.len().saturating_sub(2);
                let mut gap = format!("<{}", hex::encode(payload));
                while gap.len() <= room {
                    gap.push('0');
                }
                gap.push('>');
                put(pdf, sig.gap.clone(), gap.as_bytes(), b' ')
            }
            3 => put(pdf, sig.gap.clone(), payload, b' '),
            _ => {
                let inner = &pdf[sig.gap.start + 1..sig.gap.end - 1];
                let mut der = hex::decode(inner).expect("template gaps are hex");
                for p in payload.chunks_exact(3) {
                    let at = usize::from(u16::from_le_bytes([p[0], p[1]])) % der.len().max(1);
                    if let Some(b) = der.get_mut(at) {
                        *b ^= p[2];
                    }
                }
                let gap = format!("<{}>", hex::encode(der));
                put(pdf, sig.gap.clone(), gap.as_bytes(), b' ')
            }
        };
        let Ok(report) =
            crate::pades::verify::verify(&edited, verify_trust(), VERIFY_AT, small_limits())
        else {
            return;
        };
        check_report(&edited, &report);
        if mode % 5 < 2 && edited != *pdf {
            assert!(
                intact(&report) < template.intact,
                "an edited /ByteRange {:?} left every signature intact",
                String::from_utf8_lossy(&edited[sig.array.start..sig.array.end.min(edited.len())])
            );
        }
    }
}

fn intact(report: &crate::pades::verify::Report) -> usize {
    report
        .signatures
        .iter()
        .filter(|s| s.integrity == crate::pades::verify::Integrity::Intact)
        .count()
}

/// `pdf` with `range` replaced by `bytes`: written over it (the rest padded with `pad`) if they
/// fit, spliced in otherwise.
fn put(pdf: &[u8], range: std::ops::Range<usize>, bytes: &[u8], pad: u8) -> Vec<u8> {
    let mut out = pdf.to_vec();
    if bytes.len() <= range.len() {
        let mut fill = bytes.to_vec();
        fill.resize(range.len(), pad);
        out[range].copy_from_slice(&fill);
    } else {
        out.splice(range, bytes.iter().copied());
    }
    out
}

/// Each `/ByteRange [a b c d]` whose gap `[b, c)` is a hex string.
fn signature_slots(pdf: &[u8]) -> Vec<SignatureSlots> {
    let mut out = Vec::new();
    for at in memchr::memmem::find_iter(pdf, b"/ByteRange") {
        let rest = &pdf[at + 10..];
        let Some(open) = rest.iter().position(|b| *b == b'[') else {
            continue;
        };
        let Some(close) = rest.iter().position(|b| *b == b']') else {
            continue;
        };
        let numbers: Vec<i64> = String::from_utf8_lossy(&rest[open + 1..close])
            .split_whitespace()
            .filter_map(|n| n.parse().ok())
            .collect();
        let Ok(ranges) = <[i64; 4]>::try_from(numbers) else {
            continue;
        };
        let (Ok(b), Ok(c)) = (usize::try_from(ranges[1]), usize::try_from(ranges[2])) else {
            continue;
        };
        if !(b < c && c <= pdf.len() && pdf[b] == b'<' && pdf[c - 1] == b'>') {
            continue;
        }
        let spaces = rest[close + 1..].iter().take_while(|b| **b == b' ').count();
        out.push(SignatureSlots {
            array: at + 10 + open..at + 10 + close + 1 + spaces,
            ranges,
            gap: b..c,
        });
    }
    out
}
