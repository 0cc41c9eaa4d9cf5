//! CMS `SignedData` (RFC 5652 §5) produced through the [`Signer`] seam.
//!
//! This is mechanism only: it knows how to lay out a `ContentInfo` wrapping a `SignedData` with one
//! `SignerInfo` and the signed attributes every profile we serve needs (content-type,
//! message-digest, ESS signing-certificate-v2, optional signing-time). Profiles decide what to
//! sign: `tsa` encapsulates an RFC 3161 `TSTInfo`, PAdES (later) signs a detached digest of the
//! PDF byte ranges. Private keys never pass through here; only [`Signer::sign`] is called, once,
//! over the DER `SET OF Attribute` as RFC 5652 §5.4 prescribes.
//!
//! Algorithm choices (per signer key):
//! - ECDSA P-256: digest SHA-256, signatureAlgorithm `ecdsa-with-SHA256` without parameters
//!   (RFC 5754 §3.3);
//! - RSA: digest SHA-256, signatureAlgorithm `sha256WithRSAEncryption` with NULL parameters
//!   (RFC 5754 §3.2 allows it or `rsaEncryption`; OpenSSL accepts both);
//! - Ed25519: digest **SHA-512** (RFC 8419 §3.1 requires `id-sha512` with signed attributes),
//!   signatureAlgorithm `id-Ed25519` (PureEdDSA over the attributes).
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects
)]

pub mod ess;
#[cfg(test)]
pub(crate) mod test_pki;

use der::asn1::{ObjectIdentifier, OctetString, SetOfVec};
use der::{Any, Decode, Encode};
use sha2::{Digest, Sha256, Sha512};
use spki::AlgorithmIdentifierOwned;
use time::OffsetDateTime;
use x509_cert::Certificate;
use x509_cert::attr::Attribute;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::time::Time;

use ::cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use ::cms::content_info::{CmsVersion, ContentInfo};
use ::cms::signed_data::{
    CertificateSet, EncapsulatedContentInfo, SignedData, SignerIdentifier, SignerInfo, SignerInfos,
};

use crate::keys::{KeyAlgorithm, KeyError, Signer};
use ess::{EssCertIdV2, IssuerSerial, SigningCertificateV2};

/// `id-data` (RFC 5652 §4): the content type of detached signatures such as PAdES.
pub const ID_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.1");
/// `id-signedData` (RFC 5652 §5.1).
pub const ID_SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
/// `id-ct-TSTInfo` (RFC 3161 §2.4.2).
pub const ID_CT_TST_INFO: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.1.4");
/// `id-contentType` signed attribute (RFC 5652 §11.1).
pub const ID_CONTENT_TYPE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.3");
/// `id-messageDigest` signed attribute (RFC 5652 §11.2).
pub const ID_MESSAGE_DIGEST: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");
/// `id-signingTime` signed attribute (RFC 5652 §11.3).
pub const ID_SIGNING_TIME: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.5");
pub use ess::ID_AA_SIGNING_CERTIFICATE_V2;
/// `id-aa-signatureTimeStampToken` unsigned attribute (RFC 3161 Appendix A).
pub const ID_AA_SIGNATURE_TIME_STAMP_TOKEN: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.14");
/// `id-sha256` (RFC 5754 §2.2).
pub const ID_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
/// `id-sha512` (RFC 5754 §2.4).
pub const ID_SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.3");

/// Errors building or decoding CMS structures. Never contains key material.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CmsError {
    #[error("certificate is not valid DER: {0}")]
    Certificate(der::Error),
    #[error("the signer certificate's public key is not the signing key's")]
    KeyMismatch,
    #[error("message digest is {found} bytes but {algorithm:?} digests are {expected} bytes")]
    DigestLength {
        algorithm: DigestAlgorithm,
        expected: usize,
        found: usize,
    },
    #[error("signing time {0} is before 1970 or not representable in ASN.1")]
    SigningTime(OffsetDateTime),
    #[error("cannot encode {what}: {source}")]
    Encode {
        what: &'static str,
        source: der::Error,
    },
    #[error("signature failed: {0}")]
    Sign(#[from] KeyError),
    #[error("not a CMS SignedData: {0}")]
    Decode(String),
    #[error("time-stamp: {0}")]
    Timestamp(String),
}

fn encode_err(what: &'static str) -> impl FnOnce(der::Error) -> CmsError {
    move |source| CmsError::Encode { what, source }
}

/// Digest algorithms used for the message digest and `SignerInfo.digestAlgorithm`
/// (RFC 5754 §2; parameters are absent as §2 says implementations SHOULD generate).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DigestAlgorithm {
    Sha256,
    Sha512,
}

impl DigestAlgorithm {
    /// The digest a CMS signature by a key of `algorithm` uses: SHA-512 for Ed25519
    /// (RFC 8419 §3.1), SHA-256 otherwise.
    pub fn for_key(algorithm: KeyAlgorithm) -> Self {
        match algorithm {
            KeyAlgorithm::Ed25519 => DigestAlgorithm::Sha512,
            KeyAlgorithm::EcdsaP256 | KeyAlgorithm::Rsa2048 | KeyAlgorithm::Rsa3072 => {
                DigestAlgorithm::Sha256
            }
        }
    }

    pub fn oid(self) -> ObjectIdentifier {
        match self {
            DigestAlgorithm::Sha256 => ID_SHA256,
            DigestAlgorithm::Sha512 => ID_SHA512,
        }
    }

    pub fn output_len(self) -> usize {
        match self {
            DigestAlgorithm::Sha256 => 32,
            DigestAlgorithm::Sha512 => 64,
        }
    }

    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        match self {
            DigestAlgorithm::Sha256 => Sha256::digest(data).to_vec(),
            DigestAlgorithm::Sha512 => Sha512::digest(data).to_vec(),
        }
    }

    fn identifier(self) -> AlgorithmIdentifierOwned {
        AlgorithmIdentifierOwned {
            oid: self.oid(),
            parameters: None,
        }
    }
}

/// Builds a DER `ContentInfo` containing a `SignedData` (RFC 5652 §5.1) with exactly one
/// `SignerInfo` (RFC 5652 §5.3): version 1, `issuerAndSerialNumber` of the signer certificate,
/// and signed attributes content-type (§11.1), message-digest (§11.2), signing-certificate-v2
/// (RFC 5035 §3, SHA-256 of the certificate with `issuerSerial`) and, if set, signing-time
/// (§11.3).
///
/// `certificates` (RFC 5652 §5.1) holds exactly what was added with
/// [`with_certificate`](Self::with_certificate), in DER `SET OF` order; the signer certificate is
/// not added implicitly because RFC 3161 §2.4.1 lets the requester decide.
pub struct SignedDataBuilder<'a> {
    signer: &'a dyn Signer,
    signer_cert: Certificate,
    signer_cert_der: &'a [u8],
    certificates: Vec<Certificate>,
    signing_time: Option<OffsetDateTime>,
    signature_timestamp: Option<&'a TimestampFn<'a>>,
    rsa_pss: bool,
}

/// Obtains an RFC 3161 `TimeStampToken` (DER `ContentInfo`) over the given signature value.
pub type TimestampFn<'a> = dyn Fn(&[u8]) -> Result<Vec<u8>, CmsError> + 'a;

impl<'a> SignedDataBuilder<'a> {
    /// A builder signing with `signer`, whose certificate is `signer_cert_der`. Fails if the
    /// certificate does not parse or certifies another key.
    pub fn new(signer: &'a dyn Signer, signer_cert_der: &'a [u8]) -> Result<Self, CmsError> {
        let signer_cert = Certificate::from_der(signer_cert_der).map_err(CmsError::Certificate)?;
        let cert_spki = signer_cert
            .tbs_certificate
            .subject_public_key_info
            .to_der()
            .map_err(encode_err("certificate SPKI"))?;
        if cert_spki != signer.spki_der() {
            return Err(CmsError::KeyMismatch);
        }
        Ok(Self {
            signer,
            signer_cert,
            signer_cert_der,
            certificates: Vec::new(),
            signing_time: None,
            signature_timestamp: None,
            rsa_pss: false,
        })
    }

    /// The digest algorithm this signer's CMS signatures use; a detached digest passed to
    /// [`sign_detached`](Self::sign_detached) must be computed with it.
    pub fn digest_algorithm(&self) -> DigestAlgorithm {
        DigestAlgorithm::for_key(self.signer.algorithm())
    }

    /// Adds the signing-time signed attribute (RFC 5652 §11.3; UTCTime until 2049, then
    /// GeneralizedTime). RFC 3161 tokens leave it out: `genTime` is the time.
    pub fn with_signing_time(mut self, at: OffsetDateTime) -> Self {
        self.signing_time = Some(at);
        self
    }

    /// Adds the unsigned signature-time-stamp attribute (RFC 3161 Appendix A, ETSI EN 319 122-1
    /// §5.3): `timestamp` is called with the signature value once it exists.
    pub fn with_signature_timestamp(mut self, timestamp: &'a TimestampFn<'a>) -> Self {
        self.signature_timestamp = Some(timestamp);
        self
    }

    /// Signs with RSASSA-PSS (SHA-256, MGF1-SHA-256, 32-byte salt; RFC 4056) instead of
    /// PKCS#1 v1.5. Only for RSA signers; signing fails otherwise.
    pub fn with_rsa_pss(mut self) -> Self {
        self.rsa_pss = true;
        self
    }

    /// Adds a certificate (DER) to `SignedData.certificates`.
    pub fn with_certificate(mut self, cert_der: &[u8]) -> Result<Self, CmsError> {
        self.certificates
            .push(Certificate::from_der(cert_der).map_err(CmsError::Certificate)?);
        Ok(self)
    }

    /// Signs `content` encapsulated in the `SignedData` under `content_type` (e.g.
    /// [`ID_CT_TST_INFO`] with the DER `TSTInfo`, RFC 3161 §2.4.2).
    pub fn sign_encapsulated(
        self,
        content_type: ObjectIdentifier,
        content: &[u8],
    ) -> Result<Vec<u8>, CmsError> {
        let digest = self.digest_algorithm().digest(content);
        let econtent = OctetString::new(content).map_err(encode_err("eContent"))?;
        let econtent = Any::encode_from(&econtent).map_err(encode_err("eContent"))?;
        self.sign_inner(content_type, Some(econtent), &digest)
    }

    /// Signs external content of type `id-data` known only by its `message_digest`, computed
    /// with [`digest_algorithm`](Self::digest_algorithm) (a detached signature, RFC 5652 §5.2:
    /// `eContent` absent), as PAdES needs for the PDF byte ranges.
    pub fn sign_detached(self, message_digest: &[u8]) -> Result<Vec<u8>, CmsError> {
        let algorithm = self.digest_algorithm();
        if message_digest.len() != algorithm.output_len() {
            return Err(CmsError::DigestLength {
                algorithm,
                expected: algorithm.output_len(),
                found: message_digest.len(),
            });
        }
        self.sign_inner(ID_DATA, None, message_digest)
    }

    fn sign_inner(
        self,
        content_type: ObjectIdentifier,
        econtent: Option<Any>,
        message_digest: &[u8],
    ) -> Result<Vec<u8>, CmsError> {
        let digest_algorithm = self.digest_algorithm();
        let signed_attrs = self.signed_attributes(content_type, message_digest)?;
        // RFC 5652 §5.4: the signature covers the DER of the attributes with the SET OF tag
        // (0x31), not the [0] IMPLICIT tag they carry inside SignerInfo.
        let to_be_signed = signed_attrs
            .to_der()
            .map_err(encode_err("signed attributes"))?;
        let signature = if self.rsa_pss {
            self.signer.sign_rsa_pss(&to_be_signed)?
        } else {
            self.signer.sign(&to_be_signed)?
        };
        let unsigned_attrs = match self.signature_timestamp {
            None => None,
            Some(timestamp) => {
                let token = timestamp(&signature)?;
                let value = Any::from_der(&token).map_err(|e| CmsError::Decode(e.to_string()))?;
                Some(
                    SetOfVec::try_from(vec![Attribute {
                        oid: ID_AA_SIGNATURE_TIME_STAMP_TOKEN,
                        values: SetOfVec::try_from(vec![value])
                            .map_err(encode_err("timestamp attribute"))?,
                    }])
                    .map_err(encode_err("unsigned attributes"))?,
                )
            }
        };
        let algorithm_der = if self.rsa_pss {
            crate::keys::RSA_PSS_SHA256_ALGORITHM_DER
        } else {
            self.signer.algorithm().signature_algorithm_der()
        };
        let signature_algorithm = AlgorithmIdentifierOwned::from_der(algorithm_der)
            .map_err(encode_err("signature algorithm"))?;

        let signer_info = SignerInfo {
            version: CmsVersion::V1,
            sid: SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
                issuer: self.signer_cert.tbs_certificate.issuer.clone(),
                serial_number: self.signer_cert.tbs_certificate.serial_number.clone(),
            }),
            digest_alg: digest_algorithm.identifier(),
            signed_attrs: Some(signed_attrs),
            signature_algorithm,
            signature: OctetString::new(signature).map_err(encode_err("signature"))?,
            unsigned_attrs,
        };

        let certificates = if self.certificates.is_empty() {
            None
        } else {
            let choices: Vec<_> = self
                .certificates
                .into_iter()
                .map(CertificateChoices::Certificate)
                .collect();
            Some(CertificateSet::try_from(choices).map_err(encode_err("certificates"))?)
        };

        // RFC 5652 §5.1: version 3 when eContentType is not id-data (no attribute certificates or
        // other formats are ever added here, and SignerInfo is version 1), else version 1.
        let version = if content_type == ID_DATA {
            CmsVersion::V1
        } else {
            CmsVersion::V3
        };
        let signed_data = SignedData {
            version,
            digest_algorithms: SetOfVec::try_from(vec![digest_algorithm.identifier()])
                .map_err(encode_err("digestAlgorithms"))?,
            encap_content_info: EncapsulatedContentInfo {
                econtent_type: content_type,
                econtent,
            },
            certificates,
            crls: None,
            signer_infos: SignerInfos::try_from(vec![signer_info])
                .map_err(encode_err("signerInfos"))?,
        };
        let content_info = ContentInfo {
            content_type: ID_SIGNED_DATA,
            content: Any::encode_from(&signed_data).map_err(encode_err("SignedData"))?,
        };
        content_info.to_der().map_err(encode_err("ContentInfo"))
    }

    fn signed_attributes(
        &self,
        content_type: ObjectIdentifier,
        message_digest: &[u8],
    ) -> Result<SetOfVec<Attribute>, CmsError> {
        let mut attrs = vec![
            attribute(ID_CONTENT_TYPE, &content_type)?,
            attribute(
                ID_MESSAGE_DIGEST,
                &OctetString::new(message_digest).map_err(encode_err("message-digest"))?,
            )?,
            attribute(
                ID_AA_SIGNING_CERTIFICATE_V2,
                &self.signing_certificate_v2()?,
            )?,
        ];
        if let Some(at) = self.signing_time {
            attrs.push(attribute(ID_SIGNING_TIME, &signing_time(at)?)?);
        }
        // DER requires SET OF in sorted order; `try_from` sorts.
        SetOfVec::try_from(attrs).map_err(encode_err("signed attributes"))
    }

    /// RFC 5035 §3 with one ESSCertIDv2: SHA-256 (the DEFAULT, so `hashAlgorithm` is omitted)
    /// over the whole certificate DER, plus `issuerSerial` naming it.
    fn signing_certificate_v2(&self) -> Result<SigningCertificateV2, CmsError> {
        Ok(SigningCertificateV2 {
            certs: vec![EssCertIdV2 {
                hash_algorithm: None,
                cert_hash: OctetString::new(Sha256::digest(self.signer_cert_der).to_vec())
                    .map_err(encode_err("certHash"))?,
                issuer_serial: Some(IssuerSerial {
                    issuer: vec![GeneralName::DirectoryName(
                        self.signer_cert.tbs_certificate.issuer.clone(),
                    )],
                    serial_number: self.signer_cert.tbs_certificate.serial_number.clone(),
                }),
            }],
            policies: None,
        })
    }
}

fn attribute(oid: ObjectIdentifier, value: &impl Encode) -> Result<Attribute, CmsError> {
    let value = value
        .to_der()
        .and_then(|der| Any::from_der(&der))
        .map_err(encode_err("attribute value"))?;
    Ok(Attribute {
        oid,
        values: SetOfVec::try_from(vec![value]).map_err(encode_err("attribute values"))?,
    })
}

/// RFC 5652 §11.3 / RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050.
fn signing_time(at: OffsetDateTime) -> Result<Time, CmsError> {
    let date_time = der_date_time(at).ok_or(CmsError::SigningTime(at))?;
    Ok(if at.year() < 2050 {
        Time::UtcTime(
            der::asn1::UtcTime::from_date_time(date_time).map_err(|_| CmsError::SigningTime(at))?,
        )
    } else {
        Time::GeneralTime(der::asn1::GeneralizedTime::from_date_time(date_time))
    })
}

/// Whole-second `der::DateTime` of `at`, or `None` before 1970 / after 9999.
pub(crate) fn der_date_time(at: OffsetDateTime) -> Option<der::DateTime> {
    let secs = u64::try_from(at.unix_timestamp()).ok()?;
    der::DateTime::from_unix_duration(std::time::Duration::from_secs(secs)).ok()
}

/// Decodes a DER `ContentInfo` that must contain a `SignedData` (RFC 5652 §3, §5.1). Structure
/// only: no signature is checked.
pub fn decode_signed_data(content_info_der: &[u8]) -> Result<SignedData, CmsError> {
    let content_info =
        ContentInfo::from_der(content_info_der).map_err(|e| CmsError::Decode(e.to_string()))?;
    if content_info.content_type != ID_SIGNED_DATA {
        return Err(CmsError::Decode(format!(
            "content type is {}, not id-signedData",
            content_info.content_type
        )));
    }
    content_info
        .content
        .decode_as::<SignedData>()
        .map_err(|e| CmsError::Decode(e.to_string()))
}

/// The encapsulated content octets of `signed_data`, if it is not detached.
pub fn encapsulated_content(signed_data: &SignedData) -> Option<Vec<u8>> {
    signed_data
        .encap_content_info
        .econtent
        .as_ref()
        .and_then(|any| any.decode_as::<OctetString>().ok())
        .map(OctetString::into_bytes)
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects
)]
pub(crate) mod tests {
    use std::sync::Arc;

    use time::macros::datetime;

    use super::*;
    use crate::cms::test_pki::{Profile, TestPki, run_openssl};
    use crate::keys::soft::{MasterKey, SoftKeyStore};
    use crate::keys::{KeyStore, verify_signature};

    fn signer(algorithm: KeyAlgorithm) -> Arc<dyn Signer> {
        let store = SoftKeyStore::new(Arc::new(MasterKey::from_bytes([9; 32])));
        let key = store.generate(algorithm, "cms").unwrap();
        store.signer(&key).unwrap()
    }

    /// Our own check of a single-signer SignedData, for what OpenSSL 3.0 cannot verify
    /// (Ed25519): message-digest over the content (or `detached_digest`), then the signature over
    /// the DER `SET OF` signed attributes. Returns the encapsulated content.
    pub(crate) fn verify_with_key(
        content_info_der: &[u8],
        spki_der: &[u8],
        algorithm: KeyAlgorithm,
        detached_digest: Option<&[u8]>,
    ) -> Vec<u8> {
        let signed_data = decode_signed_data(content_info_der).unwrap();
        let signer_info = signed_data.signer_infos.0.iter().next().unwrap();
        let digest_algorithm = DigestAlgorithm::for_key(algorithm);
        assert_eq!(signer_info.digest_alg.oid, digest_algorithm.oid());
        let content = encapsulated_content(&signed_data).unwrap_or_default();
        let digest = match detached_digest {
            Some(d) => d.to_vec(),
            None => digest_algorithm.digest(&content),
        };
        let attrs = signer_info.signed_attrs.as_ref().unwrap();
        let md = attrs.iter().find(|a| a.oid == ID_MESSAGE_DIGEST).unwrap();
        let md: OctetString = md.values.iter().next().unwrap().decode_as().unwrap();
        assert_eq!(md.as_bytes(), digest);
        assert!(
            verify_signature(
                spki_der,
                algorithm,
                &attrs.to_der().unwrap(),
                signer_info.signature.as_bytes()
            )
            .unwrap()
        );
        content
    }

    struct Fixture {
        pki: TestPki,
        signer: Arc<dyn Signer>,
        cert_der: Vec<u8>,
        dir: tempfile::TempDir,
    }

    fn fixture(algorithm: KeyAlgorithm) -> Fixture {
        let pki = TestPki::new();
        let signer = signer(algorithm);
        // The TSA profile is the one with a critical EKU; `-purpose any` lets OpenSSL accept it
        // for CMS.
        let cert = pki.issue(signer.spki_der(), "CMS signer", Profile::Tsa);
        let dir = tempfile::tempdir().unwrap();
        pki.write_pems(dir.path());
        Fixture {
            pki,
            signer,
            cert_der: cert.to_der().unwrap(),
            dir,
        }
    }

    fn openssl_cms_verify(dir: &std::path::Path, extra: &[&str]) -> (bool, String) {
        let mut args = vec![
            "cms",
            "-verify",
            "-inform",
            "DER",
            "-in",
            "sig.der",
            "-binary",
            "-CAfile",
            "chain.pem",
            "-purpose",
            "any",
            "-out",
            "out.bin",
        ];
        args.extend_from_slice(extra);
        run_openssl(dir, &args)
    }

    #[test]
    fn openssl_verifies_encapsulated_ecdsa_and_rsa() {
        for algorithm in [KeyAlgorithm::EcdsaP256, KeyAlgorithm::Rsa2048] {
            let f = fixture(algorithm);
            let sig = SignedDataBuilder::new(f.signer.as_ref(), &f.cert_der)
                .unwrap()
                .with_certificate(&f.cert_der)
                .unwrap()
                .with_signing_time(OffsetDateTime::now_utc())
                .sign_encapsulated(ID_DATA, b"encapsulated content")
                .unwrap();
            std::fs::write(f.dir.path().join("sig.der"), &sig).unwrap();
            let (ok, out) = openssl_cms_verify(f.dir.path(), &[]);
            assert!(
                ok && out.contains("Verification successful"),
                "{algorithm}: {out}"
            );
            assert_eq!(
                std::fs::read(f.dir.path().join("out.bin")).unwrap(),
                b"encapsulated content"
            );
        }
    }

    #[test]
    fn openssl_verifies_detached_ecdsa_and_rsa() {
        for algorithm in [KeyAlgorithm::EcdsaP256, KeyAlgorithm::Rsa2048] {
            let f = fixture(algorithm);
            let content = b"%PDF-1.7 byte ranges";
            let builder = SignedDataBuilder::new(f.signer.as_ref(), &f.cert_der)
                .unwrap()
                .with_certificate(&f.cert_der)
                .unwrap();
            let digest = builder.digest_algorithm().digest(content);
            let sig = builder.sign_detached(&digest).unwrap();
            std::fs::write(f.dir.path().join("sig.der"), &sig).unwrap();
            std::fs::write(f.dir.path().join("content.bin"), content).unwrap();
            let (ok, out) = openssl_cms_verify(f.dir.path(), &["-content", "content.bin"]);
            assert!(
                ok && out.contains("Verification successful"),
                "{algorithm}: {out}"
            );
            std::fs::write(f.dir.path().join("content.bin"), b"tampered").unwrap();
            let (ok, _) = openssl_cms_verify(f.dir.path(), &["-content", "content.bin"]);
            assert!(!ok, "{algorithm}: tampered content verified");
        }
    }

    #[test]
    fn ed25519_uses_sha512_and_verifies() {
        let f = fixture(KeyAlgorithm::Ed25519);
        let builder = SignedDataBuilder::new(f.signer.as_ref(), &f.cert_der).unwrap();
        assert_eq!(builder.digest_algorithm(), DigestAlgorithm::Sha512);
        let sig = builder.sign_encapsulated(ID_DATA, b"ed").unwrap();
        let content = verify_with_key(&sig, f.signer.spki_der(), KeyAlgorithm::Ed25519, None);
        assert_eq!(content, b"ed");
        let builder = SignedDataBuilder::new(f.signer.as_ref(), &f.cert_der).unwrap();
        let digest = Sha512::digest(b"detached").to_vec();
        let sig = builder.sign_detached(&digest).unwrap();
        verify_with_key(
            &sig,
            f.signer.spki_der(),
            KeyAlgorithm::Ed25519,
            Some(&digest),
        );
    }

    #[test]
    fn structure_follows_rfc_5652_and_5035() {
        let f = fixture(KeyAlgorithm::EcdsaP256);
        let at = datetime!(2026-01-02 03:04:05 UTC);
        let sig = SignedDataBuilder::new(f.signer.as_ref(), &f.cert_der)
            .unwrap()
            .with_signing_time(at)
            .sign_encapsulated(ID_CT_TST_INFO, b"\x30\x00")
            .unwrap();
        let sd = decode_signed_data(&sig).unwrap();
        assert_eq!(sd.version, CmsVersion::V3, "eContentType is not id-data");
        assert!(sd.certificates.is_none());
        let si = sd.signer_infos.0.iter().next().unwrap();
        assert_eq!(si.version, CmsVersion::V1);
        assert!(matches!(si.sid, SignerIdentifier::IssuerAndSerialNumber(_)));
        assert_eq!(
            si.signature_algorithm.to_der().unwrap(),
            KeyAlgorithm::EcdsaP256.signature_algorithm_der()
        );
        let attrs = si.signed_attrs.as_ref().unwrap();
        let value = |oid| {
            attrs
                .iter()
                .find(|a| a.oid == oid)
                .unwrap()
                .values
                .iter()
                .next()
                .unwrap()
                .clone()
        };
        let ct: ObjectIdentifier = value(ID_CONTENT_TYPE).decode_as().unwrap();
        assert_eq!(ct, ID_CT_TST_INFO);
        let time = Time::from_der(&value(ID_SIGNING_TIME).to_der().unwrap()).unwrap();
        assert!(matches!(time, Time::UtcTime(_)));
        assert_eq!(
            time.to_unix_duration().as_secs(),
            at.unix_timestamp() as u64
        );
        let scv2: SigningCertificateV2 = value(ID_AA_SIGNING_CERTIFICATE_V2).decode_as().unwrap();
        let id = &scv2.certs[0];
        assert!(
            id.hash_algorithm.is_none(),
            "SHA-256 is the DEFAULT and must be omitted"
        );
        assert_eq!(
            id.cert_hash.as_bytes(),
            Sha256::digest(&f.cert_der).as_slice()
        );
        let cert = Certificate::from_der(&f.cert_der).unwrap();
        let issuer_serial = id.issuer_serial.as_ref().unwrap();
        assert_eq!(
            issuer_serial.serial_number,
            cert.tbs_certificate.serial_number
        );
        verify_with_key(&sig, f.signer.spki_der(), KeyAlgorithm::EcdsaP256, None);
    }

    #[test]
    fn signing_time_from_2050_is_generalized_time() {
        let time = signing_time(datetime!(2050-01-01 00:00:00 UTC)).unwrap();
        assert!(matches!(time, Time::GeneralTime(_)));
        assert!(matches!(
            signing_time(datetime!(1969-12-31 23:59:59 UTC)),
            Err(CmsError::SigningTime(_))
        ));
    }

    #[test]
    fn refuses_certificate_of_another_key() {
        let f = fixture(KeyAlgorithm::EcdsaP256);
        let other = signer(KeyAlgorithm::EcdsaP256);
        assert!(matches!(
            SignedDataBuilder::new(other.as_ref(), &f.cert_der),
            Err(CmsError::KeyMismatch)
        ));
        assert!(matches!(
            SignedDataBuilder::new(other.as_ref(), b"not a cert"),
            Err(CmsError::Certificate(_))
        ));
        let _ = &f.pki;
    }

    #[test]
    fn refuses_detached_digest_of_wrong_length() {
        let f = fixture(KeyAlgorithm::EcdsaP256);
        let builder = SignedDataBuilder::new(f.signer.as_ref(), &f.cert_der).unwrap();
        assert!(matches!(
            builder.sign_detached(&[0; 20]),
            Err(CmsError::DigestLength {
                expected: 32,
                found: 20,
                ..
            })
        ));
    }
}
