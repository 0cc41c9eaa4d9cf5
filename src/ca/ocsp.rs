//! RFC 6960 OCSP responder for one issuing CA, signing with a delegated responder key.
//!
//! [`OcspResponder::respond`] is pure: the HTTP layer passes the DER `OCSPRequest` (from a POST
//! body or a decoded GET path, RFC 6960 Appendix A.1), the current time from its `Clock`, the
//! `nextUpdate` its policy chose, and a status lookup into the CA's store; it gets back a DER
//! `OCSPResponse` to send as `application/ocsp-response`. It never fails and never panics on
//! untrusted input: problems become `malformedRequest`, `unauthorized` or `internalError`.
//!
//! The responder certificate is a delegated one (RFC 6960 §4.2.2.2): issued by the CA it answers
//! for, with EKU `id-kp-OCSPSigning` and `id-pkix-ocsp-nocheck`; profile checks of that
//! certificate belong to `ca`, this module only checks the key and the issuer link.
//!
//! Requests for another CA: a `CertID` whose issuer hashes are not our issuer's gets status
//! `unknown`; if *no* `CertID` in the request names our issuer the whole response is
//! `unauthorized` (RFC 6960 §2.3, RFC 5019 §2.2.3), since a delegated responder's signature
//! means nothing for another CA's certificates.
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects
)]

use std::sync::Arc;

use der::asn1::{BitString, GeneralizedTime, ObjectIdentifier, OctetString};
use der::{Decode, Encode};
use spki::AlgorithmIdentifierOwned;
use time::OffsetDateTime;
use x509_cert::Certificate;
use x509_cert::ext::Extension;
use x509_cert::ext::pkix::CrlReason;
use x509_ocsp::ext::Nonce;
use x509_ocsp::{
    BasicOcspResponse, CertId, CertStatus, OcspGeneralizedTime, OcspRequest, OcspResponse,
    ResponderId, ResponseData, RevokedInfo, SingleResponse, Version,
};

use crate::cms::ID_SHA256;
use crate::keys::Signer;

/// Requests longer than this get `malformedRequest` without being parsed. One SHA-256 `CertID`
/// with a nonce is about 120 bytes.
pub const MAX_REQUEST_LEN: usize = 16 * 1024;
/// Requests listing more certificates than this get `malformedRequest`.
pub const MAX_REQUESTS: usize = 32;
/// Longest nonce echoed (RFC 8954 §2.1 lets responders ignore longer ones).
pub const MAX_NONCE_LEN: usize = 32;

const ID_SHA1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.14.3.2.26");
const ID_PKIX_OCSP_NONCE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.48.1.2");

/// `OCSPResponse` of last resort, `SEQUENCE { ENUMERATED internalError(2) }`, if encoding a
/// proper response fails.
const INTERNAL_ERROR_RESPONSE: &[u8] = &[0x30, 0x03, 0x0a, 0x01, 0x02];

/// Revocation status of one certificate as the CA's records know it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CertStatusInfo {
    /// Issued by this CA and not revoked.
    Good,
    /// Revoked at `at`, with an RFC 5280 §5.3.1 `CRLReason` code if one was recorded (codes
    /// outside 0–10 or 7 are left out of the response).
    Revoked {
        at: OffsetDateTime,
        reason: Option<u8>,
    },
    /// Not a certificate this CA knows.
    Unknown,
    /// The records could not be read just now; the whole response becomes `tryLater`
    /// (RFC 6960 §2.3) rather than a signed, wrong `unknown`.
    Unavailable,
}

/// Errors setting up an [`OcspResponder`]. Requests never error: they get an `OCSPResponse`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OcspError {
    #[error("{which} certificate is not valid DER: {source}")]
    Certificate {
        which: &'static str,
        source: der::Error,
    },
    #[error("the responder certificate does not certify the responder signing key")]
    KeyMismatch,
    #[error("the responder certificate is not issued by the issuer certificate")]
    NotIssuedByIssuer,
    #[error("checking the responder certificate's signature: {0}")]
    Crypto(#[from] openssl::error::ErrorStack),
    #[error("encoding {what}: {source}")]
    Encode {
        what: &'static str,
        source: der::Error,
    },
}

/// A delegated OCSP responder for the certificates of one issuing CA.
pub struct OcspResponder {
    signer: Arc<dyn Signer>,
    /// DER of the delegated responder certificate; sent in every response's `certs`.
    responder_cert_der: Vec<u8>,
    /// DER of the CA certificate whose certificates this responder answers for.
    issuer_cert_der: Vec<u8>,
    responder_cert: Certificate,
    /// `ResponderID.byKey`: SHA-1 of the responder's `subjectPublicKey` bits (RFC 6960 §4.2.1).
    responder_key_hash: [u8; 20],
    /// Our issuer's `CertID` hashes per accepted hash algorithm.
    issuer_hashes: [IssuerHashes; 2],
}

/// `issuerNameHash` / `issuerKeyHash` of our issuer under one hash algorithm (RFC 6960 §4.1.1).
struct IssuerHashes {
    algorithm: ObjectIdentifier,
    name_hash: Vec<u8>,
    key_hash: Vec<u8>,
}

impl OcspResponder {
    /// A responder signing with `signer`, certified by `responder_cert_der`, which must be
    /// issued (name and signature) by `issuer_cert_der`.
    pub fn new(
        signer: Arc<dyn Signer>,
        responder_cert_der: Vec<u8>,
        issuer_cert_der: Vec<u8>,
    ) -> Result<Self, OcspError> {
        let cert_err = |which| move |source| OcspError::Certificate { which, source };
        let responder_cert =
            Certificate::from_der(&responder_cert_der).map_err(cert_err("responder"))?;
        let issuer_cert = Certificate::from_der(&issuer_cert_der).map_err(cert_err("issuer"))?;
        let responder_spki = &responder_cert.tbs_certificate.subject_public_key_info;
        let spki_der = responder_spki
            .to_der()
            .map_err(|source| OcspError::Encode {
                what: "responder SPKI",
                source,
            })?;
        if spki_der != signer.spki_der() {
            return Err(OcspError::KeyMismatch);
        }
        // RFC 6960 §4.2.2.2: a delegated responder's certificate is issued directly by the CA.
        let issued = responder_cert.tbs_certificate.issuer == issuer_cert.tbs_certificate.subject
            && openssl::x509::X509::from_der(&responder_cert_der)?
                .verify(&*openssl::x509::X509::from_der(&issuer_cert_der)?.public_key()?)?;
        if !issued {
            return Err(OcspError::NotIssuedByIssuer);
        }
        let issuer_name = issuer_cert
            .tbs_certificate
            .subject
            .to_der()
            .map_err(|source| OcspError::Encode {
                what: "issuer name",
                source,
            })?;
        let issuer_key = issuer_cert
            .tbs_certificate
            .subject_public_key_info
            .subject_public_key
            .raw_bytes();
        let issuer_hashes = [
            IssuerHashes {
                algorithm: ID_SHA1,
                name_hash: openssl::sha::sha1(&issuer_name).to_vec(),
                key_hash: openssl::sha::sha1(issuer_key).to_vec(),
            },
            IssuerHashes {
                algorithm: ID_SHA256,
                name_hash: openssl::sha::sha256(&issuer_name).to_vec(),
                key_hash: openssl::sha::sha256(issuer_key).to_vec(),
            },
        ];
        Ok(Self {
            responder_key_hash: openssl::sha::sha1(responder_spki.subject_public_key.raw_bytes()),
            signer,
            responder_cert_der,
            issuer_cert_der,
            responder_cert,
            issuer_hashes,
        })
    }

    /// DER of the responder certificate.
    pub fn responder_certificate_der(&self) -> &[u8] {
        &self.responder_cert_der
    }

    /// DER of the issuer (CA) certificate.
    pub fn issuer_certificate_der(&self) -> &[u8] {
        &self.issuer_cert_der
    }

    /// Answers a DER `OCSPRequest` (RFC 6960 §4.1.1) with a DER `OCSPResponse` (§4.2.1).
    ///
    /// `lookup` gets each requested serial number as big-endian unsigned bytes without leading
    /// zeros; it is called only for `CertID`s naming our issuer (SHA-1 or SHA-256 hashes) with
    /// a positive serial. A successful response is a `BasicOCSPResponse` with `ResponderID`
    /// byKey, `producedAt` = `thisUpdate` = `now`, `nextUpdate` = `next_update`, the request's
    /// nonce extension echoed (if 1–[`MAX_NONCE_LEN`] bytes, RFC 8954 §2.1), `certs` = the
    /// responder certificate, signed by the responder key. Request signatures are ignored
    /// (RFC 6960 §4.1.2 makes them optional; status is public).
    ///
    /// Errors: `malformedRequest` for oversized or undecodable requests and for empty or more
    /// than [`MAX_REQUESTS`] entries; `unauthorized` when no entry names our issuer;
    /// `tryLater` when `lookup` reports [`CertStatusInfo::Unavailable`]; `internalError` if
    /// signing fails.
    pub fn respond(
        &self,
        request_der: &[u8],
        now: OffsetDateTime,
        next_update: OffsetDateTime,
        lookup: &dyn Fn(&[u8]) -> CertStatusInfo,
    ) -> Vec<u8> {
        let response = self
            .try_respond(request_der, now, next_update, lookup)
            .unwrap_or_else(|failure| match failure {
                Failure::Malformed => OcspResponse::malformed_request(),
                Failure::Unauthorized => OcspResponse::unauthorized(),
                Failure::TryLater => OcspResponse::try_later(),
                Failure::Internal(message) => {
                    tracing::error!(%message, "OCSP response could not be produced");
                    OcspResponse::internal_error()
                }
            });
        response.to_der().unwrap_or_else(|e| {
            tracing::error!(error = %e, "OCSPResponse could not be encoded");
            INTERNAL_ERROR_RESPONSE.to_vec()
        })
    }

    fn try_respond(
        &self,
        request_der: &[u8],
        now: OffsetDateTime,
        next_update: OffsetDateTime,
        lookup: &dyn Fn(&[u8]) -> CertStatusInfo,
    ) -> Result<OcspResponse, Failure> {
        if request_der.len() > MAX_REQUEST_LEN {
            return Err(Failure::Malformed);
        }
        let request = OcspRequest::from_der(request_der).map_err(|_| Failure::Malformed)?;
        let entries = &request.tbs_request.request_list;
        if entries.is_empty() || entries.len() > MAX_REQUESTS {
            return Err(Failure::Malformed);
        }
        let this_update = ocsp_time(now)?;
        let next_update = ocsp_time(next_update)?;

        let mut any_ours = false;
        let mut responses = Vec::with_capacity(entries.len());
        for entry in entries {
            let cert_id = &entry.req_cert;
            let status = if self.names_our_issuer(cert_id) {
                any_ours = true;
                match unsigned_serial(cert_id.serial_number.as_bytes()) {
                    Some(serial) => cert_status(lookup(serial))?,
                    None => CertStatus::unknown(),
                }
            } else {
                CertStatus::unknown()
            };
            responses.push(SingleResponse {
                cert_id: cert_id.clone(),
                cert_status: status,
                this_update,
                next_update: Some(next_update),
                single_extensions: None,
            });
        }
        if !any_ours {
            return Err(Failure::Unauthorized);
        }

        let tbs_response_data = ResponseData {
            version: Version::V1,
            responder_id: ResponderId::ByKey(
                OctetString::new(self.responder_key_hash.to_vec()).map_err(internal)?,
            ),
            produced_at: this_update,
            responses,
            response_extensions: echoed_nonce(&request).map(|nonce| vec![nonce]),
        };
        let tbs = tbs_response_data.to_der().map_err(internal)?;
        let signature = self
            .signer
            .sign(&tbs)
            .map_err(|e| Failure::Internal(e.to_string()))?;
        let signature_algorithm =
            AlgorithmIdentifierOwned::from_der(self.signer.algorithm().signature_algorithm_der())
                .map_err(internal)?;
        let basic = BasicOcspResponse {
            tbs_response_data,
            signature_algorithm,
            signature: BitString::from_bytes(&signature).map_err(internal)?,
            certs: Some(vec![self.responder_cert.clone()]),
        };
        OcspResponse::successful(basic).map_err(internal)
    }

    /// Whether `cert_id`'s issuer hashes are our issuer's under its (SHA-1 or SHA-256) hash.
    fn names_our_issuer(&self, cert_id: &CertId) -> bool {
        self.issuer_hashes.iter().any(|h| {
            h.algorithm == cert_id.hash_algorithm.oid
                && h.name_hash == cert_id.issuer_name_hash.as_bytes()
                && h.key_hash == cert_id.issuer_key_hash.as_bytes()
        })
    }
}

/// Why no successful response was produced.
enum Failure {
    Malformed,
    Unauthorized,
    TryLater,
    Internal(String),
}

fn internal(e: der::Error) -> Failure {
    Failure::Internal(e.to_string())
}

fn ocsp_time(at: OffsetDateTime) -> Result<OcspGeneralizedTime, Failure> {
    crate::cms::der_date_time(at)
        .map(|t| OcspGeneralizedTime(GeneralizedTime::from_date_time(t)))
        .ok_or_else(|| Failure::Internal(format!("time {at} is not a GeneralizedTime")))
}

/// The magnitude of a DER INTEGER serial without leading zeros; `None` for zero or negative
/// serials, which RFC 5280 §4.1.2.2 rules out, so no certificate of ours has them.
fn unsigned_serial(der_integer: &[u8]) -> Option<&[u8]> {
    if der_integer.first().is_none_or(|&b| b & 0x80 != 0) {
        return None;
    }
    let start = der_integer.iter().position(|&b| b != 0)?;
    der_integer.get(start..)
}

fn cert_status(info: CertStatusInfo) -> Result<CertStatus, Failure> {
    Ok(match info {
        CertStatusInfo::Good => CertStatus::good(),
        CertStatusInfo::Unknown => CertStatus::unknown(),
        CertStatusInfo::Unavailable => return Err(Failure::TryLater),
        CertStatusInfo::Revoked { at, reason } => CertStatus::Revoked(RevokedInfo {
            revocation_time: ocsp_time(at)?,
            revocation_reason: reason.and_then(crl_reason),
        }),
    })
}

/// RFC 5280 §5.3.1 `CRLReason` codes (7 is unused).
fn crl_reason(code: u8) -> Option<CrlReason> {
    Some(match code {
        0 => CrlReason::Unspecified,
        1 => CrlReason::KeyCompromise,
        2 => CrlReason::CaCompromise,
        3 => CrlReason::AffiliationChanged,
        4 => CrlReason::Superseded,
        5 => CrlReason::CessationOfOperation,
        6 => CrlReason::CertificateHold,
        8 => CrlReason::RemoveFromCRL,
        9 => CrlReason::PrivilegeWithdrawn,
        10 => CrlReason::AaCompromise,
        _ => return None,
    })
}

/// The request's nonce extension (RFC 6960 §4.4.1), to be copied into the response, if its
/// nonce is 1–[`MAX_NONCE_LEN`] bytes (RFC 8954 §2.1).
fn echoed_nonce(request: &OcspRequest) -> Option<Extension> {
    let extension = request
        .tbs_request
        .request_extensions
        .as_ref()?
        .iter()
        .find(|e| e.extn_id == ID_PKIX_OCSP_NONCE)?;
    let nonce = Nonce::from_der(extension.extn_value.as_bytes()).ok()?;
    (1..=MAX_NONCE_LEN)
        .contains(&nonce.0.as_bytes().len())
        .then(|| Extension {
            extn_id: ID_PKIX_OCSP_NONCE,
            critical: false,
            extn_value: extension.extn_value.clone(),
        })
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects
)]
mod tests {
    use std::path::Path;

    use openssl::x509::X509;
    use time::macros::datetime;

    use super::*;
    use crate::cms::test_pki::{Profile, TestPki, run_openssl};
    use crate::keys::soft::{MasterKey, SoftKeyStore};
    use crate::keys::{KeyAlgorithm, KeyStore};

    const NOW: OffsetDateTime = datetime!(2026-11-21 12:00:00 UTC);
    const NEXT: OffsetDateTime = datetime!(2026-11-22 12:00:00 UTC);

    fn responder(pki: &TestPki, algorithm: KeyAlgorithm) -> (OcspResponder, X509) {
        let store = SoftKeyStore::new(Arc::new(MasterKey::from_bytes([3; 32])));
        let key = store.generate(algorithm, "ocsp").unwrap();
        let signer = store.signer(&key).unwrap();
        let cert = pki.issue(signer.spki_der(), "Test OCSP responder", Profile::Ocsp);
        let responder = OcspResponder::new(
            signer,
            cert.to_der().unwrap(),
            pki.issuing.to_der().unwrap(),
        )
        .unwrap();
        (responder, cert)
    }

    fn serial_of(cert: &X509) -> Vec<u8> {
        cert.serial_number().to_bn().unwrap().to_vec()
    }

    fn request_for(pki: &TestPki, certs: &[&X509], nonce: Option<&[u8]>) -> Vec<u8> {
        use x509_ocsp::Request;
        use x509_ocsp::builder::OcspRequestBuilder;
        let issuer = Certificate::from_der(&pki.issuing.to_der().unwrap()).unwrap();
        let mut builder = OcspRequestBuilder::default();
        for cert in certs {
            let cert = Certificate::from_der(&cert.to_der().unwrap()).unwrap();
            builder =
                builder.with_request(Request::from_cert::<sha2::Sha256>(&issuer, &cert).unwrap());
        }
        if let Some(nonce) = nonce {
            builder = builder.with_extension(Nonce::new(nonce).unwrap()).unwrap();
        }
        builder.build().to_der().unwrap()
    }

    fn basic(response: &[u8]) -> BasicOcspResponse {
        let response = OcspResponse::from_der(response).unwrap();
        assert_eq!(
            response.response_status,
            x509_ocsp::OcspResponseStatus::Successful
        );
        BasicOcspResponse::from_der(response.response_bytes.unwrap().response.as_bytes()).unwrap()
    }

    fn status(response: &[u8]) -> x509_ocsp::OcspResponseStatus {
        OcspResponse::from_der(response).unwrap().response_status
    }

    #[test]
    fn answers_sha256_cert_ids_with_lookup_and_echoes_nonce() {
        let pki = TestPki::new();
        let (responder, _) = responder(&pki, KeyAlgorithm::EcdsaP256);
        let good = pki.leaf("good");
        let revoked = pki.leaf("revoked");
        let revoked_serial = serial_of(&revoked);
        let request = request_for(&pki, &[&good, &revoked], Some(&[5; 16]));
        let lookup = |serial: &[u8]| {
            assert_ne!(serial.first(), Some(&0), "leading zero passed to lookup");
            if serial == revoked_serial {
                CertStatusInfo::Revoked {
                    at: NOW,
                    reason: Some(1),
                }
            } else {
                CertStatusInfo::Good
            }
        };
        let basic = basic(&responder.respond(&request, NOW, NEXT, &lookup));
        let data = &basic.tbs_response_data;
        assert_eq!(data.responses.len(), 2);
        assert_eq!(data.responses[0].cert_status, CertStatus::good());
        assert!(matches!(
            data.responses[1].cert_status,
            CertStatus::Revoked(RevokedInfo {
                revocation_reason: Some(CrlReason::KeyCompromise),
                ..
            })
        ));
        assert_eq!(basic.nonce().unwrap().0.as_bytes(), [5; 16]);
        assert_eq!(
            data.responder_id,
            ResponderId::ByKey(OctetString::new(responder.responder_key_hash.to_vec()).unwrap())
        );
        assert_eq!(basic.certs.as_ref().unwrap().len(), 1);
        assert!(
            crate::keys::verify_signature(
                responder.signer.spki_der(),
                KeyAlgorithm::EcdsaP256,
                &data.to_der().unwrap(),
                basic.signature.raw_bytes(),
            )
            .unwrap()
        );
    }

    #[test]
    fn foreign_issuer_is_unknown_or_unauthorized() {
        let pki = TestPki::new();
        let other = TestPki::new();
        let (responder, _) = responder(&pki, KeyAlgorithm::EcdsaP256);
        let ours = pki.leaf("ours");
        let theirs = other.leaf("theirs");
        let lookup = |_: &[u8]| CertStatusInfo::Good;
        let only_theirs = request_for(&other, &[&theirs], None);
        assert_eq!(
            status(&responder.respond(&only_theirs, NOW, NEXT, &lookup)),
            x509_ocsp::OcspResponseStatus::Unauthorized
        );
        // Mixed: build a request with one CertID of each issuer.
        let mut mixed = OcspRequest::from_der(&request_for(&pki, &[&ours], None)).unwrap();
        let foreign = OcspRequest::from_der(&only_theirs).unwrap();
        mixed
            .tbs_request
            .request_list
            .push(foreign.tbs_request.request_list[0].clone());
        let basic = basic(&responder.respond(&mixed.to_der().unwrap(), NOW, NEXT, &lookup));
        assert_eq!(
            basic.tbs_response_data.responses[0].cert_status,
            CertStatus::good()
        );
        assert_eq!(
            basic.tbs_response_data.responses[1].cert_status,
            CertStatus::unknown()
        );
        assert!(basic.nonce().is_none());
    }

    #[test]
    fn unreadable_records_answer_try_later_not_unknown() {
        let pki = TestPki::new();
        let (responder, _) = responder(&pki, KeyAlgorithm::EcdsaP256);
        let leaf = pki.leaf("leaf");
        let request = request_for(&pki, &[&leaf], None);
        assert_eq!(
            status(&responder.respond(&request, NOW, NEXT, &|_| CertStatusInfo::Unavailable)),
            x509_ocsp::OcspResponseStatus::TryLater
        );
    }

    #[test]
    fn malformed_requests_never_panic() {
        let pki = TestPki::new();
        let (responder, _) = responder(&pki, KeyAlgorithm::EcdsaP256);
        let lookup = |_: &[u8]| CertStatusInfo::Good;
        let malformed = x509_ocsp::OcspResponseStatus::MalformedRequest;
        assert_eq!(
            status(&responder.respond(b"", NOW, NEXT, &lookup)),
            malformed
        );
        let huge = vec![0x30; MAX_REQUEST_LEN + 1];
        assert_eq!(
            status(&responder.respond(&huge, NOW, NEXT, &lookup)),
            malformed
        );
        let leaf = pki.leaf("leaf");
        let many: Vec<&X509> = std::iter::repeat_n(&leaf, MAX_REQUESTS + 1).collect();
        let too_many = request_for(&pki, &many, None);
        assert_eq!(
            status(&responder.respond(&too_many, NOW, NEXT, &lookup)),
            malformed
        );
        let good = request_for(&pki, &[&leaf], Some(&[1; 16]));
        for len in 0..good.len() {
            assert_eq!(
                status(&responder.respond(&good[..len], NOW, NEXT, &lookup)),
                malformed
            );
        }
        for i in 0..good.len() {
            let mut bad = good.clone();
            bad[i] ^= 0xff;
            OcspResponse::from_der(&responder.respond(&bad, NOW, NEXT, &lookup)).unwrap();
        }
    }

    #[test]
    fn oversized_nonce_is_not_echoed() {
        let pki = TestPki::new();
        let (responder, _) = responder(&pki, KeyAlgorithm::EcdsaP256);
        let leaf = pki.leaf("leaf");
        let request = request_for(&pki, &[&leaf], Some(&[1; MAX_NONCE_LEN + 1]));
        let basic = basic(&responder.respond(&request, NOW, NEXT, &|_| CertStatusInfo::Good));
        assert!(basic.nonce().is_none());
    }

    #[test]
    fn serials_reach_lookup_unsigned_without_leading_zero() {
        assert_eq!(
            unsigned_serial(&[0x00, 0x80, 0x01]),
            Some(&[0x80, 0x01][..])
        );
        assert_eq!(unsigned_serial(&[0x01]), Some(&[0x01][..]));
        assert_eq!(unsigned_serial(&[0x00]), None);
        assert_eq!(unsigned_serial(&[0xff]), None);
        assert_eq!(unsigned_serial(&[]), None);
    }

    #[test]
    fn refuses_mismatched_certificates() {
        let pki = TestPki::new();
        let other = TestPki::new();
        let (responder, cert) = responder(&pki, KeyAlgorithm::EcdsaP256);
        let signer = responder.signer.clone();
        assert!(matches!(
            OcspResponder::new(
                signer.clone(),
                cert.to_der().unwrap(),
                other.issuing.to_der().unwrap()
            ),
            Err(OcspError::NotIssuedByIssuer)
        ));
        let leaf = pki.leaf("leaf");
        assert!(matches!(
            OcspResponder::new(
                signer,
                leaf.to_der().unwrap(),
                pki.issuing.to_der().unwrap()
            ),
            Err(OcspError::KeyMismatch)
        ));
    }

    /// `openssl ocsp -reqout` → respond → `openssl ocsp -respin -reqin` (nonce checked).
    fn openssl_round_trip(algorithm: KeyAlgorithm, revoked: bool, hash: &str) -> String {
        let pki = TestPki::new();
        let (responder, ocsp_cert) = responder(&pki, algorithm);
        let leaf = pki.leaf("leaf");
        let dir = tempfile::tempdir().unwrap();
        let d: &Path = dir.path();
        pki.write_pems(d);
        std::fs::write(d.join("leaf.pem"), leaf.to_pem().unwrap()).unwrap();
        std::fs::write(d.join("ocsp.pem"), ocsp_cert.to_pem().unwrap()).unwrap();
        let (ok, out) = run_openssl(
            d,
            &[
                "ocsp",
                "-issuer",
                "issuing.pem",
                hash,
                "-cert",
                "leaf.pem",
                "-reqout",
                "req.der",
            ],
        );
        assert!(ok, "{out}");
        let request = std::fs::read(d.join("req.der")).unwrap();
        let leaf_serial = serial_of(&leaf);
        let now = OffsetDateTime::now_utc();
        let at = now - time::Duration::hours(1);
        let lookup = move |serial: &[u8]| {
            assert_eq!(serial, leaf_serial);
            if revoked {
                CertStatusInfo::Revoked {
                    at,
                    reason: Some(4),
                }
            } else {
                CertStatusInfo::Good
            }
        };
        let response = responder.respond(&request, now, now + time::Duration::days(1), &lookup);
        std::fs::write(d.join("resp.der"), response).unwrap();
        // With `-cert`, `openssl ocsp` builds a fresh request (new nonce) even when `-reqin` is
        // given, so the nonce check runs with `-reqin` alone and the per-certificate status
        // line with `-cert` and `-no_nonce`.
        let (ok, out) = run_openssl(
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
        assert!(ok, "{algorithm}: {out}");
        assert!(out.contains("Response verify OK"), "{algorithm}: {out}");
        assert!(out.contains("OCSP Nonce"), "{algorithm}: {out}");
        assert!(
            !out.contains("WARNING") && !out.contains("Nonce Verify error"),
            "{algorithm}: {out}"
        );
        let (ok, status) = run_openssl(
            d,
            &[
                "ocsp",
                "-respin",
                "resp.der",
                "-issuer",
                "issuing.pem",
                hash,
                "-cert",
                "leaf.pem",
                "-no_nonce",
                "-CAfile",
                "chain.pem",
                "-verify_other",
                "ocsp.pem",
            ],
        );
        assert!(
            ok && status.contains("Response verify OK"),
            "{algorithm}: {status}"
        );
        format!("{out}\n{status}")
    }

    #[test]
    fn openssl_verifies_good_ecdsa() {
        let out = openssl_round_trip(KeyAlgorithm::EcdsaP256, false, "-sha1");
        assert!(out.contains("leaf.pem: good"), "{out}");
    }

    #[test]
    fn openssl_verifies_revoked_with_reason_rsa_sha256_cert_id() {
        let out = openssl_round_trip(KeyAlgorithm::Rsa2048, true, "-sha256");
        assert!(out.contains("leaf.pem: revoked"), "{out}");
        assert!(out.contains("Reason: superseded"), "{out}");
    }

    #[test]
    fn openssl_verifies_ed25519() {
        let out = openssl_round_trip(KeyAlgorithm::Ed25519, false, "-sha256");
        assert!(out.contains("leaf.pem: good"), "{out}");
    }
}
