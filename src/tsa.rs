//! RFC 3161 time-stamping responder: `TimeStampReq` bytes in, `TimeStampResp` bytes out.
//!
//! [`TimeStampAuthority::respond`] is pure: the caller (the HTTP layer, via `service`) supplies the
//! request body, the current time from its `Clock` and a fresh random serial, and gets back a DER
//! `TimeStampResp` (RFC 3161 §2.4.2) to send with `application/timestamp-reply` — a token when the
//! request is acceptable, otherwise a `rejection` with a `PKIFailureInfo` bit saying why. It never
//! fails and never panics: the request is untrusted input, capped at [`MAX_REQUEST_LEN`].
//!
//! The token is a CMS `SignedData` built by [`crate::cms::SignedDataBuilder`] over a DER `TSTInfo`
//! (RFC 3161 §2.4.2) with the ESS signing-certificate-v2 attribute RFC 3161 §2.4.1 (as updated by
//! RFC 5816 §2.2.1) requires.
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects
)]

use std::sync::Arc;

use der::asn1::{BitString, GeneralizedTime, Int, ObjectIdentifier};
use der::{Decode, Encode, Sequence, Tagged};
use time::OffsetDateTime;
use x509_cert::Certificate;
use x509_cert::ext::pkix::name::GeneralName;
use x509_tsp::{Accuracy, MessageImprint, TimeStampReq, TspVersion, TstInfo};

use ::cms::content_info as cms_types;

use crate::cms::{self, CmsError, SignedDataBuilder};
use crate::keys::Signer;

/// Requests longer than this are rejected with `badDataFormat` before parsing. A well-formed
/// request with a SHA-512 imprint, policy and nonce is about 100 bytes.
pub const MAX_REQUEST_LEN: usize = 16 * 1024;

/// Errors configuring a [`TimeStampAuthority`]. Requests themselves never error: they get a
/// rejection response.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TsaError {
    #[error("TSA certificate is not valid DER: {0}")]
    Certificate(der::Error),
    #[error("TSA certificate does not match the TSA signing key")]
    KeyMismatch,
    #[error("TSA certificate: {0}")]
    Cms(#[from] CmsError),
}

/// `PKIFailureInfo` bits a rejection carries (RFC 3161 §2.4.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FailureInfo {
    /// Unrecognized or unsupported hash algorithm.
    BadAlg,
    /// Transaction not permitted or supported.
    BadRequest,
    /// The data submitted has the wrong format.
    BadDataFormat,
    /// The requested TSA policy is not supported.
    UnacceptedPolicy,
    /// The requested extension is not supported.
    UnacceptedExtension,
    /// The request cannot be handled due to system failure.
    SystemFailure,
}

impl FailureInfo {
    /// Bit number in `PKIFailureInfo`.
    pub fn bit(self) -> u8 {
        match self {
            FailureInfo::BadAlg => 0,
            FailureInfo::BadRequest => 2,
            FailureInfo::BadDataFormat => 5,
            FailureInfo::UnacceptedPolicy => 15,
            FailureInfo::UnacceptedExtension => 16,
            FailureInfo::SystemFailure => 25,
        }
    }

    /// DER `BIT STRING` with only this bit set; named-bit lists drop trailing zero bits
    /// (X.690 §11.2.2), so the string ends at the set bit.
    fn to_bit_string(self) -> Option<BitString> {
        let bit = self.bit();
        let (last, shift) = (usize::from(bit / 8), bit % 8);
        let mut bytes = vec![0u8; last.checked_add(1)?];
        *bytes.last_mut()? = 0x80 >> shift;
        BitString::new(7u8.checked_sub(shift)?, bytes).ok()
    }
}

/// A rejected request: the failure bit and a short human-readable reason (sent as
/// `statusString`; it names the problem with the request, never internal state).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Rejection {
    info: FailureInfo,
    reason: &'static str,
}

fn reject(info: FailureInfo, reason: &'static str) -> Rejection {
    Rejection { info, reason }
}

/// A time-stamping authority: one signing key, its certificate and one policy.
pub struct TimeStampAuthority {
    signer: Arc<dyn Signer>,
    /// DER of the TSA certificate (critical EKU id-kp-timeStamping, RFC 3161 §2.3).
    cert_der: Vec<u8>,
    /// DER of the issuing CA then the root. With `certReq`, tokens carry the TSA certificate and
    /// the intermediates (not the root: a relying party must already trust it), so that a
    /// validator can build the path from the token alone (PAdES B-T has no DSS).
    chain_der: Vec<Vec<u8>>,
    /// `TSTInfo.policy` of every token, and the only acceptable `reqPolicy`.
    policy: ObjectIdentifier,
    /// `TSTInfo.accuracy.seconds`; 0 leaves `accuracy` out.
    accuracy_seconds: u32,
    /// `TSTInfo.tsa`: the certificate subject (RFC 3161 §2.4.2 says it gives a hint in
    /// identifying the TSA and must match a subject name of the certificate).
    tsa_name: GeneralName,
}

impl TimeStampAuthority {
    /// A TSA signing with `signer`, certified by `cert_der` (whose key must be `signer`'s).
    /// `chain_der` lists the issuing CA then the root.
    pub fn new(
        signer: Arc<dyn Signer>,
        cert_der: Vec<u8>,
        chain_der: Vec<Vec<u8>>,
        policy: ObjectIdentifier,
        accuracy_seconds: u32,
    ) -> Result<Self, TsaError> {
        let cert = Certificate::from_der(&cert_der).map_err(TsaError::Certificate)?;
        // Checks that the certificate parses and certifies the signer's key.
        SignedDataBuilder::new(signer.as_ref(), &cert_der).map_err(|e| match e {
            CmsError::KeyMismatch => TsaError::KeyMismatch,
            other => TsaError::Cms(other),
        })?;
        Ok(Self {
            signer,
            tsa_name: GeneralName::DirectoryName(cert.tbs_certificate.subject),
            cert_der,
            chain_der,
            policy,
            accuracy_seconds,
        })
    }

    pub fn policy(&self) -> ObjectIdentifier {
        self.policy
    }

    /// DER of the TSA certificate.
    pub fn certificate_der(&self) -> &[u8] {
        &self.cert_der
    }

    /// DER of the issuing CA and root certificates, in that order.
    pub fn chain_der(&self) -> &[Vec<u8>] {
        &self.chain_der
    }

    /// Answers a DER `TimeStampReq` (RFC 3161 §2.4.1) with a DER `TimeStampResp` (§2.4.2).
    ///
    /// Granted responses carry a token whose `TSTInfo` has this TSA's policy, the request's
    /// message imprint and nonce, `serialNumber` = `serial` read as an unsigned big-endian
    /// integer, `genTime` = `now` (whole seconds) with `accuracy`, and `tsa` = the certificate
    /// subject; `certificates` holds the TSA certificate only if `certReq` is true.
    ///
    /// Rejections (`status` = rejection): `badDataFormat` for oversized or undecodable requests
    /// and imprints of the wrong length; `badAlg` for non-SHA-2 imprints; `unacceptedPolicy`
    /// for a `reqPolicy` other than ours; `unacceptedExtension` for any request extension
    /// (§2.4.1: unrecognised extensions must be refused); `systemFailure` if signing fails or
    /// `serial` is zero.
    pub fn respond(&self, request_der: &[u8], now: OffsetDateTime, serial: [u8; 16]) -> Vec<u8> {
        let outcome = self.check_request(request_der).and_then(|request| {
            self.token(&request, now, serial).map_err(|e| {
                tracing::error!(error = %e, "time-stamp token could not be produced");
                reject(
                    FailureInfo::SystemFailure,
                    "the time-stamp could not be produced",
                )
            })
        });
        let response = match outcome {
            Ok(token) => TimeStampRespDer {
                status: PkiStatusInfo {
                    status: PKI_STATUS_GRANTED,
                    status_string: None,
                    fail_info: None,
                },
                time_stamp_token: Some(token),
            },
            Err(rejection) => TimeStampRespDer {
                status: PkiStatusInfo {
                    status: PKI_STATUS_REJECTION,
                    status_string: Some(vec![rejection.reason.to_owned()]),
                    fail_info: rejection.info.to_bit_string(),
                },
                time_stamp_token: None,
            },
        };
        response.to_der().unwrap_or_else(|e| {
            tracing::error!(error = %e, "TimeStampResp could not be encoded");
            SYSTEM_FAILURE_RESPONSE.to_vec()
        })
    }

    fn check_request(&self, request_der: &[u8]) -> Result<TimeStampReq, Rejection> {
        if request_der.len() > MAX_REQUEST_LEN {
            return Err(reject(FailureInfo::BadDataFormat, "request too large"));
        }
        let request = TimeStampReq::from_der(request_der).map_err(|_| {
            reject(
                FailureInfo::BadDataFormat,
                "request is not a DER TimeStampReq",
            )
        })?;
        let imprint = &request.message_imprint;
        let expected_len = sha2_output_len(&imprint.hash_algorithm.oid)
            .ok_or_else(|| reject(FailureInfo::BadAlg, "hash algorithm is not SHA-2"))?;
        // RFC 5754 §2: SHA-2 AlgorithmIdentifier parameters are absent or NULL.
        if imprint
            .hash_algorithm
            .parameters
            .as_ref()
            .is_some_and(|p| p.tag() != der::Tag::Null || !p.value().is_empty())
        {
            return Err(reject(
                FailureInfo::BadAlg,
                "hash algorithm parameters must be absent or NULL",
            ));
        }
        if imprint.hashed_message.as_bytes().len() != expected_len {
            return Err(reject(
                FailureInfo::BadDataFormat,
                "hashed message length does not match the hash algorithm",
            ));
        }
        if request
            .req_policy
            .is_some_and(|policy| policy != self.policy)
        {
            return Err(reject(
                FailureInfo::UnacceptedPolicy,
                "requested policy is not supported",
            ));
        }
        if request.extensions.is_some() {
            return Err(reject(
                FailureInfo::UnacceptedExtension,
                "request extensions are not supported",
            ));
        }
        Ok(request)
    }

    fn token(
        &self,
        request: &TimeStampReq,
        now: OffsetDateTime,
        serial: [u8; 16],
    ) -> Result<cms_types::ContentInfo, TokenError> {
        let gen_time = cms::der_date_time(now)
            .map(GeneralizedTime::from_date_time)
            .ok_or(TokenError::Time(now))?;
        let tst_info = TstInfo {
            version: TspVersion::V1,
            policy: self.policy,
            message_imprint: MessageImprint {
                hash_algorithm: request.message_imprint.hash_algorithm.clone(),
                hashed_message: request.message_imprint.hashed_message.clone(),
            },
            serial_number: positive_int(&serial).ok_or(TokenError::ZeroSerial)?,
            gen_time,
            accuracy: (self.accuracy_seconds > 0).then(|| Accuracy {
                seconds: Some(u64::from(self.accuracy_seconds)),
                millis: None,
                micros: None,
            }),
            ordering: false,
            nonce: request.nonce.clone(),
            tsa: Some(self.tsa_name.clone()),
            extensions: None,
        };
        let tst_der = tst_info.to_der()?;
        let mut builder = SignedDataBuilder::new(self.signer.as_ref(), &self.cert_der)?;
        if request.cert_req {
            builder = builder.with_certificate(&self.cert_der)?;
            let intermediates = self.chain_der.len().saturating_sub(1);
            for der in self.chain_der.iter().take(intermediates) {
                builder = builder.with_certificate(der)?;
            }
        }
        let content_info_der = builder.sign_encapsulated(cms::ID_CT_TST_INFO, &tst_der)?;
        Ok(cms_types::ContentInfo::from_der(&content_info_der)?)
    }
}

/// Why a token could not be produced for an acceptable request (internal; the client sees
/// `systemFailure`).
#[derive(Debug, thiserror::Error)]
enum TokenError {
    #[error("time {0} cannot be a GeneralizedTime")]
    Time(OffsetDateTime),
    #[error("serial number is zero")]
    ZeroSerial,
    #[error("encoding TSTInfo: {0}")]
    Encode(#[from] der::Error),
    #[error("building the CMS SignedData: {0}")]
    Cms(#[from] CmsError),
}

/// Output length of the SHA-2 function named by `oid` (RFC 5754 §2; NIST FIPS 180-4), or
/// `None` for anything else (SHA-1, MD5, SHA-3, …).
fn sha2_output_len(oid: &ObjectIdentifier) -> Option<usize> {
    const SHA2: [(ObjectIdentifier, usize); 6] = [
        (ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1"), 32), // id-sha256
        (ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.2"), 48), // id-sha384
        (ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.3"), 64), // id-sha512
        (ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.4"), 28), // id-sha224
        (ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.5"), 28), // id-sha512-224
        (ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.6"), 32), // id-sha512-256
    ];
    SHA2.iter()
        .find(|(known, _)| known == oid)
        .map(|&(_, len)| len)
}

/// `bytes` as a positive DER INTEGER (unsigned big-endian); `None` if it is zero.
fn positive_int(bytes: &[u8]) -> Option<Int> {
    let first_nonzero = bytes.iter().position(|&b| b != 0)?;
    let magnitude = bytes.get(first_nonzero..)?;
    let mut encoded = Vec::with_capacity(magnitude.len().saturating_add(1));
    if magnitude.first().is_some_and(|&b| b & 0x80 != 0) {
        encoded.push(0);
    }
    encoded.extend_from_slice(magnitude);
    Int::new(&encoded).ok()
}

/// `PKIStatus` values (RFC 3161 §2.4.2).
const PKI_STATUS_GRANTED: u8 = 0;
const PKI_STATUS_REJECTION: u8 = 2;

/// A `TimeStampReq` (RFC 3161 §2.4.1) for a SHA-256 `digest`, asking for the TSA certificate
/// (PAdES validators need it in the token) with a random nonce; returns the request and nonce.
pub fn request_der(digest: &[u8; 32]) -> Result<(Vec<u8>, [u8; 8]), TsaClientError> {
    let mut nonce: [u8; 8] = rand::random();
    nonce[0] = (nonce[0] & 0x7f) | 0x01;
    let request = TimeStampReq {
        version: TspVersion::V1,
        message_imprint: MessageImprint {
            hash_algorithm: x509_cert::spki::AlgorithmIdentifier {
                oid: cms::ID_SHA256,
                parameters: None,
            },
            hashed_message: der::asn1::OctetString::new(digest.to_vec())
                .map_err(|e| TsaClientError(format!("request: {e}")))?,
        },
        req_policy: None,
        nonce: Some(Int::new(&nonce).map_err(|e| TsaClientError(format!("nonce: {e}")))?),
        cert_req: true,
        extensions: None,
    };
    let der = request
        .to_der()
        .map_err(|e| TsaClientError(format!("request: {e}")))?;
    Ok((der, nonce))
}

/// A time-stamp response that could not be used, with the reason (never secret).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct TsaClientError(pub String);

/// Takes the token (DER `ContentInfo`) out of a `TimeStampResp` after checking the status
/// (granted or grantedWithMods), that it imprints `digest` and echoes `nonce`.
pub fn token_from_response(
    response: &[u8],
    digest: &[u8; 32],
    nonce: &[u8; 8],
) -> Result<Vec<u8>, TsaClientError> {
    let resp = TimeStampRespDer::from_der(response)
        .map_err(|e| TsaClientError(format!("malformed TimeStampResp: {e}")))?;
    if resp.status.status > 1 {
        return Err(TsaClientError(format!(
            "the TSA refused the request (status {}{})",
            resp.status.status,
            resp.status
                .status_string
                .map(|s| format!(": {}", s.join(" ")))
                .unwrap_or_default()
        )));
    }
    let token = resp
        .time_stamp_token
        .ok_or_else(|| TsaClientError("granted response without a token".into()))?
        .to_der()
        .map_err(|e| TsaClientError(format!("token: {e}")))?;
    let info = token_info(&token)?;
    if info.message_imprint.hashed_message.as_bytes() != digest {
        return Err(TsaClientError("the token time-stamps other data".into()));
    }
    let echoed = info.nonce.as_ref().map(|n| n.as_bytes().to_vec());
    if echoed.as_deref() != Some(&nonce[..]) {
        return Err(TsaClientError("the token does not echo our nonce".into()));
    }
    Ok(token)
}

fn token_info(token: &[u8]) -> Result<TstInfo, TsaClientError> {
    let signed_data =
        cms::decode_signed_data(token).map_err(|e| TsaClientError(format!("token: {e}")))?;
    let content = cms::encapsulated_content(&signed_data)
        .ok_or_else(|| TsaClientError("token without TSTInfo".into()))?;
    TstInfo::from_der(&content).map_err(|e| TsaClientError(format!("TSTInfo: {e}")))
}

/// The SHA-256 message imprint a token time-stamps.
pub fn token_imprint(token: &[u8]) -> Result<[u8; 32], String> {
    let info = token_info(token).map_err(|e| e.0)?;
    info.message_imprint
        .hashed_message
        .as_bytes()
        .try_into()
        .map_err(|_| "the token's imprint is not SHA-256".to_string())
}

/// `SEQUENCE { SEQUENCE { INTEGER 2 (rejection) } }`: the response of last resort if encoding a
/// proper one fails.
const SYSTEM_FAILURE_RESPONSE: &[u8] = &[0x30, 0x05, 0x30, 0x03, 0x02, 0x01, 0x02];

/// RFC 3161 §2.4.2 / RFC 4210 §5.2.3 (defined here because `x509-tsp` 0.1 takes it from the
/// `cmpv2` crate, which is not one of our dependencies):
///
/// ```text
/// PKIStatusInfo ::= SEQUENCE {
///     status        PKIStatus,
///     statusString  PKIFreeText     OPTIONAL,
///     failInfo      PKIFailureInfo  OPTIONAL  }
/// PKIFreeText ::= SEQUENCE SIZE (1..MAX) OF UTF8String
/// ```
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
struct PkiStatusInfo {
    status: u8,
    #[asn1(optional = "true")]
    status_string: Option<Vec<String>>,
    #[asn1(optional = "true")]
    fail_info: Option<BitString>,
}

/// RFC 3161 §2.4.2:
///
/// ```text
/// TimeStampResp ::= SEQUENCE {
///     status                  PKIStatusInfo,
///     timeStampToken          TimeStampToken     OPTIONAL  }
/// ```
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
struct TimeStampRespDer {
    status: PkiStatusInfo,
    #[asn1(optional = "true")]
    time_stamp_token: Option<cms_types::ContentInfo>,
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

    use time::macros::datetime;

    use super::*;
    use crate::cms::test_pki::{Profile, TestPki, run_openssl};
    use crate::keys::soft::{MasterKey, SoftKeyStore};
    use crate::keys::{KeyAlgorithm, KeyStore};

    const POLICY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.99999.1.3161");
    const SERIAL: [u8; 16] = [0x9a; 16];

    fn signer(algorithm: KeyAlgorithm) -> Arc<dyn Signer> {
        let store = SoftKeyStore::new(Arc::new(MasterKey::from_bytes([7; 32])));
        let key = store.generate(algorithm, "tsa").unwrap();
        store.signer(&key).unwrap()
    }

    fn tsa(pki: &TestPki, algorithm: KeyAlgorithm) -> TimeStampAuthority {
        let signer = signer(algorithm);
        let cert = pki.issue(signer.spki_der(), "Test TSA", Profile::Tsa);
        TimeStampAuthority::new(
            signer,
            cert.to_der().unwrap(),
            vec![pki.issuing.to_der().unwrap(), pki.root.to_der().unwrap()],
            POLICY,
            1,
        )
        .unwrap()
    }

    fn decode(response: &[u8]) -> TimeStampRespDer {
        TimeStampRespDer::from_der(response).unwrap()
    }

    fn request(imprint_oid: &str, digest: &[u8], policy: Option<ObjectIdentifier>) -> Vec<u8> {
        TimeStampReq {
            version: TspVersion::V1,
            message_imprint: MessageImprint {
                hash_algorithm: spki::AlgorithmIdentifierOwned {
                    oid: ObjectIdentifier::new(imprint_oid).unwrap(),
                    parameters: None,
                },
                hashed_message: der::asn1::OctetString::new(digest).unwrap(),
            },
            req_policy: policy,
            nonce: Some(Int::new(&[0x01, 0x02, 0x03]).unwrap()),
            cert_req: true,
            extensions: None,
        }
        .to_der()
        .unwrap()
    }

    fn assert_rejected(response: &[u8], info: FailureInfo) {
        let response = decode(response);
        assert_eq!(response.status.status, PKI_STATUS_REJECTION);
        assert_eq!(response.status.fail_info, info.to_bit_string());
        assert!(response.time_stamp_token.is_none());
    }

    const NOW: OffsetDateTime = datetime!(2026-11-21 12:34:56 UTC);
    const SHA256: &str = "2.16.840.1.101.3.4.2.1";

    #[test]
    fn granted_token_echoes_request_and_carries_tsa_and_intermediate_certs() {
        let pki = TestPki::new();
        let tsa = tsa(&pki, KeyAlgorithm::EcdsaP256);
        let response =
            decode(&tsa.respond(&request(SHA256, &[0xab; 32], Some(POLICY)), NOW, SERIAL));
        assert_eq!(response.status.status, PKI_STATUS_GRANTED);
        let token = response.time_stamp_token.unwrap().to_der().unwrap();
        let signed_data = cms::decode_signed_data(&token).unwrap();
        // The TSA certificate and the issuing CA, never the root (PAdES B-T validators build
        // the path from the token; the root is theirs to trust).
        let certs = signed_data.certificates.as_ref().unwrap();
        assert_eq!(certs.0.len(), 2);
        assert_eq!(
            signed_data.encap_content_info.econtent_type,
            cms::ID_CT_TST_INFO
        );
        let tst = TstInfo::from_der(&cms::encapsulated_content(&signed_data).unwrap()).unwrap();
        assert_eq!(tst.policy, POLICY);
        assert_eq!(tst.nonce.unwrap().as_bytes(), [1, 2, 3]);
        assert_eq!(tst.message_imprint.hashed_message.as_bytes(), [0xab; 32]);
        // 0x9a has the top bit set: a leading zero keeps the serial positive.
        assert_eq!(tst.serial_number.as_bytes(), [&[0u8][..], &SERIAL].concat());
        assert_eq!(
            tst.gen_time.to_unix_duration().as_secs(),
            NOW.unix_timestamp() as u64
        );
        assert_eq!(tst.accuracy.unwrap().seconds, Some(1));
    }

    #[test]
    fn no_certificates_without_cert_req() {
        let pki = TestPki::new();
        let tsa = tsa(&pki, KeyAlgorithm::EcdsaP256);
        let mut req = TimeStampReq::from_der(&request(SHA256, &[1; 32], None)).unwrap();
        req.cert_req = false;
        let response = decode(&tsa.respond(&req.to_der().unwrap(), NOW, SERIAL));
        let token = response.time_stamp_token.unwrap().to_der().unwrap();
        assert!(
            cms::decode_signed_data(&token)
                .unwrap()
                .certificates
                .is_none()
        );
    }

    #[test]
    fn rejects_sha1_imprint_with_bad_alg() {
        let pki = TestPki::new();
        let tsa = tsa(&pki, KeyAlgorithm::EcdsaP256);
        let response = tsa.respond(&request("1.3.14.3.2.26", &[0; 20], None), NOW, SERIAL);
        assert_rejected(&response, FailureInfo::BadAlg);
    }

    #[test]
    fn rejects_wrong_digest_length_with_bad_data_format() {
        let pki = TestPki::new();
        let tsa = tsa(&pki, KeyAlgorithm::EcdsaP256);
        let response = tsa.respond(&request(SHA256, &[0; 20], None), NOW, SERIAL);
        assert_rejected(&response, FailureInfo::BadDataFormat);
    }

    #[test]
    fn rejects_unknown_policy() {
        let pki = TestPki::new();
        let tsa = tsa(&pki, KeyAlgorithm::EcdsaP256);
        let other = ObjectIdentifier::new_unwrap("1.2.3.4");
        let response = tsa.respond(&request(SHA256, &[0; 32], Some(other)), NOW, SERIAL);
        assert_rejected(&response, FailureInfo::UnacceptedPolicy);
    }

    #[test]
    fn rejects_garbage_oversized_and_truncated_requests_without_panicking() {
        let pki = TestPki::new();
        let tsa = tsa(&pki, KeyAlgorithm::EcdsaP256);
        assert_rejected(&tsa.respond(b"", NOW, SERIAL), FailureInfo::BadDataFormat);
        assert_rejected(
            &tsa.respond(b"\x30\x80garbage", NOW, SERIAL),
            FailureInfo::BadDataFormat,
        );
        let huge = vec![0x30; MAX_REQUEST_LEN + 1];
        assert_rejected(&tsa.respond(&huge, NOW, SERIAL), FailureInfo::BadDataFormat);
        let good = request(SHA256, &[0; 32], None);
        for len in 0..good.len() {
            assert_rejected(
                &tsa.respond(&good[..len], NOW, SERIAL),
                FailureInfo::BadDataFormat,
            );
        }
        // Every single-byte corruption yields some well-formed TimeStampResp.
        for i in 0..good.len() {
            let mut bad = good.clone();
            bad[i] ^= 0xff;
            decode(&tsa.respond(&bad, NOW, SERIAL));
        }
    }

    #[test]
    fn zero_serial_is_a_system_failure() {
        let pki = TestPki::new();
        let tsa = tsa(&pki, KeyAlgorithm::EcdsaP256);
        let response = tsa.respond(&request(SHA256, &[0; 32], None), NOW, [0; 16]);
        assert_rejected(&response, FailureInfo::SystemFailure);
    }

    #[test]
    fn failure_info_bit_strings_are_der() {
        // badAlg(0) → 03 02 07 80; unacceptedPolicy(15) → 03 03 00 00 01; systemFailure(25) →
        // 03 05 06 00 00 00 40.
        let der = |f: FailureInfo| f.to_bit_string().unwrap().to_der().unwrap();
        assert_eq!(der(FailureInfo::BadAlg), [0x03, 0x02, 0x07, 0x80]);
        assert_eq!(der(FailureInfo::BadDataFormat), [0x03, 0x02, 0x02, 0x04]);
        assert_eq!(
            der(FailureInfo::UnacceptedPolicy),
            [0x03, 0x03, 0x00, 0x00, 0x01]
        );
        assert_eq!(
            der(FailureInfo::SystemFailure),
            [0x03, 0x05, 0x06, 0x00, 0x00, 0x00, 0x40]
        );
    }

    /// `openssl ts -query` → respond → `openssl ts -verify` and `-reply -text`.
    fn openssl_round_trip(algorithm: KeyAlgorithm, cert_req: bool) -> Result<String, String> {
        let pki = TestPki::new();
        let tsa = tsa(&pki, algorithm);
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        pki.write_pems(d);
        std::fs::write(d.join("tsa.pem"), pem(tsa.certificate_der())).unwrap();
        std::fs::write(d.join("data.txt"), b"the quick brown fox").unwrap();
        let mut query = vec![
            "ts", "-query", "-data", "data.txt", "-sha256", "-out", "q.tsq",
        ];
        if cert_req {
            query.push("-cert");
        }
        let (ok, out) = run_openssl(d, &query);
        assert!(ok, "openssl ts -query failed: {out}");
        let req = std::fs::read(d.join("q.tsq")).unwrap();
        std::fs::write(
            d.join("r.tsr"),
            tsa.respond(&req, OffsetDateTime::now_utc(), SERIAL),
        )
        .unwrap();
        let (ok, text) = run_openssl(d, &["ts", "-reply", "-in", "r.tsr", "-text"]);
        assert!(ok, "openssl ts -reply -text failed: {text}");
        let mut verify = vec![
            "ts",
            "-verify",
            "-data",
            "data.txt",
            "-in",
            "r.tsr",
            "-CAfile",
            "root.pem",
            "-untrusted",
            "issuing.pem",
        ];
        if !cert_req {
            *verify.last_mut().unwrap() = "chain_and_tsa.pem";
            let chain = [
                std::fs::read(d.join("issuing.pem")).unwrap(),
                pem(tsa.certificate_der()).into_bytes(),
            ]
            .concat();
            std::fs::write(d.join("chain_and_tsa.pem"), chain).unwrap();
        }
        let (ok, out) = run_openssl(d, &verify);
        if ok && out.contains("Verification: OK") {
            Ok(text)
        } else {
            Err(format!("{out}\n{text}"))
        }
    }

    fn pem(der: &[u8]) -> String {
        openssl::x509::X509::from_der(der)
            .and_then(|c| c.to_pem())
            .map(|p| String::from_utf8(p).unwrap())
            .unwrap()
    }

    #[test]
    fn openssl_verifies_ecdsa_token() {
        let text = openssl_round_trip(KeyAlgorithm::EcdsaP256, true).unwrap();
        assert!(text.contains("Status: Granted."), "{text}");
        assert!(text.contains(&format!("Policy OID: {POLICY}")), "{text}");
        assert!(text.contains("Nonce: 0x"), "{text}");
        assert!(text.contains("Accuracy: 0x01 seconds"), "{text}");
    }

    #[test]
    fn openssl_verifies_token_without_certificates() {
        openssl_round_trip(KeyAlgorithm::EcdsaP256, false).unwrap();
    }

    #[test]
    fn openssl_verifies_rsa_token() {
        openssl_round_trip(KeyAlgorithm::Rsa2048, true).unwrap();
    }

    /// OpenSSL 3.0 verifies neither `ts` (PKCS#7 code) nor `cms` signatures by Ed25519 keys
    /// ("operation not supported for this keytype" / "eddsa_digest_signverify_init: invalid
    /// digest"), so Ed25519 tokens are checked with our own structural verifier.
    #[test]
    fn ed25519_token_verifies_under_the_tsa_key() {
        let pki = TestPki::new();
        let tsa = tsa(&pki, KeyAlgorithm::Ed25519);
        let response = decode(&tsa.respond(&request(SHA256, &[7; 32], None), NOW, SERIAL));
        let token = response.time_stamp_token.unwrap().to_der().unwrap();
        let spki = tsa.signer.spki_der().to_vec();
        let tst = crate::cms::tests::verify_with_key(&token, &spki, KeyAlgorithm::Ed25519, None);
        assert_eq!(TstInfo::from_der(&tst).unwrap().policy, POLICY);
    }

    #[test]
    fn openssl_prints_rejection() {
        let pki = TestPki::new();
        let tsa = tsa(&pki, KeyAlgorithm::EcdsaP256);
        let dir = tempfile::tempdir().unwrap();
        let d: &Path = dir.path();
        std::fs::write(d.join("r.tsr"), tsa.respond(b"junk", NOW, SERIAL)).unwrap();
        let (ok, text) = run_openssl(d, &["ts", "-reply", "-in", "r.tsr", "-text"]);
        assert!(ok, "{text}");
        assert!(text.contains("Rejected"), "{text}");
        assert!(
            text.contains("the data submitted has the wrong format"),
            "{text}"
        );
    }
}
