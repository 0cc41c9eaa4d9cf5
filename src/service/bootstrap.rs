//! First start and every start: open the data directory, the master key, the store and the key
//! stores; create the CA hierarchy and the admin API key once; renew the OCSP certificate when
//! due. Idempotent: a restart finds everything and reuses it.

use std::collections::HashMap;
use std::os::unix::fs::DirBuilderExt;
use std::sync::{Arc, Mutex, RwLock};

use super::access::{ApiKeyRecord, Role};
use super::revocation::CertificateRecord;
use super::{Appliance, ServiceError};
use crate::ca::{CaState, CertificateAuthority};
use crate::clock::SharedClock;
use crate::config::{Config, KeyBackend};
use crate::keys::pkcs11::Pkcs11KeyStore;
use crate::keys::soft::{MasterKey, SoftKeyStore};
use crate::keys::{KeyCustody, KeyStore};
use crate::store::keys::Meta;
use crate::store::{Batch, Cf, Durability, Store};
use crate::tsa::TimeStampAuthority;

impl Appliance {
    /// Opens the appliance on `config.data_dir`, initialising what is missing.
    pub fn open(config: Config, clock: SharedClock) -> Result<Arc<Self>, ServiceError> {
        config
            .validate()
            .map_err(|e| ServiceError::Startup(e.to_string()))?;
        let data_dir = &config.data_dir;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(data_dir)
            .map_err(|e| {
                ServiceError::Startup(format!(
                    "cannot create data dir {}: {e}",
                    data_dir.display()
                ))
            })?;
        let master = Arc::new(MasterKey::load_or_create(&data_dir.join("master.key"))?);
        let store = Arc::new(Store::open(&data_dir.join("db"))?);
        let soft = Arc::new(SoftKeyStore::new(master.clone()));
        let primary: Arc<dyn KeyStore> = match config.keys.backend {
            KeyBackend::Soft => soft.clone(),
            KeyBackend::Pkcs11 => Arc::new(Pkcs11KeyStore::open(&config.keys.pkcs11)?),
        };
        let custody = Arc::new(KeyCustody::new(
            primary,
            soft,
            config.keys.pkcs11.dangerous_allow_soft_fallback,
        ));
        let public_url = config.public_url();
        let now = clock.now();

        let ca = match store.get::<CaState>(Cf::Meta, Meta::CaState.key())? {
            Some(state) => CertificateAuthority::open(state, &custody, &config.ca, &public_url)?,
            None => {
                let ca = CertificateAuthority::create(&custody, &config.ca, &public_url, now)?;
                let mut batch = Batch::default();
                batch.put(Cf::Meta, Meta::CaState.key(), ca.state());
                for (issuer, profile, member) in ca.hierarchy() {
                    CertificateRecord::for_ca_member(issuer, profile, member)?.put(&mut batch);
                }
                store.commit(batch, Durability::Synced)?;
                tracing::info!(
                    root = %ca.state().root.serial,
                    issuing = %ca.state().issuing.serial,
                    backend = ?custody.primary_backend(),
                    "initialised the CA hierarchy (root, issuing, OCSP, TSA)"
                );
                ca
            }
        };
        let (tsa_signer, tsa_cert, tsa_chain) = ca.tsa_parts();
        let policy = config
            .tsa
            .policy_oid
            .parse()
            .map_err(|_| ServiceError::Startup("tsa.policy_oid is not an OID".into()))?;
        let tsa = TimeStampAuthority::new(
            tsa_signer,
            tsa_cert,
            tsa_chain,
            policy,
            config.tsa.accuracy_seconds,
        )
        .map_err(|e| ServiceError::Startup(format!("TSA: {e}")))?;
        let ocsp = ca.ocsp_responder()?;
        if config
            .tsa
            .policy_oid
            .starts_with(crate::identity::DEFAULT_OID_ARC)
            || config
                .ca
                .certificate_policy_oid
                .starts_with(crate::identity::DEFAULT_OID_ARC)
        {
            tracing::warn!(
                "tsa.policy_oid / ca.certificate_policy_oid use the RFC 5612 documentation arc; set OIDs your organisation owns for production"
            );
        }
        let log = crate::tlog::Log::open(
            store.clone(),
            &custody,
            &config.log_origin(),
            config.log.origin.is_some(),
            crate::tlog::LogOptions {
                max_batch: config.log.max_batch,
                min_batch_interval: std::time::Duration::from_millis(
                    config.log.min_batch_interval_ms,
                ),
            },
        )?;
        let sequence_base = match store.get_raw(Cf::Meta, Meta::EntitySequenceBase.key())? {
            Some(raw) => <[u8; 8]>::try_from(raw.as_slice())
                .map(u64::from_be_bytes)
                .map_err(|_| ServiceError::Startup("malformed entity sequence base".into()))?,
            None => {
                // Stores from before the log counted entities in EntitySequence; later
                // sequences start above it.
                let legacy = store
                    .get_raw(Cf::Meta, Meta::EntitySequence.key())?
                    .and_then(|b| <[u8; 8]>::try_from(b.as_slice()).ok())
                    .map(u64::from_be_bytes)
                    .unwrap_or(0);
                let mut batch = Batch::default();
                batch.put_raw(
                    Cf::Meta,
                    Meta::EntitySequenceBase.key(),
                    legacy.to_be_bytes(),
                );
                store.commit(batch, Durability::Synced)?;
                legacy
            }
        };
        tracing::info!(
            origin = log.origin(),
            size = log.size(),
            verifier_key = %log.verifier().encode(),
            "transparency log ready"
        );
        let text_font = match &config.signing.text_font {
            None => None,
            Some(path) => {
                let bytes = std::fs::read(path).map_err(|e| {
                    ServiceError::Startup(format!("signing.text_font {}: {e}", path.display()))
                })?;
                let font =
                    crate::pdf::font::Font::from_bytes(bytes, config.signing.text_font_index)
                        .map_err(|e| {
                            ServiceError::Startup(format!(
                                "signing.text_font {}: {e}",
                                path.display()
                            ))
                        })?;
                tracing::info!(font = font.postscript_name(), "text font loaded");
                Some(Arc::new(font))
            }
        };
        let admin_key_path = data_dir.join("admin-api-key.json");
        let appliance = Arc::new(Self {
            text_font,
            signing_slots: super::signing::Slots::new(config.signing.max_concurrent),
            idempotency_in_flight: Mutex::new(std::collections::HashSet::new()),
            store,
            custody,
            master,
            clock,
            ca: RwLock::new(ca),
            tsa,
            ocsp: RwLock::new(ocsp),
            log,
            sequence_base,
            record_lock: Mutex::new(()),
            nonce_lock: Mutex::new(()),
            crls: Mutex::new(HashMap::new()),
            admin_key_path,
            config,
        });
        appliance.ensure_admin_key()?;
        // Renews the OCSP certificate if it came due while the appliance was down.
        appliance.maintain()?;
        Ok(appliance)
    }

    /// Creates the admin API key once and writes it to `<data>/admin-api-key.json` (0600).
    /// The file is written before the key is committed: if the commit fails, the next start
    /// makes a new key and overwrites the file, so file and store never disagree for long.
    fn ensure_admin_key(&self) -> Result<(), ServiceError> {
        if let Some(raw) = self.store.get_raw(Cf::Meta, Meta::AdminKeyId.key())? {
            let key_id = String::from_utf8_lossy(&raw);
            if !self.admin_key_path.exists() {
                tracing::warn!(
                    %key_id,
                    path = %self.admin_key_path.display(),
                    "the admin API key file is missing; the key still works if you kept its secret"
                );
            }
            return Ok(());
        }
        let (record, secret) =
            ApiKeyRecord::generate(&self.master, Role::Admin, None, self.clock.now())?;
        let file = serde_json::json!({ "key_id": record.key_id, "secret": secret.as_str() });
        crate::store::write_file_atomic(
            &self.admin_key_path,
            serde_json::to_string_pretty(&file)
                .unwrap_or_default()
                .as_bytes(),
            0o600,
        )
        .map_err(|e| ServiceError::Startup(format!("cannot write the admin key file: {e}")))?;
        let mut batch = Batch::default();
        let key_id = record.key_id.as_str().as_bytes().to_vec();
        batch.put(Cf::ApiKeys, key_id.clone(), &record);
        batch.put_raw(Cf::Meta, Meta::AdminKeyId.key(), key_id);
        self.store.commit(batch, Durability::Synced)?;
        tracing::info!(
            key_id = %record.key_id,
            path = %self.admin_key_path.display(),
            "created the admin API key; its secret is in the file (mode 0600)"
        );
        Ok(())
    }
}
