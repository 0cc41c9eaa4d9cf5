//! PAdES signing (ETSI EN 319 142-1): baseline levels B-B, B-T, B-LT and B-LTA over the `pdf`
//! mechanism, with CMS from `cms`, keys through `keys::Signer` and time-stamps and revocation
//! data from a [`TrustServices`] the caller supplies.
//!
//! The pipeline: read only what the update needs → one incremental update with the signature
//! field, widget(s) with appearance, and a signature dictionary whose `/Contents` placeholder is
//! sized from the actual CMS (and time-stamp) sizes → SHA-256 over the byte ranges → CMS
//! `SignedData` (content-type, message-digest, ESS signing-certificate-v2; no signing-time: `/M`
//! carries the claimed time) → B-T signature time-stamp → B-LT a DSS update → B-LTA a document
//! time-stamp update → a self-check of the result before it leaves.

pub mod appearance;
pub mod placement;
pub mod verify;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::cms::{CmsError, SignedDataBuilder};
use crate::keys::{KeyAlgorithm, KeyError, Signer};
use crate::pdf::edit::{Editor, Widget};
use crate::pdf::font::Font;
use crate::pdf::text::{self, TextLimits};
use crate::pdf::{Dictionary, Document, Limits, ObjRef, Object, Page, PdfError};
use placement::View;

/// The PAdES baseline level to produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Level {
    #[serde(rename = "B-B")]
    BB,
    #[serde(rename = "B-T")]
    BT,
    #[serde(rename = "B-LT")]
    BLT,
    #[serde(rename = "B-LTA")]
    BLTA,
}

impl Level {
    pub const ALL: [Level; 4] = [Level::BB, Level::BT, Level::BLT, Level::BLTA];

    pub fn as_str(self) -> &'static str {
        match self {
            Level::BB => "B-B",
            Level::BT => "B-T",
            Level::BLT => "B-LT",
            Level::BLTA => "B-LTA",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.as_str() == s)
    }

    fn timestamped(self) -> bool {
        self != Level::BB
    }
}

/// DocMDP permissions of a certification signature (ISO 32000-1 §12.8.2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DocMdp {
    /// No changes at all.
    P1,
    /// Form filling and signing.
    P2,
    /// Also annotations.
    P3,
}

impl DocMdp {
    fn value(self) -> i64 {
        match self {
            DocMdp::P1 => 1,
            DocMdp::P2 => 2,
            DocMdp::P3 => 3,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldKind {
    Seal,
    Signature,
    Date,
}

impl FieldKind {
    /// Default size in points (width, height).
    pub fn default_size(self) -> (f64, f64) {
        match self {
            FieldKind::Seal => (119.0, 119.0),
            FieldKind::Signature => (119.0, 43.0),
            FieldKind::Date => (119.0, 20.0),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Relative {
    #[default]
    Middle,
    Below,
    Right,
    LowerRight,
    UpperRight,
}

/// Which occurrence(s) of a keyword.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Occurrence {
    #[default]
    First,
    Nth(u32),
    All,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Placement {
    Coordinates {
        /// 1-based; negative counts from the last page (-1 is the last).
        page: i64,
        x: f64,
        y: f64,
        width: Option<f64>,
        height: Option<f64>,
    },
    Keyword {
        text: String,
        occurrence: Occurrence,
        page: Option<i64>,
        relative: Relative,
        offset_x: f64,
        offset_y: f64,
        width: Option<f64>,
        height: Option<f64>,
    },
    Field {
        name: String,
    },
    Invisible,
}

/// One visible element of the signature.
#[derive(Debug, Clone)]
pub struct FieldSpec {
    pub kind: FieldKind,
    pub placement: Placement,
    pub image: Option<Vec<u8>>,
    pub text: Option<String>,
}

#[derive(Debug, Clone)]
pub struct SignOptions {
    pub level: Level,
    /// Empty: an invisible signature.
    pub fields: Vec<FieldSpec>,
    pub reason: Option<String>,
    pub location: Option<String>,
    pub certify: Option<DocMdp>,
    /// The claimed signing time (`/M`, the date field).
    pub time: OffsetDateTime,
}

/// The signer: a key in the key store and its certificate chain.
pub struct Signing<'k> {
    pub signer: &'k dyn Signer,
    pub certificate: &'k [u8],
    /// Issuer first, up to and including the root.
    pub chain: &'k [Vec<u8>],
    /// Shown in `signature` fields without text.
    pub display_name: &'k str,
    /// RSA keys sign with RSASSA-PSS instead of PKCS#1 v1.5 (server policy).
    pub rsa_pss: bool,
}

impl Signing<'_> {
    fn uses_pss(&self) -> bool {
        self.rsa_pss
            && matches!(
                self.signer.algorithm(),
                KeyAlgorithm::Rsa2048 | KeyAlgorithm::Rsa3072
            )
    }
}

/// Certificates, OCSP responses and CRLs for a DSS (ETSI EN 319 142-1 §5.4.2).
#[derive(Debug, Clone, Default)]
pub struct ValidationData {
    pub certificates: Vec<Vec<u8>>,
    pub ocsp_responses: Vec<Vec<u8>>,
    pub crls: Vec<Vec<u8>>,
}

/// Time-stamps and revocation data. Implementations may do I/O (an external TSA); they are
/// called from a blocking thread.
pub trait TrustServices {
    /// An RFC 3161 `TimeStampToken` (DER `ContentInfo`) over a SHA-256 `digest`.
    fn timestamp(&self, digest: &[u8; 32]) -> Result<Vec<u8>, PadesError>;
    /// Everything needed to validate `certificates` (DER, leaf first) offline.
    fn validation_data(&self, certificates: &[Vec<u8>]) -> Result<ValidationData, PadesError>;
    /// The time-stamping authority's certificate chain (leaf first), for the DSS.
    fn timestamp_chain(&self) -> Vec<Vec<u8>>;
}

/// What the server fixes and requests cannot override.
#[derive(Debug, Clone)]
pub struct Policy {
    pub allowed_levels: Vec<Level>,
    pub max_fields: usize,
    pub limits: Limits,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            allowed_levels: Level::ALL.to_vec(),
            max_fields: 20,
            limits: Limits::default(),
        }
    }
}

/// The result: updates to append to the input, in order (the input is a prefix of the output).
#[derive(Debug, Clone)]
pub struct SignedPdf {
    pub updates: Vec<Vec<u8>>,
    /// The CMS `SignedData` of the approval/certification signature.
    pub cms: Vec<u8>,
    pub field_name: String,
    pub sha256_before: [u8; 32],
    pub sha256_after: [u8; 32],
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PadesError {
    #[error("not a PDF: {0}")]
    NotPdf(PdfError),
    #[error("the PDF is damaged or truncated: {0}")]
    Malformed(PdfError),
    #[error("the PDF is encrypted; decrypt it before signing")]
    Encrypted,
    #[error("the document is certified with DocMDP P=1 (no changes allowed)")]
    CertifiedNoChanges,
    #[error("a certification signature must be the first signature; the document already has {0}")]
    CertificationNotFirst(usize),
    #[error("level {0} is not allowed by this server's policy")]
    LevelNotAllowed(&'static str),
    #[error("page {page} does not exist; the document has {pages} pages")]
    PageOutOfRange { page: i64, pages: usize },
    #[error(
        "rectangle x={x} y={y} w={w} h={h} is outside page {page}, whose visible size is {pw} x {ph} pt"
    )]
    RectOutsidePage {
        page: usize,
        x: f64,
        y: f64,
        w: f64,
        h: f64,
        pw: f64,
        ph: f64,
    },
    #[error("keyword {keyword:?} not found (pages searched: {pages})")]
    KeywordNotFound { keyword: String, pages: String },
    #[error("field {0:?}: {1}")]
    Field(String, &'static str),
    #[error(
        "the document is certified: sign into an existing empty signature field (placement `field`) or invisibly; a new visible field would invalidate the certification"
    )]
    CertifiedDocumentField,
    #[error("invalid field request: {0}")]
    InvalidRequest(String),
    #[error("seal image: {0}")]
    Image(crate::pdf::image::ImageError),
    #[error("text: {detail}")]
    Text { detail: String },
    #[error("time-stamp authority: {0}")]
    Timestamp(String),
    #[error("revocation data: {0}")]
    Revocation(String),
    #[error("CMS: {0}")]
    Cms(#[from] CmsError),
    #[error("key: {0}")]
    Key(#[from] KeyError),
    #[error("self-check of the signed output failed: {0}")]
    SelfCheck(String),
}

/// Most widgets (visible placements) one signature may have.
pub const MAX_WIDGETS: usize = 50;

/// Slack added to the measured signature size: DER length fields can grow by a byte or two per
/// level when the time-stamp is added, and ECDSA signatures vary by a few bytes.
const CONTENTS_SLACK: usize = 256;

/// The largest time-stamp token seen so far (they vary only by a few bytes per TSA), used to size
/// placeholders before the token exists; a token that does not fit triggers one re-signing.
static TOKEN_SIZE_HINT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
const TOKEN_SIZE_DEFAULT: usize = 6 * 1024;

fn token_hint() -> usize {
    match TOKEN_SIZE_HINT.load(std::sync::atomic::Ordering::Relaxed) {
        0 => TOKEN_SIZE_DEFAULT,
        n => n,
    }
}

fn note_token(len: usize) {
    TOKEN_SIZE_HINT.fetch_max(len, std::sync::atomic::Ordering::Relaxed);
}

/// Signs `pdf`.
pub fn sign(
    pdf: &[u8],
    options: &SignOptions,
    signing: &Signing<'_>,
    services: &dyn TrustServices,
    font: Option<&Font>,
    policy: &Policy,
) -> Result<SignedPdf, PadesError> {
    if !policy.allowed_levels.contains(&options.level) {
        return Err(PadesError::LevelNotAllowed(options.level.as_str()));
    }
    if options.fields.len() > policy.max_fields {
        return Err(PadesError::InvalidRequest(format!(
            "at most {} fields per signature",
            policy.max_fields
        )));
    }
    let doc = Document::open(pdf, policy.limits.clone()).map_err(|e| match e.kind {
        crate::pdf::ErrorKind::NotPdf => PadesError::NotPdf(e),
        _ => PadesError::Malformed(e),
    })?;
    if doc.is_encrypted() {
        return Err(PadesError::Encrypted);
    }
    let input = HashedInput::new(pdf);
    let mut reserve = None;
    // At most one retry: the first attempt measures, a second one (rare) uses the exact size.
    for _ in 0..2 {
        match sign_once(&doc, options, signing, services, font, reserve, &input)? {
            Attempt::Done(signed) => return Ok(signed),
            Attempt::TooSmall(needed) => reserve = Some(needed + CONTENTS_SLACK),
        }
    }
    Err(PadesError::SelfCheck(
        "signature did not fit its placeholder twice".into(),
    ))
}

enum Attempt {
    Done(SignedPdf),
    TooSmall(usize),
}

fn sign_once(
    doc: &Document<'_>,
    options: &SignOptions,
    signing: &Signing<'_>,
    services: &dyn TrustServices,
    font: Option<&Font>,
    reserve: Option<usize>,
    input: &HashedInput,
) -> Result<Attempt, PadesError> {
    let pdf = doc.bytes();
    let malformed = PadesError::Malformed;
    let mut editor = Editor::new(doc);
    let existing = editor.fields().map_err(malformed)?;
    let signed_count = existing
        .iter()
        .filter(|f| f.dict.name(b"FT") == Some(b"Sig") && f.dict.get(b"V").is_some())
        .count();
    let certified = check_docmdp(&editor)?;
    if options.certify.is_some() && signed_count > 0 {
        return Err(PadesError::CertificationNotFirst(signed_count));
    }

    // The signature dictionary, with placeholders at the end of its body.
    let sig_ref = editor.allocate();
    let mut sig = Dictionary::new()
        .with(b"Type", Object::name("Sig"))
        .with(b"Filter", Object::name("Adobe.PPKLite"))
        .with(b"SubFilter", Object::name("ETSI.CAdES.detached"))
        .with(b"M", Object::literal(pdf_date(options.time).into_bytes()));
    if let Some(reason) = &options.reason {
        sig.set(b"Reason", Object::text(reason));
    }
    if let Some(location) = &options.location {
        sig.set(b"Location", Object::text(location));
    }
    if let Some(p) = options.certify {
        sig.set(
            b"Reference",
            Object::Array(vec![Object::Dictionary(
                Dictionary::new()
                    .with(b"Type", Object::name("SigRef"))
                    .with(b"TransformMethod", Object::name("DocMDP"))
                    .with(
                        b"TransformParams",
                        Object::Dictionary(
                            Dictionary::new()
                                .with(b"Type", Object::name("TransformParams"))
                                .with(b"P", Object::Integer(p.value()))
                                .with(b"V", Object::name("1.2")),
                        ),
                    ),
            )]),
        );
    }

    let field_name = place_fields(
        &mut editor,
        options,
        signing,
        font,
        sig_ref,
        &existing,
        certified,
    )?;
    if options.certify.is_some() {
        let (root, mut catalog) = editor.catalog().map_err(malformed)?;
        catalog.set(
            b"Perms",
            Object::Dictionary(Dictionary::new().with(b"DocMDP", Object::Reference(sig_ref))),
        );
        editor.set(root, Object::Dictionary(catalog));
    }

    let cms_len = match reserve {
        Some(n) => n,
        None => {
            estimate_cms_len(signing)?
                + if options.level.timestamped() {
                    token_hint()
                } else {
                    0
                }
                + CONTENTS_SLACK
        }
    };
    let placeholder = Placeholder::write(&mut editor, sig_ref, &sig, cms_len);
    let written = editor.commit();
    let mut update = written.bytes;
    let body_start = written.offsets.get(&sig_ref.num).copied().unwrap_or(0);
    let ranges = placeholder.fix(&mut update, pdf.len(), body_start)?;
    let digest = digest_ranges(&[pdf, &update], &ranges, input);

    let timestamp = |signature: &[u8]| -> Result<Vec<u8>, CmsError> {
        let imprint: [u8; 32] = Sha256::digest(signature).into();
        let token = services
            .timestamp(&imprint)
            .map_err(|e| CmsError::Timestamp(e.to_string()))?;
        note_token(token.len());
        Ok(token)
    };
    let mut builder = SignedDataBuilder::new(signing.signer, signing.certificate)?
        .with_certificate(signing.certificate)?;
    for c in signing.chain {
        builder = builder.with_certificate(c)?;
    }
    if signing.uses_pss() {
        builder = builder.with_rsa_pss();
    }
    if options.level.timestamped() {
        builder = builder.with_signature_timestamp(&timestamp);
    }
    let cms = builder.sign_detached(&digest).map_err(|e| match e {
        CmsError::Timestamp(t) => PadesError::Timestamp(t),
        other => PadesError::Cms(other),
    })?;
    if cms.len() > cms_len {
        return Ok(Attempt::TooSmall(cms.len()));
    }
    placeholder.fill(&mut update, pdf.len(), body_start, &cms);
    let revision_end = pdf.len() + update.len();
    let mut updates = vec![update];
    let mut checks = vec![Check {
        field: field_name.clone(),
        ranges,
        revision_end,
        kind: CheckKind::Cms {
            spki: signing.signer.spki_der().to_vec(),
            algorithm: signing.signer.algorithm(),
            pss: signing.uses_pss(),
        },
    }];

    if matches!(options.level, Level::BLT | Level::BLTA) {
        let mut certs = vec![signing.certificate.to_vec()];
        certs.extend(signing.chain.iter().cloned());
        let tsa_chain = services.timestamp_chain();
        let mut data = services.validation_data(&certs)?;
        let tsa_data = services.validation_data(&tsa_chain)?;
        merge(&mut data, tsa_data);
        for c in certs.into_iter().chain(tsa_chain) {
            if !data.certificates.contains(&c) {
                data.certificates.push(c);
            }
        }
        write_dss(&mut editor, &data)?;
        updates.push(editor.commit().bytes);
    }
    if options.level == Level::BLTA {
        let base_len = pdf.len() + updates.iter().map(Vec::len).sum::<usize>();
        let ts_ref = editor.allocate();
        let ts = Dictionary::new()
            .with(b"Type", Object::name("DocTimeStamp"))
            .with(b"Filter", Object::name("Adobe.PPKLite"))
            .with(b"SubFilter", Object::name("ETSI.RFC3161"));
        let page = doc.page(0).map_err(malformed)?;
        let name = unique_name(&existing, "DocTimeStamp", &[&field_name]);
        editor
            .add_signature_field(
                &name,
                ts_ref,
                &[Widget {
                    page: page.reference,
                    rect: [0.0; 4],
                    appearance: None,
                }],
            )
            .map_err(malformed)?;
        let token_len = token_hint() + CONTENTS_SLACK;
        let placeholder = Placeholder::write(&mut editor, ts_ref, &ts, token_len);
        let written = editor.commit();
        let mut update = written.bytes;
        let body_start = written.offsets.get(&ts_ref.num).copied().unwrap_or(0);
        let ranges = placeholder.fix(&mut update, base_len, body_start)?;
        let mut parts: Vec<&[u8]> = vec![pdf];
        parts.extend(updates.iter().map(Vec::as_slice));
        parts.push(&update);
        let digest = digest_ranges(&parts, &ranges, input);
        let token = services.timestamp(&digest)?;
        note_token(token.len());
        if token.len() > token_len {
            // Re-sign from the start: the signature keeps its size (`cms.len()`), and the
            // document time-stamp placeholder grows because `note_token` raised the hint.
            return Ok(Attempt::TooSmall(cms.len()));
        }
        placeholder.fill(&mut update, base_len, body_start, &token);
        let revision_end = base_len + update.len();
        updates.push(update);
        checks.push(Check {
            field: name,
            ranges,
            revision_end,
            kind: CheckKind::DocTimestamp,
        });
    }

    let mut parts: Vec<&[u8]> = vec![pdf];
    parts.extend(updates.iter().map(Vec::as_slice));
    self_check(&parts, &checks, input)?;
    check_structure(doc, &parts, &checks)?;
    let mut after = input.state.clone();
    for p in &updates {
        after.update(p);
    }
    Ok(Attempt::Done(SignedPdf {
        sha256_before: input.state.clone().finalize().into(),
        sha256_after: after.finalize().into(),
        updates,
        cms,
        field_name,
    }))
}

/// Whether the document is certified (DocMDP); refuses P=1 (§12.8.2.2: no changes at all).
fn check_docmdp(editor: &Editor<'_, '_>) -> Result<bool, PadesError> {
    let (_, catalog) = editor.catalog().map_err(PadesError::Malformed)?;
    let Some(perms) = catalog.get(b"Perms") else {
        return Ok(false);
    };
    let perms = editor.resolve(perms).map_err(PadesError::Malformed)?;
    let Some(sig) = perms.as_dict().and_then(|d| d.get(b"DocMDP")) else {
        return Ok(false);
    };
    let sig = editor.resolve(sig).map_err(PadesError::Malformed)?;
    let refs = match sig.as_dict().and_then(|d| d.get(b"Reference")) {
        Some(r) => editor.resolve(r).map_err(PadesError::Malformed)?,
        None => return Ok(true),
    };
    for item in refs.as_array().unwrap_or_default() {
        let item = editor.resolve(item).map_err(PadesError::Malformed)?;
        let Some(d) = item.as_dict() else { continue };
        if d.name(b"TransformMethod") != Some(b"DocMDP") {
            continue;
        }
        let params = match d.get(b"TransformParams") {
            Some(p) => editor.resolve(p).map_err(PadesError::Malformed)?,
            None => Object::Null,
        };
        // §12.8.2.2.2: P defaults to 2.
        let p = params.as_dict().and_then(|p| p.integer(b"P")).unwrap_or(2);
        if p == 1 {
            return Err(PadesError::CertifiedNoChanges);
        }
    }
    Ok(true)
}

fn unique_name(existing: &[crate::pdf::edit::FoundField], stem: &str, taken: &[&str]) -> String {
    (1..)
        .map(|i| format!("{stem}{i}"))
        .find(|n| !existing.iter().any(|f| &f.full_name == n) && !taken.contains(&n.as_str()))
        .unwrap_or_else(|| stem.to_string())
}

/// Resolves placements, writes appearances and the field; returns the field's name.
fn place_fields(
    editor: &mut Editor<'_, '_>,
    options: &SignOptions,
    signing: &Signing<'_>,
    font: Option<&Font>,
    sig_ref: ObjRef,
    existing: &[crate::pdf::edit::FoundField],
    certified: bool,
) -> Result<String, PadesError> {
    let malformed = PadesError::Malformed;
    let doc = editor.doc();
    let pages = doc.page_count().map_err(malformed)?;

    // An existing empty signature field takes the signature; others are refused with it.
    if let Some(spec) = options
        .fields
        .iter()
        .find(|f| matches!(f.placement, Placement::Field { .. }))
    {
        let Placement::Field { name } = &spec.placement else {
            unreachable!("filtered above")
        };
        if options.fields.len() > 1 {
            return Err(PadesError::InvalidRequest(
                "a `field` placement signs an existing field and cannot be combined with other fields".into(),
            ));
        }
        let field = existing
            .iter()
            .find(|f| &f.full_name == name)
            .ok_or(PadesError::Field(
                name.clone(),
                "no such field in the document",
            ))?;
        if field.dict.name(b"FT") != Some(b"Sig") {
            return Err(PadesError::Field(name.clone(), "is not a signature field"));
        }
        if field.dict.get(b"V").is_some() {
            return Err(PadesError::Field(name.clone(), "is already signed"));
        }
        if field.dict.get(b"Lock").is_some() {
            // A /Lock asks the signature to lock fields (FieldMDP, §12.7.4.5); signing without
            // honouring it would break what the document's author set up.
            return Err(PadesError::Field(
                name.clone(),
                "has a /Lock (FieldMDP) dictionary, which this appliance does not apply yet",
            ));
        }
        let mut field_dict = field.dict.clone();
        field_dict.set(b"V", Object::Reference(sig_ref));
        let image = spec
            .image
            .as_deref()
            .map(appearance::load_image)
            .transpose()?;
        for (wr, wd) in &field.widgets {
            let rect = wd
                .get(b"Rect")
                .and_then(crate::pdf::document::rect)
                .unwrap_or([0.0; 4]);
            let page_ref = wd.reference(b"P");
            let view = match page_ref {
                Some(p) => match doc.page_index_of(p).map_err(malformed)? {
                    Some(i) => View::of(&doc.page(i).map_err(malformed)?),
                    None => View::of(&doc.page(0).map_err(malformed)?),
                },
                None => View::of(&doc.page(0).map_err(malformed)?),
            };
            let (_, _, w, h) = view.rect_to_view(rect);
            let mut wd = if wr == &field.reference {
                field_dict.clone()
            } else {
                wd.clone()
            };
            if w > 0.0 && h > 0.0 {
                let text = field_text(spec, signing, options);
                let content = match &image {
                    Some(img) => appearance::Content::Image(img),
                    None => appearance::Content::Text(&text),
                };
                let written = appearance::prepare(editor, &content, font)?;
                let ap = appearance::write(editor, &written, w, h, view.appearance_matrix());
                wd.set(
                    b"AP",
                    Object::Dictionary(Dictionary::new().with(b"N", Object::Reference(ap))),
                );
            }
            if wr == &field.reference {
                field_dict = wd;
            } else {
                editor.set(*wr, Object::Dictionary(wd));
            }
        }
        editor.set(field.reference, Object::Dictionary(field_dict));
        // The AcroForm must say signatures exist.
        if let Some((acro_ref, mut acroform)) = editor.acroform().map_err(malformed)? {
            acroform.set(b"SigFlags", Object::Integer(3));
            match acro_ref {
                Some(r) => editor.set(r, Object::Dictionary(acroform)),
                None => {
                    let (root, mut catalog) = editor.catalog().map_err(malformed)?;
                    catalog.set(b"AcroForm", Object::Dictionary(acroform));
                    editor.set(root, Object::Dictionary(catalog));
                }
            }
        }
        return Ok(name.clone());
    }

    let mut widgets = Vec::new();
    for spec in &options.fields {
        if spec.placement == Placement::Invisible {
            continue;
        }
        // A certified document allows signing into prepared fields, not new visible ones: a
        // new widget annotation is a change validators (pyHanko, Acrobat) hold against the
        // certification, which would break the certifier's signature.
        if certified {
            return Err(PadesError::CertifiedDocumentField);
        }
        let image = match (spec.kind, &spec.image) {
            (_, Some(bytes)) if spec.kind != FieldKind::Date => {
                Some(appearance::load_image(bytes)?)
            }
            (FieldKind::Seal, None) => {
                return Err(PadesError::InvalidRequest(
                    "a seal field needs an image".into(),
                ));
            }
            _ => None,
        };
        let (default_w, default_h) = spec.kind.default_size();
        let spots = resolve_placement(doc, &spec.placement, pages, default_w, default_h)?;
        if widgets.len() + spots.len() > MAX_WIDGETS {
            return Err(PadesError::InvalidRequest(format!(
                "a signature has at most {MAX_WIDGETS} widgets"
            )));
        }
        // The image or font is written once, whatever the number of widgets showing it.
        let mut written = None;
        for Spot { page, x, y, w, h } in spots {
            let view = View::of(&page);
            if !view.contains(x, y, w, h) {
                let (pw, ph) = view.size();
                return Err(PadesError::RectOutsidePage {
                    page: page.index + 1,
                    x,
                    y,
                    w,
                    h,
                    pw,
                    ph,
                });
            }
            if written.is_none() {
                let text = field_text(spec, signing, options);
                let content = match &image {
                    Some(img) => appearance::Content::Image(img),
                    None => appearance::Content::Text(&text),
                };
                written = Some(appearance::prepare(editor, &content, font)?);
            }
            let Some(content) = &written else {
                unreachable!("prepared above")
            };
            let ap = appearance::write(editor, content, w, h, view.appearance_matrix());
            widgets.push(Widget {
                page: page.reference,
                rect: view.rect_to_user(x, y, w, h),
                appearance: Some(ap),
            });
        }
    }
    if widgets.is_empty() {
        // Invisible: a zero-size widget on the first page (§12.7.4.5).
        let page = doc.page(0).map_err(malformed)?;
        widgets.push(Widget {
            page: page.reference,
            rect: [0.0; 4],
            appearance: None,
        });
    }
    let name = unique_name(existing, "Signature", &[]);
    editor
        .add_signature_field(&name, sig_ref, &widgets)
        .map_err(malformed)?;
    Ok(name)
}

fn field_text(spec: &FieldSpec, signing: &Signing<'_>, options: &SignOptions) -> String {
    match (spec.kind, &spec.text) {
        (FieldKind::Date, _) => format!(
            "{:04}-{:02}-{:02}",
            options.time.year(),
            u8::from(options.time.month()),
            options.time.day()
        ),
        (_, Some(t)) => t.clone(),
        (_, None) => signing.display_name.to_string(),
    }
}

fn page_index(page: i64, pages: usize) -> Result<usize, PadesError> {
    let out = PadesError::PageOutOfRange { page, pages };
    let n = i64::try_from(pages).map_err(|_| PadesError::PageOutOfRange { page, pages })?;
    let idx = if page > 0 { page - 1 } else { n + page };
    if page == 0 || idx < 0 || idx >= n {
        return Err(out);
    }
    Ok(idx as usize)
}

/// A rectangle in a page's view coordinates.
struct Spot {
    page: Page,
    x: f64,
    y: f64,
    w: f64,
    h: f64,
}

/// Resolves a placement to view rectangles.
fn resolve_placement(
    doc: &Document<'_>,
    placement: &Placement,
    pages: usize,
    default_w: f64,
    default_h: f64,
) -> Result<Vec<Spot>, PadesError> {
    let malformed = PadesError::Malformed;
    match placement {
        Placement::Coordinates {
            page,
            x,
            y,
            width,
            height,
        } => {
            let p = doc.page(page_index(*page, pages)?).map_err(malformed)?;
            Ok(vec![Spot {
                page: p,
                x: *x,
                y: *y,
                w: width.unwrap_or(default_w),
                h: height.unwrap_or(default_h),
            }])
        }
        Placement::Keyword {
            text: keyword,
            occurrence,
            page,
            relative,
            offset_x,
            offset_y,
            width,
            height,
        } => {
            if keyword.trim().is_empty() {
                return Err(PadesError::InvalidRequest("keyword text is empty".into()));
            }
            let (w, h) = (width.unwrap_or(default_w), height.unwrap_or(default_h));
            let only = page.map(|p| page_index(p, pages)).transpose()?;
            let limits = TextLimits::default();
            let mut hits = Vec::new();
            let wanted = match occurrence {
                Occurrence::First => 1,
                Occurrence::Nth(n) => *n as usize,
                Occurrence::All => MAX_WIDGETS + 1,
            };
            let mut search = |p: Page| -> Result<bool, PdfError> {
                for b in text::find_text(doc, &p, keyword, &limits)? {
                    hits.push((p.clone(), b));
                }
                Ok(hits.len() < wanted)
            };
            match only {
                // One page: descend to it directly.
                Some(index) => {
                    let p = doc.page(index).map_err(malformed)?;
                    search(p).map_err(malformed)?;
                }
                // All pages: one walk of the page tree.
                None => doc.walk_pages(&mut search).map_err(malformed)?,
            }
            if matches!(occurrence, Occurrence::All) && hits.len() > MAX_WIDGETS {
                return Err(PadesError::InvalidRequest(format!(
                    "keyword {keyword:?} occurs more than {MAX_WIDGETS} times; a signature has at most {MAX_WIDGETS} widgets"
                )));
            }
            let chosen: Vec<(Page, [f64; 4])> = match occurrence {
                Occurrence::First => hits.into_iter().take(1).collect(),
                Occurrence::Nth(n) => hits
                    .into_iter()
                    .nth((*n as usize).saturating_sub(1))
                    .into_iter()
                    .collect(),
                Occurrence::All => hits,
            };
            if chosen.is_empty() {
                let pages = match page {
                    Some(p) => format!("{p}"),
                    None => format!("1-{pages}"),
                };
                return Err(PadesError::KeywordNotFound {
                    keyword: keyword.clone(),
                    pages,
                });
            }
            Ok(chosen
                .into_iter()
                .map(|(p, b)| {
                    let view = View::of(&p);
                    let (kx, ky, kw, kh) = view.rect_to_view(b);
                    let (x, y) = match relative {
                        Relative::Middle => (kx + kw / 2.0 - w / 2.0, ky + kh / 2.0 - h / 2.0),
                        Relative::Below => (kx, ky - h),
                        Relative::Right => (kx + kw, ky + kh / 2.0 - h / 2.0),
                        Relative::LowerRight => (kx + kw, ky - h),
                        Relative::UpperRight => (kx + kw, ky + kh),
                    };
                    Spot {
                        page: p,
                        x: x + offset_x,
                        y: y + offset_y,
                        w,
                        h,
                    }
                })
                .collect())
        }
        Placement::Field { .. } | Placement::Invisible => Ok(Vec::new()),
    }
}

/// An upper bound of the CMS size: the real structure with a signature of maximal length.
fn estimate_cms_len(signing: &Signing<'_>) -> Result<usize, PadesError> {
    struct MaxLen<'s>(&'s dyn Signer, usize);
    impl Signer for MaxLen<'_> {
        fn algorithm(&self) -> KeyAlgorithm {
            self.0.algorithm()
        }
        fn spki_der(&self) -> &[u8] {
            self.0.spki_der()
        }
        fn sign(&self, _: &[u8]) -> Result<Vec<u8>, KeyError> {
            Ok(vec![0x55; self.1])
        }
        fn sign_rsa_pss(&self, _: &[u8]) -> Result<Vec<u8>, KeyError> {
            Ok(vec![0x55; self.1])
        }
    }
    let max_sig = match signing.signer.algorithm() {
        // DER Ecdsa-Sig-Value with two 33-byte INTEGERs.
        KeyAlgorithm::EcdsaP256 => 72,
        KeyAlgorithm::Ed25519 => 64,
        KeyAlgorithm::Rsa2048 | KeyAlgorithm::Rsa3072 => {
            crate::keys::public_key_from_spki(signing.signer.spki_der(), signing.signer.algorithm())
                .map(|k| k.size())
                .unwrap_or(512)
        }
    };
    let sizing = MaxLen(signing.signer, max_sig);
    let mut builder = SignedDataBuilder::new(&sizing, signing.certificate)?
        .with_certificate(signing.certificate)?;
    for c in signing.chain {
        builder = builder.with_certificate(c)?;
    }
    Ok(builder.sign_detached(&[0u8; 32])?.len())
}

/// `/ByteRange` and `/Contents` placeholders at the end of a signature dictionary's body.
struct Placeholder {
    /// Body offsets of the `[` of `/ByteRange` and the `<` of `/Contents`.
    byte_range_at: usize,
    contents_at: usize,
    contents_len: usize,
}

const BYTE_RANGE_WIDTH: usize = 4 * 11 + 2;

impl Placeholder {
    fn write(editor: &mut Editor<'_, '_>, r: ObjRef, dict: &Dictionary, cms_len: usize) -> Self {
        let mut body = Vec::new();
        crate::pdf::object::write_dictionary(&mut body, dict);
        body.truncate(body.len() - 2);
        body.extend_from_slice(b"/ByteRange ");
        let byte_range_at = body.len();
        body.extend_from_slice(&[b' '; BYTE_RANGE_WIDTH]);
        body.extend_from_slice(b"/Contents ");
        let contents_at = body.len();
        body.push(b'<');
        body.extend(std::iter::repeat_n(b'0', cms_len * 2));
        body.push(b'>');
        body.extend_from_slice(b">>");
        editor.set_raw(r, body);
        Self {
            byte_range_at,
            contents_at,
            contents_len: cms_len * 2 + 2,
        }
    }

    /// Writes the `/ByteRange` for an update starting at file offset `base_len` whose signature
    /// object body starts at `body_start`; returns the ranges.
    fn fix(
        &self,
        update: &mut [u8],
        base_len: usize,
        body_start: usize,
    ) -> Result<[usize; 4], PadesError> {
        let total = base_len + update.len();
        let gap_start = body_start + self.contents_at;
        let gap_end = gap_start + self.contents_len;
        let ranges = [0, gap_start, gap_end, total - gap_end];
        let text = format!("[{} {} {} {}]", ranges[0], ranges[1], ranges[2], ranges[3]);
        if text.len() > BYTE_RANGE_WIDTH {
            return Err(PadesError::SelfCheck("byte range does not fit".into()));
        }
        let at = body_start + self.byte_range_at - base_len;
        update[at..at + text.len()].copy_from_slice(text.as_bytes());
        Ok(ranges)
    }

    fn fill(&self, update: &mut [u8], base_len: usize, body_start: usize, value: &[u8]) {
        let at = body_start + self.contents_at - base_len + 1;
        let hex = hex::encode_upper(value);
        update[at..at + hex.len()].copy_from_slice(hex.as_bytes());
    }
}

/// SHA-256 state after the whole input: every digest we compute (byte ranges, the document
/// before and after, the self-check) starts with the input bytes, so they are hashed once —
/// for a large scan that one pass is nearly all the work.
#[derive(Clone)]
struct HashedInput {
    state: Sha256,
    len: usize,
}

impl HashedInput {
    fn new(pdf: &[u8]) -> Self {
        let mut state = Sha256::new();
        state.update(pdf);
        Self {
            state,
            len: pdf.len(),
        }
    }
}

/// SHA-256 over `[a, a+b) ∪ [c, c+d)` of the concatenation of `parts` (whose first part is the
/// input), without concatenating; starts from `input`'s state when the first range covers it.
fn digest_ranges(parts: &[&[u8]], ranges: &[usize; 4], input: &HashedInput) -> [u8; 32] {
    let (mut hasher, first_from) = if ranges[0] == 0 && ranges[1] >= input.len {
        (input.state.clone(), input.len)
    } else {
        (Sha256::new(), ranges[0])
    };
    for_each_slice(parts, first_from, ranges[0] + ranges[1], |s| {
        hasher.update(s)
    });
    for_each_slice(parts, ranges[2], ranges[2] + ranges[3], |s| {
        hasher.update(s)
    });
    hasher.finalize().into()
}

fn for_each_slice(parts: &[&[u8]], start: usize, end: usize, mut f: impl FnMut(&[u8])) {
    let mut offset = 0;
    for p in parts {
        let (p_start, p_end) = (offset, offset + p.len());
        let (s, e) = (start.max(p_start), end.min(p_end));
        if s < e {
            f(&p[s - p_start..e - p_start]);
        }
        offset = p_end;
    }
}

fn copy_range(parts: &[&[u8]], start: usize, end: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(end.saturating_sub(start));
    for_each_slice(parts, start, end, |s| out.extend_from_slice(s));
    out
}

fn merge(into: &mut ValidationData, from: ValidationData) {
    for (dst, src) in [
        (&mut into.certificates, from.certificates),
        (&mut into.ocsp_responses, from.ocsp_responses),
        (&mut into.crls, from.crls),
    ] {
        for item in src {
            if !dst.contains(&item) {
                dst.push(item);
            }
        }
    }
}

/// Adds validation data to the document security store (ETSI EN 319 142-1 §5.4.2.2), merging
/// with an existing DSS.
fn write_dss(editor: &mut Editor<'_, '_>, data: &ValidationData) -> Result<(), PadesError> {
    let malformed = PadesError::Malformed;
    let (root, mut catalog) = editor.catalog().map_err(malformed)?;
    let mut dss = match catalog.get(b"DSS") {
        Some(o) => editor
            .resolve(o)
            .map_err(malformed)?
            .as_dict()
            .cloned()
            .unwrap_or_default(),
        None => Dictionary::new(),
    };
    for (key, items) in [
        (&b"Certs"[..], &data.certificates),
        (b"OCSPs", &data.ocsp_responses),
        (b"CRLs", &data.crls),
    ] {
        let mut refs = match dss.get(key) {
            Some(o) => editor
                .resolve(o)
                .map_err(malformed)?
                .as_array()
                .unwrap_or_default()
                .to_vec(),
            None => Vec::new(),
        };
        for item in items {
            let r = editor.allocate();
            editor.set_stream(r, Dictionary::new(), item);
            refs.push(Object::Reference(r));
        }
        if !refs.is_empty() {
            dss.set(key, Object::Array(refs));
        }
    }
    let dss_ref = editor.allocate();
    editor.set(dss_ref, Object::Dictionary(dss));
    catalog.set(b"DSS", Object::Reference(dss_ref));
    editor.set(root, Object::Dictionary(catalog));
    Ok(())
}

struct Check {
    /// The signature field, found again in the output by name.
    field: String,
    ranges: [usize; 4],
    /// End of the revision the signature was made for: its byte range must reach exactly there.
    revision_end: usize,
    kind: CheckKind,
}

enum CheckKind {
    Cms {
        spki: Vec<u8>,
        algorithm: KeyAlgorithm,
        pss: bool,
    },
    DocTimestamp,
}

/// Re-verifies the output from its bytes: each byte range spans its revision up to the hex
/// string in the gap, the last covers the whole file, the CMS message digest matches and the
/// signature verifies with the signer's key; a document time-stamp's imprint matches.
fn self_check(parts: &[&[u8]], checks: &[Check], input: &HashedInput) -> Result<(), PadesError> {
    let fail = |m: String| Err(PadesError::SelfCheck(m));
    let total: usize = parts.iter().map(|p| p.len()).sum();
    for (i, check) in checks.iter().enumerate() {
        let [a, b, c, d] = check.ranges;
        if a != 0 || b >= c || c + d > total {
            return fail(format!(
                "signature {i}: byte range {:?} malformed",
                check.ranges
            ));
        }
        if c + d != check.revision_end {
            return fail(format!(
                "signature {i} does not cover its whole revision (ends at {}, revision at {})",
                c + d,
                check.revision_end
            ));
        }
        let gap = copy_range(parts, b, c);
        let (Some(b'<'), Some(b'>')) = (gap.first(), gap.last()) else {
            return fail(format!("signature {i}: the gap is not one hex string"));
        };
        let hex_body = &gap[1..gap.len() - 1];
        let mut value = match hex::decode(hex_body) {
            Ok(v) => v,
            Err(e) => return fail(format!("signature {i}: {e}")),
        };
        // Strip the zero padding after the DER value.
        let der_len = verify::crypto::der_len(&value).unwrap_or(value.len());
        value.truncate(der_len);
        let digest = digest_ranges(parts, &check.ranges, input);
        match &check.kind {
            CheckKind::Cms {
                spki,
                algorithm,
                pss,
            } => verify_cms(&value, &digest, spki, *algorithm, *pss)
                .map_err(PadesError::SelfCheck)?,
            CheckKind::DocTimestamp => {
                let imprint = crate::tsa::token_imprint(&value).map_err(PadesError::SelfCheck)?;
                if imprint != digest {
                    return fail("document time-stamp imprint does not match".into());
                }
            }
        }
    }
    Ok(())
}

/// Re-reads the output as a validator would: its cross-reference chain, the same catalog and
/// page count, each signature field found by name through the AcroForm, and its signature
/// dictionary's `/ByteRange` as written equal to what was signed. Reads the parts in place (no
/// copy of the file) and parses only the few objects involved.
fn check_structure(
    input: &Document<'_>,
    parts: &[&[u8]],
    checks: &[Check],
) -> Result<(), PadesError> {
    let fail = |m: String| PadesError::SelfCheck(m);
    let out = Document::open_parts(parts, crate::pdf::Limits::default())
        .map_err(|e| fail(format!("the output does not read back: {e}")))?;
    let (root_in, _) = input.catalog().map_err(|e| fail(e.to_string()))?;
    let (root_out, _) = out.catalog().map_err(|e| fail(e.to_string()))?;
    if root_in != root_out {
        return Err(fail("the output's /Root changed".into()));
    }
    let pages_in = input.page_count().map_err(|e| fail(e.to_string()))?;
    let pages_out = out.page_count().map_err(|e| fail(e.to_string()))?;
    if pages_in != pages_out {
        return Err(fail(format!(
            "page count changed from {pages_in} to {pages_out}"
        )));
    }
    let fields = Editor::new(&out)
        .fields()
        .map_err(|e| fail(format!("form fields: {e}")))?;
    for check in checks {
        let field = fields
            .iter()
            .find(|f| f.full_name == check.field)
            .ok_or_else(|| {
                fail(format!(
                    "field {} is not in the output's AcroForm",
                    check.field
                ))
            })?;
        let value = field
            .dict
            .reference(b"V")
            .ok_or_else(|| fail(format!("field {} has no signature", check.field)))?;
        let sig = out.get(value).map_err(|e| fail(e.to_string()))?;
        let byte_range: Option<Vec<usize>> = sig
            .as_dict()
            .and_then(|d| d.get(b"ByteRange"))
            .and_then(Object::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_i64().and_then(|v| usize::try_from(v).ok()))
                    .collect()
            });
        if byte_range.as_deref() != Some(&check.ranges[..]) {
            return Err(fail(format!(
                "field {}: /ByteRange {byte_range:?} in the output, {:?} signed",
                check.field, check.ranges
            )));
        }
    }
    Ok(())
}

fn verify_cms(
    cms_der: &[u8],
    digest: &[u8; 32],
    spki: &[u8],
    algorithm: KeyAlgorithm,
    pss: bool,
) -> Result<(), String> {
    use der::{Decode, Encode};
    let sd = crate::cms::decode_signed_data(cms_der).map_err(|e| e.to_string())?;
    let si = sd.signer_infos.0.get(0).ok_or("no SignerInfo")?;
    let attrs = si.signed_attrs.as_ref().ok_or("no signed attributes")?;
    let md = attrs
        .iter()
        .find(|a| a.oid == crate::cms::ID_MESSAGE_DIGEST)
        .and_then(|a| a.values.get(0))
        .ok_or("no message-digest attribute")?;
    let md = der::asn1::OctetString::from_der(&md.to_der().map_err(|e| e.to_string())?)
        .map_err(|e| e.to_string())?;
    if md.as_bytes() != digest {
        return Err("message digest does not match the byte ranges".into());
    }
    let tbs = attrs.to_der().map_err(|e| e.to_string())?;
    let verified = if pss {
        crate::keys::verify_rsa_pss(spki, &tbs, si.signature.as_bytes())
    } else {
        crate::keys::verify_signature(spki, algorithm, &tbs, si.signature.as_bytes())
    };
    match verified {
        Ok(true) => Ok(()),
        Ok(false) => Err("CMS signature does not verify".into()),
        Err(e) => Err(e.to_string()),
    }
}

/// A PDF date (§7.9.4) in UTC.
pub fn pdf_date(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "D:{:04}{:02}{:02}{:02}{:02}{:02}+00'00'",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}
