//! `/v1/entities` and `/v1/certificates`: create, read, list, renew, revoke.

use std::sync::Arc;

use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use utoipa::{IntoParams, ToSchema};

use super::blocking;
use super::json::ApiJson;
use super::problem::{ApiResult, Problem};
use crate::ca::{RevocationReasonCode, Serial};
use crate::identity::{
    CreditCode, EntityId, IdDocument, IdDocumentType, InvalidIdentifier, Name, Workspace,
    parse_email, parse_mobile,
};
use crate::service::{
    Appliance, CertificateRecord, EntityDetails, EntityPage, EntityView, NewEntity, Principal,
};

#[derive(Debug, Clone, Copy, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum EntityKind {
    Organization,
    Person,
}

/// Body of `POST /v1/entities`. Organisations need `credit_code`; persons need `id_type` and
/// `id_number` (and `id_country` for passports).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateEntityRequest {
    pub kind: EntityKind,
    /// Organisation or person name, 1-200 characters.
    pub name: String,
    /// Workspace to create the entity in; required for the admin key, optional (and must match)
    /// for workspace keys.
    #[serde(default)]
    pub workspace: Option<String>,
    /// Organisations: 18-character unified social credit code (GB 32100-2015).
    #[serde(default)]
    pub credit_code: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    /// Persons: identity document type.
    #[serde(default)]
    pub id_type: Option<IdDocumentType>,
    #[serde(default)]
    pub id_number: Option<String>,
    /// Persons with a passport: issuing country (ISO 3166-1 alpha-2).
    #[serde(default)]
    pub id_country: Option<String>,
    /// Persons: mobile number in E.164 form.
    #[serde(default)]
    pub mobile: Option<String>,
}

fn missing(field: &'static str, message: &str) -> InvalidIdentifier {
    InvalidIdentifier {
        field,
        message: message.to_owned(),
    }
}

impl CreateEntityRequest {
    fn validate(self) -> Result<NewEntity, InvalidIdentifier> {
        let name = Name::parse(&self.name)?;
        let workspace = self
            .workspace
            .as_deref()
            .map(Workspace::parse)
            .transpose()?;
        let email = self.email.as_deref().map(parse_email).transpose()?;
        let details = match self.kind {
            EntityKind::Organization => {
                for (field, present) in [
                    ("id_type", self.id_type.is_some()),
                    ("id_number", self.id_number.is_some()),
                    ("id_country", self.id_country.is_some()),
                    ("mobile", self.mobile.is_some()),
                ] {
                    if present {
                        return Err(missing(field, "is only for persons"));
                    }
                }
                let code = self
                    .credit_code
                    .ok_or_else(|| missing("credit_code", "is required for organisations"))?;
                EntityDetails::Organization {
                    name,
                    credit_code: CreditCode::parse(&code)?,
                    email,
                }
            }
            EntityKind::Person => {
                if self.credit_code.is_some() {
                    return Err(missing("credit_code", "is only for organisations"));
                }
                let kind = self
                    .id_type
                    .ok_or_else(|| missing("id_type", "is required for persons"))?;
                let number = self
                    .id_number
                    .ok_or_else(|| missing("id_number", "is required for persons"))?;
                EntityDetails::Person {
                    name,
                    document: IdDocument::parse(kind, &number, self.id_country.as_deref())?,
                    email,
                    mobile: self.mobile.as_deref().map(parse_mobile).transpose()?,
                }
            }
        };
        Ok(NewEntity { workspace, details })
    }
}

/// A certificate as returned by the API.
#[derive(Debug, Serialize, ToSchema)]
pub struct CertificateResponse {
    /// Lower-case hex.
    pub serial: String,
    pub pem: String,
    /// RFC 3339.
    pub not_before: String,
    pub not_after: String,
    /// `good` or `revoked`.
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revocation_reason: Option<RevocationReasonCode>,
    pub sha256_fingerprint: String,
    /// Transparency-log indexes of this certificate's events (issuance, revocation), oldest
    /// first; see `/v1/log/entries/{index}`.
    pub log_events: Vec<u64>,
}

fn rfc3339(t: i64) -> String {
    OffsetDateTime::from_unix_timestamp(t)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default()
}

impl From<&CertificateRecord> for CertificateResponse {
    fn from(r: &CertificateRecord) -> Self {
        Self {
            serial: r.serial.to_hex(),
            pem: r.pem(),
            not_before: rfc3339(r.not_before),
            not_after: rfc3339(r.not_after),
            status: if r.revocation.is_some() {
                "revoked"
            } else {
                "good"
            },
            revoked_at: r.revocation.map(|x| rfc3339(x.revoked_at)),
            revocation_reason: r.revocation.map(|x| x.reason),
            sha256_fingerprint: crate::ca::fingerprint(&r.der),
            log_events: Vec::new(),
        }
    }
}

/// An entity as returned by the API.
#[derive(Debug, Serialize, ToSchema)]
pub struct EntityResponse {
    pub id: String,
    pub kind: EntityKind,
    pub name: String,
    pub workspace: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credit_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_type: Option<IdDocumentType>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_country: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mobile: Option<String>,
    /// Algorithm of the entity's key, e.g. `ecdsa-p256`.
    pub key_algorithm: String,
    /// `soft` or `pkcs11`.
    pub key_backend: String,
    pub created_at: String,
    pub certificate: CertificateResponse,
}

impl From<&EntityView> for EntityResponse {
    fn from(v: &EntityView) -> Self {
        let e = &v.entity;
        let mut out = Self {
            id: e.id.to_string(),
            kind: EntityKind::Organization,
            name: e.details.name().as_str().to_owned(),
            workspace: e.workspace.to_string(),
            credit_code: None,
            id_type: None,
            id_number: None,
            id_country: None,
            email: None,
            mobile: None,
            key_algorithm: e.key.algorithm.to_string(),
            key_backend: format!("{:?}", e.key.backend).to_lowercase(),
            created_at: rfc3339(e.created_at),
            certificate: (&v.certificate).into(),
        };
        match &e.details {
            EntityDetails::Organization {
                credit_code, email, ..
            } => {
                out.credit_code = Some(credit_code.as_str().to_owned());
                out.email = email.clone();
            }
            EntityDetails::Person {
                document,
                email,
                mobile,
                ..
            } => {
                out.kind = EntityKind::Person;
                out.id_type = Some(document.kind);
                out.id_number = Some(document.number.clone());
                out.id_country = document.country.clone();
                out.email = email.clone();
                out.mobile = mobile.clone();
            }
        }
        out
    }
}

/// Create an entity: generates its key in the key store and issues its certificate.
#[utoipa::path(post, path = "/v1/entities", request_body = CreateEntityRequest,
    responses((status = 201, body = EntityResponse), (status = "4XX", body = Problem, content_type = "application/problem+json")),
    security(("sigillum_hmac" = [])), tag = "entities")]
pub async fn create(
    State(app): State<Arc<Appliance>>,
    Extension(caller): Extension<Principal>,
    ApiJson(body): ApiJson<CreateEntityRequest>,
) -> ApiResult<impl IntoResponse> {
    let request = body
        .validate()
        .map_err(crate::service::ServiceError::from)?;
    let (view, events) = blocking(app, move |app| {
        with_events(app, app.create_entity(&caller, request)?)
    })
    .await?;
    let location = format!("/v1/entities/{}", view.entity.id);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        axum::Json(response(&view, events)),
    ))
}

fn with_events(
    app: &Appliance,
    view: EntityView,
) -> Result<(EntityView, Vec<u64>), crate::service::ServiceError> {
    let events = app.certificate_log_events(&view.certificate.serial)?;
    Ok((view, events))
}

fn response(view: &EntityView, events: Vec<u64>) -> EntityResponse {
    let mut out = EntityResponse::from(view);
    out.certificate.log_events = events;
    out
}

fn parse_id(id: &str) -> Result<EntityId, Problem> {
    EntityId::parse(id).map_err(|e| {
        Problem::new(StatusCode::NOT_FOUND, "entity_not_found", e.message).with_field("id")
    })
}

/// Read one entity.
#[utoipa::path(get, path = "/v1/entities/{id}", params(("id" = String, Path)),
    responses((status = 200, body = EntityResponse), (status = "4XX", body = Problem, content_type = "application/problem+json")),
    security(("sigillum_hmac" = [])), tag = "entities")]
pub async fn get(
    State(app): State<Arc<Appliance>>,
    Extension(caller): Extension<Principal>,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<EntityResponse>> {
    let id = parse_id(&id)?;
    let (view, events) = blocking(app, move |app| {
        with_events(app, app.get_entity(&caller, &id)?)
    })
    .await?;
    Ok(axum::Json(response(&view, events)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Required for the admin key.
    pub workspace: Option<String>,
    /// Page size, 1 to `api.max_page_size` (default 50).
    pub limit: Option<usize>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EntityList {
    pub items: Vec<EntityResponse>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// List the entities of a workspace, oldest first.
#[utoipa::path(get, path = "/v1/entities", params(ListQuery),
    responses((status = 200, body = EntityList), (status = "4XX", body = Problem, content_type = "application/problem+json")),
    security(("sigillum_hmac" = [])), tag = "entities")]
pub async fn list(
    State(app): State<Arc<Appliance>>,
    Extension(caller): Extension<Principal>,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<axum::Json<EntityList>> {
    let Query(query) =
        query.map_err(|e| Problem::new(StatusCode::BAD_REQUEST, "invalid_query", e.body_text()))?;
    let max = app.config().api.max_page_size;
    let limit = query.limit.unwrap_or(50.min(max));
    if limit == 0 || limit > max {
        return Err(Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            format!("limit must be between 1 and {max}"),
        )
        .with_field("limit"));
    }
    let workspace = query
        .workspace
        .as_deref()
        .map(Workspace::parse)
        .transpose()
        .map_err(crate::service::ServiceError::from)?;
    let page: EntityPage = blocking(app, move |app| {
        // An empty cursor (`cursor=`) means the first page.
        let cursor = query.cursor.as_deref().filter(|c| !c.is_empty());
        app.list_entities(&caller, workspace, limit, cursor)
    })
    .await?;
    Ok(axum::Json(EntityList {
        items: page.items.iter().map(EntityResponse::from).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// Re-key the entity and issue a new certificate; the previous one is revoked as `superseded`.
#[utoipa::path(post, path = "/v1/entities/{id}/renew", params(("id" = String, Path)),
    responses((status = 200, body = EntityResponse), (status = "4XX", body = Problem, content_type = "application/problem+json")),
    security(("sigillum_hmac" = [])), tag = "entities")]
pub async fn renew(
    State(app): State<Arc<Appliance>>,
    Extension(caller): Extension<Principal>,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<EntityResponse>> {
    let id = parse_id(&id)?;
    let (view, events) = blocking(app, move |app| {
        with_events(app, app.renew_entity(&caller, &id)?)
    })
    .await?;
    Ok(axum::Json(response(&view, events)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevokeRequest {
    /// RFC 5280 CRLReason name. `certificateHold`, `removeFromCRL` and `aACompromise` are not
    /// accepted: revocation here is permanent and applies to public-key certificates.
    pub reason: RevocationReasonCode,
}

/// Revoke a certificate (permanent). The CRL and OCSP reflect it when this returns.
#[utoipa::path(post, path = "/v1/certificates/{serial}/revoke", params(("serial" = String, Path)),
    request_body = RevokeRequest,
    responses((status = 200, body = CertificateResponse), (status = "4XX", body = Problem, content_type = "application/problem+json")),
    security(("sigillum_hmac" = [])), tag = "certificates")]
pub async fn revoke(
    State(app): State<Arc<Appliance>>,
    Extension(caller): Extension<Principal>,
    Path(serial): Path<String>,
    ApiJson(body): ApiJson<RevokeRequest>,
) -> ApiResult<axum::Json<CertificateResponse>> {
    let serial = parse_serial(&serial)?;
    let (record, events) = blocking(app, move |app| {
        let record = app.revoke_certificate(&caller, &serial, body.reason)?;
        let events = app.certificate_log_events(&record.serial)?;
        Ok((record, events))
    })
    .await?;
    let mut out = CertificateResponse::from(&record);
    out.log_events = events;
    Ok(axum::Json(out))
}

fn parse_serial(s: &str) -> Result<Serial, Problem> {
    Serial::from_hex(s).ok_or_else(|| {
        Problem::new(
            StatusCode::NOT_FOUND,
            "certificate_not_found",
            "serials are hexadecimal, as returned in certificate.serial",
        )
        .with_field("serial")
    })
}
