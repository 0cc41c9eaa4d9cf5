//! Signing a PDF for an entity: authorisation, the PAdES pipeline on the entity's key, the
//! `document_signed` log event (durable before anything is returned), receipts, and idempotent
//! retries.

use std::io::Write as _;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{Appliance, Principal, ServiceError, lock};
use crate::identity::EntityId;
use crate::pades::{self, PadesError, SignOptions, TrustServices, ValidationData};
use crate::store::keys::IssuerTag;
use crate::store::{Batch, Cf};
use crate::tlog::{Event, EventKind, Receipt};

/// A signed document: the caller's bytes followed by `updates`, and its log receipt.
pub struct SignedDocument {
    pub updates: Vec<Vec<u8>>,
    pub receipt: Receipt,
    /// Set when the output came from an earlier request with the same idempotency key: the
    /// whole signed file (the input was not re-signed).
    pub replayed: Option<Vec<u8>>,
}

/// One signing request.
pub struct SignRequest<'a> {
    pub entity: &'a EntityId,
    /// `time` is replaced by the clock's.
    pub options: SignOptions,
    /// Digest of the options as sent, for idempotency (same key ⇒ same request).
    pub options_digest: &'a [u8],
    pub pdf: &'a [u8],
    pub idempotency_key: Option<&'a str>,
    /// When the caller stops waiting: past it, nothing is logged.
    pub deadline: Option<std::time::Instant>,
}

/// What an idempotency key remembers.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct IdempotencyRecord {
    request_sha256: String,
    leaf_index: u64,
    output_sha256: String,
}

/// Longest idempotency key accepted.
pub const MAX_IDEMPOTENCY_KEY: usize = 128;

impl Appliance {
    /// Signs `pdf` for `entity` per `options` (whose `time` is replaced by the clock's). Blocking
    /// (CPU, key store, maybe an external TSA): call from a blocking thread.
    ///
    /// With an `idempotency_key`, the first success is remembered with its output; a repeat with
    /// the same key and the same request returns that output and a fresh receipt without signing
    /// or logging again, a repeat with a different request is refused.
    pub fn sign_document(
        &self,
        caller: &Principal,
        request: SignRequest<'_>,
    ) -> Result<SignedDocument, ServiceError> {
        let SignRequest {
            entity,
            mut options,
            options_digest,
            pdf,
            idempotency_key,
            deadline,
        } = request;
        let record = self.load_entity(entity)?;
        caller.authorize(&record.workspace)?;
        let request_sha256 = {
            let mut h = Sha256::new();
            h.update(entity.as_str().as_bytes());
            h.update([0]);
            h.update(options_digest);
            h.update([0]);
            h.update(pdf);
            hex::encode(h.finalize())
        };
        let idem_key = match idempotency_key {
            None => None,
            Some(k) => {
                if k.is_empty()
                    || k.len() > MAX_IDEMPOTENCY_KEY
                    || !k.bytes().all(|b| b.is_ascii_graphic())
                {
                    return Err(ServiceError::InvalidIdempotencyKey);
                }
                let mut key = record.workspace.as_str().as_bytes().to_vec();
                key.push(0);
                key.extend_from_slice(k.as_bytes());
                Some(key)
            }
        };
        // One request per key at a time: a concurrent duplicate is told to retry.
        let _claim = match &idem_key {
            Some(key) => Some(self.claim_idempotency_key(key)?),
            None => None,
        };
        if let Some(key) = &idem_key
            && let Some(done) = self.store.get::<IdempotencyRecord>(Cf::Idempotency, key)?
        {
            if done.request_sha256 != request_sha256 {
                return Err(ServiceError::IdempotencyKeyReused);
            }
            let output = std::fs::read(self.blob_path(&done.output_sha256)).map_err(|e| {
                ServiceError::Startup(format!("stored signed document is unreadable: {e}"))
            })?;
            if hex::encode(Sha256::digest(&output)) != done.output_sha256 {
                return Err(ServiceError::Startup(format!(
                    "stored signed document {} is corrupt",
                    done.output_sha256
                )));
            }
            let receipt = self
                .log
                .receipt(done.leaf_index)?
                .ok_or_else(|| ServiceError::Startup("remembered log entry is missing".into()))?;
            return Ok(SignedDocument {
                updates: Vec::new(),
                receipt,
                replayed: Some(output),
            });
        }

        let certificate = self.certificate_record(IssuerTag::Issuing, &record.certificate)?;
        let now = self.clock.now();
        if certificate.revocation.is_some() {
            return Err(ServiceError::CannotSign {
                reason: format!("certificate {} is revoked", record.certificate),
            });
        }
        if now.unix_timestamp() >= certificate.not_after
            || now.unix_timestamp() < certificate.not_before
        {
            return Err(ServiceError::CannotSign {
                reason: format!(
                    "certificate {} is not valid now; renew the entity",
                    record.certificate
                ),
            });
        }
        options.time = now;
        let signer = self.custody.signer(&record.key)?;
        let chain = {
            let ca = self.ca_read();
            vec![
                ca.state().issuing.cert_der.clone(),
                ca.state().root.cert_der.clone(),
            ]
        };
        let name = record.details.name().as_str().to_owned();
        let signing = pades::Signing {
            signer: signer.as_ref(),
            certificate: &certificate.der,
            chain: &chain,
            display_name: &name,
            rsa_pss: self.config.signing.rsa_pss,
        };
        let policy = pades::Policy {
            allowed_levels: self.config.signing.allowed_levels.clone(),
            ..pades::Policy::default()
        };
        // CPU-bound: at most `signing.max_concurrent` at once. The slot is released before the
        // log append, so waiting for the group commit does not hold back other signings.
        let slot = self.signing_slots.acquire();
        let signed = pades::sign(
            pdf,
            &options,
            &signing,
            self,
            self.text_font.as_deref(),
            &policy,
        );
        drop(slot);
        let signed = signed.map_err(|e| {
            if matches!(
                e,
                PadesError::SelfCheck(_) | PadesError::Cms(_) | PadesError::Key(_)
            ) {
                tracing::error!(error = %e, %entity, "signing failed internally");
            }
            ServiceError::Signing(e)
        })?;

        let mut event = Event::new(EventKind::document_signed(), now);
        event.workspace = Some(record.workspace.as_str().to_owned());
        event.entity = Some(entity.as_str().to_owned());
        event.certificate_serial = Some(record.certificate.to_hex());
        event.document_sha256_before = Some(signed.sha256_before);
        event.document_sha256_after = Some(signed.sha256_after);
        event.signature_sha256 = Some(Sha256::digest(&signed.cms).into());

        // The caller stops waiting at its deadline (the HTTP timeout); recording the signature
        // after that would log a document the caller never received and will sign again.
        if deadline.is_some_and(|d| std::time::Instant::now() >= d) {
            return Err(ServiceError::DeadlineExceeded);
        }
        let output_sha256 = output_sha256_hex(&signed);
        if idem_key.is_some() {
            // The output must be on disk before the record that points at it.
            self.write_blob(&output_sha256, pdf, &signed.updates)?;
        }
        let blob_written = idem_key.is_some();
        let records: crate::tlog::RecordsFn = match idem_key {
            None => Box::new(|_| Batch::default()),
            Some(key) => Box::new(move |indexes: &[u64]| {
                let mut batch = Batch::default();
                batch.put(
                    Cf::Idempotency,
                    key.clone(),
                    &IdempotencyRecord {
                        request_sha256: request_sha256.clone(),
                        leaf_index: indexes[0],
                        output_sha256: output_sha256.clone(),
                    },
                );
                batch
            }),
        };
        let appended = match self.log.append_with(vec![event], records) {
            Ok(a) => a,
            Err(e) => {
                // Not recorded for sure (unlike `Indeterminate`): nothing refers to the output.
                if blob_written && !matches!(e, crate::tlog::LogError::Indeterminate(_)) {
                    let _ = std::fs::remove_file(self.blob_path(&output_sha256_hex(&signed)));
                }
                return Err(e.into());
            }
        };
        let index = appended.indexes[0];
        let receipt = self
            .log
            .receipt(index)?
            .ok_or_else(|| ServiceError::Startup(format!("log entry {index} has no receipt")))?;
        tracing::info!(%entity, leaf_index = index, level = options.level.as_str(), field = %signed.field_name, "signed document");
        Ok(SignedDocument {
            updates: signed.updates,
            receipt,
            replayed: None,
        })
    }

    /// A receipt for a log entry of the caller's workspace (others' are "not found").
    pub fn receipt(&self, caller: &Principal, index: u64) -> Result<Receipt, ServiceError> {
        let not_found = || ServiceError::NotFound {
            what: "log entry",
            id: index.to_string(),
        };
        let receipt = self.log.receipt(index)?.ok_or_else(not_found)?;
        let event = Event::decode(&receipt.entry).map_err(|_| not_found())?;
        match event.workspace {
            Some(ws)
                if caller
                    .authorize(&crate::identity::Workspace::parse(&ws)?)
                    .is_ok() =>
            {
                Ok(receipt)
            }
            _ => Err(not_found()),
        }
    }

    fn blob_path(&self, sha256_hex: &str) -> PathBuf {
        self.config
            .data_dir
            .join("blobs")
            .join(&sha256_hex[..2])
            .join(sha256_hex)
    }

    /// Writes `parts` as one content-addressed file, fsynced (file and directory).
    fn write_blob(
        &self,
        sha256_hex: &str,
        head: &[u8],
        parts: &[Vec<u8>],
    ) -> Result<(), ServiceError> {
        let path = self.blob_path(sha256_hex);
        let io = |e: std::io::Error| {
            ServiceError::Startup(format!("cannot store the signed document: {e}"))
        };
        let dir = path
            .parent()
            .ok_or_else(|| io(std::io::Error::other("no parent")))?;
        std::fs::create_dir_all(dir).map_err(io)?;
        let tmp = dir.join(format!(".{sha256_hex}.tmp"));
        let mut file = std::fs::File::create(&tmp).map_err(io)?;
        file.write_all(head).map_err(io)?;
        for p in parts {
            file.write_all(p).map_err(io)?;
        }
        file.sync_all().map_err(io)?;
        std::fs::rename(&tmp, &path).map_err(io)?;
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(io)?;
        Ok(())
    }

    fn claim_idempotency_key(&self, key: &[u8]) -> Result<IdempotencyClaim<'_>, ServiceError> {
        let mut in_flight = lock(&self.idempotency_in_flight);
        if !in_flight.insert(key.to_vec()) {
            return Err(ServiceError::IdempotencyKeyInFlight);
        }
        Ok(IdempotencyClaim {
            appliance: self,
            key: key.to_vec(),
        })
    }
}

fn output_sha256_hex(signed: &pades::SignedPdf) -> String {
    hex::encode(signed.sha256_after)
}

/// A counting semaphore for blocking threads.
pub(super) struct Slots {
    free: std::sync::Mutex<usize>,
    released: std::sync::Condvar,
}

impl Slots {
    pub(super) fn new(n: usize) -> Self {
        Self {
            free: std::sync::Mutex::new(n.max(1)),
            released: std::sync::Condvar::new(),
        }
    }

    fn acquire(&self) -> SlotGuard<'_> {
        let mut free = lock(&self.free);
        while *free == 0 {
            free = self
                .released
                .wait(free)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
        }
        *free -= 1;
        SlotGuard(self)
    }
}

struct SlotGuard<'a>(&'a Slots);

impl Drop for SlotGuard<'_> {
    fn drop(&mut self) {
        *lock(&self.0.free) += 1;
        self.0.released.notify_one();
    }
}

struct IdempotencyClaim<'a> {
    appliance: &'a Appliance,
    key: Vec<u8>,
}

impl Drop for IdempotencyClaim<'_> {
    fn drop(&mut self) {
        lock(&self.appliance.idempotency_in_flight).remove(&self.key);
    }
}

impl TrustServices for Appliance {
    fn timestamp(&self, digest: &[u8; 32]) -> Result<Vec<u8>, PadesError> {
        let (request, nonce) =
            crate::tsa::request_der(digest).map_err(|e| PadesError::Timestamp(e.to_string()))?;
        let response = match &self.config.signing.tsa_url {
            None => Appliance::timestamp(self, &request),
            Some(url) => {
                let client = reqwest::blocking::Client::builder()
                    .timeout(std::time::Duration::from_secs(15))
                    .build()
                    .map_err(|e| PadesError::Timestamp(e.to_string()))?;
                let resp = client
                    .post(url)
                    .header("content-type", "application/timestamp-query")
                    .body(request)
                    .send()
                    .and_then(|r| r.error_for_status())
                    .map_err(|e| PadesError::Timestamp(format!("{url}: {e}")))?;
                resp.bytes()
                    .map_err(|e| PadesError::Timestamp(format!("{url}: {e}")))?
                    .to_vec()
            }
        };
        crate::tsa::token_from_response(&response, digest, &nonce)
            .map_err(|e| PadesError::Timestamp(e.to_string()))
    }

    fn timestamp_chain(&self) -> Vec<Vec<u8>> {
        if self.config.signing.tsa_url.is_some() {
            // An external TSA's chain travels in its tokens; its revocation data is its own.
            return Vec::new();
        }
        let ca = self.ca_read();
        let (_, tsa_cert, chain) = ca.tsa_parts();
        let mut out = vec![tsa_cert];
        out.extend(chain);
        out
    }

    fn validation_data(&self, certificates: &[Vec<u8>]) -> Result<ValidationData, PadesError> {
        use openssl::x509::X509;
        let (root, issuing, ocsp_cert) = {
            let ca = self.ca_read();
            let s = ca.state();
            (
                s.root.cert_der.clone(),
                s.issuing.cert_der.clone(),
                s.ocsp.cert_der.clone(),
            )
        };
        let parse = |der: &[u8]| {
            X509::from_der(der).map_err(|e| PadesError::Revocation(format!("certificate: {e}")))
        };
        let issuing_x509 = parse(&issuing)?;
        let mut data = ValidationData::default();
        for der in certificates {
            if der == &root {
                continue;
            }
            if der == &issuing {
                // The issuing CA's status comes from the root's CRL.
                let crl = self
                    .crl(IssuerTag::Root)
                    .map_err(|e| PadesError::Revocation(e.to_string()))?;
                data.crls.push(crl.der);
                continue;
            }
            let cert = parse(der)?;
            if cert.issuer_name_hash() != issuing_x509.subject_name_hash() {
                return Err(PadesError::Revocation(
                    "certificate not issued by this appliance's issuing CA".into(),
                ));
            }
            let id = openssl::ocsp::OcspCertId::from_cert(
                openssl::hash::MessageDigest::sha1(),
                &cert,
                &issuing_x509,
            )
            .map_err(|e| PadesError::Revocation(e.to_string()))?;
            let mut req = openssl::ocsp::OcspRequest::new()
                .map_err(|e| PadesError::Revocation(e.to_string()))?;
            req.add_id(id)
                .map_err(|e| PadesError::Revocation(e.to_string()))?;
            let req_der = req
                .to_der()
                .map_err(|e| PadesError::Revocation(e.to_string()))?;
            let resp = self.ocsp(&req_der);
            let parsed = openssl::ocsp::OcspResponse::from_der(&resp)
                .map_err(|e| PadesError::Revocation(format!("OCSP response: {e}")))?;
            if parsed.status() != openssl::ocsp::OcspResponseStatus::SUCCESSFUL {
                return Err(PadesError::Revocation(
                    "the OCSP responder did not answer successfully".into(),
                ));
            }
            data.ocsp_responses.push(resp);
        }
        if !data.ocsp_responses.is_empty() {
            data.certificates.push(ocsp_cert);
        }
        Ok(data)
    }
}
