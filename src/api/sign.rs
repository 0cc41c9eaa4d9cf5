//! `POST /v1/sign` (the internal signing API) and `GET /v1/receipts/{leaf_index}`.

use std::sync::Arc;

use axum::Extension;
use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use super::blocking;
use super::multipart;
use super::problem::{ApiResult, Problem};
use crate::identity::EntityId;
use crate::pades::{self, DocMdp, FieldKind, FieldSpec, Level, Occurrence, Placement, Relative};
use crate::service::{Appliance, Principal};

/// The `options` part of `POST /v1/sign`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignOptionsRequest {
    /// The signing entity; it must belong to the caller's workspace.
    pub entity_id: String,
    /// `B-B`, `B-T`, `B-LT` or `B-LTA`. Default: the server's `signing.default_level`.
    #[serde(default)]
    pub level: Option<String>,
    /// Visible elements; none means an invisible signature.
    #[serde(default)]
    pub fields: Vec<FieldRequest>,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub location: Option<String>,
    /// Certify the document (first signature only): `P1`, `P2` or `P3`.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub certify: Option<DocMdp>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FieldRequest {
    /// `seal`, `signature` or `date`.
    #[schema(value_type = String)]
    pub kind: FieldKind,
    pub placement: PlacementRequest,
    /// Base64 PNG or JPEG (seal: required; signature: optional, else text).
    #[serde(default)]
    pub image: Option<String>,
    /// Text for a `signature` field; default the entity's name.
    #[serde(default)]
    pub text: Option<String>,
}

/// Where a field goes: `{"coordinates": {...}}`, `{"keyword": {...}}`, `{"field": {"name": ...}}`
/// or `"invisible"`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum PlacementRequest {
    Coordinates {
        /// 1-based; negative counts from the end (-1 = last page).
        page: i64,
        /// Points from the lower-left corner of the page as displayed (CropBox, /Rotate applied).
        x: f64,
        y: f64,
        #[serde(default)]
        width: Option<f64>,
        #[serde(default)]
        height: Option<f64>,
    },
    Keyword {
        text: String,
        /// 1-based occurrence or `"all"`; default 1.
        #[serde(default)]
        #[schema(value_type = Option<serde_json::Value>)]
        occurrence: Option<OccurrenceRequest>,
        #[serde(default)]
        page: Option<i64>,
        #[serde(default)]
        #[schema(value_type = Option<String>)]
        relative: Option<Relative>,
        #[serde(default)]
        offset_x: f64,
        #[serde(default)]
        offset_y: f64,
        #[serde(default)]
        width: Option<f64>,
        #[serde(default)]
        height: Option<f64>,
    },
    Field {
        name: String,
    },
    Invisible,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum OccurrenceRequest {
    Nth(u32),
    Word(String),
}

fn invalid(detail: impl Into<String>) -> Problem {
    Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_options", detail)
}

impl SignOptionsRequest {
    fn validate(self, default_level: Level) -> Result<(EntityId, pades::SignOptions), Problem> {
        let entity = EntityId::parse(&self.entity_id).map_err(|e| invalid(e.to_string()))?;
        let level = match self.level.as_deref() {
            None => default_level,
            Some(s) => Level::parse(s).ok_or_else(|| {
                Problem::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "unknown_level",
                    format!("level {s:?} is not one of B-B, B-T, B-LT, B-LTA"),
                )
            })?,
        };
        for text in [&self.reason, &self.location].into_iter().flatten() {
            if text.chars().count() > 256 || text.chars().any(char::is_control) {
                return Err(invalid(
                    "reason and location must be at most 256 characters without control characters",
                ));
            }
        }
        let mut fields = Vec::with_capacity(self.fields.len());
        for (i, f) in self.fields.into_iter().enumerate() {
            let image = f
                .image
                .map(|b64| {
                    base64::engine::general_purpose::STANDARD
                        .decode(b64.trim())
                        .map_err(|e| invalid(format!("fields[{i}].image is not base64: {e}")))
                })
                .transpose()?;
            if let Some(t) = &f.text
                && (t.is_empty() || t.chars().count() > 200 || t.chars().any(char::is_control))
            {
                return Err(invalid(format!(
                    "fields[{i}].text must be 1-200 characters without control characters"
                )));
            }
            let placement = match f.placement {
                PlacementRequest::Coordinates {
                    page,
                    x,
                    y,
                    width,
                    height,
                } => {
                    check_numbers(i, &[Some(x), Some(y), width, height])?;
                    Placement::Coordinates {
                        page,
                        x,
                        y,
                        width,
                        height,
                    }
                }
                PlacementRequest::Keyword {
                    text,
                    occurrence,
                    page,
                    relative,
                    offset_x,
                    offset_y,
                    width,
                    height,
                } => {
                    check_numbers(i, &[Some(offset_x), Some(offset_y), width, height])?;
                    if text.trim().is_empty() || text.chars().count() > 200 {
                        return Err(invalid(format!(
                            "fields[{i}].placement.keyword.text must be 1-200 characters"
                        )));
                    }
                    let occurrence = match occurrence {
                        None => Occurrence::First,
                        Some(OccurrenceRequest::Nth(0)) => {
                            return Err(invalid(format!(
                                "fields[{i}].placement.keyword.occurrence is 1-based"
                            )));
                        }
                        Some(OccurrenceRequest::Nth(n)) => Occurrence::Nth(n),
                        Some(OccurrenceRequest::Word(w)) if w == "all" => Occurrence::All,
                        Some(OccurrenceRequest::Word(w)) => {
                            return Err(invalid(format!(
                                "fields[{i}].placement.keyword.occurrence must be a number or \"all\", not {w:?}"
                            )));
                        }
                    };
                    Placement::Keyword {
                        text,
                        occurrence,
                        page,
                        relative: relative.unwrap_or_default(),
                        offset_x,
                        offset_y,
                        width,
                        height,
                    }
                }
                PlacementRequest::Field { name } => Placement::Field { name },
                PlacementRequest::Invisible => Placement::Invisible,
            };
            fields.push(FieldSpec {
                kind: f.kind,
                placement,
                image,
                text: f.text,
            });
        }
        Ok((
            entity,
            pades::SignOptions {
                level,
                fields,
                reason: self.reason,
                location: self.location,
                certify: self.certify,
                time: time::OffsetDateTime::UNIX_EPOCH,
            },
        ))
    }
}

fn check_numbers(i: usize, values: &[Option<f64>]) -> Result<(), Problem> {
    if values
        .iter()
        .flatten()
        .any(|v| !v.is_finite() || v.abs() > 100_000.0)
    {
        return Err(invalid(format!(
            "fields[{i}].placement has a number that is not finite or beyond ±100000 pt"
        )));
    }
    Ok(())
}

/// Signs a PDF for an entity of the caller's workspace.
#[utoipa::path(
    post, path = "/v1/sign", tag = "signing",
    request_body(content_type = "multipart/form-data", description = "parts `document` (the PDF) and `options` (JSON, SignOptionsRequest)"),
    params(("Idempotency-Key" = Option<String>, Header, description = "repeat-safe key: the same request returns the same result without signing twice")),
    responses(
        (status = 200, content_type = "application/pdf", description = "the signed PDF; header Sigillum-Receipt carries base64url(receipt JSON)"),
        (status = 413, body = Problem), (status = 415, body = Problem), (status = 422, body = Problem),
    ),
    security(("sigillum_hmac" = []))
)]
pub async fn sign(
    State(app): State<Arc<Appliance>>,
    Extension(principal): Extension<Principal>,
    start: Option<Extension<super::RequestStart>>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    // The timeout layer's clock started when the request arrived (upload included).
    let started = start.map_or_else(std::time::Instant::now, |Extension(s)| s.0);
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let boundary = multipart::boundary(content_type).map_err(|e| {
        Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            e.to_string(),
        )
    })?;
    let parts = multipart::parse(&body, &boundary).map_err(|e| {
        Problem::new(
            StatusCode::BAD_REQUEST,
            "malformed_multipart",
            e.to_string(),
        )
    })?;
    let mut document = None;
    let mut options = None;
    for part in parts {
        match part.name.as_str() {
            "document" if document.is_none() => document = Some(part.data),
            "options" if options.is_none() => options = Some(part.data),
            other => {
                return Err(Problem::new(
                    StatusCode::BAD_REQUEST,
                    "malformed_multipart",
                    format!(
                        "unexpected or repeated part {other:?}; send exactly `document` and `options`"
                    ),
                ));
            }
        }
    }
    let missing = |name| {
        Problem::new(
            StatusCode::BAD_REQUEST,
            "malformed_multipart",
            format!("the `{name}` part is missing"),
        )
    };
    let document = document.ok_or_else(|| missing("document"))?;
    let options_raw = options.ok_or_else(|| missing("options"))?;
    let max = app.config().signing.max_document_bytes;
    if document.len() > max {
        return Err(Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "document_too_large",
            format!(
                "the document is {} bytes; this appliance accepts at most {max} (signing.max_document_bytes)",
                document.len()
            ),
        ));
    }
    let request: SignOptionsRequest =
        serde_json::from_slice(&options_raw).map_err(|e| invalid(format!("options: {e}")))?;
    let (entity, options) = request.validate(app.config().signing.default_level)?;
    let idempotency_key = headers
        .get("idempotency-key")
        .map(|v| v.to_str().map(str::to_owned))
        .transpose()
        .map_err(|_| {
            Problem::new(
                StatusCode::BAD_REQUEST,
                "invalid_idempotency_key",
                "Idempotency-Key must be printable ASCII",
            )
        })?;
    let options_digest = Sha256::digest(&options_raw).to_vec();
    let doc = document.clone();
    // A little before the HTTP timeout answers 408: past this, nothing is logged.
    let timeout = std::time::Duration::from_secs(app.config().api.request_timeout_seconds);
    let deadline = started + timeout.saturating_sub(std::time::Duration::from_millis(500));

    let signed = blocking(app.clone(), move |app| {
        app.sign_document(
            &principal,
            crate::service::SignRequest {
                entity: &entity,
                options,
                options_digest: &options_digest,
                pdf: &doc,
                idempotency_key: idempotency_key.as_deref(),
                deadline: Some(deadline),
            },
        )
    })
    .await?;
    let receipt_json = serde_json::to_vec(&signed.receipt.to_json()).map_err(|e| {
        tracing::error!(error = %e, "receipt encoding failed");
        Problem::internal()
    })?;
    let receipt_header = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(receipt_json);
    let (length, body) = match signed.replayed {
        Some(whole) => (whole.len(), Body::from(whole)),
        None => {
            let length = document.len() + signed.updates.iter().map(Vec::len).sum::<usize>();
            let chunks = std::iter::once(document)
                .chain(signed.updates.into_iter().map(Bytes::from))
                .map(Ok::<_, std::convert::Infallible>);
            (
                length,
                Body::from_stream(futures_util::stream::iter(chunks)),
            )
        }
    };
    let mut response = (StatusCode::OK, body).into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/pdf"),
    );
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    h.insert(
        "sigillum-receipt",
        HeaderValue::from_str(&receipt_header).map_err(|_| Problem::internal())?,
    );
    h.insert(
        "sigillum-leaf-index",
        HeaderValue::from(signed.receipt.index),
    );
    Ok(response)
}

/// A log receipt (entry, checkpoint, fresh inclusion proof) for an entry of the caller's workspace.
#[utoipa::path(
    get, path = "/v1/receipts/{leaf_index}", tag = "signing",
    params(("leaf_index" = u64, Path, description = "log index of the event")),
    responses((status = 200, description = "receipt JSON"), (status = 404, body = Problem)),
    security(("sigillum_hmac" = []))
)]
pub async fn receipt(
    State(app): State<Arc<Appliance>>,
    Extension(principal): Extension<Principal>,
    Path(leaf_index): Path<String>,
) -> ApiResult<Response> {
    let index: u64 = leaf_index.parse().map_err(|_| {
        Problem::new(
            StatusCode::BAD_REQUEST,
            "invalid_leaf_index",
            "leaf_index must be a non-negative integer",
        )
    })?;
    let receipt = blocking(app, move |app| app.receipt(&principal, index)).await?;
    Ok(axum::Json(receipt.to_json()).into_response())
}
