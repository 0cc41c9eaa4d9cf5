//! The certificate authority: a root, an issuing intermediate, a delegated OCSP responder and a
//! TSA certificate, all with keys in the configured key store; issuance of per-entity
//! certificates under the profiles in `certs/`; CRLs.
//!
//! This module builds and signs (with `rcgen`, through our [`Signer`] seam so HSM keys work) but
//! does not persist: the service layer stores [`CaState`] and certificate records.

pub mod ocsp;
pub mod profile;

use std::fmt;
use std::sync::Arc;

use der::Encode;
use der::asn1::{Ia5String, ObjectIdentifier};
use rcgen::{
    BasicConstraints, CertificateParams, CertificateRevocationListParams, CrlDistributionPoint,
    CustomExtension, DistinguishedName, DnType, DnValue, IsCa, Issuer, KeyIdMethod,
    KeyUsagePurpose, PublicKeyData, RevocationReason, RevokedCertParams, SanType, SerialNumber,
    SigningKey,
};
use serde::{Deserialize, Serialize};
use sha2::Digest;
use time::{Duration, OffsetDateTime};

use crate::config::CaConfig;
use crate::identity::{CreditCode, IdDocument, Name};
use crate::keys::{KeyAlgorithm, KeyCustody, KeyError, KeyRef, Signer};
use crate::store::keys::IssuerTag;
use profile::{KeyUsageBit, Profile, ProfileName, Profiles};

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CaError {
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error("certificate encoding failed: {0}")]
    Encoding(String),
    #[error("invalid certificate profile: {0}")]
    Profile(String),
    #[error("stored CA certificate is unreadable: {0}")]
    Corrupt(String),
}

impl From<rcgen::Error> for CaError {
    fn from(e: rcgen::Error) -> Self {
        CaError::Encoding(e.to_string())
    }
}

impl From<der::Error> for CaError {
    fn from(e: der::Error) -> Self {
        CaError::Encoding(e.to_string())
    }
}

/// A certificate serial number: 16 random octets, positive, no superfluous leading zero
/// (RFC 5280 §4.1.2.2 allows up to 20).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Serial(Vec<u8>);

impl Serial {
    pub fn random() -> Self {
        let mut bytes: [u8; 16] = rand::random();
        bytes[0] &= 0x7f;
        if bytes[0] == 0 {
            bytes[0] = 0x01;
        }
        Self(bytes.to_vec())
    }

    /// Parses lower- or upper-case hex (as printed by `openssl x509 -serial`, or ours).
    pub fn from_hex(s: &str) -> Option<Self> {
        let bytes = hex::decode(s.trim()).ok()?;
        Self::from_bytes(&bytes)
    }

    /// From the big-endian content octets of a positive INTEGER; strips leading zeros.
    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        let start = bytes.iter().position(|&b| b != 0)?;
        let trimmed = &bytes[start..];
        (trimmed.len() <= 20).then(|| Self(trimmed.to_vec()))
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    pub fn to_hex(&self) -> String {
        hex::encode(&self.0)
    }
}

impl TryFrom<String> for Serial {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Self::from_hex(&s).ok_or_else(|| format!("invalid serial {s}"))
    }
}

impl From<Serial> for String {
    fn from(s: Serial) -> String {
        s.to_hex()
    }
}

impl fmt::Display for Serial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

/// RFC 5280 §5.3.1 CRLReason values a caller may give. `certificateHold` (revocation here is
/// permanent), `removeFromCRL` (delta CRLs only) and `aACompromise` (attribute certificates) are
/// deliberately absent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub enum RevocationReasonCode {
    #[serde(rename = "unspecified")]
    Unspecified,
    #[serde(rename = "keyCompromise")]
    KeyCompromise,
    #[serde(rename = "cACompromise")]
    CaCompromise,
    #[serde(rename = "affiliationChanged")]
    AffiliationChanged,
    #[serde(rename = "superseded")]
    Superseded,
    #[serde(rename = "cessationOfOperation")]
    CessationOfOperation,
    #[serde(rename = "privilegeWithdrawn")]
    PrivilegeWithdrawn,
}

impl RevocationReasonCode {
    /// The CRLReason enumeration value.
    /// The RFC 5280 name, as in the API (`keyCompromise`, …).
    pub fn name(self) -> &'static str {
        match self {
            Self::Unspecified => "unspecified",
            Self::KeyCompromise => "keyCompromise",
            Self::CaCompromise => "cACompromise",
            Self::AffiliationChanged => "affiliationChanged",
            Self::Superseded => "superseded",
            Self::CessationOfOperation => "cessationOfOperation",
            Self::PrivilegeWithdrawn => "privilegeWithdrawn",
        }
    }

    pub fn code(self) -> u8 {
        match self {
            Self::Unspecified => 0,
            Self::KeyCompromise => 1,
            Self::CaCompromise => 2,
            Self::AffiliationChanged => 3,
            Self::Superseded => 4,
            Self::CessationOfOperation => 5,
            Self::PrivilegeWithdrawn => 9,
        }
    }

    fn rcgen(self) -> Option<RevocationReason> {
        // RFC 5280 §5.3.1: unspecified SHOULD be expressed by omitting reasonCode.
        Some(match self {
            Self::Unspecified => return None,
            Self::KeyCompromise => RevocationReason::KeyCompromise,
            Self::CaCompromise => RevocationReason::CaCompromise,
            Self::AffiliationChanged => RevocationReason::AffiliationChanged,
            Self::Superseded => RevocationReason::Superseded,
            Self::CessationOfOperation => RevocationReason::CessationOfOperation,
            Self::PrivilegeWithdrawn => RevocationReason::PrivilegeWithdrawn,
        })
    }
}

/// Whom a certificate names.
#[derive(Debug, Clone)]
pub enum Subject {
    /// CA and service certificates: C, O from the configuration and this CN.
    Service { common_name: String },
    Organization {
        name: Name,
        credit_code: CreditCode,
        email: Option<String>,
    },
    Person {
        name: Name,
        document: IdDocument,
        email: Option<String>,
    },
}

/// A certificate just issued.
#[derive(Debug, Clone)]
pub struct IssuedCertificate {
    pub serial: Serial,
    pub der: Vec<u8>,
    pub not_before: OffsetDateTime,
    pub not_after: OffsetDateTime,
}

impl IssuedCertificate {
    pub fn pem(&self) -> String {
        pem_encode("CERTIFICATE", &self.der)
    }
}

/// One member of the CA hierarchy as persisted: its key and current certificate.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CaMember {
    pub key: KeyRef,
    #[serde(with = "crate::store::serde_b64")]
    pub cert_der: Vec<u8>,
    pub serial: Serial,
    pub not_after: i64,
}

/// The persisted CA hierarchy.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CaState {
    pub root: CaMember,
    pub issuing: CaMember,
    pub ocsp: CaMember,
    pub tsa: CaMember,
}

/// A revoked certificate as listed in a CRL.
#[derive(Debug, Clone)]
pub struct RevokedEntry {
    pub serial: Serial,
    pub revoked_at: OffsetDateTime,
    pub reason: RevocationReasonCode,
}

/// A signed CRL.
#[derive(Debug, Clone)]
pub struct Crl {
    pub der: Vec<u8>,
    pub number: u64,
    pub this_update: OffsetDateTime,
    pub next_update: OffsetDateTime,
}

/// The running CA: persisted state plus loaded signers.
pub struct CertificateAuthority {
    profiles: Profiles,
    config: CaConfig,
    public_url: String,
    state: CaState,
    root: Arc<dyn Signer>,
    issuing: Arc<dyn Signer>,
    ocsp: Arc<dyn Signer>,
    tsa: Arc<dyn Signer>,
}

impl CertificateAuthority {
    /// Creates a new hierarchy: generates the four keys in the key store and issues root,
    /// issuing, OCSP and TSA certificates. The caller persists [`CertificateAuthority::state`].
    pub fn create(
        custody: &KeyCustody,
        config: &CaConfig,
        public_url: &str,
        now: OffsetDateTime,
    ) -> Result<Self, CaError> {
        let profiles = Profiles::builtin().map_err(CaError::Profile)?;
        let alg = config.ca_key_algorithm;
        let root_key = custody.generate(alg, "sigillum-root-ca")?;
        let root_signer = custody.signer(&root_key)?;
        let root_cert = build(
            &profiles,
            config,
            public_url,
            ProfileName::Root,
            &Subject::Service {
                common_name: config.root_common_name.clone(),
            },
            &root_key.spki_der,
            None,
            root_signer.as_ref(),
            now,
            days(config.root_validity_days),
        )?;
        let root = member(root_key, &root_cert);

        let issuing_key = custody.generate(alg, "sigillum-issuing-ca")?;
        let issuing_cert = build(
            &profiles,
            config,
            public_url,
            ProfileName::Issuing,
            &Subject::Service {
                common_name: config.issuing_common_name.clone(),
            },
            &issuing_key.spki_der,
            Some(&root.cert_der),
            root_signer.as_ref(),
            now,
            days(config.issuing_validity_days),
        )?;
        let issuing = member(issuing_key, &issuing_cert);
        let issuing_signer = custody.signer(&issuing.key)?;

        let service = |profile: ProfileName, label: &str, cn: String, validity: u32| {
            let key = custody.generate(alg, label)?;
            let cert = build(
                &profiles,
                config,
                public_url,
                profile,
                &Subject::Service { common_name: cn },
                &key.spki_der,
                Some(&issuing.cert_der),
                issuing_signer.as_ref(),
                now,
                days(validity).min(not_after(&issuing) - now),
            )?;
            Ok::<_, CaError>(member(key, &cert))
        };
        let ocsp = service(
            ProfileName::Ocsp,
            "sigillum-ocsp",
            format!("{} OCSP Responder", config.issuing_common_name),
            config.ocsp_validity_days,
        )?;
        let tsa = service(
            ProfileName::Tsa,
            "sigillum-tsa",
            format!("{} Time-Stamping Authority", config.organization),
            config.tsa_validity_days,
        )?;
        let state = CaState {
            root,
            issuing,
            ocsp,
            tsa,
        };
        Self::open(state, custody, config, public_url)
    }

    /// Loads a persisted hierarchy and its signers.
    pub fn open(
        state: CaState,
        custody: &KeyCustody,
        config: &CaConfig,
        public_url: &str,
    ) -> Result<Self, CaError> {
        Ok(Self {
            profiles: Profiles::builtin().map_err(CaError::Profile)?,
            config: config.clone(),
            public_url: public_url.to_owned(),
            root: custody.signer(&state.root.key)?,
            issuing: custody.signer(&state.issuing.key)?,
            ocsp: custody.signer(&state.ocsp.key)?,
            tsa: custody.signer(&state.tsa.key)?,
            state,
        })
    }

    pub fn state(&self) -> &CaState {
        &self.state
    }

    /// The certificates of the hierarchy with the issuer that signed each, for recording.
    pub fn hierarchy(&self) -> [(IssuerTag, ProfileName, &CaMember); 4] {
        [
            (IssuerTag::Root, ProfileName::Root, &self.state.root),
            (IssuerTag::Root, ProfileName::Issuing, &self.state.issuing),
            (IssuerTag::Issuing, ProfileName::Ocsp, &self.state.ocsp),
            (IssuerTag::Issuing, ProfileName::Tsa, &self.state.tsa),
        ]
    }

    /// Issues an entity certificate from the issuing CA. Validity is clamped to the issuing CA's.
    pub fn issue(
        &self,
        profile: ProfileName,
        subject: &Subject,
        spki_der: &[u8],
        now: OffsetDateTime,
    ) -> Result<IssuedCertificate, CaError> {
        let validity =
            days(self.config.entity_validity_days).min(not_after(&self.state.issuing) - now);
        build(
            &self.profiles,
            &self.config,
            &self.public_url,
            profile,
            subject,
            spki_der,
            Some(&self.state.issuing.cert_der),
            self.issuing.as_ref(),
            now,
            validity,
        )
    }

    /// A new OCSP signing key and certificate when less than a third of the current one's
    /// validity remains. Changes nothing: the caller persists the state with
    /// [`CertificateAuthority::with_ocsp`] and then installs it with
    /// [`CertificateAuthority::install_ocsp`].
    pub fn ocsp_renewal_due(
        &self,
        custody: &KeyCustody,
        now: OffsetDateTime,
    ) -> Result<Option<CaMember>, CaError> {
        let remaining = not_after(&self.state.ocsp) - now;
        if remaining > days(self.config.ocsp_validity_days) / 3 {
            return Ok(None);
        }
        let key = custody.generate(self.config.ca_key_algorithm, "sigillum-ocsp")?;
        let cert = build(
            &self.profiles,
            &self.config,
            &self.public_url,
            ProfileName::Ocsp,
            &Subject::Service {
                common_name: format!("{} OCSP Responder", self.config.issuing_common_name),
            },
            &key.spki_der,
            Some(&self.state.issuing.cert_der),
            self.issuing.as_ref(),
            now,
            days(self.config.ocsp_validity_days).min(not_after(&self.state.issuing) - now),
        )?;
        Ok(Some(member(key, &cert)))
    }

    /// The persisted state with `ocsp` as the OCSP member.
    pub fn with_ocsp(&self, ocsp: CaMember) -> CaState {
        CaState {
            ocsp,
            ..self.state.clone()
        }
    }

    /// Switches to a renewed OCSP member (after its state was persisted).
    pub fn install_ocsp(&mut self, ocsp: CaMember, custody: &KeyCustody) -> Result<(), CaError> {
        self.ocsp = custody.signer(&ocsp.key)?;
        self.state.ocsp = ocsp;
        Ok(())
    }

    /// Signs a full CRL (RFC 5280 §5) for `issuer` listing `revoked`.
    pub fn crl(
        &self,
        issuer: IssuerTag,
        number: u64,
        revoked: &[RevokedEntry],
        now: OffsetDateTime,
    ) -> Result<Crl, CaError> {
        let (cert, signer) = self.issuer(issuer);
        let next_update = now + Duration::hours(i64::from(self.config.crl_validity_hours));
        let params = CertificateRevocationListParams {
            this_update: now,
            next_update,
            crl_number: SerialNumber::from_slice(&number.to_be_bytes()),
            issuing_distribution_point: None,
            revoked_certs: revoked
                .iter()
                .map(|r| RevokedCertParams {
                    serial_number: SerialNumber::from_slice(r.serial.as_bytes()),
                    revocation_time: r.revoked_at,
                    reason_code: r.reason.rcgen(),
                    invalidity_date: None,
                })
                .collect(),
            key_identifier_method: KeyIdMethod::PreSpecified(subject_key_identifier(
                &cert.key.spki_der,
            )?),
        };
        let key = RcgenSigner::new(signer)?;
        let issuer = Issuer::from_ca_cert_der(&cert.cert_der.clone().into(), &key)?;
        let crl = params.signed_by(&issuer)?;
        Ok(Crl {
            der: crl.der().to_vec(),
            number,
            this_update: now,
            next_update,
        })
    }

    fn issuer(&self, issuer: IssuerTag) -> (&CaMember, &dyn Signer) {
        match issuer {
            IssuerTag::Root => (&self.state.root, self.root.as_ref()),
            IssuerTag::Issuing => (&self.state.issuing, self.issuing.as_ref()),
        }
    }

    /// The delegated OCSP responder for certificates of the issuing CA.
    pub fn ocsp_responder(&self) -> Result<ocsp::OcspResponder, CaError> {
        ocsp::OcspResponder::new(
            self.ocsp.clone(),
            self.state.ocsp.cert_der.clone(),
            self.state.issuing.cert_der.clone(),
        )
        .map_err(|e| CaError::Corrupt(format!("OCSP responder: {e}")))
    }

    /// The TSA signer and its certificate chain (TSA, issuing, root).
    pub fn tsa_parts(&self) -> (Arc<dyn Signer>, Vec<u8>, Vec<Vec<u8>>) {
        (
            self.tsa.clone(),
            self.state.tsa.cert_der.clone(),
            vec![
                self.state.issuing.cert_der.clone(),
                self.state.root.cert_der.clone(),
            ],
        )
    }

    pub fn root_pem(&self) -> String {
        pem_encode("CERTIFICATE", &self.state.root.cert_der)
    }

    /// Issuing CA certificate followed by the root, PEM.
    pub fn chain_pem(&self) -> String {
        format!(
            "{}{}",
            pem_encode("CERTIFICATE", &self.state.issuing.cert_der),
            pem_encode("CERTIFICATE", &self.state.root.cert_der)
        )
    }
}

fn days(n: u32) -> Duration {
    Duration::days(i64::from(n))
}

fn not_after(m: &CaMember) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(m.not_after).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

fn member(key: KeyRef, cert: &IssuedCertificate) -> CaMember {
    CaMember {
        key,
        cert_der: cert.der.clone(),
        serial: cert.serial.clone(),
        not_after: cert.not_after.unix_timestamp(),
    }
}

/// PEM with 64-column base64 lines.
pub fn pem_encode(label: &str, der: &[u8]) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// RFC 5280 §4.2.1.2 method (1): SHA-1 of the subjectPublicKey BIT STRING value.
pub fn subject_key_identifier(spki_der: &[u8]) -> Result<Vec<u8>, CaError> {
    let bits = subject_public_key_bits(spki_der)?;
    Ok(sha1_digest(&bits))
}

fn sha1_digest(data: &[u8]) -> Vec<u8> {
    openssl::sha::sha1(data).to_vec()
}

fn subject_public_key_bits(spki_der: &[u8]) -> Result<Vec<u8>, CaError> {
    use der::Decode;
    let spki = spki::SubjectPublicKeyInfoRef::from_der(spki_der)?;
    Ok(spki.subject_public_key.raw_bytes().to_vec())
}

/// Adapter: our [`Signer`] as an `rcgen` signing key.
struct RcgenSigner<'a> {
    signer: &'a dyn Signer,
    public: Vec<u8>,
}

impl<'a> RcgenSigner<'a> {
    fn new(signer: &'a dyn Signer) -> Result<Self, CaError> {
        Ok(Self {
            public: subject_public_key_bits(signer.spki_der())?,
            signer,
        })
    }
}

fn rcgen_algorithm(alg: KeyAlgorithm) -> &'static rcgen::SignatureAlgorithm {
    match alg {
        KeyAlgorithm::EcdsaP256 => &rcgen::PKCS_ECDSA_P256_SHA256,
        KeyAlgorithm::Rsa2048 | KeyAlgorithm::Rsa3072 => &rcgen::PKCS_RSA_SHA256,
        KeyAlgorithm::Ed25519 => &rcgen::PKCS_ED25519,
    }
}

impl PublicKeyData for RcgenSigner<'_> {
    fn der_bytes(&self) -> &[u8] {
        &self.public
    }
    fn algorithm(&self) -> &'static rcgen::SignatureAlgorithm {
        rcgen_algorithm(self.signer.algorithm())
    }
}

impl SigningKey for RcgenSigner<'_> {
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, rcgen::Error> {
        self.signer.sign(msg).map_err(|e| {
            tracing::error!(error = %e, "CA signing key failed");
            rcgen::Error::RemoteKeyError
        })
    }
}

/// A subject public key (no private half) for rcgen.
struct SubjectKey {
    public: Vec<u8>,
    algorithm: &'static rcgen::SignatureAlgorithm,
}

impl PublicKeyData for SubjectKey {
    fn der_bytes(&self) -> &[u8] {
        &self.public
    }
    fn algorithm(&self) -> &'static rcgen::SignatureAlgorithm {
        self.algorithm
    }
}

fn key_algorithm_of(spki_der: &[u8]) -> Result<KeyAlgorithm, CaError> {
    let key = openssl::pkey::PKey::public_key_from_der(spki_der)
        .map_err(|e| CaError::Encoding(format!("subject public key: {e}")))?;
    match key.id() {
        openssl::pkey::Id::EC => Ok(KeyAlgorithm::EcdsaP256),
        openssl::pkey::Id::RSA if key.bits() >= 3072 => Ok(KeyAlgorithm::Rsa3072),
        openssl::pkey::Id::RSA => Ok(KeyAlgorithm::Rsa2048),
        openssl::pkey::Id::ED25519 => Ok(KeyAlgorithm::Ed25519),
        other => Err(CaError::Encoding(format!(
            "unsupported subject key type {other:?}"
        ))),
    }
}

fn printable(s: &str) -> Result<DnValue, CaError> {
    rcgen::string::PrintableString::try_from(s)
        .map(DnValue::PrintableString)
        .map_err(|_| CaError::Encoding(format!("{s:?} is not a PrintableString")))
}

fn distinguished_name(config: &CaConfig, subject: &Subject) -> Result<DistinguishedName, CaError> {
    const SERIAL_NUMBER: &[u64] = &[2, 5, 4, 5];
    const ORGANIZATION_IDENTIFIER: &[u64] = &[2, 5, 4, 97];
    let mut dn = DistinguishedName::new();
    match subject {
        Subject::Service { common_name } => {
            dn.push(DnType::CountryName, printable(&config.country)?);
            dn.push(
                DnType::OrganizationName,
                DnValue::Utf8String(config.organization.clone()),
            );
            dn.push(DnType::CommonName, DnValue::Utf8String(common_name.clone()));
        }
        Subject::Organization {
            name, credit_code, ..
        } => {
            dn.push(DnType::CountryName, printable("CN")?);
            dn.push(
                DnType::OrganizationName,
                DnValue::Utf8String(name.as_str().into()),
            );
            dn.push(
                DnType::CustomDnType(ORGANIZATION_IDENTIFIER.to_vec()),
                DnValue::Utf8String(format!("NTRCN-{}", credit_code.as_str())),
            );
            dn.push(
                DnType::CommonName,
                DnValue::Utf8String(name.as_str().into()),
            );
            dn.push(
                DnType::CustomDnType(SERIAL_NUMBER.to_vec()),
                printable(credit_code.as_str())?,
            );
        }
        Subject::Person { name, document, .. } => {
            let country = document.country.as_deref().unwrap_or("CN");
            dn.push(DnType::CountryName, printable(country)?);
            dn.push(
                DnType::CommonName,
                DnValue::Utf8String(name.as_str().into()),
            );
            dn.push(
                DnType::CustomDnType(SERIAL_NUMBER.to_vec()),
                printable(&document.subject_serial_number())?,
            );
        }
    }
    Ok(dn)
}

fn oid(s: &str) -> Result<ObjectIdentifier, CaError> {
    s.parse()
        .map_err(|e| CaError::Profile(format!("bad OID {s}: {e}")))
}

fn oid_arcs(s: &str) -> Vec<u64> {
    s.split('.').filter_map(|a| a.parse().ok()).collect()
}

fn uri(s: String) -> Result<x509_cert::ext::pkix::name::GeneralName, CaError> {
    Ok(x509_cert::ext::pkix::name::GeneralName::UniformResourceIdentifier(Ia5String::new(&s)?))
}

#[allow(clippy::too_many_arguments)]
fn build(
    profiles: &Profiles,
    config: &CaConfig,
    public_url: &str,
    profile_name: ProfileName,
    subject: &Subject,
    spki_der: &[u8],
    issuer_cert: Option<&[u8]>,
    issuer_signer: &dyn Signer,
    now: OffsetDateTime,
    validity: Duration,
) -> Result<IssuedCertificate, CaError> {
    use x509_cert::ext::pkix::{AccessDescription, AuthorityInfoAccessSyntax};

    let profile: &Profile = profiles.get(profile_name);
    let serial = Serial::random();
    // Whole seconds: what the certificate can express.
    let not_before = now.replace_nanosecond(0).unwrap_or(now);
    let not_after = not_before + validity;

    let mut params = CertificateParams::default();
    params.serial_number = Some(SerialNumber::from_slice(serial.as_bytes()));
    params.not_before = not_before;
    params.not_after = not_after;
    params.distinguished_name = distinguished_name(config, subject)?;
    params.key_identifier_method = KeyIdMethod::PreSpecified(subject_key_identifier(spki_der)?);
    params.use_authority_key_identifier_extension = true;
    params.is_ca = match profile.ca_path_length {
        Some(n) => IsCa::Ca(BasicConstraints::Constrained(n)),
        None => IsCa::ExplicitNoCa,
    };
    params.key_usages = profile
        .key_usage
        .iter()
        .map(|bit| match bit {
            KeyUsageBit::DigitalSignature => KeyUsagePurpose::DigitalSignature,
            KeyUsageBit::NonRepudiation => KeyUsagePurpose::ContentCommitment,
            KeyUsageBit::KeyCertSign => KeyUsagePurpose::KeyCertSign,
            KeyUsageBit::CrlSign => KeyUsagePurpose::CrlSign,
        })
        .collect();
    match subject {
        Subject::Organization {
            email: Some(email), ..
        }
        | Subject::Person {
            email: Some(email), ..
        } => {
            params.subject_alt_names =
                vec![SanType::Rfc822Name(email.as_str().try_into().map_err(
                    |_| CaError::Encoding("e-mail is not IA5".into()),
                )?)];
        }
        _ => {}
    }
    if !profile.extended_key_usage.is_empty() {
        let ekus = profile
            .extended_key_usage
            .iter()
            .map(|s| oid(s))
            .collect::<Result<Vec<_>, _>>()?;
        let mut ext = CustomExtension::from_oid_content(
            &[2, 5, 29, 37],
            x509_cert::ext::pkix::ExtendedKeyUsage(ekus).to_der()?,
        );
        ext.set_criticality(profile.extended_key_usage_critical);
        params.custom_extensions.push(ext);
    }
    // Where relying parties find the issuer's certificate, CRL and OCSP responder.
    let (issuer_name, issuer_cert_url) = match profile_name {
        ProfileName::Root => ("root", None),
        ProfileName::Issuing => ("root", Some(format!("{public_url}/v1/ca/root.crt"))),
        _ => ("issuing", Some(format!("{public_url}/v1/ca/issuing.crt"))),
    };
    if profile.crl_distribution_point {
        params.crl_distribution_points = vec![CrlDistributionPoint {
            uris: vec![format!("{public_url}/crl/{issuer_name}.crl")],
        }];
    }
    if profile.authority_info_access {
        let mut descriptions = Vec::new();
        let is_end_entity = profile.ca_path_length.is_none() && profile_name != ProfileName::Ocsp;
        if is_end_entity {
            descriptions.push(AccessDescription {
                access_method: oid("1.3.6.1.5.5.7.48.1")?,
                access_location: uri(format!("{public_url}/ocsp"))?,
            });
        }
        if let Some(url) = issuer_cert_url {
            descriptions.push(AccessDescription {
                access_method: oid("1.3.6.1.5.5.7.48.2")?,
                access_location: uri(url)?,
            });
        }
        params
            .custom_extensions
            .push(CustomExtension::from_oid_content(
                &[1, 3, 6, 1, 5, 5, 7, 1, 1],
                AuthorityInfoAccessSyntax(descriptions).to_der()?,
            ));
    }
    if profile.ocsp_no_check {
        // id-pkix-ocsp-nocheck ::= NULL
        params
            .custom_extensions
            .push(CustomExtension::from_oid_content(
                &[1, 3, 6, 1, 5, 5, 7, 48, 1, 5],
                vec![0x05, 0x00],
            ));
    }
    if profile.certificate_policy {
        use x509_cert::ext::pkix::CertificatePolicies;
        use x509_cert::ext::pkix::certpolicy::PolicyInformation;
        let policy = &config.certificate_policy_oid;
        params
            .custom_extensions
            .push(CustomExtension::from_oid_content(
                &oid_arcs("2.5.29.32"),
                CertificatePolicies(vec![PolicyInformation {
                    policy_identifier: oid(policy)?,
                    policy_qualifiers: None,
                }])
                .to_der()?,
            ));
    }

    let subject_key = SubjectKey {
        public: subject_public_key_bits(spki_der)?,
        algorithm: rcgen_algorithm(key_algorithm_of(spki_der)?),
    };
    let signer = RcgenSigner::new(issuer_signer)?;
    let cert = match issuer_cert {
        None => params.self_signed(&signer)?,
        Some(issuer_der) => {
            let issuer = Issuer::from_ca_cert_der(&issuer_der.to_vec().into(), &signer)?;
            params.signed_by(&subject_key, &issuer)?
        }
    };
    let der = cert.der().to_vec();
    // Self-check before the certificate leaves: it must verify under the issuer key.
    verify_issued(&der, issuer_signer.spki_der())?;
    Ok(IssuedCertificate {
        serial,
        der,
        not_before,
        not_after,
    })
}

fn verify_issued(cert_der: &[u8], issuer_spki: &[u8]) -> Result<(), CaError> {
    let cert = openssl::x509::X509::from_der(cert_der)
        .map_err(|e| CaError::Encoding(format!("issued certificate does not parse: {e}")))?;
    let key = openssl::pkey::PKey::public_key_from_der(issuer_spki)
        .map_err(|e| CaError::Encoding(e.to_string()))?;
    match cert.verify(&key) {
        Ok(true) => Ok(()),
        _ => Err(CaError::Encoding(
            "issued certificate does not verify under the issuer key".into(),
        )),
    }
}

/// SHA-256 fingerprint, lower-case hex.
pub fn fingerprint(der: &[u8]) -> String {
    hex::encode(sha2::Sha256::digest(der))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::soft::{MasterKey, SoftKeyStore};

    fn custody() -> KeyCustody {
        let soft = Arc::new(SoftKeyStore::new(Arc::new(MasterKey::from_bytes([1; 32]))));
        KeyCustody::soft_only(soft)
    }

    #[test]
    fn hierarchy_chains_and_entity_certificates_verify_with_openssl() {
        use openssl::stack::Stack;
        use openssl::x509::store::X509StoreBuilder;
        use openssl::x509::{X509, X509StoreContext};

        let custody = custody();
        let config = CaConfig::default();
        let now = OffsetDateTime::now_utc();
        let ca =
            CertificateAuthority::create(&custody, &config, "http://127.0.0.1:8470", now).unwrap();
        let key = custody.generate(KeyAlgorithm::EcdsaP256, "org").unwrap();
        let subject = Subject::Organization {
            name: Name::parse("测试科技有限公司").unwrap(),
            credit_code: CreditCode::parse("91350100M000100Y43").unwrap(),
            email: Some("legal@example.cn".into()),
        };
        let cert = ca
            .issue(ProfileName::Organization, &subject, &key.spki_der, now)
            .unwrap();

        let mut store = X509StoreBuilder::new().unwrap();
        store
            .add_cert(X509::from_der(&ca.state().root.cert_der).unwrap())
            .unwrap();
        let store = store.build();
        let mut chain = Stack::new().unwrap();
        chain
            .push(X509::from_der(&ca.state().issuing.cert_der).unwrap())
            .unwrap();
        for der in [
            &cert.der,
            &ca.state().ocsp.cert_der,
            &ca.state().tsa.cert_der,
        ] {
            let leaf = X509::from_der(der).unwrap();
            let mut ctx = X509StoreContext::new().unwrap();
            let ok = ctx
                .init(&store, &leaf, &chain, |c| c.verify_cert())
                .unwrap();
            assert!(ok, "{:?}", ctx.error());
        }
        let text =
            String::from_utf8(X509::from_der(&cert.der).unwrap().to_text().unwrap()).unwrap();
        assert!(text.contains("1.3.6.1.5.5.7.3.36"), "{text}");
        assert!(text.contains("E-mail Protection"), "{text}");
        assert!(text.contains("Non Repudiation"), "{text}");
        assert!(
            text.contains("OCSP - URI:http://127.0.0.1:8470/ocsp"),
            "{text}"
        );
        assert!(
            text.contains("http://127.0.0.1:8470/crl/issuing.crl"),
            "{text}"
        );
    }

    #[test]
    fn crl_lists_revoked_serials_with_reason() {
        let custody = custody();
        let now = OffsetDateTime::now_utc();
        let ca =
            CertificateAuthority::create(&custody, &CaConfig::default(), "http://x", now).unwrap();
        let serial = Serial::random();
        let crl = ca
            .crl(
                IssuerTag::Issuing,
                7,
                &[RevokedEntry {
                    serial: serial.clone(),
                    revoked_at: now,
                    reason: RevocationReasonCode::KeyCompromise,
                }],
                now,
            )
            .unwrap();
        let parsed = openssl::x509::X509Crl::from_der(&crl.der).unwrap();
        let issuing = openssl::x509::X509::from_der(&ca.state().issuing.cert_der).unwrap();
        assert!(parsed.verify(&issuing.public_key().unwrap()).unwrap());
        let revoked = parsed.get_revoked().unwrap();
        assert_eq!(revoked.len(), 1);
        assert_eq!(
            revoked
                .get(0)
                .unwrap()
                .serial_number()
                .to_bn()
                .unwrap()
                .to_vec(),
            serial.as_bytes()
        );
    }

    #[test]
    fn serial_parsing() {
        let s = Serial::random();
        assert_eq!(Serial::from_hex(&s.to_hex()).unwrap(), s);
        assert_eq!(Serial::from_hex("00ab").unwrap().to_hex(), "ab");
        assert!(Serial::from_hex("zz").is_none());
        assert!(Serial::from_hex("00").is_none());
    }
}
