//! Certificate paths and revocation (RFC 5280 via OpenSSL's path validation): a chain to a
//! configured anchor at a chosen time, and the status of each certificate from OCSP responses
//! and CRLs the file carries or the appliance supplies for its own CA.

use openssl::asn1::{Asn1Time, Asn1TimeRef};
use openssl::hash::MessageDigest;
use openssl::ocsp::{OcspCertId, OcspCertStatus, OcspFlag, OcspResponse, OcspResponseStatus};
use openssl::stack::Stack;
use openssl::x509::store::{X509Store, X509StoreBuilder};
use openssl::x509::verify::X509VerifyParam;
use openssl::x509::{CrlStatus, X509, X509Crl, X509StoreContext};

use super::report::{CertificateStatus, RevocationStatus};

/// Revocation evidence: DER objects with where they came from.
#[derive(Default)]
pub struct Evidence {
    pub certificates: Vec<Vec<u8>>,
    pub ocsp: Vec<(Vec<u8>, &'static str)>,
    pub crls: Vec<(Vec<u8>, &'static str)>,
}

pub struct Chain {
    pub trusted: bool,
    /// DER, signer first, anchor last (when trusted).
    pub certificates: Vec<Vec<u8>>,
    pub problems: Vec<String>,
    /// An ETSI sub-indication for the failure, if the chain failed.
    pub failure: Option<&'static str>,
}

/// Subject of a DER certificate as RFC 4514-ish text.
pub fn subject(der: &[u8]) -> String {
    x509_parser::parse_x509_certificate(der)
        .map(|(_, c)| c.subject().to_string())
        .unwrap_or_else(|_| "(unreadable certificate)".into())
}

pub fn issuer(der: &[u8]) -> String {
    x509_parser::parse_x509_certificate(der)
        .map(|(_, c)| c.issuer().to_string())
        .unwrap_or_else(|_| "(unreadable certificate)".into())
}

/// Whether `der` is a CA certificate (basicConstraints cA): only those can be anchors, so a
/// self-issued end-entity certificate never is one.
pub fn is_ca(der: &[u8]) -> bool {
    x509_parser::parse_x509_certificate(der).is_ok_and(|(_, c)| {
        c.basic_constraints()
            .ok()
            .flatten()
            .is_some_and(|bc| bc.value.ca)
    })
}

/// A store of `anchors` validating at unix time `at`.
pub fn store(anchors: &[Vec<u8>], at: i64) -> Result<X509Store, openssl::error::ErrorStack> {
    let mut b = X509StoreBuilder::new()?;
    for a in anchors {
        if let Ok(x) = X509::from_der(a) {
            b.add_cert(x)?;
        }
    }
    let mut param = X509VerifyParam::new()?;
    param.set_time(at);
    b.set_param(&param)?;
    Ok(b.build())
}

/// Builds and validates a path from `leaf` through `untrusted` to one of `anchors`, at unix
/// time `at`.
pub fn chain(leaf: &[u8], untrusted: &[Vec<u8>], anchors: &[Vec<u8>], at: i64) -> Chain {
    match store(anchors, at) {
        Ok(store) => chain_in(&store, leaf, untrusted, anchors),
        Err(e) => Chain {
            trusted: false,
            certificates: vec![leaf.to_vec()],
            problems: vec![format!("path validation: {e}")],
            failure: Some("CERTIFICATE_CHAIN_GENERAL_FAILURE"),
        },
    }
}

/// [`chain`] with a prebuilt [`store`] of the same anchors. Certificates equal to the leaf or to
/// an anchor are not passed again (OpenSSL 3 decodes every certificate's key when it parses it,
/// the largest cost of validating a small file).
pub fn chain_in(
    store: &openssl::x509::store::X509StoreRef,
    leaf: &[u8],
    untrusted: &[Vec<u8>],
    anchors: &[Vec<u8>],
) -> Chain {
    let fail = |m: String| Chain {
        trusted: false,
        certificates: vec![leaf.to_vec()],
        problems: vec![m],
        failure: Some("CERTIFICATE_CHAIN_GENERAL_FAILURE"),
    };
    let run = || -> Result<Chain, openssl::error::ErrorStack> {
        let leaf_x = X509::from_der(leaf)?;
        let mut stack = Stack::new()?;
        let mut seen: Vec<&[u8]> = vec![leaf];
        for c in untrusted {
            if seen.contains(&c.as_slice()) || anchors.iter().any(|a| a == c) {
                continue;
            }
            seen.push(c);
            if let Ok(x) = X509::from_der(c) {
                stack.push(x)?;
            }
        }
        let mut ctx = X509StoreContext::new()?;
        ctx.init(store, &leaf_x, &stack, |c| {
            let ok = c.verify_cert()?;
            let err = c.error();
            let certificates: Vec<Vec<u8>> = c
                .chain()
                .map(|ch| ch.iter().filter_map(|x| x.to_der().ok()).collect())
                .unwrap_or_default();
            let (problems, failure) = if ok {
                (Vec::new(), None)
            } else {
                let raw = err.as_raw();
                let failure = match raw {
                    // X509_V_ERR_CERT_NOT_YET_VALID, _CERT_HAS_EXPIRED
                    9 => "NOT_YET_VALID",
                    10 => "OUT_OF_BOUNDS_NO_POE",
                    // unable to get issuer (locally), self-signed leaf or root not trusted
                    2 | 18 | 19 | 20 | 21 => "NO_CERTIFICATE_CHAIN_FOUND",
                    // invalid CA, path length, purpose, key usage
                    24 | 25 | 26 | 32 | 41 => "CHAIN_CONSTRAINTS_FAILURE",
                    _ => "CERTIFICATE_CHAIN_GENERAL_FAILURE",
                };
                (vec![err.error_string().to_string()], Some(failure))
            };
            Ok(Chain {
                trusted: ok,
                certificates: if certificates.is_empty() {
                    vec![leaf.to_vec()]
                } else {
                    certificates
                },
                problems,
                failure,
            })
        })
    };
    run().unwrap_or_else(|e| fail(format!("path validation: {e}")))
}

pub fn unix(t: &Asn1TimeRef) -> Option<i64> {
    let epoch = Asn1Time::from_unix(0).ok()?;
    let d = epoch.diff(t).ok()?;
    Some(i64::from(d.days) * 86_400 + i64::from(d.secs))
}

/// OpenSSL's printed form of a time (`Nov  2 08:00:00 2026 GMT`) as unix seconds.
fn printed_unix(s: &str) -> Option<i64> {
    let format = time::macros::format_description!(
        "[month repr:short] [day padding:space] [hour]:[minute]:[second] [year] GMT"
    );
    let s = s.split_whitespace().collect::<Vec<_>>();
    let (month, day, rest) = (s.first()?, s.get(1)?, s.get(2..)?);
    let text = format!("{month} {day:>2} {}", rest.join(" "));
    time::PrimitiveDateTime::parse(&text, format)
        .ok()
        .map(|t| t.assume_utc().unix_timestamp())
}

/// The status of each certificate of a validated `chain` (the anchor excluded) from
/// `evidence`, revocations effective at or before `at` counting as revoked.
pub fn revocation(
    chain: &[Vec<u8>],
    evidence: &Evidence,
    anchors: &[Vec<u8>],
    at: i64,
) -> Vec<(CertificateStatus, Option<i64>)> {
    let mut out = Vec::new();
    if evidence.ocsp.is_empty() && evidence.crls.is_empty() {
        // Nothing to go on: every certificate's status is unknown (OpenSSL objects are costly
        // to build, so none are).
        for (i, der) in chain.iter().enumerate() {
            if i + 1 >= chain.len() && anchors.iter().any(|a| a == der) {
                break;
            }
            out.push((
                CertificateStatus {
                    subject: subject(der),
                    status: RevocationStatus::Unknown,
                    source: None,
                    revoked_at: None,
                },
                None,
            ));
        }
        return out;
    }
    let parsed: Vec<Option<X509>> = chain.iter().map(|d| X509::from_der(d).ok()).collect();
    let (ocsp_store, mut untrusted) = if evidence.ocsp.is_empty() {
        (None, None)
    } else {
        (store(anchors, at).ok(), Stack::new().ok())
    };
    if let Some(s) = untrusted.as_mut() {
        for c in evidence.certificates.iter().chain(chain.iter()) {
            if let Ok(x) = X509::from_der(c) {
                let _ = s.push(x);
            }
        }
    }
    for (i, der) in chain.iter().enumerate() {
        let is_last = i + 1 >= chain.len();
        if is_last && anchors.iter().any(|a| a == der) {
            break;
        }
        let subject = subject(der);
        let (Some(Some(cert)), Some(Some(issuer))) = (parsed.get(i), parsed.get(i + 1)) else {
            out.push((
                CertificateStatus {
                    subject,
                    status: RevocationStatus::Unknown,
                    source: None,
                    revoked_at: None,
                },
                None,
            ));
            continue;
        };
        let mut status = RevocationStatus::Unknown;
        let mut source = None;
        let mut revoked_at = None;
        // OCSP first (fresher), then CRLs.
        if let (Some(store), Some(untrusted)) = (&ocsp_store, &untrusted) {
            for (ocsp, from) in &evidence.ocsp {
                let Ok(resp) = OcspResponse::from_der(ocsp) else {
                    continue;
                };
                if resp.status() != OcspResponseStatus::SUCCESSFUL {
                    continue;
                }
                let Ok(basic) = resp.basic() else { continue };
                let Ok(id) = OcspCertId::from_cert(MessageDigest::sha1(), cert, issuer) else {
                    continue;
                };
                let Some(found) = basic.find_status(&id) else {
                    continue;
                };
                if basic.verify(untrusted, store, OcspFlag::empty()).is_err() {
                    continue;
                }
                if found.status == OcspCertStatus::GOOD {
                    status = RevocationStatus::Good;
                    source = Some((*from).to_string());
                } else if found.status == OcspCertStatus::REVOKED {
                    status = RevocationStatus::Revoked;
                    source = Some((*from).to_string());
                    revoked_at = found
                        .revocation_time
                        .and_then(|t| printed_unix(&t.to_string()));
                    break;
                }
            }
        }
        if status != RevocationStatus::Revoked {
            let issuer_key = issuer.public_key().ok();
            for (crl, from) in &evidence.crls {
                let Ok(crl) = X509Crl::from_der(crl) else {
                    continue;
                };
                let same_issuer = crl
                    .issuer_name()
                    .try_cmp(cert.issuer_name())
                    .is_ok_and(|o| o == std::cmp::Ordering::Equal);
                if !same_issuer {
                    continue;
                }
                if !issuer_key
                    .as_ref()
                    .is_some_and(|k| crl.verify(k).unwrap_or(false))
                {
                    continue;
                }
                match crl.get_by_cert(cert) {
                    CrlStatus::NotRevoked => {
                        if status == RevocationStatus::Unknown {
                            status = RevocationStatus::Good;
                            source = Some((*from).to_string());
                        }
                    }
                    CrlStatus::Revoked(entry) | CrlStatus::RemoveFromCrl(entry) => {
                        status = RevocationStatus::Revoked;
                        source = Some((*from).to_string());
                        revoked_at = unix(entry.revocation_date());
                        break;
                    }
                }
            }
        }
        let when = revoked_at;
        out.push((
            CertificateStatus {
                subject,
                status,
                source,
                revoked_at: revoked_at.and_then(super::rfc3339),
            },
            when,
        ));
    }
    out
}
