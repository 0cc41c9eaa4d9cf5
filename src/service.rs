//! Use cases of the appliance, composed from `ca`, `tsa`, `keys` and `store`. The HTTP layer
//! calls only this module. Everything that is acknowledged is committed with a synced WAL first.

mod access;
mod bootstrap;
mod entities;
mod revocation;
mod signing;
pub mod verification;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

pub use access::{ApiKeyRecord, ApiKeySecret, NewApiKey, Principal, Role};
pub use entities::{EntityDetails, EntityPage, EntityRecord, EntityView, NewEntity};
pub use revocation::{CertificateRecord, RevocationRecord};
pub use signing::{MAX_IDEMPOTENCY_KEY, SignRequest, SignedDocument};

use crate::ca::{CaError, CertificateAuthority, Crl};
use crate::clock::SharedClock;
use crate::config::Config;
use crate::identity::InvalidIdentifier;
use crate::keys::soft::MasterKey;
use crate::keys::{KeyCustody, KeyError};
use crate::store::keys::IssuerTag;
use crate::store::{Store, StoreError};
use crate::tsa::TimeStampAuthority;

/// What a use case can fail with. The API maps each variant to one problem type.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServiceError {
    #[error("{0}")]
    Invalid(#[from] InvalidIdentifier),
    #[error("{what} {id} does not exist")]
    NotFound { what: &'static str, id: String },
    #[error("this API key belongs to workspace {caller}, not to {target}")]
    WrongWorkspace { caller: String, target: String },
    #[error("only the admin API key may do this")]
    AdminRequired,
    #[error("certificate {serial} is already revoked")]
    AlreadyRevoked { serial: String },
    #[error("certificate {serial} belongs to the appliance's own services")]
    ServiceCertificate { serial: String },
    #[error("{what} changed while this request ran")]
    Conflict { what: &'static str },
    #[error("the key store failed: {0}")]
    Key(#[from] KeyError),
    #[error("the CA failed: {0}")]
    Ca(#[from] CaError),
    #[error("storage failed: {0}")]
    Store(#[from] StoreError),
    #[error("the transparency log failed: {0}")]
    Log(#[from] crate::tlog::LogError),
    #[error("start-up failed: {0}")]
    Startup(String),
    #[error("{0}")]
    Signing(#[from] crate::pades::PadesError),
    #[error("the entity cannot sign: {reason}")]
    CannotSign { reason: String },
    #[error("Idempotency-Key must be 1-128 printable ASCII characters")]
    InvalidIdempotencyKey,
    #[error("this Idempotency-Key was used for a different request")]
    IdempotencyKeyReused,
    #[error("a request with this Idempotency-Key is still being processed")]
    IdempotencyKeyInFlight,
    #[error("the request's time ran out before its signature was recorded")]
    DeadlineExceeded,
}

/// The running appliance: configuration, store, keys, CA and caches. Shared behind an `Arc`.
pub struct Appliance {
    config: Config,
    store: Arc<Store>,
    custody: Arc<KeyCustody>,
    master: Arc<MasterKey>,
    clock: SharedClock,
    ca: RwLock<CertificateAuthority>,
    tsa: TimeStampAuthority,
    /// The delegated OCSP responder; replaced when `maintain` renews its certificate.
    ocsp: RwLock<crate::ca::ocsp::OcspResponder>,
    /// The transparency log every issuance, revocation and signature is recorded in.
    log: crate::tlog::Log,
    /// Entity sequences (paging order) are `sequence_base + log index of the issuance event`;
    /// the base is above every sequence given out before the log existed.
    sequence_base: u64,
    /// Serialises read-modify-write of certificate and entity records (revoke, renew), so that
    /// concurrent revocations and renewals cannot overwrite each other.
    record_lock: Mutex<()>,
    /// Serialises nonce check-and-insert so two concurrent requests cannot both pass.
    nonce_lock: Mutex<()>,
    /// Current CRL per issuer; owned by `revocation`.
    crls: Mutex<HashMap<IssuerTag, Crl>>,
    /// The font for non-Latin text in appearances (`signing.text_font`).
    text_font: Option<Arc<crate::pdf::font::Font>>,
    /// Bounds concurrent PDF signing (`signing.max_concurrent`); owned by `signing`.
    signing_slots: signing::Slots,
    /// Idempotency keys of signing requests now running; owned by `signing`.
    idempotency_in_flight: Mutex<std::collections::HashSet<Vec<u8>>>,
    /// Admin key file location, for logs.
    pub admin_key_path: std::path::PathBuf,
}

impl Appliance {
    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn clock(&self) -> &SharedClock {
        &self.clock
    }

    /// Whether the store answers and the CA keys sign: the readiness probe.
    pub fn ready(&self) -> Result<(), ServiceError> {
        self.log.health().map_err(crate::tlog::LogError::Halted)?;
        self.store.get_raw(
            crate::store::Cf::Meta,
            crate::store::keys::Meta::CaState.key(),
        )?;
        Ok(())
    }

    pub fn root_pem(&self) -> String {
        self.ca_read().root_pem()
    }

    pub fn chain_pem(&self) -> String {
        self.ca_read().chain_pem()
    }

    /// A certificate of the hierarchy by name: `root`, `issuing`, `ocsp` or `tsa`.
    pub fn ca_certificate_der(&self, name: &str) -> Option<Vec<u8>> {
        let ca = self.ca_read();
        let state = ca.state();
        Some(match name {
            "root" => state.root.cert_der.clone(),
            "issuing" => state.issuing.cert_der.clone(),
            "ocsp" => state.ocsp.cert_der.clone(),
            "tsa" => state.tsa.cert_der.clone(),
            _ => return None,
        })
    }

    /// The transparency log.
    pub fn log(&self) -> &crate::tlog::Log {
        &self.log
    }

    /// The key custody; for benchmarks and tests that exercise keys directly.
    pub fn custody(&self) -> &KeyCustody {
        &self.custody
    }

    fn ca_write(&self) -> std::sync::RwLockWriteGuard<'_, CertificateAuthority> {
        self.ca.write().unwrap_or_else(|e| e.into_inner())
    }

    fn ca_read(&self) -> std::sync::RwLockReadGuard<'_, CertificateAuthority> {
        // A poisoned lock means a panic while holding it; the CA state itself is immutable
        // between writes, so reading on is safe.
        self.ca.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Answers an RFC 3161 request (DER `TimeStampReq`) with a DER `TimeStampResp`.
    pub fn timestamp(&self, request_der: &[u8]) -> Vec<u8> {
        let now = self.clock.now();
        let mut serial: [u8; 16] = rand::random();
        serial[0] &= 0x7f;
        serial[0] |= 0x01;
        self.tsa.respond(request_der, now, serial)
    }
}

/// Periodic upkeep; the server runs it every few minutes. Renews the OCSP signing certificate
/// when a third of its validity remains (so a long-running process never signs with an expired
/// responder certificate) and forgets expired nonces.
impl Appliance {
    pub fn maintain(&self) -> Result<(), ServiceError> {
        let now = self.clock.now();
        let renewal = self.ca_read().ocsp_renewal_due(&self.custody, now)?;
        if let Some(member) = renewal {
            // Persist first, then switch: a failed commit leaves the running state unchanged.
            let mut batch = crate::store::Batch::default();
            batch.put(
                crate::store::Cf::Meta,
                crate::store::keys::Meta::CaState.key(),
                &self.ca_read().with_ocsp(member.clone()),
            );
            CertificateRecord::for_ca_member(
                IssuerTag::Issuing,
                crate::ca::profile::ProfileName::Ocsp,
                &member,
            )?
            .put(&mut batch);
            self.store.commit(batch, crate::store::Durability::Synced)?;
            let mut ca = self.ca_write();
            ca.install_ocsp(member.clone(), &self.custody)?;
            let responder = ca.ocsp_responder()?;
            *self.ocsp.write().unwrap_or_else(|e| e.into_inner()) = responder;
            tracing::info!(serial = %member.serial, "renewed the OCSP signing certificate");
        }
        self.purge_nonces()?;
        Ok(())
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // The guarded data stays consistent across a panic (we only guard counters and caches).
    m.lock().unwrap_or_else(|e| e.into_inner())
}
