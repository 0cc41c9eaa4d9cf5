//! Certificate records, revocation, CRLs and OCSP answers.
//!
//! A certificate's status lives in its [`CertificateRecord`]; revoked certificates are also
//! indexed in `Cf::Revocations` so a CRL is built without scanning every certificate. Revocation
//! is committed (synced) before it is acknowledged, then the issuer's CRL is regenerated.

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use super::{Appliance, Principal, ServiceError, lock};
use crate::ca::ocsp::CertStatusInfo;
use crate::ca::profile::ProfileName;
use crate::ca::{CaMember, Crl, IssuedCertificate, RevocationReasonCode, RevokedEntry, Serial};
use crate::identity::{EntityId, Workspace};
use crate::store::keys::{self as store_keys, IssuerTag};
use crate::store::{Batch, Cf, Durability};

/// When and why a certificate was revoked.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct RevocationRecord {
    pub revoked_at: i64,
    pub reason: RevocationReasonCode,
}

/// A certificate this CA issued.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CertificateRecord {
    pub serial: Serial,
    pub issuer: IssuerTag,
    pub profile: ProfileName,
    #[serde(with = "crate::store::serde_b64")]
    pub der: Vec<u8>,
    pub entity: Option<EntityId>,
    pub workspace: Option<Workspace>,
    pub not_before: i64,
    pub not_after: i64,
    pub revocation: Option<RevocationRecord>,
}

impl CertificateRecord {
    pub fn for_entity(
        issued: &IssuedCertificate,
        profile: ProfileName,
        entity: &EntityId,
        workspace: &Workspace,
    ) -> Self {
        Self {
            serial: issued.serial.clone(),
            issuer: IssuerTag::Issuing,
            profile,
            der: issued.der.clone(),
            entity: Some(entity.clone()),
            workspace: Some(workspace.clone()),
            not_before: issued.not_before.unix_timestamp(),
            not_after: issued.not_after.unix_timestamp(),
            revocation: None,
        }
    }

    pub fn for_ca_member(
        issuer: IssuerTag,
        profile: ProfileName,
        member: &CaMember,
    ) -> Result<Self, ServiceError> {
        let cert = openssl::x509::X509::from_der(&member.cert_der)
            .map_err(|e| crate::ca::CaError::Corrupt(e.to_string()))?;
        let not_before = asn1_unix(cert.not_before());
        Ok(Self {
            serial: member.serial.clone(),
            issuer,
            profile,
            der: member.cert_der.clone(),
            entity: None,
            workspace: None,
            not_before,
            not_after: member.not_after,
            revocation: None,
        })
    }

    /// Adds this record (and its revocation index entry, if revoked) to `batch`.
    pub fn put(&self, batch: &mut Batch) {
        let key = store_keys::certificate(self.issuer, self.serial.as_bytes());
        if let Some(revocation) = &self.revocation {
            batch.put(Cf::Revocations, key.clone(), revocation);
        }
        batch.put(Cf::Certificates, key, self);
    }

    pub fn pem(&self) -> String {
        crate::ca::pem_encode("CERTIFICATE", &self.der)
    }
}

fn asn1_unix(t: &openssl::asn1::Asn1TimeRef) -> i64 {
    openssl::asn1::Asn1Time::from_unix(0)
        .ok()
        .and_then(|epoch| epoch.diff(t).ok())
        .map(|d| i64::from(d.days) * 86_400 + i64::from(d.secs))
        .unwrap_or(0)
}

fn unix(t: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(t).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

impl Appliance {
    pub(super) fn certificate_record(
        &self,
        issuer: IssuerTag,
        serial: &Serial,
    ) -> Result<CertificateRecord, ServiceError> {
        self.store
            .get::<CertificateRecord>(
                Cf::Certificates,
                store_keys::certificate(issuer, serial.as_bytes()),
            )?
            .ok_or_else(|| ServiceError::NotFound {
                what: "certificate",
                id: serial.to_hex(),
            })
    }

    /// Revokes an entity certificate of the issuing CA. Durable before it returns; the issuing
    /// CRL is regenerated right after. A certificate already revoked for another reason (e.g.
    /// `superseded` by renewal) may be revoked again as `keyCompromise`: the reason changes and the
    /// revocation date stays, so relying parties learn of the compromise.
    pub fn revoke_certificate(
        &self,
        caller: &Principal,
        serial: &Serial,
        reason: RevocationReasonCode,
    ) -> Result<CertificateRecord, ServiceError> {
        let _guard = lock(&self.record_lock);
        let mut record = self.certificate_record(IssuerTag::Issuing, serial)?;
        match &record.workspace {
            Some(ws) => caller.authorize(ws)?,
            // OCSP and TSA certificates are the appliance's own; they are replaced, not revoked
            // through the API.
            None => {
                return Err(ServiceError::ServiceCertificate {
                    serial: serial.to_hex(),
                });
            }
        }
        let now = self.clock.now().unix_timestamp();
        record.revocation = match record.revocation {
            None => Some(RevocationRecord {
                revoked_at: now,
                reason,
            }),
            Some(existing)
                if reason == RevocationReasonCode::KeyCompromise
                    && existing.reason != RevocationReasonCode::KeyCompromise =>
            {
                Some(RevocationRecord {
                    revoked_at: existing.revoked_at,
                    reason,
                })
            }
            Some(_) => {
                return Err(ServiceError::AlreadyRevoked {
                    serial: serial.to_hex(),
                });
            }
        };
        let mut batch = Batch::default();
        record.put(&mut batch);
        let mut event = crate::tlog::Event::new(
            crate::tlog::EventKind::certificate_revoked(),
            self.clock.now(),
        );
        event.workspace = record.workspace.as_ref().map(|w| w.as_str().to_owned());
        event.entity = record.entity.as_ref().map(|e| e.as_str().to_owned());
        event.certificate_serial = Some(serial.to_hex());
        event.revocation_reason = Some(reason.name().to_owned());
        self.log.append(vec![event], batch)?;
        tracing::info!(%serial, ?reason, "revoked certificate");
        self.invalidate_crl(IssuerTag::Issuing);
        Ok(record)
    }

    /// Drops the cached CRL and builds a fresh one, so the CRL reflects a revocation at once.
    pub(super) fn invalidate_crl(&self, issuer: IssuerTag) {
        lock(&self.crls).remove(&issuer);
        if let Err(e) = self.crl(issuer) {
            // The next fetch retries; the revocation itself is already durable.
            tracing::error!(error = %e, issuer = issuer.as_str(), "CRL regeneration failed");
        }
    }

    /// The current CRL of `issuer`, regenerated when missing or past half its validity.
    pub fn crl(&self, issuer: IssuerTag) -> Result<Crl, ServiceError> {
        let now = self.clock.now();
        let mut cache = lock(&self.crls);
        if let Some(crl) = cache.get(&issuer) {
            let half = (crl.next_update - crl.this_update) / 2;
            if now < crl.this_update + half {
                return Ok(crl.clone());
            }
        }
        let stored: Option<StoredCrl> = self
            .store
            .get(Cf::Crls, store_keys::issuer_prefix(issuer))?;
        let number = stored.as_ref().map(|s| s.number + 1).unwrap_or(1);
        let mut revoked = Vec::new();
        let mut after: Option<Vec<u8>> = None;
        loop {
            let rows = self.store.scan_prefix(
                Cf::Revocations,
                &store_keys::issuer_prefix(issuer),
                after.as_deref(),
                1024,
            )?;
            let Some(last) = rows.last() else { break };
            after = Some(last.key.clone());
            for row in &rows {
                let record: RevocationRecord = serde_json::from_slice(&row.value).map_err(|e| {
                    crate::store::StoreError::Corrupt {
                        what: "revocation".into(),
                        message: e.to_string(),
                    }
                })?;
                if let Some(serial) = row.key.get(1..).and_then(Serial::from_bytes) {
                    revoked.push(RevokedEntry {
                        serial,
                        revoked_at: unix(record.revoked_at),
                        reason: record.reason,
                    });
                }
            }
        }
        let crl = self.ca_read().crl(issuer, number, &revoked, now)?;
        let mut batch = Batch::default();
        batch.put(
            Cf::Crls,
            store_keys::issuer_prefix(issuer).to_vec(),
            &StoredCrl {
                number,
                der: crl.der.clone(),
            },
        );
        self.store.commit(batch, Durability::Synced)?;
        cache.insert(issuer, crl.clone());
        Ok(crl)
    }

    /// Answers a DER OCSP request for certificates of the issuing CA.
    pub fn ocsp(&self, request_der: &[u8]) -> Vec<u8> {
        let now = self.clock.now();
        // Never promise freshness beyond the responder certificate's own validity.
        let responder_not_after =
            OffsetDateTime::from_unix_timestamp(self.ca_read().state().ocsp.not_after)
                .unwrap_or(now);
        let next_update = (now
            + Duration::hours(i64::from(self.config.ca.ocsp_response_validity_hours)))
        .min(responder_not_after);
        let lookup = |serial: &[u8]| -> CertStatusInfo {
            let Some(serial) = Serial::from_bytes(serial) else {
                return CertStatusInfo::Unknown;
            };
            match self.certificate_record(IssuerTag::Issuing, &serial) {
                Ok(CertificateRecord {
                    revocation: Some(r),
                    ..
                }) => CertStatusInfo::Revoked {
                    at: unix(r.revoked_at),
                    reason: (r.reason != RevocationReasonCode::Unspecified)
                        .then(|| r.reason.code()),
                },
                Ok(_) => CertStatusInfo::Good,
                Err(ServiceError::NotFound { .. }) => CertStatusInfo::Unknown,
                Err(e) => {
                    tracing::error!(error = %e, "OCSP lookup failed");
                    CertStatusInfo::Unavailable
                }
            }
        };
        let ocsp = self.ocsp.read().unwrap_or_else(|e| e.into_inner());
        ocsp.respond(request_der, now, next_update, &lookup)
    }
}

/// The last CRL issued per issuer; its number makes CRL numbers monotonic across restarts.
#[derive(Debug, Serialize, Deserialize)]
struct StoredCrl {
    number: u64,
    #[serde(with = "crate::store::serde_b64")]
    der: Vec<u8>,
}
