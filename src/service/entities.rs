//! Entities (organisations and persons): key generation in the key store, certificate issuance
//! under the entity's profile, renewal, listing per workspace.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::revocation::{CertificateRecord, RevocationRecord};
use super::{Appliance, Principal, ServiceError, lock};
use crate::ca::profile::ProfileName;
use crate::ca::{IssuedCertificate, RevocationReasonCode, Serial, Subject};
use crate::identity::{CreditCode, EntityId, IdDocument, Name, Workspace};
use crate::keys::KeyRef;
use crate::store::keys::{self as store_keys, IssuerTag};
use crate::store::{Batch, Cf};

/// Who an entity is.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum EntityDetails {
    Organization {
        name: Name,
        credit_code: CreditCode,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        email: Option<String>,
    },
    Person {
        name: Name,
        document: IdDocument,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        email: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        mobile: Option<String>,
    },
}

impl EntityDetails {
    pub fn name(&self) -> &Name {
        match self {
            EntityDetails::Organization { name, .. } | EntityDetails::Person { name, .. } => name,
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            EntityDetails::Organization { .. } => "organization",
            EntityDetails::Person { .. } => "person",
        }
    }

    fn profile(&self) -> ProfileName {
        match self {
            EntityDetails::Organization { .. } => ProfileName::Organization,
            EntityDetails::Person { .. } => ProfileName::Person,
        }
    }

    fn subject(&self) -> Subject {
        match self {
            EntityDetails::Organization {
                name,
                credit_code,
                email,
            } => Subject::Organization {
                name: name.clone(),
                credit_code: credit_code.clone(),
                email: email.clone(),
            },
            EntityDetails::Person {
                name,
                document,
                email,
                ..
            } => Subject::Person {
                name: name.clone(),
                document: document.clone(),
                email: email.clone(),
            },
        }
    }
}

/// A validated request to create an entity.
#[derive(Debug, Clone)]
pub struct NewEntity {
    pub workspace: Option<Workspace>,
    pub details: EntityDetails,
}

/// A stored entity.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EntityRecord {
    pub id: EntityId,
    pub workspace: Workspace,
    pub sequence: u64,
    pub details: EntityDetails,
    pub key: KeyRef,
    /// Serial of the current certificate (issued by the issuing CA).
    pub certificate: Serial,
    /// Serials of earlier certificates, oldest first.
    #[serde(default)]
    pub previous_certificates: Vec<Serial>,
    pub created_at: i64,
}

/// An entity with its current certificate, as shown to callers.
#[derive(Debug, Clone)]
pub struct EntityView {
    pub entity: EntityRecord,
    pub certificate: CertificateRecord,
}

/// One page of a workspace's entities.
#[derive(Debug, Clone)]
pub struct EntityPage {
    pub items: Vec<EntityView>,
    /// Pass back to get the next page; `None` at the end.
    pub next_cursor: Option<String>,
}

impl Appliance {
    /// Generates the entity's key in the key store, issues its certificate and stores both in one
    /// synced batch. Blocking (key generation, possibly an HSM): call from a blocking thread.
    pub fn create_entity(
        &self,
        caller: &Principal,
        request: NewEntity,
    ) -> Result<EntityView, ServiceError> {
        let workspace = caller.target_workspace(request.workspace)?;
        let id = EntityId::random();
        let key = self.custody.generate(
            self.config.ca.entity_key_algorithm,
            &format!("sigillum-entity-{id}"),
        )?;
        let now = self.clock.now();
        let issued = self.issue_for(&request.details, &key, now)?;
        let certificate =
            CertificateRecord::for_entity(&issued, request.details.profile(), &id, &workspace);

        let base = self.sequence_base;
        let make = {
            let (id, workspace, details, key, serial) = (
                id.clone(),
                workspace.clone(),
                request.details,
                key,
                issued.serial.clone(),
            );
            move |index: u64| EntityRecord {
                id: id.clone(),
                workspace: workspace.clone(),
                sequence: base + index,
                details: details.clone(),
                key: key.clone(),
                certificate: serial.clone(),
                previous_certificates: Vec::new(),
                created_at: now.unix_timestamp(),
            }
        };
        let event = certificate_event(
            crate::tlog::EventKind::certificate_issued(),
            now,
            &workspace,
            &id,
            &issued.serial,
        );
        let records = {
            let (make, certificate, workspace) =
                (make.clone(), certificate.clone(), workspace.clone());
            Box::new(move |indexes: &[u64]| {
                let entity = make(indexes[0]);
                let mut batch = Batch::default();
                batch.put(
                    Cf::Entities,
                    entity.id.as_str().as_bytes().to_vec(),
                    &entity,
                );
                batch.put_raw(
                    Cf::WorkspaceEntities,
                    store_keys::workspace_entity(workspace.as_str(), entity.sequence),
                    entity.id.as_str().as_bytes().to_vec(),
                );
                certificate.put(&mut batch);
                batch
            })
        };
        let appended = self.log.append_with(vec![event], records)?;
        let entity = make(appended.indexes[0]);
        tracing::info!(entity = %id, %workspace, serial = %issued.serial, kind = entity.details.kind(), "created entity");
        Ok(EntityView {
            entity,
            certificate,
        })
    }

    /// Log events of the entity's current certificate (issuance, revocation), oldest first.
    pub fn certificate_log_events(&self, serial: &Serial) -> Result<Vec<u64>, ServiceError> {
        Ok(self.log.find_by_certificate(&serial.to_hex(), 64)?)
    }

    fn issue_for(
        &self,
        details: &EntityDetails,
        key: &KeyRef,
        now: OffsetDateTime,
    ) -> Result<IssuedCertificate, ServiceError> {
        Ok(self
            .ca_read()
            .issue(details.profile(), &details.subject(), &key.spki_der, now)?)
    }

    pub(super) fn load_entity(&self, id: &EntityId) -> Result<EntityRecord, ServiceError> {
        self.store
            .get::<EntityRecord>(Cf::Entities, id.as_str().as_bytes())?
            .ok_or_else(|| ServiceError::NotFound {
                what: "entity",
                id: id.to_string(),
            })
    }

    fn view(&self, entity: EntityRecord) -> Result<EntityView, ServiceError> {
        let certificate = self.certificate_record(IssuerTag::Issuing, &entity.certificate)?;
        Ok(EntityView {
            entity,
            certificate,
        })
    }

    pub fn get_entity(
        &self,
        caller: &Principal,
        id: &EntityId,
    ) -> Result<EntityView, ServiceError> {
        let entity = self.load_entity(id)?;
        caller.authorize(&entity.workspace)?;
        self.view(entity)
    }

    /// Lists a workspace's entities in creation order.
    pub fn list_entities(
        &self,
        caller: &Principal,
        workspace: Option<Workspace>,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<EntityPage, ServiceError> {
        let workspace = caller.target_workspace(workspace)?;
        let prefix = store_keys::workspace_prefix(workspace.as_str());
        let after = match cursor {
            None => None,
            Some(c) => Some(store_keys::workspace_entity(
                workspace.as_str(),
                c.parse::<u64>().map_err(|_| {
                    ServiceError::Invalid(crate::identity::InvalidIdentifier {
                        field: "cursor",
                        message: "use the next_cursor value of the previous page".into(),
                    })
                })?,
            )),
        };
        let rows =
            self.store
                .scan_prefix(Cf::WorkspaceEntities, &prefix, after.as_deref(), limit + 1)?;
        let has_more = rows.len() > limit;
        let mut items = Vec::with_capacity(limit.min(rows.len()));
        for row in rows.into_iter().take(limit) {
            let id = EntityId::parse(&String::from_utf8_lossy(&row.value))?;
            items.push(self.view(self.load_entity(&id)?)?);
        }
        let next_cursor = if has_more {
            items.last().map(|v| v.entity.sequence.to_string())
        } else {
            None
        };
        Ok(EntityPage { items, next_cursor })
    }

    /// Re-keys the entity and issues a new certificate; the previous certificate is revoked as
    /// `superseded` in the same batch, so each entity has exactly one valid certificate.
    pub fn renew_entity(
        &self,
        caller: &Principal,
        id: &EntityId,
    ) -> Result<EntityView, ServiceError> {
        let before = self.load_entity(id)?;
        caller.authorize(&before.workspace)?;
        // Key generation and issuance (slow, possibly an HSM) happen outside the lock; the
        // read-modify-write below re-checks that nobody renewed in the meantime.
        let key = self.custody.generate(
            self.config.ca.entity_key_algorithm,
            &format!("sigillum-entity-{id}"),
        )?;
        let now = self.clock.now();
        let issued = self.issue_for(&before.details, &key, now)?;
        let certificate =
            CertificateRecord::for_entity(&issued, before.details.profile(), id, &before.workspace);

        let _guard = lock(&self.record_lock);
        let mut entity = self.load_entity(id)?;
        if entity.certificate != before.certificate {
            return Err(ServiceError::Conflict {
                what: "the entity's certificate",
            });
        }
        let mut old = self.certificate_record(IssuerTag::Issuing, &entity.certificate)?;
        let mut batch = Batch::default();
        let superseded_now = old.revocation.is_none();
        if superseded_now {
            old.revocation = Some(RevocationRecord {
                revoked_at: now.unix_timestamp(),
                reason: RevocationReasonCode::Superseded,
            });
            old.put(&mut batch);
        }
        entity
            .previous_certificates
            .push(entity.certificate.clone());
        entity.certificate = issued.serial.clone();
        let old_key = std::mem::replace(&mut entity.key, key);
        batch.put(Cf::Entities, id.as_str().as_bytes().to_vec(), &entity);
        certificate.put(&mut batch);
        let mut events = vec![certificate_event(
            crate::tlog::EventKind::certificate_issued(),
            now,
            &entity.workspace,
            id,
            &issued.serial,
        )];
        if let Some(revocation) = old.revocation.as_ref().filter(|_| superseded_now) {
            let mut revoked = certificate_event(
                crate::tlog::EventKind::certificate_revoked(),
                now,
                &entity.workspace,
                id,
                &old.serial,
            );
            revoked.revocation_reason = Some(revocation.reason.name().to_owned());
            events.push(revoked);
        }
        self.log.append(events, batch)?;
        self.invalidate_crl(IssuerTag::Issuing);
        // The superseded key never signs again; destroy it so a later leak of the token or data
        // directory cannot produce signatures with it. Failure leaves an unused key behind.
        if let Err(e) = self.custody.destroy(&old_key) {
            tracing::warn!(entity = %id, key = %old_key.id, error = %e, "could not destroy the superseded key");
        }
        tracing::info!(entity = %id, serial = %issued.serial, superseded = %old.serial, "renewed entity certificate");
        Ok(EntityView {
            entity,
            certificate,
        })
    }
}

/// A certificate issuance or revocation event.
pub(super) fn certificate_event(
    kind: crate::tlog::EventKind,
    time: OffsetDateTime,
    workspace: &Workspace,
    entity: &EntityId,
    serial: &Serial,
) -> crate::tlog::Event {
    let mut event = crate::tlog::Event::new(kind, time);
    event.workspace = Some(workspace.as_str().to_owned());
    event.entity = Some(entity.as_str().to_owned());
    event.certificate_serial = Some(serial.to_hex());
    event
}
