//! The verification report: what [`super::verify`] found, in a stable JSON shape (documented in
//! the OpenAPI spec) with stable check identifiers.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The report for one uploaded file.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Report {
    /// `passed` (every signature `TOTAL_PASSED`), `failed` (some `TOTAL_FAILED`),
    /// `indeterminate`, or `no_signatures` for a file that carries none.
    pub verdict: Verdict,
    /// One sentence for people.
    pub summary: String,
    /// The time the validation was made for (RFC 3339).
    pub validation_time: String,
    pub document: DocumentInfo,
    /// Signatures and document time-stamps, in the order of the revisions they sign.
    pub signatures: Vec<SignatureReport>,
    /// Findings about the file as a whole (e.g. bytes after the last revision).
    pub checks: Vec<Check>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Passed,
    Failed,
    Indeterminate,
    NoSignatures,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DocumentInfo {
    /// SHA-256 of the uploaded bytes (hex).
    pub sha256: String,
    pub size: u64,
    /// Revisions found from the cross-reference chain (1 = no incremental update).
    pub revisions: usize,
    pub pages: usize,
}

/// ETSI EN 319 102-1 §5.1.3 main indication.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[allow(non_camel_case_types)]
pub enum Indication {
    TOTAL_PASSED,
    TOTAL_FAILED,
    INDETERMINATE,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Integrity {
    /// The signed bytes are unchanged and nothing after them changes what was signed (permitted
    /// changes may still carry warnings).
    Intact,
    /// The signature itself is sound but the document was changed afterwards in a way that is
    /// not permitted.
    Modified,
    /// The signature does not protect the bytes it claims to (malformed, wrong digest, forged
    /// value, redefined signature dictionary).
    Invalid,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Coverage {
    /// The signed revision is the last one (white space after it is ignored).
    EntireFile,
    /// The signature covers its whole revision; later revisions follow.
    EntireRevision,
    /// The byte ranges do not end at a revision's end.
    Partial,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SignatureKind {
    Signature,
    DocumentTimestamp,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SignatureReport {
    /// Fully qualified field name.
    pub field: String,
    pub kind: SignatureKind,
    /// 0-based revision the signature covers (`null` when its byte range ends at none).
    pub revision: Option<usize>,
    pub signer: Option<SignerInfo>,
    /// The signing time the signer claims (`/M` or the CMS signing-time attribute), RFC 3339.
    pub claimed_signing_time: Option<String>,
    /// The time of a valid time-stamp over this signature (or, for a document time-stamp, its
    /// own time), RFC 3339.
    pub timestamped_time: Option<String>,
    /// `PAdES-BASELINE-B|T|LT|LTA`, `CMS` (a PKCS#7 signature that is not PAdES), or
    /// `RFC3161` for a document time-stamp.
    pub level: Option<String>,
    pub sub_filter: Option<String>,
    pub indication: Indication,
    /// ETSI EN 319 102-1 §5.1.3 sub-indication (`null` with `TOTAL_PASSED`).
    pub sub_indication: Option<String>,
    pub integrity: Integrity,
    pub coverage: Coverage,
    /// Every change made after this signature, allowed or not.
    pub modifications: Vec<Modification>,
    pub docmdp: Option<DocMdpInfo>,
    pub fieldmdp: Option<FieldMdpInfo>,
    pub trust: TrustInfo,
    pub revocation: RevocationInfo,
    pub timestamps: Vec<TimestampInfo>,
    pub log: LogInfo,
    /// SHA-256 (hex) of the CMS value: how the transparency log knows this signature.
    pub signature_sha256: Option<String>,
    pub checks: Vec<Check>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SignerInfo {
    pub subject: String,
    pub issuer: String,
    /// Hex, upper case.
    pub serial: String,
    /// The entity the certificate was issued to, when this appliance issued it.
    pub entity_id: Option<String>,
    pub certificate_sha256: String,
    pub not_before: String,
    pub not_after: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChangeLevel {
    /// DSS/VRI, document time-stamps, later signatures in their own fields: no comment needed.
    Allowed,
    /// Form filling or annotations that DocMDP/FieldMDP permit: reported as a warning.
    Permitted,
    /// Anything else: the document is modified.
    Modification,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Modification {
    /// 0-based revision that made the change.
    pub revision: usize,
    /// `N G` of the object concerned, if one.
    pub object: Option<String>,
    /// Stable category, e.g. `dss`, `signature`, `form_fill`, `annotation`, `page_content`,
    /// `xref_repoint`, `object_freed`, `signature_dictionary_redefined`.
    pub category: String,
    pub level: ChangeLevel,
    pub detail: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DocMdpInfo {
    /// 1 (no changes), 2 (form filling and signing), 3 (also annotations).
    pub permissions: u8,
    /// Whether this signature is the certification signature that set it.
    pub certifying: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct FieldMdpInfo {
    /// `All`, `Include` or `Exclude`.
    pub action: String,
    pub fields: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TrustInfo {
    pub trusted: bool,
    /// Subject of the trust anchor the chain ends at.
    pub anchor: Option<String>,
    /// Subjects from the signer to the anchor.
    pub chain: Vec<String>,
    /// The time the chain was validated at (RFC 3339): the time-stamp's if one is valid.
    pub validated_at: String,
    pub problems: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RevocationStatus {
    Good,
    Revoked,
    Unknown,
    NotChecked,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RevocationInfo {
    /// Worst status over the chain's certificates (the anchor excluded).
    pub status: RevocationStatus,
    /// Per certificate: subject, status and where it came from (`dss_ocsp`, `dss_crl`,
    /// `cms_crl`, `appliance_ca`).
    pub certificates: Vec<CertificateStatus>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CertificateStatus {
    pub subject: String,
    pub status: RevocationStatus,
    pub source: Option<String>,
    pub revoked_at: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TimestampInfo {
    /// `signature` (RFC 3161 token over this signature value) or `document`.
    pub kind: String,
    pub time: Option<String>,
    pub tsa: Option<String>,
    /// Whether the imprint binds the token to this signature / these bytes.
    pub imprint_matches: bool,
    pub signature_valid: bool,
    pub trusted: bool,
    pub problems: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LogStatus {
    /// Recorded in this appliance's transparency log.
    Recorded,
    NotFound,
    /// Verified offline or without access to the log.
    NotChecked,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LogInfo {
    pub status: LogStatus,
    pub leaf_index: Option<u64>,
    /// The receipt JSON (entry, checkpoint, inclusion proof) as `GET /v1/receipts` returns it.
    #[schema(value_type = Option<Object>)]
    pub receipt: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CheckStatus {
    Passed,
    Failed,
    Warning,
}

/// One check with a stable identifier, e.g. `byte_range.revision_end`, `cms.message_digest`,
/// `trust.chain`, `changes.after_signing`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Check {
    pub id: String,
    pub status: CheckStatus,
    pub message: String,
}

impl Check {
    pub fn passed(id: &str, message: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            status: CheckStatus::Passed,
            message: message.into(),
        }
    }
    pub fn failed(id: &str, message: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            status: CheckStatus::Failed,
            message: message.into(),
        }
    }
    pub fn warning(id: &str, message: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            status: CheckStatus::Warning,
            message: message.into(),
        }
    }
}

impl SignatureReport {
    pub fn failed_checks(&self) -> impl Iterator<Item = &Check> {
        self.checks
            .iter()
            .filter(|c| c.status == CheckStatus::Failed)
    }
}
