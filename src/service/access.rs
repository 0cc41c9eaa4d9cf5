//! API keys and the authorisation of callers: who may act in which workspace.
//!
//! Secrets are stored wrapped (AES-256-GCM under the master key, bound to the key id), because
//! HMAC verification needs the secret itself; they are unwrapped per request into zeroised memory.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use zeroize::Zeroizing;

use super::{Appliance, ServiceError, lock};
use crate::identity::{ApiKeyId, Workspace};
use crate::keys::KeyError;
use crate::keys::soft::MasterKey;
use crate::store::{Batch, Cf, Durability};

/// What an API key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Creates workspace keys; may act in every workspace.
    Admin,
    /// Acts only within its workspace.
    Workspace,
}

/// A stored API key.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ApiKeyRecord {
    pub key_id: ApiKeyId,
    pub role: Role,
    pub workspace: Option<Workspace>,
    #[serde(with = "crate::store::serde_b64")]
    pub wrapped_secret: Vec<u8>,
    pub created_at: i64,
}

/// The authenticated caller of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    Admin {
        key_id: ApiKeyId,
    },
    Workspace {
        key_id: ApiKeyId,
        workspace: Workspace,
    },
}

impl Principal {
    pub fn key_id(&self) -> &ApiKeyId {
        match self {
            Principal::Admin { key_id } | Principal::Workspace { key_id, .. } => key_id,
        }
    }

    /// Fails unless the caller may act in `workspace`.
    pub fn authorize(&self, workspace: &Workspace) -> Result<(), ServiceError> {
        match self {
            Principal::Admin { .. } => Ok(()),
            Principal::Workspace { workspace: own, .. } if own == workspace => Ok(()),
            Principal::Workspace { workspace: own, .. } => Err(ServiceError::WrongWorkspace {
                caller: own.to_string(),
                target: workspace.to_string(),
            }),
        }
    }

    /// The workspace a request acts in: the key's own, or for the admin the one it names.
    pub fn target_workspace(&self, named: Option<Workspace>) -> Result<Workspace, ServiceError> {
        match (self, named) {
            (Principal::Workspace { workspace, .. }, None) => Ok(workspace.clone()),
            (_, Some(named)) => {
                self.authorize(&named)?;
                Ok(named)
            }
            (Principal::Admin { .. }, None) => {
                Err(ServiceError::Invalid(crate::identity::InvalidIdentifier {
                    field: "workspace",
                    message: "the admin key must name the workspace to act in".into(),
                }))
            }
        }
    }
}

/// A key's caller identity and its unwrapped secret (zeroised on drop).
pub struct ApiKeySecret {
    pub principal: Principal,
    pub secret: Zeroizing<Vec<u8>>,
}

/// A newly created API key; the secret is shown once.
#[derive(Debug, Clone)]
pub struct NewApiKey {
    pub key_id: ApiKeyId,
    pub secret: String,
    pub workspace: Workspace,
}

fn aad(key_id: &ApiKeyId) -> Vec<u8> {
    let mut aad = b"sigillum-api-key-v1\0".to_vec();
    aad.extend_from_slice(key_id.as_str().as_bytes());
    aad
}

impl ApiKeyRecord {
    /// A fresh key id (`ak_` + 24 hex) and 256-bit secret (base64url, 43 characters).
    pub fn generate(
        master: &MasterKey,
        role: Role,
        workspace: Option<Workspace>,
        now: OffsetDateTime,
    ) -> Result<(Self, Zeroizing<String>), KeyError> {
        let key_id = ApiKeyId::generate();
        let raw = Zeroizing::new(rand::random::<[u8; 32]>());
        let secret = Zeroizing::new(URL_SAFE_NO_PAD.encode(raw.as_ref()));
        let wrapped_secret = master.seal(&aad(&key_id), secret.as_bytes())?;
        Ok((
            Self {
                key_id,
                role,
                workspace,
                wrapped_secret,
                created_at: now.unix_timestamp(),
            },
            secret,
        ))
    }

    pub fn principal(&self) -> Option<Principal> {
        match (self.role, &self.workspace) {
            (Role::Admin, _) => Some(Principal::Admin {
                key_id: self.key_id.clone(),
            }),
            (Role::Workspace, Some(ws)) => Some(Principal::Workspace {
                key_id: self.key_id.clone(),
                workspace: ws.clone(),
            }),
            (Role::Workspace, None) => None,
        }
    }
}

impl Appliance {
    /// Looks up a key and unwraps its secret. `Ok(None)` for unknown keys.
    pub fn api_key_secret(&self, key_id: &ApiKeyId) -> Result<Option<ApiKeySecret>, ServiceError> {
        let Some(record) = self
            .store
            .get::<ApiKeyRecord>(Cf::ApiKeys, key_id.as_str().as_bytes())?
        else {
            return Ok(None);
        };
        let secret = self
            .master
            .open(&aad(&record.key_id), &record.wrapped_secret)
            .ok_or_else(|| {
                KeyError::Crypto(format!(
                    "the secret of API key {} could not be unwrapped (wrong master key?)",
                    record.key_id
                ))
            })?;
        Ok(record
            .principal()
            .map(|principal| ApiKeySecret { principal, secret }))
    }

    /// Records `nonce` for `key_id`; `false` if it was already seen within the window.
    /// Buffered durability: a nonce lost to a power cut within the window is an accepted risk.
    pub fn remember_nonce(
        &self,
        key_id: &ApiKeyId,
        nonce: &str,
        timestamp: i64,
    ) -> Result<bool, ServiceError> {
        let key = crate::store::keys::nonce(key_id.as_str(), nonce);
        let _guard = lock(&self.nonce_lock);
        if self.store.get_raw(Cf::Nonces, &key)?.is_some() {
            return Ok(false);
        }
        let mut batch = Batch::default();
        // Expiry is computed from the later of the claimed and the server time, so a nonce
        // is remembered at least as long as its timestamp could still be accepted.
        let now = self.clock.now().unix_timestamp();
        let keep_until = timestamp.max(now) + self.config.api.auth_window_seconds as i64;
        batch.put_raw(Cf::Nonces, key, (keep_until.max(0) as u64).to_be_bytes());
        self.store.commit(batch, Durability::Buffered)?;
        Ok(true)
    }

    /// Forgets nonces whose window has passed. Called periodically.
    pub fn purge_nonces(&self) -> Result<usize, ServiceError> {
        let now = self.clock.now().unix_timestamp().max(0) as u64;
        let _guard = lock(&self.nonce_lock);
        Ok(self.store.purge_below(Cf::Nonces, now)?)
    }

    /// Creates a workspace-scoped API key. Admin only.
    pub fn create_api_key(
        &self,
        caller: &Principal,
        workspace: Workspace,
    ) -> Result<NewApiKey, ServiceError> {
        if !matches!(caller, Principal::Admin { .. }) {
            return Err(ServiceError::AdminRequired);
        }
        let (record, secret) = ApiKeyRecord::generate(
            &self.master,
            Role::Workspace,
            Some(workspace.clone()),
            self.clock.now(),
        )?;
        let mut batch = Batch::default();
        batch.put(
            Cf::ApiKeys,
            record.key_id.as_str().as_bytes().to_vec(),
            &record,
        );
        self.store.commit(batch, Durability::Synced)?;
        tracing::info!(key_id = %record.key_id, %workspace, "created a workspace API key");
        Ok(NewApiKey {
            key_id: record.key_id,
            secret: secret.to_string(),
            workspace,
        })
    }
}
