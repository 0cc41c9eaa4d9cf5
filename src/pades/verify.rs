//! Validation side of PAdES: bytes + trust settings + validation time in, [`Report`] out.
//!
//! Pure: no I/O, no clock, no network (URLs in certificates or the PDF are never fetched,
//! actions and JavaScript are never run). The transparency-log lookup and the entity ids of our
//! own certificates are added afterwards by the service ([`Report`] fields `log` and
//! `signer.entity_id`), so this can run in an isolated worker process.
//!
//! For every signature field and document time-stamp: the signature dictionary's structure, the
//! byte ranges against the revisions found from the cross-reference chain, the CMS (one
//! SignerInfo, digest, signature, ESS binding, algorithms), the certificate path and revocation,
//! the time-stamps, and an object-level diff of the signed revision against the final file
//! ([`diff`]). The AdES-style indication and the integrity verdict are reported side by side;
//! a modification can never leave a `TOTAL_PASSED`.

pub mod crypto;
pub mod diff;
pub mod report;
pub mod trust;

use sha2::{Digest as _, Sha256};
use time::OffsetDateTime;

use crate::cms::ID_DATA;
use crate::pdf::edit::{Editor, FoundField};
use crate::pdf::parser::Parser;
use crate::pdf::revision::{self, Revisions};
use crate::pdf::xref::XrefEntry;
use crate::pdf::{Document, ErrorKind, Limits, ObjRef, Object, PdfError};
pub use report::*;

/// What to trust: anchors (DER CA certificates; non-CA certificates are ignored) and CRLs the
/// caller vouches for as current (the appliance's own CA), on top of what the file carries.
#[derive(Debug, Clone, Default)]
pub struct TrustSettings {
    pub anchors: Vec<Vec<u8>>,
    pub crls: Vec<Vec<u8>>,
}

impl TrustSettings {
    /// Adds every certificate of a PEM bundle; returns how many were CA certificates.
    pub fn add_pem_bundle(&mut self, pem: &[u8]) -> Result<usize, String> {
        let certs = openssl::x509::X509::stack_from_pem(pem).map_err(|e| e.to_string())?;
        let mut added = 0;
        for c in certs {
            let der = c.to_der().map_err(|e| e.to_string())?;
            if trust::is_ca(&der) {
                self.anchors.push(der);
                added += 1;
            }
        }
        Ok(added)
    }
}

/// Most signed fields verified in one document; beyond it the file is refused (each signature
/// hashes up to the whole file).
pub const MAX_SIGNATURES: usize = 100;

/// The file cannot be verified at all (the API's 4xx, the CLI's exit code 3).
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("not a PDF: {0}")]
    NotPdf(String),
    #[error("the PDF is encrypted; signatures in encrypted files are not verified")]
    Encrypted,
    #[error("the PDF cannot be read: {0}")]
    Malformed(PdfError),
    #[error("the PDF is too complex to verify: {0}")]
    TooComplex(String),
}

impl VerifyError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotPdf(_) => "not_a_pdf",
            Self::Encrypted => "encrypted_pdf",
            Self::TooComplex(_) => "document_too_complex",
            Self::Malformed(e) => match e.kind {
                ErrorKind::DecodedTooLarge(_)
                | ErrorKind::TooManyRevisions(_)
                | ErrorKind::TooDeep => "document_too_complex",
                _ => "malformed_pdf",
            },
        }
    }
}

impl From<PdfError> for VerifyError {
    fn from(e: PdfError) -> Self {
        if e.kind == ErrorKind::NotPdf {
            Self::NotPdf(e.to_string())
        } else {
            Self::Malformed(e)
        }
    }
}

pub(crate) fn rfc3339(unix: i64) -> Option<String> {
    OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
}

fn fmt_time(t: OffsetDateTime) -> String {
    rfc3339(t.unix_timestamp()).unwrap_or_default()
}

/// Verifies every signature in `pdf` for validation time `at`.
pub fn verify(
    pdf: &[u8],
    trust: &TrustSettings,
    at: OffsetDateTime,
    limits: Limits,
) -> Result<Report, VerifyError> {
    // The document's own SHA-256 runs on a second core while the signatures are checked: for a
    // large single-signature file the two hashes (the file, and the byte ranges) are the work.
    std::thread::scope(|scope| {
        let whole = scope.spawn(|| hex::encode(Sha256::digest(pdf)));
        let report = verify_inner(pdf, trust, at, limits);
        let sha256 = whole
            .join()
            .unwrap_or_else(|_| hex::encode(Sha256::digest(pdf)));
        report.map(|mut r| {
            r.document.sha256 = sha256;
            r
        })
    })
}

fn verify_inner(
    pdf: &[u8],
    trust: &TrustSettings,
    at: OffsetDateTime,
    limits: Limits,
) -> Result<Report, VerifyError> {
    let doc = Document::open(pdf, limits.clone())?;
    if doc.is_encrypted() {
        return Err(VerifyError::Encrypted);
    }
    let revisions = revision::revisions(pdf, doc.xref())?;
    // The whole page tree and outline tree are walked once: a tree that loops marks a file built
    // to hang readers, and is refused rather than half-verified.
    let mut pages = 0usize;
    doc.walk_pages(&mut |_| {
        pages += 1;
        Ok(true)
    })?;
    check_outlines(&doc)?;
    let fields = Editor::new(&doc).fields()?;
    let ctx = Ctx {
        stores: std::cell::RefCell::new(std::collections::HashMap::new()),
        chains: std::cell::RefCell::new(std::collections::HashMap::new()),
        pdf,
        doc: &doc,
        revisions: &revisions,
        trust,
        at,
        limits,
        evidence: dss_evidence(&doc, trust),
    };
    let signed_fields: Vec<&FoundField> = fields
        .iter()
        .filter(|f| f.dict.name(b"FT") == Some(b"Sig") && f.dict.get(b"V").is_some())
        .collect();
    if signed_fields.len() > MAX_SIGNATURES {
        return Err(VerifyError::TooComplex(format!(
            "{} signed fields; at most {MAX_SIGNATURES} are verified",
            signed_fields.len()
        )));
    }
    let mut signatures: Vec<(SignatureReport, Option<(usize, usize)>)> = Vec::new();
    // A signature dictionary is the value of one field only: another field naming the same
    // dictionary claims a signature it does not have.
    let mut owners: std::collections::HashMap<ObjRef, String> = std::collections::HashMap::new();
    for field in signed_fields {
        if let Some(r) = field.dict.reference(b"V")
            && let Some(owner) = owners.get(&r)
        {
            let mut report = ctx.blank(&field.full_name);
            report.checks.push(Check::failed(
                "signature.dictionary",
                format!("the signature dictionary {r} is already the value of field {owner}"),
            ));
            signatures.push((report, None));
            continue;
        }
        if let Some(r) = field.dict.reference(b"V") {
            owners.insert(r, field.full_name.clone());
        }
        signatures.push(ctx.signature(field));
    }
    // Gaps of different signatures must not overlap.
    for i in 0..signatures.len() {
        for j in 0..signatures.len() {
            if i == j {
                continue;
            }
            if let (Some((b1, c1)), Some((b2, c2))) = (signatures[i].1, signatures[j].1)
                && b1 < c2
                && b2 < c1
            {
                let other = signatures[j].0.field.clone();
                let s = &mut signatures[i].0;
                s.checks.push(Check::failed(
                    "byte_range.overlap",
                    format!("the unsigned gap overlaps the gap of signature {other}"),
                ));
                s.integrity = Integrity::Invalid;
                s.indication = Indication::TOTAL_FAILED;
                s.sub_indication = Some("FORMAT_FAILURE".into());
            }
        }
    }
    let mut signatures: Vec<SignatureReport> = signatures.into_iter().map(|s| s.0).collect();
    signatures.sort_by_key(|s| s.revision.unwrap_or(usize::MAX));
    // The level of each signature from what later revisions added.
    finish_levels(&mut signatures, &ctx);
    let mut checks = Vec::new();
    if revisions.trailing_is_whitespace {
        checks.push(Check::passed(
            "document.trailing_data",
            "nothing but white space follows the last revision",
        ));
    } else {
        let n = pdf.len() - revisions.trailing_from;
        checks.push(Check::failed(
            "document.trailing_data",
            format!(
                "{n} byte(s) after the last revision's %%EOF belong to no revision; viewers may \
                 still read them"
            ),
        ));
        for s in &mut signatures {
            s.modifications.push(Modification {
                revision: revisions.revisions.len(),
                object: None,
                category: "trailing_data".into(),
                level: ChangeLevel::Modification,
                detail: format!("{n} byte(s) appended after the last %%EOF"),
            });
            s.checks.push(Check::failed(
                "changes.after_signing",
                "bytes appended after the last revision",
            ));
            if s.integrity == Integrity::Intact {
                s.integrity = Integrity::Modified;
                s.indication = Indication::TOTAL_FAILED;
                s.sub_indication = Some("SIG_CONSTRAINTS_FAILURE".into());
            }
        }
    }
    let verdict = if signatures.is_empty() {
        Verdict::NoSignatures
    } else if signatures
        .iter()
        .any(|s| s.indication == Indication::TOTAL_FAILED)
    {
        Verdict::Failed
    } else if signatures
        .iter()
        .all(|s| s.indication == Indication::TOTAL_PASSED)
    {
        Verdict::Passed
    } else {
        Verdict::Indeterminate
    };
    let summary = summary(verdict, &signatures);
    Ok(Report {
        verdict,
        summary,
        validation_time: fmt_time(at),
        document: DocumentInfo {
            sha256: String::new(),
            size: pdf.len() as u64,
            revisions: revisions.revisions.len(),
            pages,
        },
        signatures,
        checks,
    })
}

fn summary(verdict: Verdict, sigs: &[SignatureReport]) -> String {
    let n = sigs.len();
    match verdict {
        Verdict::NoSignatures => "The document carries no signature.".into(),
        Verdict::Passed => format!(
            "All {n} signature(s) and time-stamp(s) are intact, trusted and cover what they claim."
        ),
        Verdict::Failed => {
            let bad: Vec<String> = sigs
                .iter()
                .filter(|s| s.indication == Indication::TOTAL_FAILED)
                .map(|s| format!("{} ({:?})", s.field, s.integrity).to_lowercase())
                .collect();
            format!(
                "{} of {n} signature(s) failed: {}.",
                bad.len(),
                bad.join(", ")
            )
        }
        Verdict::Indeterminate => {
            let open: Vec<String> = sigs
                .iter()
                .filter(|s| s.indication != Indication::TOTAL_PASSED)
                .map(|s| {
                    format!(
                        "{} ({})",
                        s.field,
                        s.sub_indication.as_deref().unwrap_or("INDETERMINATE")
                    )
                })
                .collect();
            format!(
                "No signature failed, but {} of {n} could not be confirmed: {}.",
                open.len(),
                open.join(", ")
            )
        }
    }
}

/// Certificates, OCSP responses and CRLs from the DSS (and the caller's CRLs).
fn dss_evidence(doc: &Document<'_>, trust: &TrustSettings) -> trust::Evidence {
    let mut ev = trust::Evidence::default();
    for crl in &trust.crls {
        ev.crls.push((crl.clone(), "appliance_ca"));
    }
    let Ok((_, cat)) = doc.catalog() else {
        return ev;
    };
    let Some(dss) = cat
        .get(b"DSS")
        .and_then(|d| doc.resolve(d).ok())
        .and_then(|d| d.as_dict().cloned())
    else {
        return ev;
    };
    // Certificates, CRLs and OCSP responses are small; a DSS that decodes to more than this is
    // not validation data, and what it holds beyond it is ignored.
    const MAX_DSS_BYTES: usize = 32 << 20;
    let total = std::cell::Cell::new(0usize);
    let streams = |key: &[u8]| -> Vec<Vec<u8>> {
        let Some(arr) = dss.get(key).and_then(|a| doc.resolve(a).ok()) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for o in arr.as_array().unwrap_or_default().iter().take(10_000) {
            if total.get() >= MAX_DSS_BYTES {
                break;
            }
            if let Ok(Object::Stream(s)) = doc.resolve(o)
                && let Ok(d) = doc.decode_stream(&s)
            {
                total.set(total.get() + d.len());
                out.push(d);
            }
        }
        out
    };
    ev.certificates = streams(b"Certs");
    ev.ocsp = streams(b"OCSPs")
        .into_iter()
        .map(|d| (d, "dss_ocsp"))
        .collect();
    ev.crls
        .extend(streams(b"CRLs").into_iter().map(|d| (d, "dss_crl")));
    ev
}

/// Chain and revocation results already computed in this verification, by (certificate, time):
/// a document's signatures and time-stamps often share signers, TSAs and intermediates.
type ChainKey = (Vec<u8>, i64);

struct Ctx<'x, 'a> {
    stores: std::cell::RefCell<
        std::collections::HashMap<i64, std::rc::Rc<openssl::x509::store::X509Store>>,
    >,
    chains: std::cell::RefCell<std::collections::HashMap<ChainKey, std::rc::Rc<trust::Chain>>>,
    pdf: &'a [u8],
    doc: &'x Document<'a>,
    revisions: &'x Revisions,
    trust: &'x TrustSettings,
    at: OffsetDateTime,
    limits: Limits,
    evidence: trust::Evidence,
}

/// What one signature dictionary says, once its structure checked out.
struct Parsed {
    sig_ref: ObjRef,
    kind: SignatureKind,
    sub_filter: String,
    ranges: [usize; 4],
    contents: Vec<u8>,
    claimed: Option<OffsetDateTime>,
}

impl Ctx<'_, '_> {
    /// [`trust::chain`], once per (certificate, time) in a verification.
    fn chain(&self, leaf: &[u8], untrusted: &[Vec<u8>], at: i64) -> std::rc::Rc<trust::Chain> {
        let key = (leaf.to_vec(), at);
        if let Some(c) = self.chains.borrow().get(&key) {
            return c.clone();
        }
        let store = self.stores.borrow().get(&at).cloned();
        let store = match store {
            Some(s) => Some(s),
            None => trust::store(&self.trust.anchors, at).ok().map(|s| {
                let s = std::rc::Rc::new(s);
                self.stores.borrow_mut().insert(at, s.clone());
                s
            }),
        };
        let c = std::rc::Rc::new(match store {
            Some(store) => trust::chain_in(&store, leaf, untrusted, &self.trust.anchors),
            None => trust::chain(leaf, untrusted, &self.trust.anchors, at),
        });
        self.chains.borrow_mut().insert(key, c.clone());
        c
    }

    fn blank(&self, field: &str) -> SignatureReport {
        SignatureReport {
            field: field.to_string(),
            kind: SignatureKind::Signature,
            revision: None,
            signer: None,
            claimed_signing_time: None,
            timestamped_time: None,
            level: None,
            sub_filter: None,
            indication: Indication::TOTAL_FAILED,
            sub_indication: Some("FORMAT_FAILURE".into()),
            integrity: Integrity::Invalid,
            coverage: Coverage::Partial,
            modifications: Vec::new(),
            docmdp: None,
            fieldmdp: None,
            trust: TrustInfo {
                trusted: false,
                anchor: None,
                chain: Vec::new(),
                validated_at: fmt_time(self.at),
                problems: Vec::new(),
            },
            revocation: RevocationInfo {
                status: RevocationStatus::NotChecked,
                certificates: Vec::new(),
            },
            timestamps: Vec::new(),
            log: LogInfo {
                status: LogStatus::NotChecked,
                leaf_index: None,
                receipt: None,
            },
            signature_sha256: None,
            checks: Vec::new(),
        }
    }

    /// Structure of the signature dictionary (check `signature.dictionary`).
    fn parse(&self, field: &FoundField, r: &mut SignatureReport) -> Option<Parsed> {
        let fail = |r: &mut SignatureReport, m: String| {
            r.checks.push(Check::failed("signature.dictionary", m));
            None
        };
        let Some(Object::Reference(sig_ref)) = field.dict.get(b"V").cloned() else {
            return fail(
                r,
                "the field's /V is not an indirect signature dictionary".into(),
            );
        };
        let dict = match self.doc.get(sig_ref) {
            Ok(Object::Dictionary(d)) => d,
            Ok(_) => return fail(r, format!("/V {sig_ref} is not a dictionary")),
            Err(e) => return fail(r, format!("/V {sig_ref} cannot be read: {e}")),
        };
        let sub_filter = match dict.get(b"SubFilter") {
            Some(Object::Name(n)) => String::from_utf8_lossy(n).into_owned(),
            None => return fail(r, "/SubFilter is missing".into()),
            Some(_) => return fail(r, "/SubFilter is not a name".into()),
        };
        r.sub_filter = Some(sub_filter.clone());
        let kind = if sub_filter == "ETSI.RFC3161" || dict.is_type(b"DocTimeStamp") {
            SignatureKind::DocumentTimestamp
        } else {
            SignatureKind::Signature
        };
        r.kind = kind;
        match (sub_filter.as_str(), kind) {
            ("ETSI.CAdES.detached", SignatureKind::Signature)
            | ("ETSI.RFC3161", SignatureKind::DocumentTimestamp) => {
                r.checks.push(Check::passed(
                    "signature.sub_filter",
                    format!("/SubFilter /{sub_filter}"),
                ));
            }
            ("adbe.pkcs7.detached", SignatureKind::Signature) => {
                r.checks.push(Check::warning(
                    "signature.sub_filter",
                    "/SubFilter /adbe.pkcs7.detached: a PKCS#7 signature, not PAdES",
                ));
            }
            ("adbe.pkcs7.sha1", _) => {
                return fail(
                    r,
                    "/SubFilter /adbe.pkcs7.sha1 signs a SHA-1 digest and is not accepted".into(),
                );
            }
            (other, _) => {
                return fail(
                    r,
                    format!("/SubFilter /{other} is not a supported signature format"),
                );
            }
        }
        // /ByteRange and /Contents must be direct (an indirect value can be redefined later
        // without touching the signature dictionary).
        let ranges = match dict
            .0
            .iter()
            .rev()
            .find(|(k, _)| k == b"ByteRange")
            .map(|(_, v)| v)
        {
            None | Some(Object::Null) => return fail(r, "/ByteRange is missing or null".into()),
            Some(Object::Array(a)) => {
                let v: Option<Vec<usize>> = a
                    .iter()
                    .map(|x| match x {
                        Object::Integer(i) => usize::try_from(*i).ok(),
                        _ => None,
                    })
                    .collect();
                match v.as_deref() {
                    Some([0, b, c, d]) => [0, *b, *c, *d],
                    Some([_, _, _, _]) => {
                        return fail(r, "/ByteRange does not start at offset 0".into());
                    }
                    _ => {
                        return fail(r, "/ByteRange is not four non-negative integers".into());
                    }
                }
            }
            Some(Object::Reference(_)) => {
                return fail(
                    r,
                    "/ByteRange is an indirect object; it must be direct".into(),
                );
            }
            Some(_) => return fail(r, "/ByteRange is not an array".into()),
        };
        let contents = match dict
            .0
            .iter()
            .rev()
            .find(|(k, _)| k == b"Contents")
            .map(|(_, v)| v)
        {
            None | Some(Object::Null) => return fail(r, "/Contents is missing or null".into()),
            Some(Object::String { bytes, hex: true }) if !bytes.is_empty() => bytes.clone(),
            Some(Object::String { hex: true, .. }) => return fail(r, "/Contents is empty".into()),
            Some(Object::String { hex: false, .. }) => {
                return fail(
                    r,
                    "/Contents is a literal string; it must be a hex string".into(),
                );
            }
            Some(Object::Reference(_)) => {
                return fail(
                    r,
                    "/Contents is an indirect object; it must be direct".into(),
                );
            }
            Some(_) => return fail(r, "/Contents is not a string".into()),
        };
        let claimed = dict
            .get(b"M")
            .and_then(Object::as_string)
            .and_then(parse_pdf_date);
        r.checks.push(Check::passed(
            "signature.dictionary",
            "direct /ByteRange of four integers from 0, direct hex /Contents",
        ));
        Some(Parsed {
            sig_ref,
            kind,
            sub_filter,
            ranges,
            contents,
            claimed,
        })
    }

    /// Byte ranges against the file and its revisions. Returns the covered revision.
    fn byte_ranges(&self, p: &Parsed, r: &mut SignatureReport) -> Result<usize, ()> {
        let [_, b, c, d] = p.ranges;
        let len = self.pdf.len();
        let fail = |r: &mut SignatureReport, id: &str, m: String| {
            r.checks.push(Check::failed(id, m));
            Err(())
        };
        let Some(end) = c.checked_add(d).filter(|e| *e <= len) else {
            return fail(
                r,
                "byte_range.within_file",
                format!(
                    "/ByteRange {:?} runs past the end of the file ({len} bytes)",
                    p.ranges
                ),
            );
        };
        if b == 0 || b >= c {
            return fail(
                r,
                "byte_range.within_file",
                format!("/ByteRange {:?}: the ranges are not in order", p.ranges),
            );
        }
        r.checks.push(Check::passed(
            "byte_range.within_file",
            format!("{:?} lies inside the file", p.ranges),
        ));
        // The gap is exactly `<hex>`, and that string is this dictionary's /Contents.
        let gap = &self.pdf[b..c];
        let hex_ok = gap.len() >= 2
            && gap[0] == b'<'
            && gap[gap.len() - 1] == b'>'
            && gap[1..gap.len() - 1].iter().all(u8::is_ascii_hexdigit)
            && (gap.len() - 2).is_multiple_of(2);
        if !hex_ok {
            return fail(
                r,
                "byte_range.gap",
                "the unsigned gap is not exactly one hex string".into(),
            );
        }
        let decoded = hex::decode(&gap[1..gap.len() - 1]).unwrap_or_default();
        if decoded != p.contents {
            return fail(
                r,
                "byte_range.gap",
                "the unsigned gap is not this dictionary's /Contents".into(),
            );
        }
        let span = match self.doc.xref().entries.get(&p.sig_ref.num) {
            Some(XrefEntry::InFile { offset, .. }) => object_span(self.pdf, *offset),
            _ => None,
        };
        match span {
            Some((from, to)) if from <= b && c <= to => {}
            Some(_) => {
                return fail(
                    r,
                    "byte_range.gap",
                    "the unsigned gap lies outside the signature dictionary".into(),
                );
            }
            None => {
                return fail(r, "byte_range.gap", "the signature dictionary is not a plain object in the file (object stream or unreadable)".into());
            }
        }
        r.checks.push(Check::passed(
            "byte_range.gap",
            "the gap is exactly this dictionary's hex /Contents",
        ));
        let Some(rev) = self.revisions.ending_at(end) else {
            r.coverage = Coverage::Partial;
            return fail(
                r,
                "byte_range.revision_end",
                format!("the signed bytes end at {end}, which is not the end of any revision"),
            );
        };
        let (from, _) = span.unwrap_or_default();
        if !(rev.start..rev.end).contains(&from) {
            return fail(
                r,
                "byte_range.revision_end",
                "the signature dictionary is not in the revision it signs".into(),
            );
        }
        r.revision = Some(rev.number);
        r.coverage = if rev.number + 1 == self.revisions.revisions.len() {
            Coverage::EntireFile
        } else {
            Coverage::EntireRevision
        };
        r.checks.push(Check::passed(
            "byte_range.revision_end",
            format!(
                "the signature covers revision {} whole (ends at byte {end})",
                rev.number
            ),
        ));
        Ok(rev.number)
    }

    fn digest_ranges(&self, ranges: &[usize; 4], alg: crypto::DigestAlg) -> Vec<u8> {
        let [a, b, c, d] = *ranges;
        let mut h = alg.hasher();
        h.update(&self.pdf[a..a + b]);
        h.update(&self.pdf[c..c + d]);
        h.finish()
    }

    fn signature(&self, field: &FoundField) -> (SignatureReport, Option<(usize, usize)>) {
        let mut r = self.blank(&field.full_name);
        let Some(p) = self.parse(field, &mut r) else {
            return (r, None);
        };
        r.claimed_signing_time = p.claimed.map(fmt_time);
        let gap = Some((p.ranges[1], p.ranges[2]));
        let Ok(rev) = self.byte_ranges(&p, &mut r) else {
            return (r, gap);
        };
        let der = match crypto::strip_padding(&p.contents) {
            Ok(d) => d,
            Err(e) => {
                r.checks
                    .push(Check::failed("cms.structure", format!("/Contents: {e}")));
                return (r, gap);
            }
        };
        r.signature_sha256 = Some(hex::encode(Sha256::digest(der)));
        match p.kind {
            SignatureKind::Signature => self.cms_signature(&p, der, rev, &mut r),
            SignatureKind::DocumentTimestamp => self.document_timestamp(&p, der, rev, &mut r),
        }
        (r, gap)
    }

    fn cms_signature(&self, p: &Parsed, der: &[u8], rev: usize, r: &mut SignatureReport) {
        let cms = match crypto::decode(der) {
            Ok(c) => c,
            Err(e) => {
                r.checks.push(Check::failed(
                    "cms.structure",
                    format!("not a CMS SignedData: {e}"),
                ));
                return;
            }
        };
        let si = match crypto::single_signer(&cms) {
            Ok(si) => si,
            Err(e) => {
                r.checks.push(Check::failed("cms.structure", e));
                return;
            }
        };
        if si.signed_attrs.is_none() {
            r.checks.push(Check::failed(
                "cms.structure",
                "the SignerInfo has no signed attributes",
            ));
            return;
        }
        if cms.signed_data.encap_content_info.econtent.is_some() {
            r.checks.push(Check::failed(
                "cms.structure",
                "the signature is not detached",
            ));
            return;
        }
        r.checks.push(Check::passed(
            "cms.structure",
            "one SignedData with one SignerInfo and signed attributes",
        ));
        let Some(cert) = crypto::find_signer_cert(si, &cms.certificates).map(<[u8]>::to_vec) else {
            r.checks.push(Check::failed(
                "cms.signer_certificate",
                "the signer's certificate is not in the signature",
            ));
            r.sub_indication = Some("NO_SIGNING_CERTIFICATE_FOUND".into());
            return;
        };
        r.signer = Some(signer_info(&cert));
        let Some(alg) = crypto::DigestAlg::from_oid(&si.digest_alg.oid) else {
            r.checks.push(Check::failed(
                "cms.algorithms",
                format!("unknown digest algorithm {}", si.digest_alg.oid),
            ));
            return;
        };
        let digest = self.digest_ranges(&p.ranges, alg);
        let checks = crypto::check_signer(si, &cert, &digest, ID_DATA);
        if r.claimed_signing_time.is_none() {
            r.claimed_signing_time = checks.signing_time.map(fmt_time);
        }
        let mut broken = None;
        match &checks.message_digest {
            Ok(()) => r.checks.push(Check::passed(
                "cms.message_digest",
                format!("the {} digest of the byte ranges matches", alg.name()),
            )),
            Err(e) => {
                r.checks
                    .push(Check::failed("cms.message_digest", e.clone()));
                broken = Some("HASH_FAILURE");
            }
        }
        match &checks.content_type {
            Ok(()) => {}
            Err(e) => {
                r.checks.push(Check::failed("cms.structure", e.clone()));
                broken = broken.or(Some("FORMAT_FAILURE"));
            }
        }
        match &checks.signature {
            Ok(()) => r.checks.push(Check::passed(
                "cms.signature",
                "the signature verifies with the signer certificate's key",
            )),
            Err(e) => {
                r.checks.push(Check::failed("cms.signature", e.clone()));
                broken = broken.or(Some("SIG_CRYPTO_FAILURE"));
            }
        }
        let pades = p.sub_filter == "ETSI.CAdES.detached";
        match &checks.signing_certificate {
            Ok(true) => r.checks.push(Check::passed(
                "cms.signing_certificate",
                "ESS signing-certificate binds the signer certificate",
            )),
            Ok(false) if pades => {
                r.checks.push(Check::failed(
                    "cms.signing_certificate",
                    "PAdES requires an ESS signing-certificate-v2 attribute; it is missing",
                ));
                broken = broken.or(Some("FORMAT_FAILURE"));
            }
            Ok(false) => r.checks.push(Check::warning(
                "cms.signing_certificate",
                "no ESS signing-certificate attribute binds the signer certificate",
            )),
            Err(e) => {
                r.checks
                    .push(Check::failed("cms.signing_certificate", e.clone()));
                broken = broken.or(Some("NO_SIGNING_CERTIFICATE_FOUND"));
            }
        }
        if checks.weak.is_empty() {
            r.checks.push(Check::passed(
                "cms.algorithms",
                format!("{} and a key of adequate strength", alg.name()),
            ));
        } else {
            r.checks.push(Check::failed(
                "cms.algorithms",
                format!("weak: {}", checks.weak.join(", ")),
            ));
        }
        // Signature time-stamps: imprint over this SignerInfo's signature value.
        let mut ts_time = None;
        let mut ts_broken = false;
        let mut ts_untrusted = false;
        let sig_value = si.signature.as_bytes().to_vec();
        let tokens = crypto::signature_timestamps(si);
        for token in &tokens {
            let t = crypto::check_token(token, &|alg| alg.digest(&sig_value));
            let info = self.timestamp_info("signature", &t);
            if !info.imprint_matches || !info.signature_valid {
                ts_broken = true;
                r.checks.push(Check::failed(
                    "timestamp.signature",
                    if info.imprint_matches {
                        format!(
                            "the signature time-stamp's own signature is invalid: {}",
                            info.problems.join("; ")
                        )
                    } else {
                        "the signature time-stamp was made for other data (copied or forged)".into()
                    },
                ));
            } else if !info.trusted {
                ts_untrusted = true;
                r.checks.push(Check::warning(
                    "timestamp.signature",
                    format!(
                        "the signature time-stamp is intact but its TSA is not trusted: {}",
                        info.problems.join("; ")
                    ),
                ));
            } else {
                r.checks.push(Check::passed(
                    "timestamp.signature",
                    format!("time-stamped at {}", info.time.clone().unwrap_or_default()),
                ));
                if ts_time.is_none() {
                    ts_time = t.time;
                }
            }
            r.timestamps.push(info);
        }
        if tokens.len() > 1 {
            r.checks.push(Check::warning(
                "timestamp.signature",
                format!("{} signature time-stamps", tokens.len()),
            ));
        }
        r.timestamped_time = ts_time.map(fmt_time);
        // Trust at the best signature time.
        let best = ts_time.unwrap_or(self.at);
        let mut untrusted = cms.certificates.clone();
        untrusted.extend(self.evidence.certificates.iter().cloned());
        let chain = trust::chain(
            &cert,
            &untrusted,
            &self.trust.anchors,
            best.unix_timestamp(),
        );
        r.trust = TrustInfo {
            trusted: chain.trusted,
            anchor: chain
                .trusted
                .then(|| chain.certificates.last().map(|c| trust::subject(c)))
                .flatten(),
            chain: chain
                .certificates
                .iter()
                .map(|c| trust::subject(c))
                .collect(),
            validated_at: fmt_time(best),
            problems: chain.problems.clone(),
        };
        let ku_problem = signer_key_usage(&cert);
        if let Some(k) = &ku_problem {
            r.trust.problems.push(k.clone());
        }
        if chain.trusted && ku_problem.is_none() {
            r.checks.push(Check::passed(
                "trust.chain",
                format!("chains to {}", r.trust.anchor.clone().unwrap_or_default()),
            ));
        } else {
            r.checks
                .push(Check::failed("trust.chain", r.trust.problems.join("; ")));
        }
        // Revocation of the chain.
        let mut evidence_crls = self.evidence.crls.clone();
        evidence_crls.extend(cms.crls.iter().map(|c| (c.clone(), "cms_crl")));
        let ev = trust::Evidence {
            certificates: untrusted.clone(),
            ocsp: self.evidence.ocsp.clone(),
            crls: evidence_crls,
        };
        let mut revoked_before = false;
        if chain.trusted {
            let statuses = trust::revocation(
                &chain.certificates,
                &ev,
                &self.trust.anchors,
                best.unix_timestamp(),
            );
            let mut worst = RevocationStatus::Good;
            for (s, when) in &statuses {
                match s.status {
                    RevocationStatus::Revoked => {
                        worst = RevocationStatus::Revoked;
                        if when.is_none_or(|w| w <= best.unix_timestamp()) {
                            revoked_before = true;
                        }
                    }
                    RevocationStatus::Unknown if worst != RevocationStatus::Revoked => {
                        worst = RevocationStatus::Unknown
                    }
                    _ => {}
                }
            }
            r.revocation = RevocationInfo {
                status: worst,
                certificates: statuses.into_iter().map(|s| s.0).collect(),
            };
            match worst {
                RevocationStatus::Good => r.checks.push(Check::passed(
                    "trust.revocation",
                    "no certificate of the chain is revoked",
                )),
                RevocationStatus::Revoked if revoked_before => r.checks.push(Check::failed(
                    "trust.revocation",
                    "a certificate of the chain was revoked before the signature time",
                )),
                RevocationStatus::Revoked => r.checks.push(Check::warning(
                    "trust.revocation",
                    "a certificate of the chain was revoked after the time-stamped signature time",
                )),
                _ => r.checks.push(Check::warning(
                    "trust.revocation",
                    "no revocation information covers every certificate of the chain",
                )),
            }
        }
        // Changes after signing.
        self.changes(p, rev, r);
        // DocMDP / FieldMDP declared by this signature.
        self.mdp_info(p, r);
        // Level (refined later by what follows).
        r.level = Some(if !pades || checks.signing_certificate != Ok(true) {
            "CMS".into()
        } else if ts_time.is_some() {
            "PAdES-BASELINE-T".into()
        } else {
            "PAdES-BASELINE-B".into()
        });
        // Indication.
        let (indication, sub) = if let Some(b) = broken {
            r.integrity = Integrity::Invalid;
            (Indication::TOTAL_FAILED, Some(b))
        } else if ts_broken {
            r.integrity = Integrity::Invalid;
            (Indication::TOTAL_FAILED, Some("HASH_FAILURE"))
        } else if r.integrity == Integrity::Invalid {
            (Indication::TOTAL_FAILED, Some("FORMAT_FAILURE"))
        } else if r.integrity == Integrity::Modified {
            (Indication::TOTAL_FAILED, Some("SIG_CONSTRAINTS_FAILURE"))
        } else if revoked_before {
            (Indication::TOTAL_FAILED, Some("REVOKED"))
        } else if !chain.trusted {
            (
                Indication::INDETERMINATE,
                Some(chain.failure.unwrap_or("NO_CERTIFICATE_CHAIN_FOUND")),
            )
        } else if ku_problem.is_some() {
            (Indication::INDETERMINATE, Some("CHAIN_CONSTRAINTS_FAILURE"))
        } else if !checks.weak.is_empty() {
            (
                Indication::INDETERMINATE,
                Some("CRYPTO_CONSTRAINTS_FAILURE_NO_POE"),
            )
        } else if ts_untrusted {
            (
                Indication::INDETERMINATE,
                Some("NO_CERTIFICATE_CHAIN_FOUND"),
            )
        } else if r.revocation.status != RevocationStatus::Good
            && r.revocation.status != RevocationStatus::Revoked
        {
            (Indication::INDETERMINATE, Some("TRY_LATER"))
        } else if r
            .checks
            .iter()
            .any(|c| c.id == "changes.overlaps_content" && c.status == CheckStatus::Warning)
        {
            (Indication::INDETERMINATE, Some("SIG_CONSTRAINTS_FAILURE"))
        } else {
            (Indication::TOTAL_PASSED, None)
        };
        r.indication = indication;
        r.sub_indication = sub.map(str::to_string);
    }

    fn timestamp_info(&self, kind: &str, t: &crypto::TokenCheck) -> TimestampInfo {
        let mut problems = t.problems.clone();
        if let Err(e) = &t.signature {
            problems.push(e.clone());
        }
        let at = t.time.unwrap_or(self.at).unix_timestamp();
        let trusted = match &t.tsa_cert {
            Some(cert) => {
                let mut untrusted = t.certificates.clone();
                untrusted.extend(self.evidence.certificates.iter().cloned());
                let c = self.chain(cert, &untrusted, at);
                problems.extend(c.problems.iter().cloned());
                c.trusted
            }
            None => false,
        };
        TimestampInfo {
            kind: kind.into(),
            time: t.time.map(fmt_time),
            tsa: t.tsa_cert.as_deref().map(trust::subject),
            imprint_matches: t.imprint_matches,
            signature_valid: t.signature.is_ok(),
            trusted,
            problems,
        }
    }

    fn document_timestamp(&self, p: &Parsed, der: &[u8], rev: usize, r: &mut SignatureReport) {
        r.level = Some("RFC3161".into());
        let t = crypto::check_token(der, &|alg| self.digest_ranges(&p.ranges, alg));
        let info = self.timestamp_info("document", &t);
        let ok = info.imprint_matches && info.signature_valid;
        if let Some(cert) = &t.tsa_cert {
            r.signer = Some(signer_info(cert));
        }
        r.timestamped_time = info.time.clone();
        if ok {
            r.checks.push(Check::passed(
                "timestamp.document",
                "the document time-stamp covers exactly its byte ranges",
            ));
        } else {
            r.checks.push(Check::failed(
                "timestamp.document",
                if info.imprint_matches {
                    format!(
                        "the time-stamp token is invalid: {}",
                        info.problems.join("; ")
                    )
                } else {
                    "the document time-stamp's imprint does not match its byte ranges".into()
                },
            ));
        }
        if info.trusted {
            r.checks.push(Check::passed(
                "trust.chain",
                "the TSA chains to a trust anchor",
            ));
        } else {
            r.checks.push(Check::failed(
                "trust.chain",
                format!("the TSA is not trusted: {}", info.problems.join("; ")),
            ));
        }
        r.trust = TrustInfo {
            trusted: info.trusted,
            anchor: None,
            chain: info.tsa.iter().cloned().collect(),
            validated_at: info.time.clone().unwrap_or_else(|| fmt_time(self.at)),
            problems: info.problems.clone(),
        };
        let trusted = info.trusted;
        r.timestamps.push(info);
        self.changes(p, rev, r);
        let (indication, sub) = if !ok {
            r.integrity = Integrity::Invalid;
            (Indication::TOTAL_FAILED, Some("HASH_FAILURE"))
        } else if r.integrity == Integrity::Invalid {
            (Indication::TOTAL_FAILED, Some("FORMAT_FAILURE"))
        } else if r.integrity == Integrity::Modified {
            (Indication::TOTAL_FAILED, Some("SIG_CONSTRAINTS_FAILURE"))
        } else if !trusted {
            (
                Indication::INDETERMINATE,
                Some("NO_CERTIFICATE_CHAIN_FOUND"),
            )
        } else if r
            .checks
            .iter()
            .any(|c| c.id == "changes.overlaps_content" && c.status == CheckStatus::Warning)
        {
            (Indication::INDETERMINATE, Some("SIG_CONSTRAINTS_FAILURE"))
        } else {
            (Indication::TOTAL_PASSED, None)
        };
        r.indication = indication;
        r.sub_indication = sub.map(str::to_string);
    }

    /// The certification (DocMDP) in effect and FieldMDP locks declared up to revision `rev`.
    fn constraints(&self, upto: usize) -> (Option<u8>, Vec<(String, Vec<String>)>) {
        let mut docmdp = None;
        let mut locks = Vec::new();
        let Ok(fields) = Editor::new(self.doc).fields() else {
            return (None, locks);
        };
        for f in fields.iter().filter(|f| f.dict.name(b"FT") == Some(b"Sig")) {
            let Some(Object::Dictionary(sig)) =
                f.dict.reference(b"V").and_then(|r| self.doc.get(r).ok())
            else {
                continue;
            };
            let Some([_, _, c, d]) = sig
                .get(b"ByteRange")
                .and_then(Object::as_array)
                .and_then(|a| {
                    a.iter()
                        .map(|x| x.as_i64().and_then(|x| usize::try_from(x).ok()))
                        .collect::<Option<Vec<_>>>()
                })
                .and_then(|v| <[usize; 4]>::try_from(v).ok())
            else {
                continue;
            };
            let Some(rev) = c.checked_add(d).and_then(|e| self.revisions.ending_at(e)) else {
                continue;
            };
            if rev.number > upto {
                continue;
            }
            let (p, lock) = self.references(&sig);
            if p.is_some() {
                docmdp = p;
            }
            if let Some(l) = lock {
                locks.push(l);
            }
        }
        (docmdp, locks)
    }

    /// (DocMDP P, FieldMDP (action, fields)) declared by a signature dictionary's /Reference.
    fn references(
        &self,
        sig: &crate::pdf::Dictionary,
    ) -> (Option<u8>, Option<(String, Vec<String>)>) {
        let mut p = None;
        let mut lock = None;
        let refs = sig
            .get(b"Reference")
            .and_then(|r| self.doc.resolve(r).ok())
            .and_then(|r| r.as_array().map(<[Object]>::to_vec))
            .unwrap_or_default();
        for rd in refs.iter().take(16) {
            let Some(rd) = self.doc.resolve(rd).ok().and_then(|o| o.as_dict().cloned()) else {
                continue;
            };
            let params = rd
                .get(b"TransformParams")
                .and_then(|t| self.doc.resolve(t).ok())
                .and_then(|t| t.as_dict().cloned())
                .unwrap_or_default();
            match rd.name(b"TransformMethod") {
                Some(b"DocMDP") => {
                    p = Some(
                        params
                            .integer(b"P")
                            .and_then(|v| u8::try_from(v).ok())
                            .filter(|v| (1..=3).contains(v))
                            .unwrap_or(2),
                    );
                }
                Some(b"FieldMDP") => {
                    let action = params
                        .name(b"Action")
                        .map(|a| String::from_utf8_lossy(a).into_owned())
                        .unwrap_or_else(|| "All".into());
                    let fields = params
                        .get(b"Fields")
                        .and_then(|f| self.doc.resolve(f).ok())
                        .and_then(|f| f.as_array().map(<[Object]>::to_vec))
                        .unwrap_or_default()
                        .iter()
                        .filter_map(|f| f.as_string().map(crate::pdf::object::decode_text))
                        .collect();
                    lock = Some((action, fields));
                }
                _ => {}
            }
        }
        (p, lock)
    }

    fn mdp_info(&self, p: &Parsed, r: &mut SignatureReport) {
        let Ok(Object::Dictionary(sig)) = self.doc.get(p.sig_ref) else {
            return;
        };
        let (own_p, lock) = self.references(&sig);
        let (in_effect, _) = self.constraints(r.revision.unwrap_or(0));
        r.docmdp = own_p
            .map(|p| DocMdpInfo {
                permissions: p,
                certifying: true,
            })
            .or(in_effect.map(|p| DocMdpInfo {
                permissions: p,
                certifying: false,
            }));
        r.fieldmdp = lock.map(|(action, fields)| FieldMdpInfo { action, fields });
    }

    fn changes(&self, p: &Parsed, rev: usize, r: &mut SignatureReport) {
        if rev + 1 == self.revisions.revisions.len() {
            r.integrity = if r.checks.iter().any(|c| {
                c.status == CheckStatus::Failed
                    && c.id.starts_with("cms.")
                    && c.id != "cms.algorithms"
            }) {
                Integrity::Invalid
            } else {
                Integrity::Intact
            };
            r.checks.push(Check::passed(
                "changes.after_signing",
                "nothing follows the signed revision",
            ));
            return;
        }
        let revision = &self.revisions.revisions[rev];
        let view = match Document::open_revision(
            &self.pdf[..revision.end],
            revision.startxref,
            self.limits.clone(),
        ) {
            Ok(v) => v,
            Err(e) => {
                r.integrity = Integrity::Invalid;
                r.checks.push(Check::failed(
                    "changes.after_signing",
                    format!("the signed revision cannot be read on its own: {e}"),
                ));
                return;
            }
        };
        let (docmdp, locks) = self.constraints(rev);
        let locked = |name: &str| {
            locks.iter().any(|(action, fields)| match action.as_str() {
                "All" => true,
                "Include" => fields.iter().any(|f| f == name),
                "Exclude" => !fields.iter().any(|f| f == name),
                _ => true,
            })
        };
        let input = diff::Input {
            data: self.pdf,
            signed: &view,
            last: self.doc,
            revisions: self.revisions,
            signed_revision: rev,
            signature: p.sig_ref,
            docmdp,
            locked: &locked,
        };
        match diff::analyse(&input) {
            Ok(outcome) => {
                let modified = outcome.modified();
                let permitted: Vec<&Modification> = outcome
                    .changes
                    .iter()
                    .filter(|c| c.level == ChangeLevel::Permitted)
                    .collect();
                if outcome.signature_redefined {
                    r.integrity = Integrity::Invalid;
                    r.checks.push(Check::failed("changes.signature_dictionary", "a later revision redefines this signature's dictionary (reason, time, name or values)"));
                } else {
                    r.integrity = if modified {
                        Integrity::Modified
                    } else {
                        Integrity::Intact
                    };
                    r.checks.push(Check::passed(
                        "changes.signature_dictionary",
                        "the signature dictionary is as signed",
                    ));
                }
                if modified {
                    let first: Vec<String> = outcome
                        .changes
                        .iter()
                        .filter(|c| c.level == ChangeLevel::Modification)
                        .take(3)
                        .map(|c| c.detail.clone())
                        .collect();
                    r.checks.push(Check::failed(
                        "changes.after_signing",
                        format!(
                            "the document was modified after signing: {}",
                            first.join("; ")
                        ),
                    ));
                } else {
                    r.checks.push(Check::passed("changes.after_signing", "later revisions only add permitted content (signatures, time-stamps, validation data)"));
                }
                if !permitted.is_empty() {
                    let what: Vec<String> = permitted
                        .iter()
                        .filter(|c| c.category != "overlaps_content")
                        .take(3)
                        .map(|c| c.detail.clone())
                        .collect();
                    if !what.is_empty() {
                        r.checks.push(Check::warning(
                            "changes.permitted",
                            format!(
                                "changes the signer's permissions allow: {}",
                                what.join("; ")
                            ),
                        ));
                    }
                }
                if outcome.overlaps_content {
                    let what: Vec<String> = permitted
                        .iter()
                        .filter(|c| c.category == "overlaps_content")
                        .take(3)
                        .map(|c| c.detail.clone())
                        .collect();
                    r.checks.push(Check::warning(
                        "changes.overlaps_content",
                        format!(
                            "content added after signing covers signed text: {}",
                            what.join("; ")
                        ),
                    ));
                }
                r.modifications = outcome.changes;
            }
            Err(e) => {
                r.integrity = Integrity::Modified;
                r.checks.push(Check::failed(
                    "changes.after_signing",
                    format!("later revisions cannot be compared with the signed one: {e}"),
                ));
            }
        }
    }
}

fn finish_levels(sigs: &mut [SignatureReport], ctx: &Ctx<'_, '_>) {
    let has_revocation_data =
        !ctx.evidence.ocsp.is_empty() || ctx.evidence.crls.iter().any(|(_, s)| *s == "dss_crl");
    let doc_ts: Vec<usize> = sigs
        .iter()
        .filter(|s| {
            s.kind == SignatureKind::DocumentTimestamp && s.indication != Indication::TOTAL_FAILED
        })
        .filter_map(|s| s.revision)
        .collect();
    for s in sigs.iter_mut() {
        if s.level.as_deref() != Some("PAdES-BASELINE-T") {
            continue;
        }
        let Some(rev) = s.revision else { continue };
        if has_revocation_data && rev + 1 < ctx.revisions.revisions.len() {
            s.level = Some(if doc_ts.iter().any(|t| *t > rev) {
                "PAdES-BASELINE-LTA".into()
            } else {
                "PAdES-BASELINE-LT".into()
            });
        }
    }
}

/// Walks the outline tree (`/First`, `/Next`) with a visited set: a loop is an error.
fn check_outlines(doc: &Document<'_>) -> Result<(), PdfError> {
    const MAX_OUTLINE_ITEMS: usize = 200_000;
    let (_, catalog) = doc.catalog()?;
    let Some(root) = catalog.reference(b"Outlines") else {
        return Ok(());
    };
    let mut seen = std::collections::HashSet::new();
    let mut stack = vec![root];
    while let Some(r) = stack.pop() {
        if !seen.insert(r) {
            return Err(PdfError::new(0, ErrorKind::ReferenceLoop(r)));
        }
        if seen.len() > MAX_OUTLINE_ITEMS {
            return Err(PdfError::new(
                0,
                ErrorKind::Structure(format!("more than {MAX_OUTLINE_ITEMS} outline items")),
            ));
        }
        if let Object::Dictionary(d) = doc.get(r)? {
            for key in [&b"First"[..], b"Next"] {
                if let Some(next) = d.reference(key) {
                    stack.push(next);
                }
            }
        }
    }
    Ok(())
}

/// Where the indirect object at `offset` starts and ends (past `endobj`).
fn object_span(data: &[u8], offset: usize) -> Option<(usize, usize)> {
    let mut p = Parser::new(data, offset);
    p.indirect_header().ok()?;
    p.object().ok()?;
    if !p.eat_keyword(b"endobj") {
        return None;
    }
    Some((offset, p.pos()))
}

fn signer_info(cert: &[u8]) -> SignerInfo {
    let (serial, nb, na) = match x509_parser::parse_x509_certificate(cert) {
        Ok((_, c)) => (
            hex::encode_upper(c.raw_serial()),
            rfc3339(c.validity().not_before.timestamp()).unwrap_or_default(),
            rfc3339(c.validity().not_after.timestamp()).unwrap_or_default(),
        ),
        Err(_) => Default::default(),
    };
    SignerInfo {
        subject: trust::subject(cert),
        issuer: trust::issuer(cert),
        serial,
        entity_id: None,
        certificate_sha256: hex::encode(Sha256::digest(cert)),
        not_before: nb,
        not_after: na,
    }
}

/// The signer certificate must allow digital signatures or non-repudiation if it restricts
/// key usage at all.
fn signer_key_usage(cert: &[u8]) -> Option<String> {
    let (_, c) = x509_parser::parse_x509_certificate(cert).ok()?;
    let ku = c.key_usage().ok().flatten()?;
    if ku.value.digital_signature() || ku.value.non_repudiation() {
        None
    } else {
        Some(
            "the signer certificate's key usage allows neither digitalSignature nor nonRepudiation"
                .into(),
        )
    }
}

/// A PDF date (§7.9.4) `D:YYYYMMDDHHmmSSOHH'mm'`, any prefix from the year on.
pub fn parse_pdf_date(s: &[u8]) -> Option<OffsetDateTime> {
    let s = std::str::from_utf8(s).ok()?;
    let s = s.strip_prefix("D:").unwrap_or(s);
    let num = |from: usize, len: usize, default: u32| -> Option<u32> {
        match s.get(from..from + len) {
            Some(t) if t.bytes().all(|b| b.is_ascii_digit()) => t.parse().ok(),
            Some(_) => None,
            None => Some(default),
        }
    };
    let year = i32::try_from(num(0, 4, 0)?).ok()?;
    let month = time::Month::try_from(u8::try_from(num(4, 2, 1)?).ok()?).ok()?;
    let day = u8::try_from(num(6, 2, 1)?).ok()?;
    let hour = u8::try_from(num(8, 2, 0)?).ok()?;
    let minute = u8::try_from(num(10, 2, 0)?).ok()?;
    let second = u8::try_from(num(12, 2, 0)?).ok()?;
    let date = time::Date::from_calendar_date(year, month, day).ok()?;
    let t = time::Time::from_hms(hour, minute, second).ok()?;
    let mut offset = 0i32;
    if let Some(sign) = s.as_bytes().get(14) {
        let oh = num(15, 2, 0).unwrap_or(0) as i32;
        let om = s
            .get(18..20)
            .and_then(|m| m.parse::<i32>().ok())
            .unwrap_or(0);
        offset = match sign {
            b'+' => oh * 3600 + om * 60,
            b'-' => -(oh * 3600 + om * 60),
            _ => 0,
        };
    }
    let off = time::UtcOffset::from_whole_seconds(offset).ok()?;
    Some(time::PrimitiveDateTime::new(date, t).assume_offset(off))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn pdf_dates_with_and_without_offsets() {
        let t = parse_pdf_date(b"D:20261122083000+08'00'").unwrap();
        assert_eq!(fmt_time(t), "2026-11-22T00:30:00Z");
        let t = parse_pdf_date(b"D:2026").unwrap();
        assert_eq!(fmt_time(t), "2026-01-01T00:00:00Z");
        assert!(parse_pdf_date(b"D:2026x1").is_none());
        assert!(parse_pdf_date(b"D:20261399").is_none());
    }

    #[test]
    fn unsigned_file_has_no_signatures_and_garbage_is_unusable() {
        let pdf = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\nxref\n0 3\n0000000000 65535 f\r\n0000000009 00000 n\r\n0000000058 00000 n\r\ntrailer\n<< /Size 3 /Root 1 0 R >>\nstartxref\n110\n%%EOF\n";
        let at = OffsetDateTime::UNIX_EPOCH;
        let r = verify(pdf, &TrustSettings::default(), at, Limits::default()).unwrap();
        assert_eq!(r.verdict, Verdict::NoSignatures);
        assert_eq!(r.document.revisions, 1);
        assert_eq!(r.document.sha256, hex::encode(Sha256::digest(pdf)));
        let e = verify(b"hello", &TrustSettings::default(), at, Limits::default()).unwrap_err();
        assert_eq!(e.code(), "not_a_pdf");
        let e = verify(&pdf[..60], &TrustSettings::default(), at, Limits::default()).unwrap_err();
        assert_eq!(e.code(), "malformed_pdf");
    }

    /// `n` signature fields whose /V is one shared signature dictionary.
    fn shared_value(n: usize) -> Vec<u8> {
        let mut objects =
            vec![
            "<< /Type /Catalog /Pages 2 0 R /AcroForm 3 0 R >>".to_string(),
            "<< /Type /Pages /Kids [] /Count 0 >>".to_string(),
            format!(
                "<< /Fields [{}] >>",
                (0..n).map(|i| format!("{} 0 R", 5 + i)).collect::<Vec<_>>().join(" ")
            ),
            "<< /Type /Sig /SubFilter /ETSI.CAdES.detached /ByteRange [0 1 2 3] /Contents <00> >>"
                .to_string(),
        ];
        objects.extend((0..n).map(|i| format!("<< /FT /Sig /T (s{i}) /V 4 0 R >>")));
        let mut pdf = b"%PDF-1.7\n".to_vec();
        let mut offsets = Vec::new();
        for (i, body) in objects.iter().enumerate() {
            offsets.push(pdf.len());
            pdf.extend_from_slice(format!("{} 0 obj\n{body}\nendobj\n", i + 1).as_bytes());
        }
        let xref = pdf.len();
        pdf.extend_from_slice(
            format!("xref\n0 {}\n0000000000 65535 f\r\n", offsets.len() + 1).as_bytes(),
        );
        for o in offsets {
            pdf.extend_from_slice(format!("{o:010} 00000 n\r\n").as_bytes());
        }
        pdf.extend_from_slice(
            format!(
                "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
                objects.len() + 1
            )
            .as_bytes(),
        );
        pdf
    }

    #[test]
    fn one_signature_dictionary_serves_one_field_and_signatures_are_capped() {
        let at = OffsetDateTime::UNIX_EPOCH;
        let r = verify(
            &shared_value(3),
            &TrustSettings::default(),
            at,
            Limits::default(),
        )
        .unwrap();
        assert_eq!(r.signatures.len(), 3);
        assert!(
            r.signatures
                .iter()
                .all(|s| s.integrity == Integrity::Invalid)
        );
        let shared = r
            .signatures
            .iter()
            .filter(|s| {
                s.checks
                    .iter()
                    .any(|c| c.message.contains("already the value"))
            })
            .count();
        assert_eq!(shared, 2);
        let e = verify(
            &shared_value(MAX_SIGNATURES + 1),
            &TrustSettings::default(),
            at,
            Limits::default(),
        )
        .unwrap_err();
        assert_eq!(e.code(), "document_too_complex");
    }

    #[test]
    fn contents_padding_must_be_zeros() {
        let der = [0x30, 0x03, 0x02, 0x01, 0x05];
        let mut padded = der.to_vec();
        padded.extend_from_slice(&[0; 8]);
        assert_eq!(crypto::strip_padding(&padded).unwrap(), &der);
        padded.push(1);
        assert!(crypto::strip_padding(&padded).is_err());
        assert!(crypto::strip_padding(&[0x30, 0x10, 0x00]).is_err());
    }

    #[test]
    fn only_ca_certificates_become_anchors() {
        let key = openssl::ec::EcKey::generate(
            &openssl::ec::EcGroup::from_curve_name(openssl::nid::Nid::X9_62_PRIME256V1).unwrap(),
        )
        .unwrap();
        let key = openssl::pkey::PKey::from_ec_key(key).unwrap();
        let cert = |ca: bool| {
            let mut name = openssl::x509::X509NameBuilder::new().unwrap();
            name.append_entry_by_text("CN", "self").unwrap();
            let name = name.build();
            let mut b = openssl::x509::X509Builder::new().unwrap();
            b.set_version(2).unwrap();
            b.set_subject_name(&name).unwrap();
            b.set_issuer_name(&name).unwrap();
            b.set_pubkey(&key).unwrap();
            b.set_not_before(&openssl::asn1::Asn1Time::days_from_now(0).unwrap())
                .unwrap();
            b.set_not_after(&openssl::asn1::Asn1Time::days_from_now(1).unwrap())
                .unwrap();
            let mut bc = openssl::x509::extension::BasicConstraints::new();
            if ca {
                bc.ca();
            }
            b.append_extension(bc.build().unwrap()).unwrap();
            b.sign(&key, openssl::hash::MessageDigest::sha256())
                .unwrap();
            b.build().to_pem().unwrap()
        };
        let mut t = TrustSettings::default();
        assert_eq!(t.add_pem_bundle(&cert(false)).unwrap(), 0);
        assert_eq!(t.add_pem_bundle(&cert(true)).unwrap(), 1);
    }
}
